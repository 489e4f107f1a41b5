// Package templates carries the runtime sources (packages b24 and b24test)
// that the generator copies into every output tree. They are real, tested
// Go in this directory; Runtime hands out the copies with their import paths
// set to the output tree's.
package templates

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// sources holds templates/b24 and templates/b24test. Test files are
// embedded too (the patterns cannot exclude them) and filtered out by
// Runtime.
//
//go:embed b24 b24test
var sources embed.FS

// SourcePath is the import path of the runtime sources in this module.
const SourcePath = "github.com/b24gen/b24gen/templates"

// File is one runtime source file.
type File struct {
	Path string // relative to the output tree: "b24/client.go"
	Data []byte
}

// Runtime returns the runtime sources to copy into an output tree whose
// import path is importPath: every non-test .go file of b24 and b24test
// and b24's example files,
// sorted by path, with imports of SourcePath/… rewritten to importPath/….
// header, when not empty, is written as the first line ("// " + header)
// followed by a blank line, so the copies are marked as generated.
func Runtime(importPath, header string) ([]File, error) {
	var out []File
	err := fs.WalkDir(sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Only the package directories themselves, no testdata.
			if p != "." && path.Dir(p) != "." {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") && !isExample(p) {
			return nil
		}
		data, err := sources.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: p, Data: rewrite(data, importPath, header)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// isExample says whether a test file holds b24's runnable examples
// (b24/example_*_test.go): those go into the output tree too, so pkgsite
// and `go test -run Example -v` show them for the generated b24 a program
// imports, not only for these templates. b24test's examples stay here: they
// call methods whose documented parameters differ between docs editions,
// and the tree's request checks would fail them.
func isExample(p string) bool {
	return path.Dir(p) == "b24" && strings.HasPrefix(path.Base(p), "example_") && strings.HasSuffix(p, "_test.go")
}

// rewrite points quoted imports of the template packages at importPath.
// Only the quoted form is touched, so comments that name the module stay.
func rewrite(src []byte, importPath, header string) []byte {
	s := strings.ReplaceAll(string(src), `"`+SourcePath+`/`, `"`+importPath+`/`)
	if header != "" {
		s = "// " + header + "\n\n" + s
	}
	return []byte(s)
}
