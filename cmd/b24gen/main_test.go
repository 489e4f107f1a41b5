package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// writeDocs lays out a tiny docs checkout: SOURCE.txt and one method page.
func writeDocs(t *testing.T, commit string, params string) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "api-reference", "crm", "deals"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "_includes"), 0o755))
	must(os.WriteFile(filepath.Join(root, "SOURCE.txt"),
		[]byte("repository: github.com/bitrix24/b24restdocs\ncommit: "+commit+"\n"), 0o644))
	page := "# Get Deal crm.deal.get\n\n> Scope: [`crm`](../../scopes/permissions.md)\n>\n> Who can execute the method: any user\n\n" +
		"The method `crm.deal.get` returns a deal.\n\n## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		params + "|#\n\n## Code Examples\n\n{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl -X POST -d '{\"id\":1}' https://example.bitrix24.com/rest/1/secret/crm.deal.get\n    ```\n\n{% endlist %}\n\n" +
		"## Response Handling\n\n```json\n{\"result\": {\"ID\": \"1\", \"TITLE\": \"x\"}, \"time\": {\"start\": 1}}\n```\n"
	must(os.WriteFile(filepath.Join(root, "api-reference", "crm", "deals", "crm-deal-get.md"), []byte(page), 0o644))
	return root
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

func TestExtractWritesSpecFile(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n")
	out := filepath.Join(t.TempDir(), "spec.json")
	_, stderr, code := runCLI(t, "extract", "-docs", docs, "-o", out)
	if code != 0 {
		t.Fatalf("extract exit %d: %s", code, stderr)
	}
	s, err := spec.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.Commit != "abc123" {
		t.Errorf("source commit = %q, want abc123", s.Source.Commit)
	}
	if len(s.Methods) != 1 || s.Methods[0].Name != "crm.deal.get" {
		t.Fatalf("methods = %+v, want crm.deal.get", s.Methods)
	}
	m := s.Methods[0]
	if len(m.Params) != 1 || m.Params[0].Name != "id" || !m.Params[0].Required || m.Params[0].Kind != spec.KindInteger {
		t.Errorf("params = %+v, want required integer id", m.Params)
	}
	if len(m.Scopes) != 1 || m.Scopes[0] != "crm" {
		t.Errorf("scopes = %v, want [crm]", m.Scopes)
	}
}

func TestReportCountsMethodsAndParams(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n|| **extra**\n | no type ||\n")
	c := reportJSON(t, docs)
	if c.Methods != 1 || c.Params != 2 || c.ParamsRequired != 1 {
		t.Errorf("report = methods %d params %d required %d, want 1, 2, 1", c.Methods, c.Params, c.ParamsRequired)
	}
	text, _, _ := runCLI(t, "report", "-docs", docs)
	if !strings.Contains(text, "methods") || !strings.Contains(text, "abc123") {
		t.Errorf("text report lacks the counts or the source:\n%s", text)
	}
}

