package generator

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestCommittedTreeIsCurrent regenerates the bindings from the embedded spec
// exactly as `b24gen` with no arguments does, and fails on any difference
// from the committed generated/ tree: a changed spec, template or emitter
// must come with its regenerated output.
func TestCommittedTreeIsCurrent(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) == 0 {
		t.Skip("the embedded spec is empty")
	}
	files, _, err := Render(s, Options{OutDir: "generated", ImportPath: "github.com/b24gen/b24gen/generated"})
	if err != nil {
		t.Fatal(err)
	}
	const root = "../generated"
	want := map[string][]byte{}
	for _, f := range files {
		want[filepath.ToSlash(f.Path)] = f.Data
	}
	have := map[string][]byte{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		have[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading the committed tree: %v (run `go run ./cmd/b24gen`)", err)
	}
	var stale []string
	for p, data := range want {
		if old, ok := have[p]; !ok {
			stale = append(stale, p+" (missing)")
		} else if !bytes.Equal(old, data) {
			stale = append(stale, p+" (differs)")
		}
	}
	for p := range have {
		if _, ok := want[p]; !ok {
			stale = append(stale, p+" (not generated any more)")
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		if len(stale) > 20 {
			stale = append(stale[:20], "…")
		}
		t.Fatalf("generated/ is out of date; run `go run ./cmd/b24gen` and commit. %d files:\n%s", len(stale), joinLines(stale))
	}
}

func joinLines(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString("  " + s + "\n")
	}
	return b.String()
}
