package audit

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Audit is the second reader's verdict on the generated Go: each documented
// param and result field present at its path and typed as its page says
// (recall), each Go member at an audited level documented (precision), and
// each documented error code in the function's doc comment.
type Audit struct {
	ByFamily map[string]*Counts `json:"by_family"` // "all", "crm", …, "events"
	// Misses are the counted failures; Listed the cases the docs
	// contradict themselves on (or the audit cannot decide), not counted.
	Misses []Finding `json:"misses,omitempty"`
	Listed []Finding `json:"listed,omitempty"`
}

// Counts are one family's figures.
type Counts struct {
	Params    int `json:"params"` // documented param rows audited
	ParamsOK  int `json:"params_ok"`
	Results   int `json:"results"` // documented result and event field rows
	ResultsOK int `json:"results_ok"`
	Members   int `json:"members"`   // Go members at audited levels, documented or invented
	Invented  int `json:"invented"`  // of which no row and no other evidence on the page
	Justified int `json:"justified"` // members without a row whose key the page's examples show (not counted)
	Errors    int `json:"errors"`    // documented error rows
	ErrorsOK  int `json:"errors_ok"` // found in the doc comment
	Skipped   int `json:"placeholders"`
}

// Finding is one miss or listed case.
type Finding struct {
	Method string `json:"method"` // "crm.item.add@2" or the event name
	Page   string `json:"page"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
	What   string `json:"what"` // param, result, member, error
	Reason string `json:"reason"`
}

// Families the report names; every other method family counts under "all"
// only, and "events" is the events' payloads.
var Families = []string{"all", "crm", "tasks", "im", "disk", "calendar", "user", "events"}

// Run audits the generated tree in gen (the directory holding crm/, tasks/
// …) against the pages under docs, for every method and event of s.
func Run(docs string, s *spec.Spec, gen fs.FS) (*Audit, error) {
	tree, err := readGoTree(gen)
	if err != nil {
		return nil, fmt.Errorf("audit: reading the generated Go: %w", err)
	}
	sys, err := systemErrors(docs)
	if err != nil {
		return nil, err
	}
	a := &Audit{ByFamily: map[string]*Counts{}}
	dn := &dirNames{docs: docs, dirs: map[string]map[string]bool{}}
	pages := map[string][]*docTable{}
	read := func(p string) ([]*docTable, string, error) {
		src, err := os.ReadFile(filepath.Join(docs, filepath.FromSlash(p)))
		if err != nil {
			return nil, "", err
		}
		// The includes' text names members too (the events' auth table).
		// So do the pages its types link to (entities.md#message, a
		// catalog data-types section): the Go types a linked row by them.
		text := string(src) + includedText(docs, p, string(src)) + linkedText(docs, p, string(src))
		if t, ok := pages[p]; ok {
			return t, text, nil
		}
		pages[p] = readPage(string(src))
		return pages[p], text, nil
	}
	linkedSrc := map[string]string{}
	tablesOf := func(p string) ([]*docTable, string) {
		if t, ok := pages[p]; ok {
			if src, ok := linkedSrc[p]; ok {
				return t, src
			}
		}
		src, err := os.ReadFile(filepath.Join(docs, filepath.FromSlash(p)))
		if err != nil {
			return nil, "" // a missing target: nothing documented there
		}
		if _, ok := pages[p]; !ok {
			pages[p] = readPage(string(src))
		}
		linkedSrc[p] = string(src)
		return pages[p], linkedSrc[p]
	}
	for i := range s.Methods {
		m := &s.Methods[i]
		tables, src, err := read(m.Page)
		if err != nil {
			return nil, err
		}
		gm := tree.methods[fmt.Sprintf("%s@%d", m.Name, m.Version)]
		c := &checker{a: a, fam: Family(m.Name), key: m.Key(), page: m.Page, src: src, names: dn.of, tablesOf: tablesOf}
		if gm == nil {
			c.listed(m.Line, "", "method", "no generated function")
			continue
		}
		c.fields(tables, zoneParams, gm.params, false)
		c.fields(tables, zoneResult, gm.result, true)
		c.errors(tables, gm.doc, sys)
		c.precision()
	}
	perPage := map[string]int{}
	for _, e := range s.Events {
		perPage[e.Page]++
	}
	envelope, err := eventEnvelope(s, read)
	if err != nil {
		return nil, err
	}
	for _, e := range s.Events {
		tables, src, err := read(e.Page)
		if err != nil {
			return nil, err
		}
		c := &checker{a: a, fam: "events", key: e.Name, page: e.Page, src: src, names: dn.of, envelope: envelope, tablesOf: tablesOf}
		root := tree.events[e.Name]
		switch {
		case root == nil:
			c.listed(e.Line, "", "event", "no generated struct")
		case perPage[e.Page] > 1:
			c.listed(e.Line, "", "event", fmt.Sprintf("the page documents %d events: sections are not told apart by this reader", perPage[e.Page]))
		default:
			c.eventFields(tables, root)
			c.precision()
		}
	}
	sortFindings(a.Misses)
	sortFindings(a.Listed)
	return a, nil
}

var includeRe = regexp.MustCompile(`\{%\s*include[^(]*\(([^)]+)\)\s*%\}`)

// includedText is the text of the files a page includes, one level deep.
func includedText(docs, page, src string) string {
	var b strings.Builder
	for _, m := range includeRe.FindAllStringSubmatch(src, -1) {
		inc := path.Join(path.Dir(page), m[1])
		if data, err := os.ReadFile(filepath.Join(docs, filepath.FromSlash(inc))); err == nil {
			b.WriteString("\n")
			b.Write(data)
		}
	}
	return b.String()
}

// typeLinkRe is a type cell's link to a named type on another page:
// [`Message`](../../entities.md#message).
var typeLinkRe = regexp.MustCompile("\\[`([A-Za-z][A-Za-z0-9_]*)(?:\\[\\])?`\\]\\(([^)#\\s]+\\.md)(?:#[^)\\s]*)?\\)")

// linkedText is the text of the pages the page's named types link to, one
// level deep; a basic type's link (string, object) names no structure.
func linkedText(docs, page, src string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, m := range typeLinkRe.FindAllStringSubmatch(src, -1) {
		switch strings.ToLower(m[1]) {
		case "string", "integer", "int", "boolean", "bool", "double", "float", "number", "date", "datetime", "object", "array", "file", "char", "time":
			continue
		}
		target := path.Join(path.Dir(page), m[2])
		if seen[target] || target == page {
			continue
		}
		seen[target] = true
		if data, err := os.ReadFile(filepath.Join(docs, filepath.FromSlash(target))); err == nil {
			b.WriteString("\n")
			b.Write(data)
		}
	}
	return b.String()
}

// eventEnvelope is the delivery envelope of every event: the top-level
// rows (event, event_handler_id, data, ts, auth) that at least a third of
// the event pages document. A payload's envelope member its own page
// leaves out is documented by the others.
func eventEnvelope(s *spec.Spec, read func(string) ([]*docTable, string, error)) (map[string]bool, error) {
	count := map[string]int{}
	pages := map[string]bool{}
	for _, e := range s.Events {
		if pages[e.Page] {
			continue
		}
		pages[e.Page] = true
		tables, _, err := read(e.Page)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, t := range tables {
			if t.parent != nil || !t.isFieldTable() || t.zone == zoneExamples {
				continue
			}
			for _, r := range t.rows {
				if n := r.name(); n != "" && !seen[n] {
					seen[n] = true
					count[n]++
				}
			}
			break // the first field table holds the top level
		}
	}
	out := map[string]bool{}
	for k, n := range count {
		if n*3 >= len(pages) {
			out[k] = true
		}
	}
	return out, nil
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Page, y.Page), cmp.Compare(x.Line, y.Line), cmp.Compare(x.Field, y.Field), cmp.Compare(x.Method, y.Method))
	})
}

// checker audits one method or event.
type checker struct {
	a         *Audit
	fam, key  string
	page, src string
	// levels are the Go structs a table was bound to, with the keys its
	// rows documented there: precision is measured on them only.
	levels []*level
	zone   zone    // the zone being audited
	root   *goType // and its root
	names  func(dir string, fieldsPages bool) map[string]bool
	// envelope are the events' delivery keys (eventEnvelope); nil for methods.
	envelope map[string]bool
	// tablesOf reads another page's tables and text (linked.go), nil
	// where none.
	tablesOf func(page string) ([]*docTable, string)
	// linkedSrc is the text of the pages a link was followed to: they
	// name the members of the levels their rows were bound to.
	linkedSrc  strings.Builder
	linkedSeen map[string]bool
}

// siblings reports whether a page beside this one (same directory or the
// one above) names key as a row or a JSON key: a member documented there,
// as an entity's are, is not invented. A write form's member counts only
// when the family's *fields page names it (what the read pages alone show
// is not writable).
func (c *checker) siblings(key string, write bool) bool {
	for _, d := range []string{path.Dir(c.page), path.Dir(path.Dir(c.page))} {
		if c.names(d, write)[key] {
			return true
		}
	}
	return false
}

var nameRe = regexp.MustCompile("\\*\\*`?([A-Za-z0-9_]+)`?\\*?\\*\\*|\"([A-Za-z0-9_]+)\"\\s*:")

// dirNames is the row names and JSON keys of the pages of one directory,
// of all its pages and of its *fields pages.
type dirNames struct {
	docs string
	dirs map[string]map[string]bool
}

func (d *dirNames) of(dir string, fieldsPages bool) map[string]bool {
	key := fmt.Sprint(dir, fieldsPages)
	if n, ok := d.dirs[key]; ok {
		return n
	}
	n := map[string]bool{}
	pattern := "*.md"
	if fieldsPages {
		pattern = "*fields*.md"
	}
	files, _ := filepath.Glob(filepath.Join(d.docs, filepath.FromSlash(dir), pattern))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range nameRe.FindAllStringSubmatch(string(src), -1) {
			n[m[1]+m[2]] = true
		}
	}
	d.dirs[key] = n
	return n
}

type level struct {
	write bool // a params level: the page's own write form
	top   bool // the root's own level
	t     *goType
	keys  map[string]bool // lower-case documented keys
	line  int
}

// counts are the figures this method adds to: all, and its family's.
func (c *checker) counts() []*Counts {
	if c.fam == "events" {
		return []*Counts{c.family("events")} // "all" is every method
	}
	return []*Counts{c.family("all"), c.family(c.fam)}
}

func (c *checker) family(f string) *Counts {
	n := c.a.ByFamily[f]
	if n == nil {
		n = &Counts{}
		c.a.ByFamily[f] = n
	}
	return n
}

func (c *checker) miss(line int, field, what, reason string) {
	c.a.Misses = append(c.a.Misses, Finding{c.key, c.page, line, field, what, reason})
}

// missAt is a miss of a row on another page (a linked table's), or on
// the checker's own where page is "".
func (c *checker) missAt(page string, line int, field, what, reason string) {
	c.a.Misses = append(c.a.Misses, Finding{c.key, cmp.Or(page, c.page), line, field, what, reason})
}

func (c *checker) listed(line int, field, what, reason string) {
	c.a.Listed = append(c.a.Listed, Finding{c.key, c.page, line, field, what, reason})
}

// bound is what a row resolved to in the Go tree.
type bound struct {
	t      *goType // the member's type; nil when absent
	reason string  // why absent
	values bool    // the row is a value of its parent (a list or a string), not a member
}

// isScalar reports whether t holds values, not members: a string, a number
// or a list of them. A sub-table under such a row lists its values.
func isScalar(t *goType) bool {
	if t.class == gSlice && t.elem != nil {
		t = t.elem
	}
	switch t.class {
	case gString, gInt, gNumber, gYN, gBool:
		return true
	}
	return false
}

// envelope rows of a result table are the runtime's, not the result's.
var envelope = map[string]bool{"time": true, "total": true, "next": true}

// fields audits the field tables of one zone against root, the params
// struct or the result type.
func (c *checker) fields(tables []*docTable, z zone, root *goType, result bool) {
	c.zone, c.root = z, root
	var first *docTable
	rows := map[*docRow]bound{}
	var checks []rowCheck
	for _, t := range tables {
		if t.zone != z || !t.isFieldTable() {
			continue
		}
		base, baseReason := c.tableBase(t, first, tables, rows, root)
		if first == nil && t.parent == nil {
			first = t
		}
		for _, r := range t.rows {
			name := r.name()
			if name == "" {
				continue
			}
			if z == zoneResult && t.parent == nil && base == root {
				low := strings.ToLower(name)
				if envelope[low] {
					continue
				}
				if low == "result" {
					rows[r] = bound{t: root}
					checks = append(checks, rowCheck{row: r, name: name, t: root, level: nil})
					continue
				}
			}
			if isPlaceholder(name) {
				// "<chatId>", "{BOT_ID}": a key family; its nested table
				// describes the map's values.
				if base != nil && base.class == gMap && base.elem != nil {
					rows[r] = bound{t: base.elem}
				}
				for _, n := range c.counts() {
					n.Skipped++
				}
				continue
			}
			if segs := nameSegments(name); z == zoneResult && base == root && len(segs) > 1 && strings.EqualFold(segs[0], "result") {
				name = strings.Join(segs[1:], ".") // "result.users": the root's member
			}
			b, lv := c.resolve(base, baseReason, name, root)
			if b.values {
				c.listed(r.line, name, "value", "a value of its parent (Go "+base.name+"), not a field")
				continue
			}
			rows[r] = b
			checks = append(checks, rowCheck{row: r, name: name, t: b.t, reason: b.reason, level: lv})
		}
	}
	checks = append(checks, c.linkedChecks(checks)...)
	c.judge(checks, result)
}

// eventFields audits an event page: its field tables, wherever they sit
// outside the code examples and errors, against the payload struct. They
// count as result fields: the portal sends them.
func (c *checker) eventFields(tables []*docTable, root *goType) {
	var own []*docTable
	for _, t := range tables {
		if t.zone != zoneExamples && t.zone != zoneErrors {
			t2 := *t
			t2.zone = zoneParams
			own = append(own, &t2)
		}
	}
	// Parents point at rows of the original tables, which the copies share.
	c.fields(own, zoneParams, root, true)
}

// rowCheck is one documented row and where it landed.
type rowCheck struct {
	row    *docRow
	page   string // the row's page, where a link led to another (linked.go)
	name   string
	t      *goType
	reason string
	level  *level
}

// judge counts each documented field once: rows that repeat a field (one
// per tab) agree or are listed as a contradiction.
func (c *checker) judge(checks []rowCheck, result bool) {
	what := "param"
	if result {
		what = "result"
	}
	type group struct {
		first   rowCheck
		classes map[string]bool
	}
	var order []string
	groups := map[string]*group{}
	for _, rc := range checks {
		k := fmt.Sprintf("%p/%s", rc.level, strings.ToLower(rc.name))
		if rc.level == nil {
			k = fmt.Sprintf("%s/%s/%d", rc.reason, strings.ToLower(rc.name), rc.row.line)
		}
		g := groups[k]
		if g == nil {
			g = &group{first: rc, classes: map[string]bool{}}
			groups[k] = g
			order = append(order, k)
		}
		_, label := docAccepts(rc.row)
		g.classes[label] = true
	}
	for _, k := range order {
		g := groups[k]
		rc := g.first
		if len(g.classes) > 1 {
			c.listed(rc.row.line, rc.name, what, "the page's tables give it different types: "+strings.Join(slices.Sorted(mapKeys(g.classes)), ", "))
			continue
		}
		if k := c.renamedInExample(rc); k != "" {
			c.listed(rc.row.line, rc.name, what, fmt.Sprintf("the table names it %s, the page's example answers %s (the Go's key)", rc.name, k))
			continue
		}
		ok, reason := true, ""
		if rc.t == nil {
			ok, reason = false, rc.reason
		} else if good, why := typeMatches(rc.row, rc.t); !good {
			ok, reason = false, why
		}
		for _, n := range c.counts() {
			if result {
				n.Results++
			} else {
				n.Params++
			}
			if ok {
				if result {
					n.ResultsOK++
				} else {
					n.ParamsOK++
				}
			}
		}
		if !ok {
			c.missAt(rc.page, rc.row.line, rc.name, what, reason)
		}
	}
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// tableBase is the Go type a table's rows are members of: the row holding
// it, the row its heading or anchor names, the zone's root for its first
// table (and the tabs beside it), else the struct of the tree that holds
// most of its rows.
func (c *checker) tableBase(t, first *docTable, tables []*docTable, rows map[*docRow]bound, root *goType) (*goType, string) {
	if t.parent != nil {
		return c.rowBase(rows, t.parent)
	}
	if first == nil || t.heading == first.heading {
		return root, ""
	}
	if r, member := namingRow(t, tables, rows); r != nil {
		base, reason := c.rowBase(rows, r)
		if member == "" || base == nil {
			return base, reason
		}
		// "Contains the [`category`](#category) object": the table is
		// that member of the linking row.
		if f, _ := base.level().member(member); f != nil {
			return f, ""
		}
		return nil, "parent " + r.name() + "." + member + " is absent"
	}
	best, n := bestLevel(t, root)
	if root != nil && root.class == gMap && root.elem != nil && root.elem.class != gRaw && n*2 < len(t.rows) {
		return root, "" // a *.fields result: the rows are the map's keys
	}
	if best != nil {
		return best, ""
	}
	return nil, "no struct holds the table's rows"
}

func (c *checker) rowBase(rows map[*docRow]bound, r *docRow) (*goType, string) {
	b, ok := rows[r]
	if !ok {
		return nil, "its table's row " + r.name() + " is not audited"
	}
	if b.t == nil {
		return nil, "parent " + r.name() + " is absent"
	}
	return b.t, ""
}

// namingRow is the earlier row a sub-table belongs to: one whose
// description links to the table's heading anchor (with the member that
// link names, when it is not the row itself), else the latest one named by
// a word of the heading (backticked words first).
func namingRow(t *docTable, tables []*docTable, rows map[*docRow]bound) (*docRow, string) {
	var earlier []*docRow
	for _, o := range tables {
		if o == t {
			break
		}
		if o.zone != t.zone || !o.isFieldTable() {
			continue
		}
		earlier = append(earlier, o.rows...)
	}
	if t.anchor != "" {
		link := regexp.MustCompile(`\[([^\]]*)\]\(#` + regexp.QuoteMeta(t.anchor) + `\)`)
		for i := len(earlier) - 1; i >= 0; i-- {
			r := earlier[i]
			if link.MatchString(r.cells[0]) {
				return r, "" // the row's type links to the table
			}
			if m := link.FindStringSubmatch(strings.Join(r.cells[1:], " | ")); m != nil {
				// Only a code-marked link text names a member ("[below]" is prose).
				word := strings.TrimSpace(m[1])
				if !strings.HasPrefix(word, "`") {
					word = ""
				}
				word = strings.Trim(word, "`")
				// "Contains the `attach` object, described [below](#attach)":
				// the anchor names the member when the row marks it as code.
				if word == "" && strings.Contains(r.text(), "`"+t.anchor+"`") {
					word = t.anchor
				}
				if wordRe.FindString(word) != word || strings.EqualFold(word, r.name()) {
					word = ""
				}
				return r, word
			}
		}
	}
	words := tickRe.FindAllStringSubmatch(t.heading, -1)
	var cands []string
	for _, w := range words {
		cands = append(cands, w[1])
	}
	cands = append(cands, wordRe.FindAllString(t.heading, -1)...)
	for _, w := range cands {
		for i := len(earlier) - 1; i >= 0; i-- {
			if _, ok := rows[earlier[i]]; ok && strings.EqualFold(earlier[i].name(), w) {
				return earlier[i], ""
			}
		}
	}
	return nil, ""
}

var wordRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// bestLevel is the struct under root holding most of t's row names, and
// how many it holds.
func bestLevel(t *docTable, root *goType) (*goType, int) {
	var best *goType
	bestN := 0
	for _, pt := range root.structs() {
		n := 0
		for _, r := range t.rows {
			if f, _ := pt.t.member(lastSegment(r.name())); f != nil {
				n++
			}
		}
		if n > bestN {
			best, bestN = pt.t, n
		}
	}
	return best, bestN
}

// resolve finds a row's member under base; a dotted or bracketed name
// ("fields.TITLE", "items[].ID", "fields[TITLE]") walks down from there.
func (c *checker) resolve(base *goType, baseReason, name string, root *goType) (bound, *level) {
	segs := nameSegments(name)
	if base == nil {
		return bound{reason: cmp.Or(baseReason, "no Go type to hold it")}, nil
	}
	lv := base.level()
	for i, s := range segs {
		if i == len(segs)-1 && (base.name == "b24.Filter" || base.name == "b24.Order") {
			// A REST 2 filter or order is keyed by field (and operator):
			// the rows its table lists are keys the typed keys spell.
			return bound{t: &goType{class: gOther, name: "filter key"}}, nil
		}
		if i == len(segs)-1 && base.class == gMap && base.elem != nil && base.elem.class != gRaw && (lv == nil || !lv.has(s)) {
			// A keyed map (crm.deal.fields' field name → description):
			// the row is one of its keys.
			return bound{t: &goType{class: gOther, name: "map key"}}, nil
		}
		if lv == nil && isScalar(base) {
			return bound{values: true}, nil
		}
		if lv == nil {
			return bound{reason: fmt.Sprintf("its parent is Go %s (%s), not a struct", base.name, base.class)}, nil
		}
		f, _ := lv.member(s)
		if i == len(segs)-1 {
			rec := c.levelOf(lv)
			rec.keys[strings.ToLower(s)] = true
			if f == nil {
				return bound{reason: c.elsewhere(s, root)}, rec
			}
			return bound{t: f}, rec
		}
		if f == nil {
			return bound{reason: "parent " + strings.Join(segs[:i+1], ".") + " is absent"}, nil
		}
		base, lv = f, f.level()
	}
	return bound{reason: "no name"}, nil
}

