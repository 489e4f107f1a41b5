package model

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// fieldType finds the Go type the model gave a field of a struct.
func fieldType(t *testing.T, m *Model, pkg, structName, wire string) string {
	t.Helper()
	for _, p := range m.Packages {
		if p.Name != pkg {
			continue
		}
		for _, f := range p.Files {
			for _, fn := range f.Funcs {
				for _, s := range fn.Structs {
					if s.Name != structName {
						continue
					}
					for _, fl := range s.Fields {
						if fl.JSON == wire {
							return typeName(fl.Type)
						}
					}
				}
			}
		}
	}
	t.Fatalf("no field %s in %s.%s", wire, pkg, structName)
	return ""
}

func TestListRowsBorrowTheGetMethodsDocumentedTypes(t *testing.T) {
	get := method("crm.deal.get", 2, nil, &spec.Result{Shape: "object", Fields: []spec.Param{
		{Name: "ID", Type: "integer", Kind: spec.KindInteger},
		{Name: "OPENED", Type: "char", Kind: spec.KindBoolean},
		{Name: "DATE_CREATE", Type: "datetime", Kind: spec.KindDateTime},
		{Name: "TITLE", Type: "string", Kind: spec.KindString},
	}})
	// The list page shows its rows only as an example: every value a string.
	list := method("crm.deal.list", 2, nil, &spec.Result{Shape: "array", Kind: spec.KindObject, Paginated: true,
		Fields: []spec.Param{
			{Name: "ID", Kind: spec.KindString},
			{Name: "OPENED", Kind: spec.KindString},
			{Name: "DATE_CREATE", Kind: spec.KindString},
			{Name: "COMMENTS", Kind: spec.KindString},
		},
		Example: []byte(`{"result":[{"ID":"410","OPENED":"Y","DATE_CREATE":"2024-08-30T14:29:00+02:00","COMMENTS":"x"}],"total":1}`),
	})
	m, st, _ := Build(&spec.Spec{Methods: []spec.Method{get, list}}, Options{ImportPath: "example.com/gen"})
	for wire, want := range map[string]string{
		"ID":          "b24.Int",
		"OPENED":      "b24.Bool",
		"DATE_CREATE": "b24.Time",
		"COMMENTS":    "b24.String", // not documented on the get page: stays as the example shows
	} {
		if got := fieldType(t, m, "crm", "DealListItem", wire); got != want {
			t.Errorf("DealListItem.%s is %s, want %s", wire, got, want)
		}
	}
	if st.BorrowedFields != 3 {
		t.Errorf("BorrowedFields = %d, want 3", st.BorrowedFields)
	}
}

func TestBorrowedTypeYieldsToAContradictingExample(t *testing.T) {
	get := method("x.item.get", 2, nil, &spec.Result{Shape: "object", Fields: []spec.Param{
		{Name: "CODE", Type: "integer", Kind: spec.KindInteger},
	}})
	list := method("x.item.list", 2, nil, &spec.Result{Shape: "array", Kind: spec.KindObject,
		Fields:  []spec.Param{{Name: "CODE", Kind: spec.KindString}},
		Example: []byte(`{"result":[{"CODE":"abc"}]}`),
	})
	m, _, _ := Build(&spec.Spec{Methods: []spec.Method{get, list}}, Options{ImportPath: "example.com/gen"})
	if got := fieldType(t, m, "x", "ItemListItem", "CODE"); got == "b24.Int" {
		t.Errorf("CODE typed b24.Int although the example shows %q", "abc")
	}
}

// typeName spells the runtime and builtin types the tests compare.
func typeName(t *Type) string {
	switch t.Kind {
	case Qual:
		return t.Pkg + "." + t.Name
	case Builtin, Named:
		return t.Name
	case Slice:
		return "[]" + typeName(t.Elem)
	case Pointer:
		return "*" + typeName(t.Elem)
	case Opt:
		return "b24.Opt[" + typeName(t.Elem) + "]"
	case Map:
		return "map[string]" + typeName(t.Elem)
	}
	return "?"
}
