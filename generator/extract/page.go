package extract

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/b24gen/b24gen/spec"
)

// PageResult is what one page documents.
type PageResult struct {
	Methods []spec.Method
	Events  []spec.Event
	Stats   spec.Stats
}

// Page extracts one page. path is relative to the docs root and names the
// page in problems; includes resolves {% include %} targets (already made
// relative to the docs root) to their content; nil drops includes with a
// problem. Page never panics: a failure while reading a page is returned as
// an "unreadable-page" problem.
func Page(path string, src []byte, includes func(path string) ([]byte, error)) (res *PageResult, problems []spec.Problem) {
	defer func() {
		if r := recover(); r != nil {
			res = &PageResult{Stats: spec.Stats{Pages: 1}}
			problems = append(problems, spec.Problem{File: path, Kind: "unreadable-page",
				Message: fmt.Sprintf("extractor failure: %v (please report: %s)", r, firstFrame(debug.Stack()))})
		}
	}()
	pc := newPageCtx(path, src, includes)
	pc.read()
	pc.stats.Pages = 1
	return &PageResult{Methods: pc.methods, Events: pc.events, Stats: pc.stats}, pc.problems
}

func firstFrame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.Contains(l, "generator/extract.") && !strings.Contains(l, "firstFrame") && !strings.Contains(l, "Page.func") && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return "unknown location"
}

type pageCtx struct {
	path     string
	blocks   []block
	problems []spec.Problem
	stats    spec.Stats
	methods  []spec.Method
	events   []spec.Event

	tables      map[int]*tableInfo // by block index
	json        map[int]*jsonExample
	anchors     map[string]int  // heading id → block index
	refd        map[string]bool // anchors some link on the page points to
	counted     map[int]bool    // tables whose rows are already in the stats
	slugs       map[string]int  // heading slug → block index, built on first use
	refHeadings map[int]bool    // headings that in-page links lead to
	lastWords   map[string]int  // each word of a heading slug → first heading with it
	ownLines    map[int]bool    // page lines that are the page's own (not included)
}

type jsonExample struct {
	raw  json.RawMessage
	root *jnode
	err  error
}

var anchorLinkRe = regexp.MustCompile(`\]\(#([^)\s]+)\)`)

func newPageCtx(p string, src []byte, includes func(string) ([]byte, error)) *pageCtx {
	pp, probs := preprocess(p, src, includes)
	pc := &pageCtx{path: p, problems: probs, tables: map[int]*tableInfo{}, json: map[int]*jsonExample{},
		anchors: map[string]int{}, refd: map[string]bool{}, counted: map[int]bool{}}
	pc.blocks = parseBlocks(pp)
	for i, b := range pc.blocks {
		if b.Kind == bHeading && b.ID != "" {
			if _, dup := pc.anchors[b.ID]; !dup {
				pc.anchors[b.ID] = i
			}
		}
		if (b.Kind == bTable || b.Kind == bParagraph) && strings.Contains(b.Raw, "](#") {
			for _, m := range anchorLinkRe.FindAllStringSubmatch(b.Raw, -1) {
				pc.refd[m[1]] = true
			}
		}
	}
	pc.ownLines = ownLines(pp)
	for _, b := range pc.blocks {
		if b.Kind == bTable && b.Unclosed {
			pc.problem(b.Line, "unclosed-table", "table ends without its closing |# (a missing |#, or a line outside the list item holding the table); rows up to there are read")
		}
	}
	return pc
}

// ownLines is the set of page lines written in the page itself (not included).
func ownLines(pp preprocessed) map[int]bool {
	own := make(map[int]bool, len(pp.lines))
	for i, l := range pp.lines {
		if !pp.included[i] {
			own[l] = true
		}
	}
	return own
}

