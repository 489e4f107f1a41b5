package generator

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestRenderRefusesInvalidInput: each bad input gets a short error naming
// the record (page and method) or the import path, never the source.
func TestRenderRefusesInvalidInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pkg    string
		change func(s *spec.Spec)
		want   string
	}{
		{"import path with a space and !", "not valid!", nil, `import path "not valid!": element 1 "not valid!": ' ' is not allowed`},
		{"import path with a double slash", "example.com//x", nil, `element 2 "": empty`},
		{"import path ending in a dot", "example.com/x.", nil, `element 2 "x.": ends with a dot`},
		{"import path with ..", "example.com/../x", nil, `element 2 "..": only dots`},
		{"import path reserved on Windows", "example.com/con.d", nil, "reserved file name"},
		{"newline in a method name", "", func(s *spec.Spec) { s.Methods[0].Name += "\n" },
			`api-reference/crm/deals/crm-deal-get.md: method "crm.deal.get\n": the name holds U+000A at byte 12`},
		{"zero-width space in a method name", "", func(s *spec.Spec) { s.Methods[0].Name = "crm.deal\u200b.get" },
			`method "crm.deal\u200b.get": the name holds U+200B at byte 8`},
		{"NUL in a description", "", func(s *spec.Spec) { s.Methods[0].Params[0].Description = "a\x00b" },
			`api-reference/crm/deals/crm-deal-get.md: method "crm.deal.get": params["id"].description holds U+0000 at byte 1, which Go source cannot hold`},
		{"byte-order mark in an event field", "", func(s *spec.Spec) {
			s.Events = append(s.Events, spec.Event{Name: "ONX", Page: "api-reference/events/onx.md", Fields: []spec.Param{{Name: "\uFEFFevent"}}})
		}, `api-reference/events/onx.md: event "ONX": fields["\ufeffevent"].name holds U+FEFF at byte 0`},
		{"duplicate method record", "", func(s *spec.Spec) {
			dup := s.Methods[0]
			dup.Page = "api-reference/copy.md"
			s.Methods = append(s.Methods, dup)
		}, `api-reference/copy.md: method "crm.deal.get": REST 2 is documented twice (also by api-reference/crm/deals/crm-deal-get.md)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadFixture(t)
			if s.Methods[0].Name != "crm.deal.get" || s.Methods[0].Params[0].Name != "id" {
				t.Fatalf("fixture changed: first method %s", s.Methods[0].Name)
			}
			if tc.change != nil {
				tc.change(s)
			}
			pkg := tc.pkg
			if pkg == "" {
				pkg = "example.com/x/gen"
			}
			_, _, err := Render(s, Options{ImportPath: pkg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("the error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestCheckImportPathAccepts(t *testing.T) {
	for _, p := range []string{"github.com/b24gen/b24gen/generated", "example.com/x/gen", "gen", "a/b-c/d_e/f~g/h.i/v2", "gopkg.in/x.v1", "c++/x"} {
		if err := checkImportPath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
}

// The committed spec passes the validation (the generated tree is built
// from it).
func TestValidateAcceptsTheEmbeddedSpec(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(s, defaultImport); err != nil {
		t.Error(err)
	}
}

const defaultImport = "github.com/b24gen/b24gen/generated"

// A file gofmt refuses is reported by name, line and that line only, not
// with the whole source jennifer appends.
func TestShortErrorCutsTheSource(t *testing.T) {
	src := "package crm\n\n// a\x00b\nfunc F() {}\n" + strings.Repeat("// filler line\n", 3000)
	err := shortError(fmt.Errorf("crm/deal_gen.go: %w", errors.New("Error 3:5: illegal character NUL while formatting source:\n"+src)))
	want := `generator: the generated crm/deal_gen.go does not format: line 3:5: illegal character NUL in "// a\x00b"`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	other := errors.New("something else")
	if shortError(other) != other {
		t.Error("an error of another shape is changed")
	}
}
