package extract

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// PageResult is what one page documents.
type PageResult struct {
	Methods []spec.Method
	Events  []spec.Event
	Objects []spec.Object // REST 3.0 objects of a fields-rest-v3 page (objects.go)
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
	return &PageResult{Methods: pc.methods, Events: pc.events, Objects: pc.objects, Stats: pc.stats}, pc.problems
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
	objects  []spec.Object

	tables      map[int]*tableInfo // by block index
	json        map[int]*jsonExample
	anchors     map[string]int  // heading id → block index
	refd        map[string]bool // anchors some link on the page points to
	slugs       map[string]int  // heading slug → block index, built on first use
	refHeadings map[int]bool    // headings that in-page links lead to
	lastWords   map[string]int  // each word of a heading slug → first heading with it
	ownLines    []bool          // ownLines[l]: page line l is the page's own (not included)
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
		anchors: map[string]int{}, refd: map[string]bool{}}
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
		if b.Kind == bTable && b.Unclosed {
			pc.problem(b.Line, "unclosed-table", "table ends without its closing |# (a missing |#, or a line outside the list item holding the table); rows up to there are read")
		}
	}
	pc.ownLines = ownLines(pp)
	return pc
}

// ownLines marks the page lines written in the page itself (not included).
func ownLines(pp preprocessed) []bool {
	maxLine := 0
	for _, l := range pp.lines {
		maxLine = max(maxLine, l)
	}
	own := make([]bool, maxLine+1)
	for i, l := range pp.lines {
		if !pp.included[i] {
			own[l] = true
		}
	}
	return own
}

// own reports whether page line l is the page's own text.
func (pc *pageCtx) own(l int) bool {
	return l >= 0 && l < len(pc.ownLines) && pc.ownLines[l]
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
	if isObjectsPage(file) {
		pc.readObjects() // objects.go
		return
	}
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
