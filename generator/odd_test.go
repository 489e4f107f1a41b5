package generator

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestRenderOddSpecs feeds the generator names, keys, enum values, texts
// and examples the docs should not hold but might: it must produce Go that
// parses, and report rather than panic.
func TestRenderOddSpecs(t *testing.T) {
	odd := []string{"", ".", "a..b", "123.456", "крм.сделка.получить", "x.y-z.get", "type.func.go", "b24.x", "x.Extra", "x.extra", "x.y.MarshalJSON"}
	texts := []string{"", "*/ /* // \x60", "line\n\nparagraph\n\n\tindented", strings.Repeat("long ", 100), "Deprecated: old", "  - item"}
	keys := []string{"", "-", "a b", "A,B", "a\"b", "a`b", "ID", "id", "Id", "1", "_", "X.Y", "é", "Extra", "MarshalJSON", "UnmarshalJSON"}
	enum := []spec.EnumValue{{Value: ""}, {Value: " "}, {Value: "\""}, {Value: "`"}, {Value: "\n"}, {Value: "1"}, {Value: "01"}, {Value: "Y"}, {Value: "y"}, {Value: "Значение"}}
	examples := []string{`{"result": 5}`, `{"result": null}`, `{"result": [1, {"a": 1}, "x"]}`, `{"result": {"1": {"ID": 1}}}`, `not json`, `{"result": {"a": {"b": {"c": [[]]}}}}`, `[]`}

	var params []spec.Param
	for i, k := range keys {
		kinds := []spec.Kind{spec.KindString, spec.KindInteger, spec.KindEnum, spec.KindObject, spec.KindArray, spec.KindAny, spec.KindFile, "", "nonsense"}
		p := spec.Param{Name: k, Kind: kinds[i%len(kinds)], Required: i%2 == 0, Description: texts[i%len(texts)], Enum: enum, Elem: kinds[(i+3)%len(kinds)]}
		if p.Kind == spec.KindObject || p.Kind == spec.KindArray {
			p.Fields = []spec.Param{{Name: k, Kind: spec.KindObject, Fields: []spec.Param{{Name: "deep", Kind: spec.KindEnum, Enum: enum}}}}
		}
		params = append(params, p)
	}
	s := &spec.Spec{Source: spec.Source{Repository: "r", Commit: "c"}}
	for i, name := range odd {
		for v := 2; v <= 3; v++ {
			m := spec.Method{
				Name: name, Version: v, Page: "p" + name + ".md", Title: texts[i%len(texts)], Summary: texts[(i+1)%len(texts)],
				Access: texts[(i+2)%len(texts)], Deprecated: i%3 == 0, ReplacedBy: odd[(i+1)%len(odd)], Params: params,
				Errors: []spec.ErrorDoc{{Code: ""}, {Code: "X\nY", Description: texts[i%len(texts)]}},
			}
			shapes := []string{"object", "array", "scalar", "unknown", "", "weird"}
			m.Result = &spec.Result{Shape: shapes[i%len(shapes)], Kind: spec.KindObject, Wrapper: keys[i%len(keys)], Fields: params, Paginated: i%2 == 1,
				Example: []byte(examples[i%len(examples)])}
			s.Methods = append(s.Methods, m)
		}
	}
	files, rep, err := Render(s, Options{ImportPath: "example.com/x/gen"})
	if err != nil {
		t.Fatal(err)
	}
	// And it builds and vets: no duplicate or invalid identifier.
	if goBin, err := exec.LookPath("go"); err == nil {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n\ngo 1.26\n"), 0o644)
		if _, err := Generate(s, Options{OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/x/gen"}); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
			cmd := exec.Command(goBin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOPROXY=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, firstLines(string(out), 40))
			}
		}
	}
	if len(rep.Problems) == 0 {
		t.Error("odd input produced no problems")
	}
	for _, f := range files {
		if _, err := format.Source(f.Data); err != nil {
			t.Errorf("%s does not parse: %v", f.Path, err)
		}
	}
}