func (c *checker) levelOf(t *goType) *level {
	for _, l := range c.levels {
		if l.t == t {
			return l
		}
	}
	l := &level{t: t, keys: map[string]bool{}, write: c.zone == zoneParams && c.fam != "events", top: t == c.root.level()}
	c.levels = append(c.levels, l)
	return l
}

// elsewhere says why a member is absent: missing, or at another path.
func (c *checker) elsewhere(key string, root *goType) string {
	for _, pt := range root.structs() {
		if f, k := pt.t.member(key); f != nil {
			return "absent here; the Go has it at " + cmp.Or(path.Join(pt.path, k), k)
		}
	}
	return "absent from the Go"
}

// renamedInExample is the key the Go holds beside an absent row where the
// page contradicts itself: the row's name is the start of that key
// ("measure" and the example's "measures"), the page's example shows the
// key, and no row documents it.
func (c *checker) renamedInExample(rc rowCheck) string {
	if rc.t != nil || rc.level == nil {
		return ""
	}
	name := strings.ToLower(lastSegment(rc.name))
	for _, k := range rc.level.t.keys {
		lk := strings.ToLower(k)
		if lk != name && strings.HasPrefix(lk, name) && !rc.level.keys[lk] && strings.Contains(c.src, `"`+k+`"`) {
			return k
		}
	}
	return ""
}

