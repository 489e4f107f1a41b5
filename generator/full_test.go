package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/spec"
)

// fullSpec is the committed spec, or the file named by B24_SPEC; tests
// that need the real API skip while it holds no methods.
func fullSpec(t testing.TB) *spec.Spec {
	t.Helper()
	var s *spec.Spec
	var err error
	if p := os.Getenv("B24_SPEC"); p != "" {
		s, err = spec.Load(p)
	} else {
		s, err = spec.Embedded()
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) == 0 {
		t.Skip("the committed spec holds no methods yet (spec/bitrix24.json); set B24_SPEC to a spec file")
	}
	return s
}

// TestFullSpecBuilds generates every method of the real spec into a fresh
// module and builds and vets it. Slow (a minute on two cores): skipped with
// -short.
func TestFullSpecBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the full generate, build and vet")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	s := fullSpec(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/full\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := Generate(s, Options{OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/full/gen"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d methods in %d files in %v", rep.Methods, rep.Files, time.Since(start))
	t.Logf("params typed %d raw %d (%.1f%%); result fields typed %d raw %d (%.1f%%)",
		rep.ParamsTyped, rep.ParamsRaw, pct(rep.ParamsTyped, rep.ParamsRaw),
		rep.ResultFieldsTyped, rep.ResultFieldsRaw, pct(rep.ResultFieldsTyped, rep.ResultFieldsRaw))
	if rep.Methods != len(s.Methods) {
		t.Errorf("%d functions for %d method records", rep.Methods, len(s.Methods))
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		start := time.Now()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, firstLines(string(out), 60))
		}
		t.Logf("go %s: %v", strings.Join(args, " "), time.Since(start))
	}
}

func pct(a, b int) float64 {
	if a+b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(a+b)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

// BenchmarkGenerateFull renders the whole real spec in memory (model, emit,
// gofmt) and writes it to a temporary directory.
func BenchmarkGenerateFull(b *testing.B) {
	s := fullSpec(b)
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(s, Options{OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/full/gen"}); err != nil {
			b.Fatal(err)
		}
	}
}
