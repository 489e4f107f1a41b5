package extract

import (
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/b24gen/b24gen/spec"
)

// readMethod reads a method page: the H1 at h1 names it (or the examples
// do, see read), the header gives scopes and deprecation, the tables before
// the examples the parameters, the response sections the result and errors.
func (pc *pageCtx) readMethod(h1 int, name string, calls map[string]int, version int, webhook bool) {
	hb := pc.blocks[h1]
	if len(calls) > 0 && calls[name] == 0 {
		top := topCall(calls)
		file := strings.TrimSuffix(path.Base(pc.path), ".md")
		switch {
		case strings.EqualFold(top, name):
		case !sameName(top, file) && !sameName(name, file):
			// An overview page that names a module in its H1 ("imbot.v2")
			// and shows calls of methods documented elsewhere.
			pc.problem(hb.Line, "not-a-method", "H1 names %s, the examples call %s and the file is %s.md: read as an overview", name, top, file)
			return
		case sameName(name, file) && !sameName(top, file):
			// The examples were copied from another page: the H1 and the
			// page's file name agree, so keep the H1.
			pc.problem(hb.Line, "name-conflict", "H1 names %s but the examples call %s; using %s (the page file agrees with the H1)", name, top, name)
		default:
			// The H1 and the examples disagree: the examples are what runs.
			pc.problem(hb.Line, "name-conflict", "H1 names %s but the examples call %s; using %s", name, top, top)
			name = top
		}
	}
	h := pc.readHeader(h1, name)
	m := spec.Method{
		Name: name, Version: version, Page: pc.path, Line: hb.Line,
		Title:   strings.TrimSpace(strings.Replace(hb.Text, name, "", 1)),
		Summary: h.summary, Scopes: h.scopes, Access: h.access,
		Deprecated: h.deprecated, ReplacedBy: h.replacedBy,
		WebhookExample: webhook,
	}
	if len(m.Scopes) == 0 {
		pc.problem(hb.Line, "no-scope", "%s: no scope blockquote", name)
	}
	examples := pc.examplesStart(h1)
	m.Params = pc.paramsBefore(h1, examples)
	m.RequestExample = pc.requestExample(name, examples)
	m.CodeFields, m.CodeWrapper = pc.codeFields(name, examples) // code.go
	if m.Params == nil {
		m.Params = []spec.Param{}
	}
	success, errStart := pc.responseExamples(examples)
	m.Result = pc.readResult(examples, success, errStart)
	m.Errors = pc.readErrors(max(success, examples))
	pc.methods = append(pc.methods, m)
	pc.stats.MethodPages = 1
}

// examplesStart is the index of the first block of the code examples: the
// first {% list tabs %}, else the first code block calling a method after
// the first section heading (a URL in the introduction is not an example).
func (pc *pageCtx) examplesStart(from int) int {
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bDirective && b.Text == "list" && strings.HasPrefix(b.Args, "tabs") {
			if end := pc.listEnd(i); pc.tableTabs(i, end) {
				// Tabs of parameter tables (one per entity type or field
				// type) are documentation, not code examples.
				i = end
				continue
			}
			return i
		}
	}
	inSection := false
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level == 2 {
			inSection = true
		}
		if b.Kind == bCode && inSection {
			called := false
			restURLs(b.Raw, func(restCall) { called = true })
			if !called {
				callNames(b.Raw, func(string) { called = true })
			}
			if called {
				return i
			}
		}
	}
	return len(pc.blocks)
}

