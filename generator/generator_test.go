package generator

import (
	"bytes"
	"flag"
	"go/format"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	os.WriteFile(stale, []byte("// "+Header(s.Source)+"\n\npackage gone\n"), 0o644)
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
		fmt.Println(deal.Title, deal.StageSemanticID == crm.DealStageSemanticIDS, deal.Extra["UF_CRM_1"])
	}
	id, err := crm.DealAdd(ctx, c, crm.DealAddParams{
		Fields: &crm.DealInput{Title: b24.Some("New deal"), Opened: b24.Some(b24.Bool(false))},
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

// writeTree lays out files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		p = filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns every file under dir (path → content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// chdir changes the working directory for the rest of the test.
func chdir(t *testing.T, dir string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
}

// TestGenerateRefusesWhatItDidNotWrite: -out naming anything but a tree
// b24gen wrote fails with an error naming it and why, and leaves it as it
// was.
func TestGenerateRefusesWhatItDidNotWrite(t *testing.T) {
	s := loadFixture(t)
	header := "// " + Header(s.Source) + "\n\npackage x\n"
	for _, tc := range []struct {
		name  string
		files map[string]string // the tree at -out; nil: a regular file
		want  string
	}{
		{"user repository", map[string]string{"main.go": "package main\n", ".git/HEAD": "ref: refs/heads/main\n"}, "it holds .git and 1 more entry b24gen did not write"},
		{"user file among generated ones", map[string]string{"crm/deal_gen.go": header, "crm/mine.go": "package crm\n"}, "it holds crm/mine.go, which b24gen did not write"},
		{"another generator's file", map[string]string{"x_string.go": "// Code generated by stringer; DO NOT EDIT.\n"}, "it holds x_string.go, which"},
		{"several", map[string]string{"a.txt": "a", "b.txt": "b", "c.go": header}, "it holds a.txt and 1 more entry b24gen did not write"},
		{"module root", map[string]string{"go.mod": "module x\n"}, "it holds go.mod, so it is a module root"},
		{"regular file", nil, "it is a file, not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if tc.files == nil {
				writeTree(t, dir, map[string]string{"out": "precious"})
			} else {
				writeTree(t, out, tc.files)
			}
			_, err := Generate(s, Options{OutDir: out, ImportPath: "example.com/x/gen"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), out) {
				t.Fatalf("Generate over %s: error %v; want one naming %s and saying %q", tc.name, err, out, tc.want)
			}
			if tc.files == nil {
				if b, _ := os.ReadFile(out); string(b) != "precious" {
					t.Errorf("the file became %q", b)
				}
			} else if diff := cmp.Diff(tc.files, readTree(t, out)); diff != "" {
				t.Errorf("the refused tree changed (-want +got):\n%s", diff)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%d entries beside the output, want none", len(entries)-1)
			}
		})
	}
	t.Run("symbolic link", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"real/a.go": header})
		if err := os.Symlink("real", filepath.Join(dir, "out")); err != nil {
			t.Skip(err)
		}
		_, err := Generate(s, Options{OutDir: filepath.Join(dir, "out"), ImportPath: "example.com/x/gen"})
		if err == nil || !strings.Contains(err.Error(), "it is a symbolic link") {
			t.Errorf("error %v, want a refusal of the link", err)
		}
	})
}

// TestGenerateRefusesDangerousLocations: the current directory (as "." or
// absolute), its parents, the module root and / are refused even when
// empty or holding only generated files.
func TestGenerateRefusesDangerousLocations(t *testing.T) {
	s := loadFixture(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"mod/go.mod": "module x\n", "mod/sub/gen/.keep/x": ""})
	os.Remove(filepath.Join(dir, "mod/sub/gen/.keep/x"))
	cwd := filepath.Join(dir, "mod", "sub")
	chdir(t, cwd)
	for _, tc := range []struct{ out, want string }{
		{".", "it is the current directory"},
		{cwd, "it is the current directory"},
		{cwd + "/", "it is the current directory"},
		{"..", "it is a parent of the current directory"},
		{dir, "it is a parent of the current directory"},
		{"/", "it is a filesystem root"},
	} {
		_, err := Generate(s, Options{OutDir: tc.out, ImportPath: "example.com/x/gen"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-out %s: error %v; want %q", tc.out, err, tc.want)
		}
	}
	// The module root (a parent here; from elsewhere its go.mod refuses it,
	// see TestGenerateRefusesWhatItDidNotWrite).
	if _, err := Generate(s, Options{OutDir: filepath.Join(dir, "mod"), ImportPath: "example.com/x/gen"}); err == nil || !strings.Contains(err.Error(), "parent of the current directory") {
		t.Errorf("-out the module root: error %v", err)
	}
	// A subdirectory of the current directory is fine.
	if _, err := Generate(s, Options{OutDir: "gen", ImportPath: "example.com/x/gen"}); err != nil {
		t.Errorf("-out gen: %v", err)
	}
}