// precision counts the members of every level a table was bound to: each
// has a row, or the page shows its key elsewhere (its examples), or it
// is invented.
// named reports whether the page, or a page a link was followed to, names
// key: a JSON key, code or a row.
func (c *checker) named(k string) bool {
	for _, src := range []string{c.src, c.linkedSrc.String()} {
		if strings.Contains(src, `"`+k+`"`) || strings.Contains(src, "`"+k+"`") || strings.Contains(src, "**"+k+"**") {
			return true
		}
	}
	return false
}

func (c *checker) precision() {
	for _, l := range c.levels {
		for _, k := range l.t.keys {
			if l.keys[strings.ToLower(k)] {
				for _, n := range c.counts() {
					n.Members++
				}
				continue
			}
			if c.named(k) || c.siblings(k, l.write) || l.top && c.envelope[k] {
				for _, n := range c.counts() {
					n.Justified++
				}
				continue
			}
			for _, n := range c.counts() {
				n.Members++
				n.Invented++
			}
			c.miss(0, k, "member", fmt.Sprintf("Go member of %s has no row and the page never names it", l.t.name))
		}
	}
	c.levels = nil
}

// nameSegments splits a documented name into its path.
func nameSegments(name string) []string {
	name = strings.ReplaceAll(name, "[]", "")
	name = strings.NewReplacer("[", ".", "]", "").Replace(name)
	var out []string
	for _, s := range strings.Split(name, ".") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{name}
	}
	return out
}