// listEnd is the index of the {% endlist %} closing the {% list %} at i (or
// the page end when it is never closed).
func (pc *pageCtx) listEnd(i int) int {
	depth := 0
	for j := i; j < len(pc.blocks); j++ {
		b := pc.blocks[j]
		if b.Kind != bDirective {
			continue
		}
		switch b.Text {
		case "list":
			depth++
		case "endlist":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(pc.blocks)
}

// tableTabs reports whether the tabs between blocks from and to hold
// parameter tables and no code calling a method: tabs that document.
func (pc *pageCtx) tableTabs(from, to int) bool {
	tables := false
	for j := from + 1; j < to && j < len(pc.blocks); j++ {
		b := pc.blocks[j]
		switch b.Kind {
		case bTable:
			tables = tables || pc.table(j).Kind == tParams
		case bCode:
			called := false
			restURLs(b.Raw, func(restCall) { called = true })
			if !called {
				callNames(b.Raw, func(string) { called = true })
			}
			if called {
				return false
			}
		}
	}
	return tables
}

// referencedHeadings is the set of headings some in-page link on the page
// leads to (by id, slug or last word, as anchor resolves them).
func (pc *pageCtx) referencedHeadings() map[int]bool {
	if pc.refHeadings == nil {
		pc.refHeadings = map[int]bool{}
		for a := range pc.refd {
			if i, ok := pc.anchor(a); ok {
				pc.refHeadings[i] = true
			}
		}
	}
	return pc.refHeadings
}

// isSubTable reports whether the table at i sits under a heading that some
// link on the page points to: it describes a nested structure and is read
// through that anchor, not as a top-level list.
func (pc *pageCtx) isSubTable(i int) bool {
	for j := i - 1; j >= 0; j-- {
		b := pc.blocks[j]
		if b.Kind == bHeading {
			return pc.referencedHeadings()[j]
		}
		if b.Kind == bTable && pc.table(j).Kind == tParams {
			return false // another table sits between the heading and this one
		}
	}
	return false
}

// paramsBefore reads the parameters: the parameter tables between the H1
// (from) and the examples (to), within the section of the first one. Tables
// under headings that links lead to are nested structures, read through
// those links.
func (pc *pageCtx) paramsBefore(from, to int) []spec.Param {
	var rows []rawParam
	first := true
	// Several tables under one nested heading ("### Parameter settings",
	// one table per property type) all describe that nested structure:
	// the tables after the first follow where the first went.
	const (
		sectionTop    = -1
		sectionNested = -2 // read through the anchor that leads to it
	)
	section := sectionTop
	for i := from; i < to; i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level <= 2 && !first && pc.namedParam(i, rows) < 0 {
			// The parameters section ends at the next "##": later sections
			// ("Endpoint", "How it works") describe other things; tables
			// there are read only through the anchors that lead to them.
			// A "## Parameter fields" naming an object parameter still
			// open goes on describing it.
			break
		}
		if b.Kind == bHeading {
			section = sectionTop
			continue
		}
		if b.Kind != bTable {
			continue
		}
		t := pc.table(i)
		if t.Kind != tParams {
			continue
		}
		switch {
		case first:
		case section == sectionNested || pc.isSubTable(i):
			section = sectionNested
			continue
		case section >= 0:
			rows[section].Fields = appendNew(rows[section].Fields, pc.build(pc.rowsOf(i), map[int]bool{i: true}))
			continue
		default:
			// "### Parameter fields" without a link to it: the table
			// describes the keys of the object parameter its heading names.
			if k := pc.parentByHeading(i, rows); k >= 0 {
				rows[k].Fields = pc.build(pc.rowsOf(i), map[int]bool{i: true})
				section = k
				continue
			}
		}
		first = false
		rows = append(rows, pc.rowsOf(i)...)
	}
	// A later table repeating a name (a second, unlinked table describing
	// one parameter's keys) does not add a second top-level parameter.
	seen := map[string]bool{}
	kept := rows[:0]
	for _, r := range rows {
		if !seen[r.Name] {
			seen[r.Name] = true
			kept = append(kept, r)
		}
	}
	return pc.build(kept, map[int]bool{})
}

// appendNew adds the params of more whose names have is not holding yet.
func appendNew(have, more []spec.Param) []spec.Param {
	seen := make(map[string]bool, len(have))
	for _, p := range have {
		seen[p.Name] = true
	}
	for _, p := range more {
		if !seen[p.Name] {
			seen[p.Name] = true
			have = append(have, p)
		}
	}
	return have
}

// parentByHeading returns the index in rows of the object or array
// parameter, still without fields, that the heading above table i names
// (case aside), or -1.
func (pc *pageCtx) parentByHeading(i int, rows []rawParam) int {
	for j := i - 1; j >= 0; j-- {
		b := pc.blocks[j]
		if b.Kind == bTable {
			return -1
		}
		if b.Kind != bHeading {
			continue
		}
		return pc.namedParam(j, rows)
	}
	return -1
}

// namedParam returns the index in rows of the object or array parameter,
// still without fields, that the heading at h names (case aside), or -1.
func (pc *pageCtx) namedParam(h int, rows []rawParam) int {
	for _, w := range strings.FieldsFunc(pc.blocks[h].Text, func(r rune) bool {
		return !(r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		for k := range rows {
			p := &rows[k]
			if strings.EqualFold(p.Name, w) && len(p.Fields) == 0 && (p.Kind == spec.KindObject || p.Kind == spec.KindArray) {
				return k
			}
		}
	}
	return -1
}

// rowsOf returns the parsed rows of the parameters table at block i, parsed
// once (a table is read for the spec and again for the stats). Callers get
// their own slice: build modifies what it is given.
func (pc *pageCtx) rowsOf(i int) []rawParam {
	t := pc.table(i)
	if t.params == nil {
		t.params = make([]rawParam, 0, len(t.Rows))
		t.rowIdx = make([]int, 0, len(t.Rows))
		for k, r := range t.Rows {
			if p, ok := parseParamRow(r, t.SplitType); ok {
				p.Link = linkFrom(pc.path, p.Link)
				t.params = append(t.params, p)
				t.rowIdx = append(t.rowIdx, k)
			}
		}
	}
	return append([]rawParam(nil), t.params...)
}

var requiredMarkRe = regexp.MustCompile(`\*\*[^*]+\*\*\*|\^\*\^`)

// countTables adds the rows of every parameter table on the page (its own
// lines only, not included ones) to the stats, and reports untyped rows.
func (pc *pageCtx) countTables() {
	for i, b := range pc.blocks {
		if b.Kind != bTable {
			continue
		}
		t := pc.table(i)
		if t.Kind != tParams {
			continue
		}
		for k, p := range pc.rowsOf(i) {
			r := t.Rows[t.rowIdx[k]]
			if !pc.own(r.Line) {
				continue
			}
			if p.Required {
				// "**ID*** or **ENTITY_ID***": one row, two required names.
				pc.stats.RequiredFlags += max(1, len(requiredMarkRe.FindAllStringIndex(r.Cells[0], -1)))
			}
			if !t.Typed {
				continue // a name | description table: no type to miss
			}
			pc.stats.Rows++
			if p.Name != "" && p.Type != "" {
				pc.stats.RowsTyped++
			} else {
				pc.problem(r.Line, "untyped-row", "row %q has no type", p.Name)
			}
		}
	}
}

// build resolves anchors and dotted names of a table's rows into a tree.
func (pc *pageCtx) build(rows []rawParam, visiting map[int]bool) []spec.Param {
	out := make([]spec.Param, 0, len(rows))
	for _, r := range rows {
		p := r.Param
		for _, a := range r.Anchors {
			ti, ok := pc.anchor(a)
			pc.stats.Anchors++
			if !ok {
				pc.problem(p.Line, "broken-anchor", "row %q links to #%s, which the page does not define", p.Name, a)
				continue
			}
			pc.stats.AnchorsResolved++
			if len(p.Fields) > 0 {
				continue
			}
			// Several anchor spellings can lead to one heading: guard the
			// recursion by the table, not by the anchor text.
			if sub := pc.tableAfter(ti); sub >= 0 && !visiting[sub] && (p.Kind == spec.KindObject || p.Kind == spec.KindArray || p.Kind == spec.KindAny || a == p.Ref) {
				visiting[sub] = true
				p.Fields = pc.build(pc.tabRows(sub), visiting)
				delete(visiting, sub)
				if p.Ref == "" {
					p.Ref = a
				}
				if p.Kind == spec.KindAny || p.Kind == spec.KindString {
					p.Kind = spec.KindObject
				}
				if p.Kind == spec.KindArray && p.Elem == "" {
					p.Elem = spec.KindObject
				}
			} else if sub < 0 && (p.Kind == spec.KindObject || p.Kind == spec.KindAny) && !queryParams[strings.ToLower(p.Name)] {
				// An anchor with no table of its own: its section's JSON
				// example of the row's key is the shape ("bot": {id,
				// code, auth} on the imbot.v2 events page). A filter's or
				// an order's example is one query, not its shape.
				if v := pc.exampleIn(ti, p.Name); v != nil {
					p.Fields = fieldsFromJSON(v, 0)
					fillKinds(p.Fields, v, 0)
					p.Kind = spec.KindObject
					if p.Ref == "" {
						p.Ref = a
					}
				}
			}
		}
		out = append(out, p)
	}
	return mergeElementRows(nestDotted(out))
}

func hasElementRows(ps []spec.Param) bool {
	for i := range ps {
		if strings.HasSuffix(ps[i].Name, "[]") || hasElementRows(ps[i].Fields) {
			return true
		}
	}
	return false
}

// mergeElementRows folds "items[]" rows (the docs' way to describe the
// elements of the array "items") into their array: the element kind and
// fields go to "items". Without an "items" row the "items[]" row becomes it.
func mergeElementRows(ps []spec.Param) []spec.Param {
	if !hasElementRows(ps) {
		return ps
	}
	out := ps[:0:0]
	index := map[string]int{}
	for _, p := range ps {
		p.Fields = mergeElementRows(p.Fields)
		base, isElem := strings.CutSuffix(p.Name, "[]")
		if !isElem || base == "" {
			index[p.Name] = len(out)
			out = append(out, p)
			continue
		}
		if j, ok := index[base]; ok && (out[j].Kind == spec.KindArray || out[j].Kind == spec.KindAny) {
			arr := &out[j]
			arr.Kind = spec.KindArray
			if arr.Elem == "" || arr.Elem == spec.KindAny {
				arr.Elem = p.Kind
			}
			if len(arr.Fields) == 0 {
				arr.Fields = p.Fields
			}
			continue
		}
		if _, ok := index[base]; ok {
			index[p.Name] = len(out)
			out = append(out, p) // "x" is not an array: keep both as documented
			continue
		}
		p.Name = base
		p.Elem, p.Kind = p.Kind, spec.KindArray
		index[base] = len(out)
		out = append(out, p)
	}
	return out
}

// anchor finds the heading an in-page link points to: by its {#id}, else by
// the id the docs site derives from the heading text. The site derives ids
// from the original (Russian) heading, so "#parametr-fields" must still find
// "### Parameter fields" and "#parametr-settings" "### SETTINGS Parameter":
// failing an exact slug, the anchor's last word names the heading.
func (pc *pageCtx) anchor(a string) (int, bool) {
	if i, ok := pc.anchors[a]; ok {
		return i, true
	}
	if pc.slugs == nil {
		pc.slugs = map[string]int{}
		pc.lastWords = map[string]int{}
		for i, b := range pc.blocks {
			if b.Kind != bHeading {
				continue
			}
			s := slug(b.Text)
			if _, dup := pc.slugs[s]; !dup {
				pc.slugs[s] = i
			}
			for _, w := range strings.Split(s, "-") {
				if _, dup := pc.lastWords[w]; !dup && w != "" {
					pc.lastWords[w] = i
				}
			}
		}
	}
	la := strings.ToLower(a)
	if i, ok := pc.slugs[la]; ok {
		return i, true
	}
	if i, ok := pc.lastWords[la[strings.LastIndexByte(la, '-')+1:]]; ok {
		return i, true
	}
	return 0, false
}

// slug is the id a heading gets without an explicit {#id}.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && unicode.IsLetter(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == ' ' || r == '\t' || r == '-':
			dash = true
		default:
			// other punctuation is dropped: "section_element.options" is
			// "#section_elementoptions"
		}
	}
	return b.String()
}

