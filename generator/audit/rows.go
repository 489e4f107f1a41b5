// Package audit checks the spec against the docs with a second reader: a
// deliberately simple line scanner that shares no code with
// generator/extract. Where the two readings disagree, one of them is wrong;
// the figures say how often, by family, and the misses list says where.
package audit

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// RowsFound is the simplest fidelity measure: of the row names in every
// parameter-style table a method page shows before its code examples (tabs
// and nested tables included), how many name a key somewhere in that
// method's parameter tree.
type RowsFound struct {
	Rows     int               `json:"rows"`
	Found    int               `json:"found"`
	ByFamily map[string][2]int `json:"by_family"` // family → {found, rows}
	Misses   []Miss            `json:"misses,omitempty"`
}

// Miss is one documented row the spec does not have.
type Miss struct {
	Method string `json:"method"`
	Page   string `json:"page"`
	Line   int    `json:"line"`
	Name   string `json:"name"`
}

var (
	// "|| **name*** …" or "|| **name** …", possibly indented into a list item.
	rowNameRe = regexp.MustCompile(`^\s*\|\|\s*\*\*([^*]+?)\*\*`)
	h2Re      = regexp.MustCompile(`^##\s+(.*)$`)
	// Header cells of parameter tables (the corpus writes these four).
	paramHeaders = map[string]bool{"name": true, "parameter": true, "field": true, "fields": true}
)

// Family is the first segment of a method name ("crm", "tasks").
func Family(method string) string {
	f, _, _ := strings.Cut(method, ".")
	return f
}

// CountRowsFound reads each method page of s under docs and measures it.
func CountRowsFound(docs string, s *spec.Spec) (*RowsFound, error) {
	out := &RowsFound{ByFamily: map[string][2]int{}}
	for i := range s.Methods {
		m := &s.Methods[i]
		src, err := os.ReadFile(filepath.Join(docs, filepath.FromSlash(m.Page)))
		if err != nil {
			return nil, err
		}
		names := treeNames(m)
		for _, r := range paramRows(string(src)) {
			fam := Family(m.Name)
			c := out.ByFamily[fam]
			c[1]++
			out.Rows++
			if names[normName(r.name)] {
				c[0]++
				out.Found++
			} else {
				out.Misses = append(out.Misses, Miss{Method: m.Key(), Page: m.Page, Line: r.line, Name: r.name})
			}
			out.ByFamily[fam] = c
		}
	}
	sort.Slice(out.Misses, func(i, j int) bool {
		a, b := out.Misses[i], out.Misses[j]
		if a.Page != b.Page {
			return a.Page < b.Page
		}
		return a.Line < b.Line
	})
	return out, nil
}

type namedRow struct {
	name string
	line int
}

// paramRows scans a page's own text (no includes) up to its code examples
// and returns the bold row names of its parameter tables: tables whose
// header's first cell is Name, Parameter or Field.
func paramRows(src string) []namedRow {
	var rows []namedRow
	lines := strings.Split(src, "\n")
	var fence fences
	depth := 0          // open #| tables
	var keep []bool     // per open table: a parameter table
	headerNext := false // the next row is a table's header
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if fence.skip(t) {
			continue
		}
		if depth == 0 {
			if m := h2Re.FindStringSubmatch(t); m != nil && strings.Contains(strings.ToLower(m[1]), "example") {
				break
			}
		}
		if t == "#|" || strings.HasPrefix(t, "#|") && !strings.HasSuffix(t, "|#") {
			depth++
			keep = append(keep, false)
			headerNext = true
			continue
		}
		m := rowNameRe.FindStringSubmatch(l)
		if m != nil && depth > 0 {
			name := m[1]
			if headerNext {
				headerNext = false
				keep[depth-1] = paramHeaders[strings.ToLower(strings.TrimSpace(name))]
			} else if keep[depth-1] {
				rows = append(rows, namedRow{name: cleanName(name), line: i + 1})
			}
		}
		if strings.HasSuffix(t, "|#") && depth > 0 {
			depth--
			keep = keep[:depth]
		}
	}
	return rows
}

var escapes = strings.NewReplacer(`\_`, "_", "`", "", `\*`, "*", `\[`, "[", `\]`, "]", "^*^", "")

func cleanName(s string) string {
	s = strings.TrimSpace(escapes.Replace(s))
	return strings.TrimSpace(strings.TrimRight(s, "*"))
}

// normName is the key a row names: the last dotted segment, without the
// element marker ("items[].ID" → "id"), case folded.
func normName(s string) string {
	s = strings.ReplaceAll(s, "[]", "")
	if i := strings.LastIndexByte(s, '.'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// treeNames is every key in a method's parameter tree, placeholders' names
// included, normalised as normName does.
func treeNames(m *spec.Method) map[string]bool {
	names := map[string]bool{}
	var walk func(ps []spec.Param)
	walk = func(ps []spec.Param) {
		for i := range ps {
			names[normName(ps[i].Name)] = true
			walk(ps[i].Fields)
			for _, ph := range ps[i].Placeholders {
				names[normName(ph.Name)] = true
				walk(ph.Fields)
			}
		}
	}
	walk(m.Params)
	for _, ph := range m.Placeholders {
		names[normName(ph.Name)] = true
	}
	return names
}
