package model

import (
	"testing"

	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

// A REST 3.0 field constant filters by what its field reads: TaskV3Deadline
// is an OrderedField[time.Time] because TaskV3.Deadline is a b24.Time, and
// so for every constant of an object a REST 3.0 entity is read from.
func TestV3ConstantsAgreeWithTheRows(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	resolved, _ := resolve.Resolve(s)
	m, _, _ := Build(resolved, Options{})
	// The runtime type a read field holds for each constant's value type.
	reads := map[string][]string{
		"int64":     {"Int"},
		"float64":   {"Number", "Int"},
		"time.Time": {"Time", "Date"},
		"bool":      {"Bool"},
		"string":    {"String"},
	}
	checked := 0
	for _, pkg := range m.Packages {
		rows := map[string]*Struct{} // entity read type by name
		for _, f := range pkg.Files {
			for _, e := range f.Entities {
				if e.Version != 3 {
					continue
				}
				for _, st := range e.Structs {
					if st.Name == e.Name {
						rows[e.Name] = st
					}
				}
			}
		}
		for _, obj := range pkg.V3Objects {
			for _, c := range obj.Consts {
				if c.Type.Elem == nil {
					continue // a Relation or FieldPath: no value to compare
				}
				prefix := c.Name[:len(c.Name)-len(Exported(c.Wire))]
				row := rows[prefix]
				if row == nil {
					continue
				}
				var field *Field
				for _, fl := range row.Fields {
					if fl.JSON == c.Wire {
						field = fl
					}
				}
				if field == nil {
					t.Errorf("%s.%s filters %q, which %s does not read", pkg.Name, c.Name, c.Wire, row.Name)
					continue
				}
				elem := c.Type.Elem.Name
				if c.Type.Elem.Pkg == "time" {
					elem = "time.Time"
				}
				ft := field.Type
				ok := false
				for _, want := range reads[elem] {
					ok = ok || ft.isRuntime(want)
				}
				if elem == "string" && ft.Kind == Named {
					ok = true // an enum of the documented values, read as text
				}
				if !ok {
					t.Errorf("%s.%s is %s[%s], but %s.%s reads %s", pkg.Name, c.Name, c.Type.Name, elem, row.Name, field.Name, typeString(ft))
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d constants compared with their rows; want the task's at least", checked)
	}
}