// queryParams are the params keyed by the entity's own fields.
var queryParams = map[string]bool{"filter": true, "order": true, "select": true}

// exampleIn is the object under key in the first JSON example of the
// section the heading at h opens (up to the next heading of its level or
// with an anchor), or nil.
func (pc *pageCtx) exampleIn(h int, key string) *jnode {
	if pc.blocks[h].Kind != bHeading {
		return nil
	}
	level := pc.blocks[h].Level
	for i := h + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && (b.Level <= level || b.ID != "") {
			return nil
		}
		if e := pc.example(i); e != nil && e.root != nil {
			if v := e.root.get(key); v != nil && v.Kind == 'o' && len(v.Keys) > 0 {
				return v
			}
		}
	}
	return nil
}

// tableAfter is the first parameters table after the heading at h, before
// the next heading of the same or a higher level, or a deeper one with an
// anchor of its own: that table is the other anchor's ("## Bot Object
// Format {#bot-format}" has only an example; the auth table after it is
// "### Auth Parameter {#auth}"'s, not the bot's).
func (pc *pageCtx) tableAfter(h int) int {
	level := pc.blocks[h].Level
	for i := h + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && (b.Level <= level || b.ID != "" && pc.blocks[h].Kind == bHeading) {
			return -1
		}
		if b.Kind == bTable && pc.table(i).Kind == tParams {
			return i
		}
	}
	return -1
}

