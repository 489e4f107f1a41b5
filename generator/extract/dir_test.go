package extract

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tree of Markdown without any method page (a docs subdirectory, another
// project's docs) is an error, not an empty spec.
func TestDirWithoutMethodPages(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "guide"), 0o755)
	os.WriteFile(filepath.Join(root, "README.md"), []byte("# Readme\n\nText.\n"), 0o644)
	os.WriteFile(filepath.Join(root, "guide", "intro.md"), []byte("# Introduction\n\nNo method here.\n"), 0o644)
	s, err := Dir(root, Options{})
	want := "docs directory " + root + ": no method pages among its 2 Markdown pages; is it the docs root (the directory holding api-reference/)?"
	if err == nil || err.Error() != want {
		t.Errorf("Dir = %v, %v\nwant error %s", s, err, want)
	}
}

// failingFS fails to list one directory, as an unreadable one does (root
// reads any directory whatever its permissions, so the test fakes it).
type failingFS struct {
	fs.FS
	bad string
}

func (f failingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return fs.ReadDir(f.FS, name)
}

// TestDirUnreadableDirectory: a directory that cannot be listed is a
// problem naming it, and the other pages are still extracted.
func TestDirUnreadableDirectory(t *testing.T) {
	root := t.TempDir()
	good := "# Get x test.x.get\n\n> Scope: [`x`](s.md)\n\n## Code Examples\n\n```bash\ncurl https://p/rest/1/s/test.x.get\n```\n"
	for _, p := range []string{"api-reference/x/test-x-get.md", "api-reference/locked/test-y-get.md"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(strings.ReplaceAll(good, "x", "y")), 0o644)
	}
	os.WriteFile(filepath.Join(root, "api-reference/x/test-x-get.md"), []byte(good), 0o644)
	defer func(old func(string) fs.FS) { docsFS = old }(docsFS)
	docsFS = func(root string) fs.FS { return failingFS{os.DirFS(root), "api-reference/locked"} }
	s, err := Dir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) != 1 || s.Methods[0].Name != "test.x.get" {
		t.Errorf("methods = %+v", s.Methods)
	}
	want := "api-reference/locked: unreadable: directory not read, its pages are missing: open: permission denied"
	if len(s.Problems) != 1 || s.Problems[0].String() != want {
		t.Errorf("problems = %v\nwant [%s]", s.Problems, want)
	}
	// With every page behind it, the error says why none was found.
	docsFS = func(root string) fs.FS { return failingFS{os.DirFS(root), "api-reference"} }
	_, err = Dir(root, Options{})
	if err == nil || !strings.Contains(err.Error(), "no Markdown pages under it (directory api-reference could not be read: open: permission denied)") {
		t.Errorf("Dir with api-reference unreadable: %v", err)
	}
}