func TestDiffBetweenDocsDirs(t *testing.T) {
	old := writeDocs(t, "old", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n")
	new := writeDocs(t, "new", "|| **id***\n[`string`](../../data-types.md) | Deal id ||\n|| **select**\n[`array`](../../data-types.md) | Fields ||\n")
	stdout, stderr, code := runCLI(t, "diff", old, new)
	if code != 0 {
		t.Fatalf("diff exit %d: %s", code, stderr)
	}
	for _, want := range []string{"\ncrm.deal.get\n", "  parameter retyped id (integer → string)\n", "  parameter added select (array)\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"extract"}, "-docs is required"},
		{[]string{"diff", "one"}, "two arguments"},
		{[]string{"report", "-spec", "x.json", "-docs", "d"}, "mutually exclusive"},
		{[]string{"report", "-spec", filepath.Join(t.TempDir(), "missing.json")}, "missing.json"},
		{[]string{"generate", "stray"}, `unexpected argument "stray"`},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("b24gen %v: exit %d, stderr %q; want failure mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestExtractFailureLeavesOldFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(out, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, code := runCLI(t, "extract", "-docs", filepath.Join(t.TempDir(), "nope"), "-o", out)
	if code == 0 {
		t.Fatal("extract of a missing docs dir succeeded")
	}
	if b, _ := os.ReadFile(out); string(b) != "previous" {
		t.Errorf("failed extract changed the output file to %q", b)
	}
}

// TestExtractWithoutMethodPages: a tree with Markdown but no method page
// fails, and -o keeps the good spec it would have overwritten.
func TestExtractWithoutMethodPages(t *testing.T) {
	docs := t.TempDir()
	os.WriteFile(filepath.Join(docs, "README.md"), []byte("# Readme\n"), 0o644)
	out := filepath.Join(t.TempDir(), "spec.json")
	os.WriteFile(out, []byte(`{"good": true}`), 0o644)
	_, stderr, code := runCLI(t, "extract", "-docs", docs, "-o", out)
	want := "b24gen extract: docs directory " + docs + ": no method pages among its 1 Markdown pages; is it the docs root (the directory holding api-reference/)?\n"
	if code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q\nwant exit 1, %q", code, stderr, want)
	}
	if b, _ := os.ReadFile(out); string(b) != `{"good": true}` {
		t.Errorf("the spec file became %q", b)
	}
}

// TestGenerateCommandLines drives generate over what it must refuse, and
// over its own earlier output, which it replaces.
func TestGenerateCommandLines(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n")
	specFile := filepath.Join(t.TempDir(), "spec.json")
	if _, stderr, code := runCLI(t, "extract", "-docs", docs, "-o", specFile); code != 0 {
		t.Fatal(stderr)
	}
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	os.MkdirAll(filepath.Join(repo, ".git"), 0o755)
	os.WriteFile(filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n"), 0o644)
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, []byte("mine"), 0o644)
	cwd, _ := os.Getwd()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-out", repo, "-pkg", "example.com/x/gen"}, "b24gen generate: generator: refusing to replace " + repo + ": it holds .git and 1 more entry b24gen did not write; b24gen replaces only a directory it wrote, every file starting with its \"// Code generated by b24gen\" header\n"},
		{[]string{"-out", file, "-pkg", "example.com/x/gen"}, "b24gen generate: generator: refusing to replace " + file + ": it is a file, not a directory; b24gen replaces only a directory it wrote, every file starting with its \"// Code generated by b24gen\" header\n"},
		{[]string{"-out", cwd, "-pkg", "example.com/x/gen"}, "b24gen generate: generator: refusing to use " + cwd + " as the output directory: it is the current directory\n"},
		{[]string{"-out", filepath.Join(dir, "gen"), "-pkg", "not valid!"}, "b24gen generate: generator: import path \"not valid!\": element 1 \"not valid!\": ' ' is not allowed (only letters, digits and - . _ ~ +)\n"},
	} {
		_, stderr, code := runCLI(t, append([]string{"generate", "-spec", specFile}, tc.args...)...)
		if code != 1 || stderr != tc.want {
			t.Errorf("generate %v: exit %d, stderr\n%s\nwant exit 1 and\n%s", tc.args, code, stderr, tc.want)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "mine" {
		t.Errorf("the file became %q", b)
	}
	if _, err := os.Stat(filepath.Join(repo, ".git", "HEAD")); err != nil {
		t.Errorf("the repository lost .git: %v", err)
	}
	gen := filepath.Join(dir, "gen")
	for range 2 {
		if stdout, stderr, code := runCLI(t, "generate", "-spec", specFile, "-out", gen, "-pkg", "example.com/x/gen"); code != 0 || !strings.Contains(stdout, "written to "+gen) {
			t.Fatalf("generate into its own tree: exit %d\n%s%s", code, stdout, stderr)
		}
	}
}

// b24gen -h is what a newcomer types first: it must list every subcommand,
// not only generate's flags, and succeed.
func TestHelpListsTheSubcommands(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"generate", "-h"}, {"report", "-help"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || stderr != "" {
			t.Errorf("b24gen %v: exit %d, stderr %q", args, code, stderr)
		}
		for _, cmd := range []string{"b24gen generate", "b24gen report", "b24gen extract", "b24gen diff", "b24gen help"} {
			if !strings.Contains(stdout, cmd) {
				t.Errorf("b24gen %v does not mention %q:\n%s", args, cmd, stdout)
			}
		}
	}
	if stdout, _, _ := runCLI(t, "generate", "-h"); !strings.Contains(stdout, "-scopes") {
		t.Errorf("generate -h does not show generate's flags:\n%s", stdout)
	}
	// A flag mistake is said once, then the usage, on stderr.
	_, stderr, code := runCLI(t, "report", "-x")
	if code != 2 || strings.Count(stderr, "-x") != 1 || !strings.Contains(stderr, "b24gen diff") {
		t.Errorf("report -x: exit %d, stderr\n%s", code, stderr)
	}
}

// generate prints one line whose problem count is report's, and keeps the
// list behind -v.
func TestGenerateSummaryAgreesWithReport(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n|| **extra**\n | no type ||\n")
	c := reportJSON(t, docs)
	if c.Problems == 0 {
		t.Fatal("the page with an untyped row gave no problem: the test proves nothing")
	}
	gen := filepath.Join(t.TempDir(), "gen")
	stdout, stderr, code := runCLI(t, "generate", "-docs", docs, "-out", gen, "-pkg", "example.com/x/gen")
	if code != 0 {
		t.Fatalf("generate exit %d: %s", code, stderr)
	}
	want := fmt.Sprintf("; %d problems in the docs worked around", c.Problems)
	if strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, want) || stderr != "" {
		t.Errorf("generate printed\nstdout %q\nstderr %q\nwant one line with %q and nothing on stderr", stdout, stderr, want)
	}
	stdout, stderr, code = runCLI(t, "generate", "-docs", docs, "-out", gen, "-pkg", "example.com/x/gen", "-v")
	if code != 0 || strings.Count(stderr, "\n") != c.Problems || !strings.Contains(stdout, "listed above") {
		t.Errorf("generate -v: exit %d, %d lines on stderr, want %d (one per problem)\n%s%s", code, strings.Count(stderr, "\n"), c.Problems, stdout, stderr)
	}
}

