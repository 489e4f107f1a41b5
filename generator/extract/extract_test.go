package extract

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const fixtureRoot = "testdata/docs"

// fixtureIncludes resolves includes against the fixture docs tree.
func fixtureIncludes(p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(fixtureRoot, filepath.FromSlash(p)))
}

// pageGolden is what a fixture's golden file holds: the page's records and
// its problems as the CLI prints them.
type pageGolden struct {
	Methods  []spec.Method `json:"methods,omitempty"`
	Events   []spec.Event  `json:"events,omitempty"`
	Problems []string      `json:"problems,omitempty"`
}

func fixturePages(t *testing.T) []string {
	t.Helper()
	var pages []string
	err := filepath.WalkDir(filepath.Join(fixtureRoot, "api-reference"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(fixtureRoot, p)
			pages = append(pages, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestPageGolden extracts each fixture page (one trap each; the pages under
// bad/ must fail with the problems in their golden) and compares the result
// with testdata/golden/<dir>_<name>.json. Run with -update to rewrite.
func TestPageGolden(t *testing.T) {
	for _, page := range fixturePages(t) {
		name := strings.TrimSuffix(strings.ReplaceAll(strings.TrimPrefix(page, "api-reference/"), "/", "_"), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
			if err != nil {
				t.Fatal(err)
			}
			res, probs := Page(page, src, fixtureIncludes)
			sortProblems(probs)
			got := pageGolden{Methods: res.Methods, Events: res.Events}
			for _, p := range probs {
				got.Problems = append(got.Problems, p.String())
			}
			gotJSON := marshal(t, got)
			goldenPath := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(goldenPath, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("no golden (run go test -run TestPageGolden -update): %v", err)
			}
			var wantG, gotG any
			_ = json.Unmarshal(want, &wantG)
			_ = json.Unmarshal(gotJSON, &gotG)
			if d := cmp.Diff(wantG, gotG); d != "" {
				t.Errorf("%s: extraction differs from %s (-want +got):\n%s", page, goldenPath, d)
			}
		})
	}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFixtureTraps states what each fixture is about, so a regenerated
// golden that lost the point of its trap fails here too.
func TestFixtureTraps(t *testing.T) {
	s, err := Dir(fixtureRoot, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]spec.Method{}
	for _, m := range s.Methods {
		methods[m.Key()] = m
	}
	events := map[string]spec.Event{}
	for _, e := range s.Events {
		events[e.Name] = e
	}
	param := func(ps []spec.Param, path ...string) *spec.Param {
		for _, name := range path {
			var found *spec.Param
			for i := range ps {
				if ps[i].Name == name {
					found = &ps[i]
				}
			}
			if found == nil {
				return nil
			}
			if name == path[len(path)-1] {
				return found
			}
			ps = found.Fields
		}
		return nil
	}
	mustMethod := func(key string) spec.Method {
		t.Helper()
		m, ok := methods[key]
		if !ok {
			t.Fatalf("method %s not extracted; have %v", key, slices.Sorted(maps.Keys(methods)))
		}
		return m
	}
	problems := strings.Builder{}
	for _, p := range s.Problems {
		problems.WriteString(p.String() + "\n")
	}

	if s.Source.Repository != "example.test/fixtures" || s.Source.Commit != "0123456789abcdef" || s.Source.Language != "en" {
		t.Errorf("source = %+v", s.Source)
	}

	// escaped \| and pipes in code spans do not split cells
	m := mustMethod("test.widget.get")
	if p := param(m.Params, "mode"); p == nil || !strings.Contains(p.Description, "a|b or c | d") || !strings.Contains(p.Description, "a | escaped pipe") {
		t.Errorf("escaped pipes: mode = %+v", p)
	}
	if p := param(m.Params, "id"); p == nil || p.Type != "integer | string" || p.Kind != spec.KindAny || !p.Required {
		t.Errorf("alternative types: id = %+v", p)
	}
	if !m.WebhookExample || m.Version != 2 {
		t.Errorf("webhook tab: %+v", m)
	}

	// a nested table in a cell stays in its cell
	m = mustMethod("test.lead.add")
	if len(m.Params) != 2 || m.Params[0].Name != "SOURCE_ID" || m.Params[1].Name != "TITLE" {
		t.Fatalf("nested table: params = %+v", m.Params)
	}
	if e := m.Params[0].Enum; len(e) != 2 || e[0].Value != "CALL" || e[0].Description != "Call | phone" || m.Params[0].Kind != spec.KindEnum {
		t.Errorf("nested table values: %+v", m.Params[0])
	}

	// include notitle, nested, relative; dotted payload names
	e, ok := events["ONTESTTHINGUPDATE"]
	if !ok {
		t.Fatalf("event ONTESTTHINGUPDATE missing: %v", s.Events)
	}
	if p := param(e.Fields, "auth", "application_token"); p == nil || !p.Required {
		t.Errorf("included auth table: %+v", param(e.Fields, "auth"))
	}
	if p := param(e.Fields, "data", "FIELDS", "ID"); p == nil || p.Kind != spec.KindInteger {
		t.Errorf("data.FIELDS.ID: %+v", param(e.Fields, "data"))
	}

	// tabs and cut: OAuth-only examples, summary outside the cut, scalar result
	m = mustMethod("test.thing.delete")
	if m.WebhookExample || m.Summary != "Deletes a thing." || m.Result == nil || m.Result.Shape != "scalar" || m.Result.Kind != spec.KindBoolean {
		t.Errorf("tabs/cut: %+v result %+v", m, m.Result)
	}

	// if dev: dropped
	m = mustMethod("test.thing.update")
	if param(m.Params, "draftOnly") != nil || param(m.Params, "id") == nil {
		t.Errorf("if dev: params = %+v", m.Params)
	}

	// anchors: nested result fields, arrays of anchored rows, broken anchor reported
	m = mustMethod("test.deal.get")
	if m.Result == nil || m.Result.Shape != "object" {
		t.Fatalf("anchors: result %+v", m.Result)
	}
	if p := param(m.Result.Fields, "PRODUCTS", "PRICE"); p == nil || p.Kind != spec.KindNumber || p.Default != "0" {
		t.Errorf("anchor by heading slug: PRODUCTS = %+v", param(m.Result.Fields, "PRODUCTS"))
	}
	if p := param(m.Result.Fields, "STAGE"); p == nil || p.Kind != spec.KindEnum || len(p.Enum) != 2 || p.Enum[1].Value != "S" {
		t.Errorf("enum: STAGE = %+v", p)
	}
	if p := param(m.Result.Fields, "OPENED"); p == nil || p.Kind != spec.KindBoolean {
		t.Errorf("char Y/N: OPENED = %+v", p)
	}
	if !strings.Contains(problems.String(), "anchors.md:12: broken-anchor: row \"options\" links to #nowhere") {
		t.Errorf("broken anchor not reported:\n%s", problems.String())
	}

	// dotted names and both required markers
	m = mustMethod("test.task.add")
	if p := param(m.Params, "fields", "RESPONSIBLE_ID"); p == nil || !p.Required || p.Kind != spec.KindInteger {
		t.Errorf("^*^ after bold: %+v", p)
	}
	if p := param(m.Params, "params", "LOCALE"); p == nil || !p.Required || p.Default != "en" {
		t.Errorf("^*^ inside bold, parent created: %+v", param(m.Params, "params"))
	}
	if p := param(m.Params, "fields", "TAGS"); p == nil || p.Kind != spec.KindArray || p.Elem != spec.KindString {
		t.Errorf("array of string: %+v", p)
	}
	if !strings.Contains(problems.String(), `dotted-required.md:20: untyped-row: row "UF_..." has no type`) {
		t.Errorf("untyped row not reported:\n%s", problems.String())
	}
	if m.Result == nil || m.Result.Wrapper != "task" || m.Result.Shape != "object" {
		t.Errorf("wrapper: %+v", m.Result)
	}

	// split type column, REST 3.0 URL, items wrapper, pagination
	m = mustMethod("test.bot.list@3")
	if p := param(m.Params, "filter", "type"); p == nil || p.Kind != spec.KindString {
		t.Errorf("split type column: %+v", m.Params)
	}
	if m.Result == nil || m.Result.Wrapper != "items" || m.Result.Shape != "array" || !m.Result.Paginated {
		t.Errorf("list result: %+v", m.Result)
	}

	// Several tables under one heading describe one nested structure:
	// none of their rows becomes a top-level parameter.
	m = mustMethod("test.property.add")
	if len(m.Params) != 1 || m.Params[0].Name != "fields" {
		t.Errorf("tables per section leaked to the top level: %+v", m.Params)
	}
	for _, path := range [][]string{{"fields", "name"}, {"fields", "DATE_CREATE"}, {"fields", "settings", "minlength"}} {
		if param(m.Params, path...) == nil {
			t.Errorf("tables per section: %v missing", path)
		}
	}

	// REST 3.0 page: version, item wrapper, v3 error table with the code above it
	m = mustMethod("test.task.get@3")
	if m.Result == nil || m.Result.Wrapper != "item" {
		t.Errorf("v3 result: %+v", m.Result)
	}
	if len(m.Errors) < 2 || m.Errors[0].Code != "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION" || m.Errors[1].Code != "QUERY_LIMIT_EXCEEDED" || m.Errors[1].Status != 503 {
		t.Errorf("v3 errors: %+v", m.Errors)
	}

	// lenient JSON
	m = mustMethod("test.thing.list")
	if m.Result == nil || string(m.Result.Example) != `{"result":[{"ID":"1","NAME":"First"},{"ID":"2","PATH":"C:\\Mail"}],"total":2,"next":50}` || !m.Result.Paginated {
		t.Errorf("lenient JSON: %+v", m.Result)
	}

	// H1 vs examples: the example wins
	if _, ok := methods["test.department.delete"]; !ok {
		t.Errorf("name conflict: the example's name was not used")
	}
	if !strings.Contains(problems.String(), "name-conflict: H1 names test.department.department.delete but the examples call test.department.delete") {
		t.Errorf("name conflict not reported:\n%s", problems.String())
	}

	// event H1 vs payload: the payload wins; deprecation note read
	if e, ok := events["ONTESTRESOURCEDELETE"]; !ok || e.DocName != "onResourceDelete" || !e.Deprecated {
		t.Errorf("event conflict: %+v", events)
	}

	// multi-event page
	if e, ok := events["ONTESTMESSAGEADD"]; !ok || param(e.Fields, "message", "text") == nil {
		t.Errorf("multi-event ADD: %+v", e)
	}
	if e, ok := events["ONTESTMESSAGEDELETE"]; !ok || param(e.Fields, "messageId") == nil {
		t.Errorf("multi-event DELETE: %+v", e)
	}

	// Russian headings
	m = mustMethod("test.ru.deal.get")
	if len(m.Scopes) != 1 || m.Scopes[0] != "crm" || !strings.HasPrefix(m.Access, "любой") || !m.Deprecated || m.ReplacedBy != "test.ru.item.get" {
		t.Errorf("russian header: %+v", m)
	}
	if p := param(m.Params, "id"); p == nil || !p.Required || p.Default != "0" {
		t.Errorf("russian params: %+v", m.Params)
	}
	if m.Result == nil || param(m.Result.Fields, "ID") == nil || len(m.Errors) != 2 || m.Errors[1].Code != "ACCESS_DENIED" {
		t.Errorf("russian result/errors: %+v %+v", m.Result, m.Errors)
	}
}

// TestDirWorkers checks that the output does not depend on parallelism.
func TestDirWorkers(t *testing.T) {
	a, err := Dir(fixtureRoot, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Dir(fixtureRoot, Options{Workers: 7})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(marshal(t, a), marshal(t, b)); d != "" {
		t.Errorf("Workers=1 and Workers=7 differ:\n%s", d)
	}
}

func TestDirErrors(t *testing.T) {
	if _, err := Dir(filepath.Join(t.TempDir(), "nope"), Options{}); err == nil || !strings.Contains(err.Error(), "docs directory") {
		t.Errorf("missing dir: %v", err)
	}
	empty := t.TempDir()
	if _, err := Dir(empty, Options{}); err == nil || !strings.Contains(err.Error(), "no Markdown pages") {
		t.Errorf("empty dir: %v", err)
	}
	f := filepath.Join(empty, "file.md")
	os.WriteFile(f, []byte("# x"), 0o644)
	if _, err := Dir(f, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as dir: %v", err)
	}
}

func TestPageNilIncludes(t *testing.T) {
	src := []byte("# Get x test.x.get\n\n{% include [n](../_includes/required.md) %}\n")
	_, probs := Page("api-reference/x.md", src, nil)
	if len(probs) != 1 || probs[0].String() != `api-reference/x.md:3: include-missing: include "../_includes/required.md" dropped: no include resolver` {
		t.Errorf("problems = %v", probs)
	}
}

// TestDirUnreadablePage: a page that cannot be read is a problem, and the
// other pages are still extracted.
func TestDirUnreadablePage(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "api-reference", "x"), 0o755)
	good := "# Get x test.x.get\n\n> Scope: [`x`](s.md)\n\n## Code Examples\n\n```bash\ncurl https://p/rest/1/s/test.x.get\n```\n"
	if err := os.WriteFile(filepath.Join(root, "api-reference", "x", "test-x-get.md"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "missing-target"), filepath.Join(root, "api-reference", "x", "broken.md")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	s, err := Dir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) != 1 || s.Methods[0].Name != "test.x.get" {
		t.Errorf("methods = %+v", s.Methods)
	}
	want := "api-reference/x/broken.md: unreadable-page: open: no such file or directory"
	if len(s.Problems) != 1 || s.Problems[0].String() != want {
		t.Errorf("problems = %v, want [%s]", s.Problems, want)
	}
	if strings.Contains(s.Problems[0].Message, root) {
		t.Errorf("problem names the machine's path: %s", s.Problems[0].Message)
	}
	if s.Source.Language != "en" || s.Source.Commit != "" {
		t.Errorf("source without SOURCE.txt = %+v", s.Source)
	}
}

// TestDirRussianTree: a tree without a language line whose titles are
// Russian is the Russian edition.
func TestDirRussianTree(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "api-reference"), 0o755)
	src, err := os.ReadFile(filepath.Join(fixtureRoot, "api-reference", "fixtures", "russian.md"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "api-reference", "russian.md"), src, 0o644)
	os.WriteFile(filepath.Join(root, "SOURCE.txt"), []byte("repository: x\ncommit: y\n"), 0o644)
	s, err := Dir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.Language != "ru" || s.Source.Repository != "x" || len(s.Methods) != 1 {
		t.Errorf("source = %+v, methods = %d", s.Source, len(s.Methods))
	}
}