func (pc *pageCtx) problem(line int, kind, format string, args ...any) {
	pc.problems = append(pc.problems, spec.Problem{File: pc.path, Line: line, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (pc *pageCtx) table(i int) *tableInfo {
	if t, ok := pc.tables[i]; ok {
		return t
	}
	b := pc.blocks[i]
	ti := classifyTable(splitTable(b.Raw, b.Lines), b.Line)
	pc.tables[i] = &ti
	return &ti
}

// example parses the code block at i as a JSON example, once.
func (pc *pageCtx) example(i int) *jsonExample {
	if e, ok := pc.json[i]; ok {
		return e
	}
	b := pc.blocks[i]
	var e *jsonExample
	t := strings.TrimSpace(b.Raw)
	if b.Kind == bCode && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && isJSONLang(b.Lang) {
		raw, root, err := parseExample(t)
		e = &jsonExample{raw: raw, root: root, err: err}
	}
	pc.json[i] = e
	return e
}

func isJSONLang(lang string) bool {
	switch lang {
	case "", "json", "json5", "jsonc", "js", "javascript", "text", "http", "plaintext":
		return true
	}
	return false
}

var (
	// A method name as an H1 spells it: lower-case first letter, dotted.
	h1MethodRe  = regexp.MustCompile(`(?:^|[\s(«"'“])([a-z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+)(?:$|[\s)»"'”,:;])`)
	eventNameRe = regexp.MustCompile(`(?:^|[\s(«"'“])((?:[oO][nN]|ON)[A-Za-z0-9_]+)(?:$|[\s)»"'”,:;.])`)
)

func (pc *pageCtx) read() {
	// Every table is measured, whatever the page documents: data-type and
	// field-reference pages carry parameter tables too.
	defer pc.countTables()
	h1 := -1
	for i, b := range pc.blocks {
		if b.Kind == bHeading && b.Level == 1 {
			h1 = i
			break
		}
	}
	if h1 < 0 {
		return
	}
	calls, version, webhook := pc.exampleCalls()
	eventJSON := pc.eventExamples()
	name := lastMatch(h1MethodRe, pc.blocks[h1].Text)
	if name != "" && len(calls) == 0 && len(eventJSON) > 0 {
		name = "" // an events page whose H1 names a module ("im.v2")
	}
	if name == "" && len(eventJSON) == 0 && len(calls) > 0 {
		// Pages without the name in the H1: trust the examples when the
		// page file is named after the method they call.
		// Only a REST URL counts here: BX24.placement.call('CallCardClose')
		// calls a widget command, not a REST method.
		top := topCall(calls)
		if sameName(top, strings.TrimSuffix(path.Base(pc.path), ".md")) && pc.restURLCalls(top) {
			name = top
		}
	}
	if path.Base(pc.path) == "index.md" {
		return // index pages show calls and payloads documented elsewhere
	}
	if !strings.HasPrefix(pc.path, "api-reference/") {
		// Outside the reference only a page named after the method it calls
		// by URL, under a scope line, documents a method (settings/…/batch.md);
		// tutorials show calls and payloads documented elsewhere.
		if name != "" && pc.restURLCalls(name) && sameName(name, strings.TrimSuffix(path.Base(pc.path), ".md")) && pc.hasScopeQuote(h1) {
			pc.readMethod(h1, name, calls, version, webhook)
		}
		return
	}
	file := strings.TrimSuffix(path.Base(pc.path), ".md")
	if name != "" && calls[name] == 0 && !webhook && !sameName(name, file) {
		// The H1 names a module ("Event Formats im.v2", "API Change Log for
		// imbot.v2"): nothing on the page calls it, nothing is named after it.
		name = ""
	}
	if name != "" {
		pc.readMethod(h1, name, calls, version, webhook)
		return
	}
	pc.readEvents(h1, eventJSON)
}

func lastMatch(re *regexp.Regexp, s string) string {
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1][1]
}

// sameName compares a method name with a file name ("crm.status.fields" and
// "crm-status-fields"), ignoring case and separators.
func sameName(method, file string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '.' || r == '-' || r == '_' {
				return -1
			}
			return r
		}, strings.ToLower(s))
	}
	return method != "" && norm(method) == norm(file)
}