// -scopes keeps methods by the permission they need, so a method of another
// package that needs crm comes along; the run says which, instead of
// leaving an unexplained package in the tree.
func TestScopesNoteNamesThePackagesBroughtIn(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{
		{Name: "crm.deal.get", Scopes: []string{"crm"}},
		{Name: "userfieldconfig.add", Scopes: []string{"userfieldconfig", "crm"}},
		{Name: "userfieldconfig.get", Scopes: []string{"userfieldconfig", "crm"}},
		{Name: "sign.b2e.mysafe.tail", Scopes: []string{"sign.b2e"}},
		{Name: "user.get", Scopes: []string{"user"}},
	}}
	got := scopeNote(s, []string{"crm", "user"})
	if !strings.Contains(got, "userfieldconfig (2)") || strings.Contains(got, "sign") || strings.Contains(got, "crm (") {
		t.Errorf("scopeNote = %q, want userfieldconfig (2) only", got)
	}
	if got := scopeNote(s, nil); got != "" {
		t.Errorf("without -scopes: %q, want no note", got)
	}
}

// reportJSON runs report -json on docs and decodes its coverage.
func reportJSON(t *testing.T, docs string) coverage {
	t.Helper()
	stdout, stderr, code := runCLI(t, "report", "-docs", docs, "-json")
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	var c coverage
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("report -json is not JSON: %v\n%s", err, stdout)
	}
	return c
}

// Without -pkg, generate takes the import path from the go.mod above -out;
// outside any module it stops and asks for -pkg, instead of binding the
// tree to this repository's import path.
func TestGenerateInfersImportPathFromGoMod(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n")
	specFile := filepath.Join(t.TempDir(), "spec.json")
	if _, stderr, code := runCLI(t, "extract", "-docs", docs, "-o", specFile); code != 0 {
		t.Fatal(stderr)
	}
	mod := t.TempDir()
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("// my app\nmodule \"example.com/myapp\" // the app\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(mod, "internal", "bitrix")
	_, stderr, code := runCLI(t, "generate", "-spec", specFile, "-out", out)
	if code != 0 {
		t.Fatalf("generate in a module without -pkg: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "import path example.com/myapp/internal/bitrix, from the module of "+filepath.Join(mod, "go.mod")) {
		t.Errorf("generate did not say which import path it took: %s", stderr)
	}
	src, err := os.ReadFile(filepath.Join(out, "crm", "deal_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"example.com/myapp/internal/bitrix/b24"`) || strings.Contains(string(src), defaultImportPath) {
		t.Errorf("crm/deal_gen.go does not import the module's own b24:\n%s", src)
	}

	outside := filepath.Join(t.TempDir(), "bitrix")
	_, stderr, code = runCLI(t, "generate", "-spec", specFile, "-out", outside)
	if code != 2 || !strings.Contains(stderr, "-out "+outside+" is in no Go module (no go.mod in it or above it): give the output's import path with -pkg") {
		t.Errorf("generate outside a module without -pkg: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Errorf("generate wrote %s anyway: %v", outside, err)
	}
}

// TestReportListsChecksBeforeSending: the default report counts the
// checks the generated functions make before sending, -checks lists each
// with the page row it comes from, and the audit runs on the pages.
func TestReportListsChecksBeforeSending(t *testing.T) {
	docs := writeDocs(t, "abc123", "|| **id***\n[`integer`](../../data-types.md) | Deal id ||\n")
	if c := reportJSON(t, docs); c.Checks != 1 || c.CheckList != nil || c.Audit == nil {
		t.Errorf("report -json: %d checks, list %v, audit %v; want 1, none without -checks, an audit", c.Checks, c.CheckList, c.Audit)
	}
	text, stderr, code := runCLI(t, "report", "-docs", docs, "-checks")
	if code != 0 {
		t.Fatalf("report -checks: exit %d: %s", code, stderr)
	}
	want := "crm.deal.get\tid\tzero identifier\tapi-reference/crm/deals/crm-deal-get.md:14"
	if !strings.Contains(text, want) || !strings.Contains(text, "audit vs generated Go") {
		t.Errorf("report -checks lacks %q or the audit:\n%s", want, text)
	}
}
