package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzInclude = []byte("#|\n|| **token***\n`string` | t ||\n|#\n{% include [again](x.md) %}\n")

// FuzzPage feeds arbitrary pages to Page. Page recovers from panics and
// reports them as "unreadable-page" problems, so the target fails on that
// problem: a recovered panic is still a bug.
func FuzzPage(f *testing.F) {
	for _, dir := range []string{"api-reference/fixtures", "api-reference/bad", "_includes"} {
		entries, _ := os.ReadDir(filepath.Join(fixtureRoot, dir))
		for _, e := range entries {
			if src, err := os.ReadFile(filepath.Join(fixtureRoot, dir, e.Name())); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte("#|\n|| a | b ||\n#|\n|| c\n"))
	f.Add([]byte("# x a.b\n```json\n{\"result\": [1,, ...], // c\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// Every include resolves to a small table that itself includes the
		// same file: nesting and the cycle guard run on every input. (Resolving
		// to src itself only measures goldmark on multi-megabyte pages.)
		includes := func(p string) ([]byte, error) { return fuzzInclude, nil }
		res, probs := Page("api-reference/fuzz/page.md", src, includes)
		if res == nil {
			t.Fatal("nil result")
		}
		for _, p := range probs {
			if p.Kind == "unreadable-page" {
				t.Fatalf("page made the extractor fail: %s", p)
			}
			if p.File != "api-reference/fuzz/page.md" {
				t.Fatalf("problem names another file: %s", p)
			}
		}
		if utf8.Valid(src) {
			for _, m := range res.Methods {
				if m.Name == "" || strings.ContainsAny(m.Name, " \n") {
					t.Fatalf("bad method name %q", m.Name)
				}
			}
		}
	})
}
