package resolve

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// methodRecord is a REST 2 method record of a test spec.
func methodRecord(name string, res *spec.Result) spec.Method {
	return spec.Method{Name: name, Version: 2, Page: "api-reference/" + name + ".md", Line: 1, Scopes: []string{"x"}, Result: res}
}

// resultField finds a result field of a resolved method.
func resultField(t *testing.T, s *spec.Spec, method, wire string) spec.Param {
	t.Helper()
	for _, m := range s.Methods {
		if m.Name != method || m.Result == nil {
			continue
		}
		for _, f := range m.Result.Fields {
			if f.Name == wire {
				return f
			}
		}
	}
	t.Fatalf("no result field %s in %s", wire, method)
	return spec.Param{}
}

func TestListRowsBorrowTheGetMethodsDocumentedTypes(t *testing.T) {
	// Too few fields for an entity (minEntityFields), so the rows stay the
	// list's own.
	get := methodRecord("x.item.get", &spec.Result{Shape: "object", Fields: []spec.Param{
		{Name: "ID", Type: "integer", Kind: spec.KindInteger, Line: 40},
		{Name: "OPENED", Type: "char", Kind: spec.KindBoolean, Line: 41},
	}})
	// The list page shows its rows only as an example: every value a string.
	list := methodRecord("x.item.list", &spec.Result{Shape: "array", Kind: spec.KindObject, Paginated: true,
		Fields: []spec.Param{
			{Name: "ID", Kind: spec.KindString},
			{Name: "OPENED", Kind: spec.KindString},
			{Name: "COMMENTS", Kind: spec.KindString},
		},
		Example: []byte(`{"result":[{"ID":"410","OPENED":"Y","COMMENTS":"x"}],"total":1}`),
	})
	out, _ := Resolve(&spec.Spec{Methods: []spec.Method{get, list}})
	for wire, want := range map[string]spec.Kind{"ID": spec.KindInteger, "OPENED": spec.KindBoolean, "COMMENTS": spec.KindString} {
		if got := resultField(t, out, "x.item.list", wire).Kind; got != want {
			t.Errorf("x.item.list %s is %s, want %s", wire, got, want)
		}
	}
	// Where the type came from: the get page's row, named.
	ev := resultField(t, out, "x.item.list", "OPENED").Evidence
	want := spec.Evidence{Kind: spec.EvidenceSibling, Page: "api-reference/x.item.get.md", Line: 41, Method: "x.item.get", Note: "char"}
	if len(ev) == 0 || ev[0] != want {
		t.Errorf("OPENED evidence = %+v, want first %+v", ev, want)
	}
	if ev := resultField(t, out, "x.item.list", "COMMENTS").Evidence; len(ev) != 0 {
		t.Errorf("COMMENTS (not on the get page) has evidence %+v, want none", ev)
	}
}

func TestBorrowedTypeYieldsToAContradictingExample(t *testing.T) {
	get := methodRecord("x.item.get", &spec.Result{Shape: "object", Fields: []spec.Param{
		{Name: "CODE", Type: "integer", Kind: spec.KindInteger},
	}})
	list := methodRecord("x.item.list", &spec.Result{Shape: "array", Kind: spec.KindObject,
		Fields:  []spec.Param{{Name: "CODE", Kind: spec.KindString}},
		Example: []byte(`{"result":[{"CODE":"abc"}]}`),
	})
	out, problems := Resolve(&spec.Spec{Methods: []spec.Method{get, list}})
	if got := resultField(t, out, "x.item.list", "CODE").Kind; got == spec.KindInteger {
		t.Errorf("CODE typed integer although the example shows %q", "abc")
	}
	found := false
	for _, p := range problems {
		found = found || p.Kind == "type-from-example"
	}
	if !found {
		t.Error("no type-from-example problem reported")
	}
}
