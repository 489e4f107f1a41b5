package model

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// exampleFixtures are the model files that may decode JSON: they carry
// the documented answers and parameter schemas to the fake portal
// (b24test) as data. No file types a field from an example.
var exampleFixtures = []string{"answers.go", "params_table.go"}

// TestModelReadsNoExample holds the design: the evidence is resolve's, and
// model only names things and maps kinds to Go types. So model's own
// files import neither the runtime (whose decoders once judged examples)
// nor encoding/json outside the fake portal's fixtures, and no other
// stage of the generator but resolve.
func TestModelReadsNoExample(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.Contains(path, "/templates"):
				t.Errorf("%s imports %s: model must not judge values by the runtime's decoders", name, path)
			case path == "encoding/json" && !slices.Contains(exampleFixtures, name):
				t.Errorf("%s imports encoding/json: reading examples is resolve's (generator/resolve/example.go)", name)
			case strings.Contains(path, "/generator/") && !strings.HasSuffix(path, "/generator/resolve"):
				t.Errorf("%s imports %s: model sees only the resolved spec", name, path)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d files: the test is not looking at package model", checked)
	}
}
