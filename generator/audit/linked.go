package audit

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Linked types. A row whose type links to a structure another page
// describes ([`catalog_measure[]`](../data-types.md#catalog_measure),
// [`item`](./object-fields.md), [`HeaderDto`](./header.md)) is documented
// by that page's table: its rows are expected as members of the row's Go
// type, at that path, as a nested table's would be. This reader finds the
// link and the table itself (the section the anchor opens, or a whole
// page's top-level field tables), and follows links inside linked tables
// a few levels deep, in-page ones included; a link back into a structure
// being followed is not followed again. A row that holds values (a string,
// a number) is not a structure, whatever its type links to. A method's page
// (it has a response) is its family's, not a structure's.

// maxLinkDepth bounds how far links are followed from a page's own rows.
const maxLinkDepth = 3

// linkCellRe is a type cell's link: [`token`](target).
var linkCellRe = regexp.MustCompile("\\[`?([^`\\]]+?)`?\\]\\(([^)\\s]+)\\)")

// basicTokens are the docs' basic types: their links describe the type in
// general, not a structure.
var basicTokens = map[string]bool{
	"string": true, "integer": true, "int": true, "boolean": true, "bool": true, "double": true, "float": true,
	"number": true, "date": true, "datetime": true, "object": true, "array": true, "file": true, "char": true,
	"time": true, "text": true, "any": true, "mixed": true,
}

// typeLinkOf is the page#anchor (from the docs root) a row's type cell
// links to, "" for none or a basic type's. In-page links count only where
// inPage is set: on the page being audited its sub-tables are bound by
// their own rule (namingRow).
func typeLinkOf(r *docRow, page string, inPage bool) string {
	if len(r.cells) == 0 {
		return ""
	}
	c := r.cells[0]
	if loc := boldRe.FindStringIndex(c); loc != nil {
		c = c[loc[1]:]
	}
	m := linkCellRe.FindStringSubmatch(c)
	if m == nil {
		return ""
	}
	token := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(m[1])), "[]")
	if basicTokens[token] || strings.Contains(token, ".") || strings.Contains(m[2], "://") {
		return ""
	}
	file, anchor, _ := strings.Cut(m[2], "#")
	if file == "" {
		if !inPage || anchor == "" {
			return ""
		}
		return page + "#" + strings.ToLower(anchor)
	}
	if !strings.HasSuffix(file, ".md") || anchor == "" && strings.Contains(file, "data-types") {
		return ""
	}
	target := path.Join(path.Dir(page), file)
	if strings.HasPrefix(target, "../") || target == page && anchor == "" {
		return ""
	}
	if anchor != "" {
		return target + "#" + strings.ToLower(anchor)
	}
	return target
}

// linkedTables are the tables a link documents its structure by: the
// field tables of the anchor's section, or a whole page's top-level field
// tables outside the sections its own rows link to; nil for a method's
// page or a target without a table.
func linkedTables(tables []*docTable, anchor string) []*docTable {
	for _, t := range tables {
		if t.zone == zoneResult {
			return nil // a method's page
		}
	}
	inPage := map[string]bool{}
	if anchor == "" {
		for _, t := range tables {
			for _, r := range t.rows {
				if m := linkCellRe.FindStringSubmatch(strings.Join(r.cells, " ")); m != nil && strings.HasPrefix(m[2], "#") {
					inPage[strings.ToLower(m[2][1:])] = true
				}
			}
		}
	}
	var out []*docTable
	for _, t := range tables {
		if !t.isFieldTable() || t.zone != zoneParams {
			continue
		}
		switch {
		case t.parent != nil:
			// a nested table: bound to its row's member
		case anchor != "" && strings.EqualFold(t.section, anchor):
		case anchor == "" && !inPage[strings.ToLower(t.section)]:
		default:
			continue
		}
		if t.parent != nil && !hasTable(out, t.parent.table) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func hasTable(ts []*docTable, t *docTable) bool {
	for _, o := range ts {
		if o == t {
			return true
		}
	}
	return false
}

// linkedChecks are the rows the links of checks' rows document, each
// resolved under the Go type its linking row landed on.
func (c *checker) linkedChecks(checks []rowCheck) []rowCheck {
	var out []rowCheck
	for _, rc := range checks {
		if target := typeLinkOf(rc.row, c.page, false); target != "" && rc.t != nil {
			out = append(out, c.follow(rc.t, target, 1, map[string]bool{c.page: true})...)
		}
	}
	return out
}

func (c *checker) follow(base *goType, target string, depth int, visiting map[string]bool) []rowCheck {
	if base.level() == nil && (isScalar(base) || base.class == gOther || base.class == gFile) {
		return nil // a value: what the link describes is not its members
	}
	if visiting[target] || c.tablesOf == nil {
		return nil
	}
	page, anchor, _ := strings.Cut(target, "#")
	all, src := c.tablesOf(page)
	tables := linkedTables(all, anchor)
	if len(tables) == 0 {
		return nil
	}
	if !c.linkedSeen[page] {
		if c.linkedSeen == nil {
			c.linkedSeen = map[string]bool{}
		}
		c.linkedSeen[page] = true
		c.linkedSrc.WriteString(src)
	}
	visiting[target] = true
	defer delete(visiting, target)
	var out []rowCheck
	bounds := map[*docRow]*goType{}
	for _, t := range tables {
		tb := base
		if t.parent != nil {
			var ok bool
			if tb, ok = bounds[t.parent]; !ok || tb == nil {
				continue
			}
		}
		for _, r := range t.rows {
			name := r.name()
			if name == "" || isPlaceholder(name) {
				continue
			}
			var rc rowCheck
			if tb.level() == nil {
				rc = rowCheck{row: r, name: name, reason: fmt.Sprintf("its parent is Go %s (%s), not the struct %s describes", tb.name, tb.class, target)}
			} else {
				b, lv := c.resolve(tb, "", name, c.root)
				if b.values {
					continue
				}
				rc = rowCheck{row: r, name: name, t: b.t, reason: b.reason, level: lv}
			}
			rc.page = page
			out = append(out, rc)
			bounds[r] = rc.t
			if next := typeLinkOf(r, page, true); next != "" && rc.t != nil && depth < maxLinkDepth {
				out = append(out, c.follow(rc.t, next, depth+1, visiting)...)
			}
		}
	}
	return out
}
