package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// docsRoot is the pinned docs snapshot: $B24_DOCS, else ../shared/b24restdocs
// beside the module root.
func docsRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv("B24_DOCS")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "b24restdocs")
	}
	if _, err := os.Stat(filepath.Join(root, "api-reference")); err != nil {
		t.Skipf("docs corpus not found at %s (set B24_DOCS to a b24restdocs checkout): %v", root, err)
	}
	return root
}

// BenchmarkDir extracts the whole pinned corpus.
func BenchmarkDir(b *testing.B) {
	root := docsRoot(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Dir(root, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