// exampleCalls counts the method names the page's code examples call, and
// tells whether they call REST 3.0 (/rest/api/) and whether a webhook URL
// (/rest/<user>/<secret>/) is shown.
func (pc *pageCtx) exampleCalls() (calls map[string]int, version int, webhook bool) {
	calls = map[string]int{}
	version = 2
	for _, b := range pc.blocks {
		if b.Kind != bCode {
			continue
		}
		restURLs(b.Raw, func(c restCall) {
			calls[c.name]++
			if c.v3 {
				version = 3
			}
			if c.webhook {
				webhook = true
			}
		})
		callNames(b.Raw, func(name string) { calls[name]++ })
	}
	if path.Base(pc.path) != "batch.md" {
		delete(calls, "batch") // a batch example calls other methods through it
	}
	return calls, version, webhook
}

// hasScopeQuote reports whether a scope blockquote follows the H1.
func (pc *pageCtx) hasScopeQuote(h1 int) bool {
	h := pc.readHeader(h1, "")
	return len(h.scopes) > 0
}

// restURLCalls reports whether some code example calls name by a REST URL.
func (pc *pageCtx) restURLCalls(name string) bool {
	found := false
	for _, b := range pc.blocks {
		if b.Kind == bCode {
			restURLs(b.Raw, func(c restCall) { found = found || c.name == name })
		}
	}
	return found
}

// topCall is the most called name, ties broken by name for determinism.
func topCall(calls map[string]int) string {
	best, n := "", 0
	for k, v := range calls {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

// eventExamples returns the code blocks holding an event payload: a JSON
// object with a top-level string "event".
func (pc *pageCtx) eventExamples() []int {
	var out []int
	for i, b := range pc.blocks {
		if b.Kind != bCode || !strings.Contains(b.Raw, `"event"`) {
			continue
		}
		e := pc.example(i)
		if e == nil || e.root == nil {
			continue
		}
		if v := e.root.get("event"); v != nil && v.Kind == 's' && v.Str != "" {
			out = append(out, i)
		}
	}
	return out
}

// header reads the scope blockquote, the summary and the deprecation note
// that follow an H1 (up to the next heading).
type header struct {
	scopes     []string
	access     string
	summary    string
	deprecated bool
	replacedBy string
}

func (pc *pageCtx) readHeader(h1 int, self string) header {
	var h header
	h.scopes = []string{}
	noteDepth := 0
	noteDeprecated := false
	for i := h1 + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level <= 2 {
			break
		}
		switch b.Kind {
		case bBlockquote:
			if len(h.scopes) == 0 && h.access == "" {
				h.scopes, h.access = readScopeQuote(b.Raw)
			}
		case bDirective:
			switch b.Text {
			case "note":
				noteDepth++
				if noteDepth == 1 {
					noteDeprecated = mentionsDeprecated(noteTitle(b.Args))
					if noteDeprecated {
						h.deprecated = true
					}
				}
			case "endnote":
				if noteDepth > 0 {
					noteDepth--
				}
				if noteDepth == 0 {
					noteDeprecated = false
				}
			}
		case bParagraph:
			if noteDeprecated && h.replacedBy == "" {
				h.replacedBy = replacementIn(b.Raw, self)
			}
			if noteDepth == 0 && b.Depth == 0 && h.summary == "" && b.Tab == "" {
				h.summary = plainText(b.Raw)
			}
		}
	}
	// Pages under outdated/ and deprecated/ directories are deprecated as a
	// whole, whatever their notes say.
	for _, seg := range strings.Split(path.Dir(pc.path), "/") {
		if seg == "outdated" || seg == "deprecated" {
			h.deprecated = true
		}
	}
	return h
}

func noteTitle(args string) string {
	if i := strings.IndexByte(args, '"'); i >= 0 {
		return strings.Trim(args[i:], `"`)
	}
	return ""
}

var methodTokenRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+$`)

// replacementIn finds the first method name a deprecation note points to:
// a link or code span whose text is a method name other than the page's own.
func replacementIn(md, self string) string {
	for _, m := range linkRe.FindAllStringSubmatch(md, -1) {
		t := strings.Trim(m[1], "`")
		if methodTokenRe.MatchString(t) && t != self {
			return t
		}
	}
	for _, t := range codeTokens(md) {
		if methodTokenRe.MatchString(t) && t != self {
			return t
		}
	}
	return ""
}