func lastSegment(name string) string {
	s := nameSegments(name)
	return s[len(s)-1]
}

// isPlaceholder tells names that stand for a family of keys ("UF_CRM_*",
// "fieldN …", "type code", "{id}") from keys.
func isPlaceholder(name string) bool {
	return strings.ContainsAny(name, "*{}<>… ") || strings.Contains(name, "...") ||
		strings.Contains(name, "xxx") || strings.Contains(name, "XXX")
}

// Ratio prints n of total as a percentage with the counts.
func Ratio(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(n)/float64(total), n, total)
}

// MissesText is the misses and listed cases, one a line: method, page:line,
// field, what, reason.
func (a *Audit) MissesText() string {
	var b strings.Builder
	b.WriteString("# b24gen audit: documented fields and error codes the generated Go misses (generator/audit).\n")
	b.WriteString("# method\tpage:line\tfield\twhat\treason\n")
	for _, f := range a.Misses {
		fmt.Fprintf(&b, "%s\t%s:%d\t%s\t%s\t%s\n", f.Method, f.Page, f.Line, f.Field, f.What, f.Reason)
	}
	b.WriteString("# listed, not counted: the docs contradict themselves or the audit cannot decide\n")
	for _, f := range a.Listed {
		fmt.Fprintf(&b, "%s\t%s:%d\t%s\t%s\t%s\n", f.Method, f.Page, f.Line, f.Field, f.What, f.Reason)
	}
	return b.String()
}
