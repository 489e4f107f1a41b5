package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator"
	"github.com/b24gen/b24gen/generator/extract"
)

// TestExamplesOnTheOlderEdition generates crm, tasks, user and events from
// the older docs snapshot, where some functions the examples use are typed
// otherwise (crm.item.*'s entityTypeId is a string there), into a module of
// its own, and vets and runs what comes out: the examples that do not fit
// that edition are left out, the others compile and pass.
func TestExamplesOnTheOlderEdition(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the generate, vet and test of another docs edition")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	docs := os.Getenv("B24_DOCS")
	if docs == "" {
		docs = filepath.Join("..", "..", "shared", "b24restdocs")
	}
	docs += "-2026-01"
	if _, err := os.Stat(docs); err != nil {
		t.Skipf("the older docs snapshot %s is absent (set B24_DOCS to the pinned one beside it): %v", docs, err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	s, err := extract.Dir(docs, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/older\n\ngo 1.26.0\n\nrequire github.com/b24gen/b24gen v0.0.0\n\nreplace github.com/b24gen/b24gen => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := generator.Generate(s, generator.Options{
		OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/older/gen", Scopes: []string{"crm", "task", "user"},
	}); err != nil {
		t.Fatal(err)
	}
	examples := 0
	for _, pkg := range []string{"crm", "tasks", "user", "events"} {
		files, _ := filepath.Glob(filepath.Join(dir, "gen", pkg, "example_*_test.go"))
		examples += len(files)
	}
	if examples == 0 {
		t.Fatal("no examples were generated from the older edition: the test proves nothing")
	}
	for _, args := range [][]string{
		{"vet", "./gen/crm/", "./gen/tasks/", "./gen/user/", "./gen/events/"},
		{"test", "-run", "^Example", "./gen/crm/", "./gen/tasks/", "./gen/user/", "./gen/events/"},
	} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s on the older edition: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Logf("%d example files generated from %s compile, vet and pass", examples, docs)
}
