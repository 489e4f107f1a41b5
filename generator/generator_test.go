package generator

import (
	"bytes"
	"flag"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24gen/b24gen/generator/emit"
	"github.com/b24gen/b24gen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func loadFixture(t testing.TB) *spec.Spec {
	t.Helper()
	s, err := spec.Load("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// isRuntime reports files copied from templates, which have their own tests.
func isRuntime(path string) bool {
	return strings.HasPrefix(path, "b24/") || strings.HasPrefix(path, "b24test/")
}

// TestGolden renders the fixture spec and compares every generated package
// file with testdata/golden/<path>.golden.
func TestGolden(t *testing.T) {
	files, _, err := Render(loadFixture(t), Options{ImportPath: "example.com/x/gen"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if isRuntime(f.Path) {
			continue
		}
		golden := filepath.Join("testdata", "golden", filepath.FromSlash(f.Path)+".golden")
		seen[golden] = true
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: no golden file (run go test -run TestGolden -update): %v", f.Path, err)
			continue
		}
		if diff := cmp.Diff(string(want), string(f.Data)); diff != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", f.Path, golden, diff)
		}
	}
	// A golden file nothing generates any more is stale.
	filepath.WalkDir(filepath.Join("testdata", "golden"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !seen[p] {
			if *update {
				os.Remove(p)
			} else {
				t.Errorf("%s: stale golden file", p)
			}
		}
		return nil
	})
}

var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

func TestFilesAreMarkedGofmtCleanAndDeterministic(t *testing.T) {
	s := loadFixture(t)
	opt := Options{ImportPath: "example.com/x/gen"}
	first, rep, err := Render(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Methods != len(s.Methods) {
		t.Errorf("Report.Methods = %d, want %d", rep.Methods, len(s.Methods))
	}
	for _, f := range first {
		line, _, _ := strings.Cut(string(f.Data), "\n")
		if !generatedHeader.MatchString(line) {
			t.Errorf("%s: first line %q is not a Code generated header", f.Path, line)
		}
		if !strings.Contains(line, "github.com/bitrix24/b24restdocs at 0123456789abcdef") {
			t.Errorf("%s: header %q does not name the docs repository and commit", f.Path, line)
		}
		if isRuntime(f.Path) {
			if strings.Contains(string(f.Data), "github.com/b24gen/b24gen/templates") {
				t.Errorf("%s: still imports the templates path", f.Path)
			}
			continue
		}
		formatted, err := format.Source(f.Data)
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
		} else if !bytes.Equal(formatted, f.Data) {
			t.Errorf("%s is not gofmt-clean", f.Path)
		}
	}
	for range 3 {
		again, _, err := Render(s, opt)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(paths(first), paths(again)); diff != "" {
			t.Fatalf("file list differs between runs:\n%s", diff)
		}
		for i := range first {
			if !bytes.Equal(first[i].Data, again[i].Data) {
				t.Fatalf("%s differs between runs", first[i].Path)
			}
		}
	}
}

func paths(fs []emit.Output) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func TestGenerateReplacesTreeAtomically(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "gen")
	s := loadFixture(t)
	if _, err := Generate(s, Options{OutDir: out, ImportPath: "example.com/x/gen"}); err != nil {
		t.Fatal(err)
	}
	// A leftover of an older generation must go.
	stale := filepath.Join(out, "gone", "old_gen.go")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("package gone\n"), 0o644)
	if _, err := Generate(s, Options{OutDir: out, ImportPath: "example.com/x/gen"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale file survived regeneration: %v", err)
	}
	before, err := os.ReadFile(filepath.Join(out, "crm", "deal_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	// A failing run (nothing in scope) leaves the tree as it was.
	if _, err := Generate(s, Options{OutDir: out, ImportPath: "example.com/x/gen", Scopes: []string{"nosuchscope"}}); err == nil {
		t.Fatal("generating nothing did not fail")
	}
	after, err := os.ReadFile(filepath.Join(out, "crm", "deal_gen.go"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("a failed run changed the previous tree (err %v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("temporary directories left beside the output: %v", names)
	}
}

// TestGeneratedModuleBuilds takes the path a user takes: generate with
// another import path and -scopes crm into a fresh module, write a program
// that calls a crm function, and build and vet it.
func TestGeneratedModuleBuilds(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/x\n\ngo 1.26\n")
	rep, err := Generate(loadFixture(t), Options{OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/x/gen", Scopes: []string{"crm"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gen", "tasks")); !os.IsNotExist(err) {
		t.Errorf("-scopes crm generated package tasks")
	}
	t.Logf("%d methods, %d files", rep.Methods, rep.Files)
	write("main.go", `package main

import (
	"context"
	"fmt"
	"os"

	"example.com/x/gen/b24"
	"example.com/x/gen/crm"
)

func main() {
	c, err := b24.NewWebhookClient(os.Getenv("B24_WEBHOOK"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	deal, err := crm.DealGet(ctx, c, crm.DealGetParams{ID: 42})
	if err == nil {
		fmt.Println(deal.Title, deal.StageSemanticID == crm.DealGetResultStageSemanticIDS, deal.Extra["UF_CRM_1"])
	}
	id, err := crm.DealAdd(ctx, c, crm.DealAddParams{
		Fields: &crm.DealAddParamsFields{Title: b24.Some("New deal"), Opened: b24.Some(b24.Bool(false))},
	})
	fmt.Println(id, err)
	for row, err := range crm.ItemListAll(ctx, c, crm.ItemListParams{EntityTypeID: 2, Filter: map[string]any{">id": 10}, Select: []string{"id"}}) {
		fmt.Println(row.ID, err)
	}
	for row, err := range crm.DealListExport(ctx, c, crm.DealListParams{Filter: map[string]any{"=STAGE_ID": "WON"}}) {
		fmt.Println(row.Title, err)
	}
	b := b24.NewBatch()
	h := b24.Add(b, "deal", crm.DealGetCommand(crm.DealGetParams{ID: 1}))
	_ = b.Run(ctx, c)
	d, err := h.Result()
	fmt.Println(d, err)
}
`)
	goCmd := func(args ...string) string {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goCmd("build", "./...")
	goCmd("vet", "./...")
	// The generated runnable examples call the fake portal.
	goCmd("test", "./gen/...")
	// A program using crm compiles nothing of the tree but b24 and crm.
	var deps []string
	for _, d := range strings.Fields(goCmd("list", "-deps", ".")) {
		if strings.HasPrefix(d, "example.com/x/gen/") {
			deps = append(deps, d)
		}
	}
	if diff := cmp.Diff([]string{"example.com/x/gen/b24", "example.com/x/gen/crm"}, deps); diff != "" {
		t.Errorf("packages of the tree a crm user compiles (-want +got):\n%s", diff)
	}
}