// TestGenerateAcceptsItsOwnTree: a tree whose every file carries the header
// (as ./generated did before any marker existed) is replaced.
func TestGenerateAcceptsItsOwnTree(t *testing.T) {
	s := loadFixture(t)
	out := filepath.Join(t.TempDir(), "gen")
	other := spec.Source{Repository: "github.com/bitrix24/b24restdocs", Commit: "older"}
	writeTree(t, out, map[string]string{"crm/old_gen.go": "// " + Header(other) + "\n\npackage crm\n", "empty/": ""})
	os.Remove(filepath.Join(out, "empty"))
	os.MkdirAll(filepath.Join(out, "empty"), 0o755)
	if _, err := Generate(s, Options{OutDir: out, ImportPath: "example.com/x/gen"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "crm", "old_gen.go")); !os.IsNotExist(err) {
		t.Errorf("the old generated file survived: %v", err)
	}
}

// TestGenerateRecoversFromACrash kills (simulates) a run between the
// renames and after them, and checks what is on disk and that the next run
// repairs it.
func TestGenerateRecoversFromACrash(t *testing.T) {
	s := loadFixture(t)
	opt := func(out string, scopes ...string) Options {
		return Options{OutDir: out, ImportPath: "example.com/x/gen", Scopes: scopes}
	}
	crash := func(at string) {
		crashAt = func(step string) bool { return step == at }
	}
	t.Cleanup(func() { crashAt = nil })
	names := func(dir string) []string {
		var n []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			n = append(n, regexp.MustCompile(`[0-9]+$`).ReplaceAllString(e.Name(), "N"))
		}
		return n
	}

	t.Run("between the renames", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "gen")
		if _, err := Generate(s, opt(out, "crm")); err != nil {
			t.Fatal(err)
		}
		crmOnly := readTree(t, out)
		crash("aside")
		if _, err := Generate(s, opt(out)); err != errCrashed {
			t.Fatalf("Generate: %v, want the simulated crash", err)
		}
		crashAt = nil
		if diff := cmp.Diff([]string{".gen.new-N", ".gen.old-N"}, names(dir)); diff != "" {
			t.Fatalf("after the crash (-want +got):\n%s", diff)
		}
		// Even a failing run puts the previous tree back first.
		if _, err := Generate(s, opt(out, "nosuchscope")); err == nil {
			t.Fatal("generating nothing did not fail")
		}
		if diff := cmp.Diff([]string{"gen"}, names(dir)); diff != "" {
			t.Fatalf("after the next run (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(crmOnly, readTree(t, out)); diff != "" {
			t.Errorf("the restored tree is not the previous one:\n%s", diff)
		}
	})

	t.Run("before the old tree is removed", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "gen")
		if _, err := Generate(s, opt(out, "crm")); err != nil {
			t.Fatal(err)
		}
		crash("installed")
		Generate(s, opt(out))
		crashAt = nil
		if diff := cmp.Diff([]string{".gen.old-N", "gen"}, names(dir)); diff != "" {
			t.Fatalf("after the crash (-want +got):\n%s", diff)
		}
		installed := readTree(t, out)
		if _, ok := installed["tasks/task_gen.go"]; !ok {
			t.Errorf("the new tree is not in place: %v", slices.Sorted(maps.Keys(installed)))
		}
		rep, err := Generate(s, opt(out))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"gen"}, names(dir)); diff != "" {
			t.Errorf("after the next run (-want +got):\n%s", diff)
		}
		if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "removed .gen.old-") {
			t.Errorf("notes %q, want the leftover's removal", rep.Notes)
		}
	})

	t.Run("while writing", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "gen")
		writeTree(t, dir, map[string]string{".gen.new-123/crm/half.go": "// Code gen"})
		if _, err := Generate(s, opt(out)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"gen"}, names(dir)); diff != "" {
			t.Errorf("after the next run (-want +got):\n%s", diff)
		}
	})
}