// tabRows is the rows of the parameters table at i and of the tables that
// follow it in its section, at its nesting level: the other tabs of a
// {% list tabs %} (one tab per entity or field type), or more tables under
// one heading ("**Import**" fields after the main ones). Each name once, as
// its first table documents it; the next heading ends the section.
func (pc *pageCtx) tabRows(i int) []rawParam {
	rows := pc.rowsOf(i)
	first := pc.blocks[i]
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Name] = true
	}
	for j := i + 1; j < len(pc.blocks); j++ {
		b := pc.blocks[j]
		if b.Kind == bHeading || b.Depth < first.Depth || b.Kind == bDirective && b.Text == "endlist" && b.Depth < first.Depth {
			break
		}
		if b.Kind != bTable || b.Depth != first.Depth || pc.table(j).Kind != tParams {
			continue
		}
		for _, r := range pc.rowsOf(j) {
			if !seen[r.Name] {
				seen[r.Name] = true
				rows = append(rows, r)
			}
		}
	}
	return rows
}

var dottedSegRe = regexp.MustCompile(`^[A-Za-z0-9_\-\[\]>=<!%@]+$`)

// nestDotted moves "fields.TITLE" under "fields" (creating it when the table
// has no row of its own for it).
func nestDotted(ps []spec.Param) []spec.Param {
	hasDot := false
	for _, p := range ps {
		if strings.Contains(p.Name, ".") {
			hasDot = true
			break
		}
	}
	if !hasDot {
		return ps
	}
	var out []spec.Param
	index := map[string]int{}
	for _, p := range ps {
		parent, child, ok := strings.Cut(p.Name, ".")
		if ok && dottedSegRe.MatchString(parent) && child != "" && allSegs(child) {
			j, found := index[parent]
			if !found {
				out = append(out, spec.Param{Name: parent, Kind: spec.KindObject, Line: p.Line})
				j = len(out) - 1
				index[parent] = j
			}
			par := &out[j]
			if par.Kind != spec.KindObject && par.Kind != spec.KindArray {
				par.Kind = spec.KindObject
			}
			if par.Kind == spec.KindArray && par.Elem == "" {
				par.Elem = spec.KindObject
			}
			p.Name = child
			par.Fields = nestDotted(appendField(par.Fields, p))
			continue
		}
		if _, dup := index[p.Name]; !dup {
			index[p.Name] = len(out)
		}
		out = append(out, p)
	}
	return out
}

// allSegs reports whether every dotted segment of s is a key ("UF_..."
// is not a path).
func allSegs(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if seg == "" || !dottedSegRe.MatchString(seg) {
			return false
		}
	}
	return true
}

// appendField adds p to fs unless a field of that name is there already
// (then p's fields fill it when it has none).
func appendField(fs []spec.Param, p spec.Param) []spec.Param {
	for i := range fs {
		if fs[i].Name == p.Name {
			if len(fs[i].Fields) == 0 {
				fs[i].Fields = p.Fields
			}
			return fs
		}
	}
	return append(fs, p)
}

// linkFrom resolves a page-relative link target against the page's path.
func linkFrom(page, target string) string {
	if target == "" {
		return ""
	}
	file, anchor, _ := strings.Cut(target, "#")
	p := path.Join(path.Dir(page), file)
	if strings.HasPrefix(p, "../") || p == page {
		return ""
	}
	if anchor != "" {
		return p + "#" + anchor
	}
	return p
}