// readScopeQuote reads "> Scope: [`crm`](…)" and "> Who can …: …". The scope
// line is the one whose code spans link to the scopes page (or, failing
// that, the first line with code spans); the access line is the other one.
func readScopeQuote(raw string) ([]string, string) {
	scopes := []string{}
	access := ""
	scopeFound := false
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		toks := codeTokens(line)
		if !scopeFound && len(toks) > 0 && (strings.Contains(line, "scopes/") || access == "" && len(scopes) == 0) {
			for _, t := range toks {
				t = strings.TrimSpace(t)
				if t != "" && !strings.ContainsAny(t, " ") {
					scopes = append(scopes, t)
				}
			}
			scopeFound = true
			continue
		}
		if access == "" {
			_, after, ok := strings.Cut(plainText(line), ":")
			if ok {
				access = strings.TrimSpace(after)
			} else {
				access = plainText(line)
			}
		}
	}
	return scopes, access
}

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
	if m.Params == nil {
		m.Params = []spec.Param{}
	}
	success, errStart := pc.responseExamples(examples)
	m.Result = pc.readResult(success, errStart)
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

func (pc *pageCtx) paramsBefore(from, to int) []spec.Param {
	var rows []rawParam
	first := true
	for i := from; i < to; i++ {
		if b := pc.blocks[i]; b.Kind == bHeading && b.Level <= 2 && !first {
			// The parameters section ends at the next "##": later sections
			// ("Endpoint", "How it works") describe other things; tables
			// there are read only through the anchors that lead to them.
			break
		}
		if pc.blocks[i].Kind != bTable {
			continue
		}
		t := pc.table(i)
		if t.Kind != tParams {
			continue
		}
		if !first && pc.isSubTable(i) {
			continue
		}
		if !first {
			// "### Parameter fields" without a link to it: the table
			// describes the keys of the object parameter its heading names.
			if k := pc.parentByHeading(i, rows); k >= 0 {
				rows[k].Fields = pc.build(pc.rowsOf(i), map[int]bool{i: true})
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

// rowsOf returns the parsed rows of the parameters table at block i, parsed
// once (a table is read for the spec and again for the stats). Callers get
// their own slice: build modifies what it is given.
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
		for _, w := range strings.FieldsFunc(b.Text, func(r rune) bool {
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
	return -1
}

func (pc *pageCtx) rowsOf(i int) []rawParam {
	t := pc.table(i)
	if t.params == nil {
		t.params = make([]rawParam, 0, len(t.Rows))
		t.rowIdx = make([]int, 0, len(t.Rows))
		for k, r := range t.Rows {
			if p, ok := parseParamRow(r, t.SplitType); ok {
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
			if !pc.ownLines[r.Line] {
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
				p.Fields = pc.build(pc.rowsOf(sub), visiting)
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
			}
		}
		out = append(out, p)
	}
	return nestDotted(out)
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
	if i, ok := pc.slugs[strings.ToLower(a)]; ok {
		return i, true
	}
	la := strings.ToLower(a)
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

// tableAfter is the first parameters table after the heading at h, before
// the next heading of the same or a higher level.
func (pc *pageCtx) tableAfter(h int) int {
	level := pc.blocks[h].Level
	for i := h + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level <= level {
			return -1
		}
		if b.Kind == bTable && pc.table(i).Kind == tParams {
			return i
		}
	}
	return -1
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

func allSegs(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if seg == "" || !dottedSegRe.MatchString(seg) {
			return false
		}
	}
	return true
}

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

// responseExamples finds the success example (the first JSON object with
// "result" from the code examples on) and the error example after it. Every
// response example on the page is counted and parsed, not only the first.
func (pc *pageCtx) responseExamples(from int) (success, errStart int) {
	success, errStart = -1, len(pc.blocks)
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bCode {
			continue
		}
		hasResult := strings.Contains(b.Raw, `"result"`)
		if !hasResult && (success < 0 || errStart < len(pc.blocks) || !strings.Contains(b.Raw, `"error"`)) {
			continue
		}
		e := pc.example(i)
		if e == nil {
			continue
		}
		if e.root == nil {
			if hasResult {
				pc.stats.ResponseExamples++
				line := b.Line
				var ee *exampleError
				if errors.As(e.err, &ee) {
					line += 1 + ee.Line // the example starts on the line after the fence
				}
				pc.problem(line, "bad-json", "response example does not parse, even without comments, ellipses and trailing commas: %v", e.err)
				if success < 0 {
					success = i
				}
			}
			continue
		}
		if e.root.get("result") != nil {
			pc.stats.ResponseExamples++
			pc.stats.ExamplesParsed++
			if success < 0 {
				success = i
			}
			continue
		}
		if success >= 0 && errStart == len(pc.blocks) && e.root.get("error") != nil {
			errStart = i
		}
	}
	if success < 0 {
		// Some pages show the response without its envelope
		// ({"extras": [...], "total": 1}): take the first JSON object
		// after the examples that is not an error.
		for i := from; i < len(pc.blocks); i++ {
			b := pc.blocks[i]
			if b.Kind != bCode || b.Depth > 0 || !strings.HasPrefix(strings.TrimSpace(b.Raw), "{") {
				continue
			}
			if e := pc.example(i); e != nil && e.root != nil && e.root.Kind == 'o' && e.root.get("error") == nil && e.root.get("event") == nil {
				pc.stats.ResponseExamples++
				pc.stats.ExamplesParsed++
				return i, errStart
			}
		}
	}
	return success, errStart
}

// unwrapped is the example's "result", or, for an example shown without the
// envelope, the example without its envelope keys.
func unwrapped(root *jnode) *jnode {
	if r := root.get("result"); r != nil {
		return r
	}
	if root.Kind != 'o' {
		return root
	}
	n := &jnode{Kind: 'o'}
	for i, k := range root.Keys {
		if !envelopeKeys[k] {
			n.Keys = append(n.Keys, k)
			n.Vals = append(n.Vals, root.Vals[i])
		}
	}
	return n
}

// envelopeKeys are the keys of the response envelope around "result".
var envelopeKeys = map[string]bool{"result": true, "time": true, "total": true, "next": true, "error": true, "error_description": true}

func (pc *pageCtx) readResult(success, errStart int) *spec.Result {
	var ex *jsonExample
	if success >= 0 {
		ex = pc.example(success)
	}
	var rows []spec.Param
	if success >= 0 {
		for i := success + 1; i < errStart; i++ {
			if pc.blocks[i].Kind == bTable && pc.table(i).Kind == tParams && !pc.isSubTable(i) {
				rows = pc.build(pc.rowsOf(i), map[int]bool{})
				break
			}
		}
	}
	if ex == nil && rows == nil {
		return nil
	}
	r := &spec.Result{Shape: "unknown"}
	var exResult *jnode
	if ex != nil && ex.root != nil {
		r.Example = ex.raw
		exResult = unwrapped(ex.root)
		if ex.root.get("total") != nil || ex.root.get("next") != nil {
			r.Paginated = true
		}
	}
	var resultRow *spec.Param
	var extra []spec.Param
	for i := range rows {
		switch rows[i].Name {
		case "result":
			resultRow = &rows[i]
		case "total", "next":
			r.Paginated = true
		default:
			if !envelopeKeys[rows[i].Name] {
				extra = append(extra, rows[i])
			}
		}
	}
	if resultRow != nil {
		setShape(r, resultRow.Kind, resultRow.Elem)
		r.Fields = resultRow.Fields
	}
	if len(r.Fields) == 0 && len(extra) > 0 && (resultRow == nil || resultRow.Kind == spec.KindObject || resultRow.Kind == spec.KindAny) {
		// Rows listed beside "result" are its keys ("item" under result).
		r.Fields = extra
		if r.Shape == "unknown" {
			r.Shape = "object"
		}
	}
	if exResult != nil {
		if r.Shape == "unknown" {
			k, e := kindOfJSON(exResult)
			setShape(r, k, e)
		}
		// A single key holding the object or the rows: the wrapper
		// ("task" for tasks.task.get, "items" for crm.item.list).
		if exResult.Kind == 'o' && len(exResult.Keys) == 1 && (exResult.Vals[0].Kind == 'o' || exResult.Vals[0].Kind == 'a') && !isDigits(exResult.Keys[0]) {
			key := exResult.Keys[0]
			inner := exResult.Vals[0]
			if len(r.Fields) == 0 || len(r.Fields) == 1 && r.Fields[0].Name == key || fieldsDescribe(r.Fields, inner) {
				r.Wrapper = key
				var wrapped *spec.Param
				if len(r.Fields) == 1 {
					wrapped = &r.Fields[0]
				}
				k, e := kindOfJSON(inner)
				r.Shape, r.Kind = "", ""
				setShape(r, k, e)
				if wrapped != nil {
					r.Fields = wrapped.Fields
				} else if !fieldsDescribe(r.Fields, inner) {
					r.Fields = nil
				}
				exResult = inner
			}
		}
		if len(r.Fields) == 0 && (r.Shape == "object" || r.Shape == "array" && r.Kind == spec.KindObject) {
			r.Fields = fieldsFromJSON(exResult, 0)
		}
		fillKinds(r.Fields, exResult, 0)
	}
	return r
}

// fieldsDescribe reports whether most documented fields are keys of the
// example object (or of its first row): the table describes what sits under
// the wrapper key, without a row for the wrapper itself.
func fieldsDescribe(fs []spec.Param, n *jnode) bool {
	if n.Kind == 'a' && len(n.Vals) > 0 {
		n = n.Vals[0]
	}
	if n.Kind != 'o' || len(fs) == 0 {
		return false
	}
	hits := 0
	for _, f := range fs {
		if n.get(f.Name) != nil {
			hits++
		}
	}
	return hits*2 > len(fs)
}

func setShape(r *spec.Result, k, elem spec.Kind) {
	switch k {
	case spec.KindObject:
		r.Shape = "object"
	case spec.KindArray:
		r.Shape = "array"
		r.Kind = elem
	case spec.KindAny, "":
		r.Shape = "unknown"
	default:
		r.Shape = "scalar"
		r.Kind = k
	}
}

// isCodeToken reports whether an unquoted cell is an error code itself
// ("ERROR_CORE", "100") rather than prose ("Empty value").
func isCodeToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t") && strings.ToUpper(s) == s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var (
	upperCodeRe  = regexp.MustCompile("`([A-Z][A-Z0-9_]{2,}|[a-z]+_[a-z_]+)`")
	httpStatusRe = regexp.MustCompile(`^\s*` + "`?" + `([1-5]\d\d)` + "`?" + `\s*$`)
)

// errorTableCache holds the rows of included error tables already read, by
// their text: the system-errors table is included into every page. Only
// included tables are cached, so it holds a handful of entries.
var errorTableCache sync.Map

// readErrors reads the error-code tables after from. Three shapes occur:
// code | message | description; status | code + message | description
// (system errors); and REST 3.0 field | message | fix tables preceded by a
// paragraph naming the error code.
func (pc *pageCtx) readErrors(from int) []spec.ErrorDoc {
	if from < 0 {
		from = 0
	}
	var out []spec.ErrorDoc
	seen := map[string]bool{}
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bTable {
			continue
		}
		t := pc.table(i)
		if t.Kind != tErrors {
			continue
		}
		if pc.ownLines[t.Line] {
			pc.stats.ErrorTables++ // the included system-errors table is counted once, on its own page
		}
		// REST 3.0 pages name the code in the paragraph above the table.
		lastCode := ""
		if i > 0 && pc.blocks[i-1].Kind == bParagraph {
			if m := upperCodeRe.FindStringSubmatch(pc.blocks[i-1].Raw); m != nil {
				lastCode = m[1]
			}
		}
		if docs, ok := errorTableCache.Load(lastCode + "\x00" + pc.blocks[i].Raw); ok {
			for _, e := range docs.([]spec.ErrorDoc) {
				key := e.Code + "\x00" + e.Message
				if !seen[key] {
					seen[key] = true
					out = append(out, e)
				}
			}
			continue
		}
		var tableDocs []spec.ErrorDoc
		for _, r := range t.Rows {
			var e spec.ErrorDoc
			c := r.Cells
			switch {
			case len(c) >= 3 && httpStatusRe.MatchString(c[0]) && upperCodeRe.MatchString(c[1]):
				fmt.Sscanf(strings.Trim(strings.TrimSpace(c[0]), "`"), "%d", &e.Status)
				toks := codeTokens(c[1])
				if len(toks) > 0 {
					e.Code = toks[0]
					e.Message = plainText(strings.Replace(c[1], "`"+toks[0]+"`", "", 1))
				} else {
					e.Code = plainText(c[1])
				}
				e.Description = plainText(strings.Join(c[2:], " "))
			case lastCode != "" && len(c) >= 2:
				e.Code = lastCode
				e.Message = plainText(c[1])
				if len(c) >= 3 {
					e.Description = plainText(strings.Join(c[2:], " "))
				}
			default:
				code := strings.TrimSpace(c[0])
				if toks := codeTokens(code); len(toks) == 1 && strings.TrimSpace(strings.Replace(code, "`"+toks[0]+"`", "", 1)) == "" {
					e.Code = toks[0]
				} else if isCodeToken(code) {
					e.Code = code
				} else {
					e.Code = "" // "Empty value", "-": the error code is empty
				}
				if len(c) >= 2 {
					e.Message = plainText(c[1])
				}
				if len(c) >= 3 {
					e.Description = plainText(strings.Join(c[2:], " "))
				}
			}
			if e.Code == "" && e.Message == "" {
				continue
			}
			tableDocs = append(tableDocs, e)
			key := e.Code + "\x00" + e.Message
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, e)
		}
		if !pc.ownLines[t.Line] {
			errorTableCache.Store(lastCode+"\x00"+pc.blocks[i].Raw, tableDocs)
		}
	}
	return out
}

// eventTokenRe is an event name as headings spell it: "onCrmDealUpdate",
// "ONIMV2MESSAGEADD", "OnTaskAdd", "CATALOG.MEASURE.ON.ADD".
var eventTokenRe = regexp.MustCompile(`(?:^|[\s(«"'“])((?:on|On|ON)[A-Z][A-Za-z0-9_]*|[A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*\.ON\.[A-Z0-9_.]+|ON[A-Z0-9_]{3,})(?:$|[\s)»"'”,:;.])`)

// eventSection is a part of the page documenting one event.
type eventSection struct {
	heading  int // the heading naming the event (the H1 for one-event pages)
	name     string
	from, to int // block range of the section
	payload  int // the payload example, -1 when none
}

// sameEvent reports whether all payload examples send the same event.
func sameEvent(pc *pageCtx, payloads []int) bool {
	first := strings.ToUpper(pc.example(payloads[0]).root.get("event").Str)
	for _, p := range payloads[1:] {
		if strings.ToUpper(pc.example(p).root.get("event").Str) != first {
			return false
		}
	}
	return true
}

// readEvents makes one record per documented event. A page documents either
// one event (named by its H1) or several, each under a heading that is the
// event's name; the payload's "event" value names the event when present.
func (pc *pageCtx) readEvents(h1 int, payloads []int) {
	hb := pc.blocks[h1]
	h := pc.readHeader(h1, "")
	var sections []eventSection
	for i, b := range pc.blocks {
		if b.Kind == bHeading && b.Level >= 2 && b.Level <= 3 {
			if tok := lastMatch(eventTokenRe, b.Text); tok != "" && len(tok)*2 >= len(strings.TrimSpace(b.Text)) {
				sections = append(sections, eventSection{heading: i, name: tok, from: i + 1, payload: -1})
			}
		}
	}
	if len(sections) >= 2 {
		for k := range sections {
			sections[k].to = len(pc.blocks)
			if k+1 < len(sections) {
				sections[k].to = sections[k+1].heading
			}
		}
	} else if len(payloads) > 1 && !sameEvent(pc, payloads) {
		// Several payloads without event headings: one event per payload,
		// named by the heading above it.
		sections = sections[:0]
		for k, pi := range payloads {
			sec := eventSection{heading: h1, from: pi, to: len(pc.blocks), payload: pi}
			if k+1 < len(payloads) {
				sec.to = payloads[k+1]
			}
			for j := pi - 1; j > h1; j-- {
				if pc.blocks[j].Kind == bHeading {
					sec.heading = j
					sec.name = lastMatch(eventTokenRe, pc.blocks[j].Text)
					break
				}
			}
			sections = append(sections, sec)
		}
	} else {
		if len(payloads) == 0 && !eventTokenRe.MatchString(hb.Text) {
			return // not an event page
		}
		sec := eventSection{heading: h1, name: lastMatch(eventTokenRe, hb.Text), from: h1 + 1, to: len(pc.blocks), payload: -1}
		if len(payloads) > 0 {
			sec.payload = payloads[0] // several payloads of one event are variants
		}
		if sec.name == "" && sec.payload < 0 {
			return
		}
		sections = []eventSection{sec}
	}
	seen := map[string]bool{}
	for _, sec := range sections {
		if sec.payload < 0 {
			for i := sec.from; i < sec.to; i++ {
				if pc.blocks[i].Kind == bCode {
					if e := pc.example(i); e != nil && e.root != nil && e.root.Kind == 'o' {
						sec.payload = i
						break
					}
				}
			}
		}
		hd := pc.blocks[sec.heading]
		name := strings.ToUpper(sec.name)
		var ex *jsonExample
		if sec.payload >= 0 {
			ex = pc.example(sec.payload)
			if v := ex.root.get("event"); v != nil && v.Kind == 's' && v.Str != "" {
				name = strings.ToUpper(v.Str)
				if sec.name != "" && !strings.EqualFold(sec.name, v.Str) {
					pc.problem(hd.Line, "name-conflict", "heading names event %s but the payload sends %s; using %s", sec.name, v.Str, name)
				}
			}
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		title := strings.TrimSpace(strings.Replace(hd.Text, sec.name, "", 1))
		ev := spec.Event{Name: name, Title: title, DocName: sec.name, Page: pc.path, Line: hd.Line,
			Summary: h.summary, Scopes: h.scopes, Access: h.access}
		if ex != nil {
			ev.Example = ex.raw
		}
		for i := sec.from; i < sec.to; i++ {
			if pc.blocks[i].Kind == bTable && pc.table(i).Kind == tParams && (sec.heading != h1 || !pc.isSubTable(i)) {
				ev.Fields = pc.build(pc.rowsOf(i), map[int]bool{})
				break
			}
		}
		if ev.Fields == nil && ex != nil {
			ev.Fields = fieldsFromJSON(ex.root, 0)
		}
		if ex != nil {
			fillKinds(ev.Fields, ex.root, 0)
		}
		if ev.Fields == nil {
			ev.Fields = []spec.Param{}
			pc.problem(hd.Line, "no-payload", "event %s: no payload table or JSON example", name)
		}
		pc.events = append(pc.events, ev)
	}
	pc.stats.EventPages = 1
}

// sortProblems orders problems by file, line, kind and message.
func sortProblems(ps []spec.Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Message < b.Message
	})
}
