package resolve

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// describeParam spells a param's kind for comparison: "array of integer",
// "object{a:string b:integer}".
func describeParam(p spec.Param) string {
	s := string(p.Kind)
	if p.Kind == spec.KindArray {
		s += " of " + string(p.Elem)
	}
	if len(p.Fields) > 0 {
		s += "{"
		for i, f := range p.Fields {
			if i > 0 {
				s += " "
			}
			s += f.Name + ":" + describeParam(f)
		}
		s += "}"
	}
	return s
}

func TestRefineParam(t *testing.T) {
	list := spec.Param{Name: "ids", Kind: spec.KindArray}
	obj := spec.Param{Name: "cursor", Kind: spec.KindObject}
	for _, tc := range []struct {
		name string
		p    spec.Param
		body string // the request body holding p
		want string
	}{
		{"integers", list, `{"ids":[1,2]}`, "array of integer"},
		{"integers and a fraction", list, `{"ids":[1,2.5]}`, "array of number"},
		{"strings", list, `{"ids":["a","Y"]}`, "array of string"},
		{"mixed elements stay open", list, `{"ids":[1,"a"]}`, "array of "},
		{"empty list shows nothing", list, `{"ids":[]}`, "array of "},
		{"null shows nothing", list, `{"ids":null}`, "array of "},
		{"a scalar where a list is documented", list, `{"ids":5}`, "array of "},
		{"rows of records", list, `{"ids":[{"ID":1,"NAME":"a"},{"ID":2,"SORT":1.5}]}`, "array of object{ID:integer NAME:string SORT:number}"},
		{"documented element kind kept", spec.Param{Name: "ids", Kind: spec.KindArray, Elem: spec.KindString}, `{"ids":[1]}`, "array of string"},
		{"documented object rows, scalars shown", spec.Param{Name: "ids", Kind: spec.KindArray, Elem: spec.KindObject}, `{"ids":[1]}`, "array of object"},
		{"record", obj, `{"cursor":{"field":"ID","value":5,"on":true,"tags":["x"],"sub":{"a":1}}}`,
			"object{field:string on:boolean sub:object{a:integer} tags:array of string value:integer}"},
		{"null member stays any", obj, `{"cursor":{"a":null,"b":1}}`, "object{a:any b:integer}"},
		{"documented fields of fields", spec.Param{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{{Name: "PHONE", Kind: spec.KindArray}}},
			`{"fields":{"PHONE":[{"VALUE":"555","VALUE_TYPE":"WORK"}],"TITLE":"x"}}`, "object{PHONE:array of object{VALUE:string VALUE_TYPE:string}}"},
		{"top-level select left to paramType", spec.Param{Name: "select", Kind: spec.KindArray}, `{"select":["ID"]}`, "array of "},
		{"filter keys", spec.Param{Name: "filter", Kind: spec.KindObject}, `{"filter":{"ID":1}}`, "object"},
		{"order map by suffix", spec.Param{Name: "ELEMENT_ORDER", Kind: spec.KindObject}, `{"ELEMENT_ORDER":{"NAME":"ASC"}}`, "object"},
		{"template values", spec.Param{Name: "values", Kind: spec.KindObject}, `{"values":{"ClientName":"x"}}`, "object"},
		{"operator keys", obj, `{"cursor":{">ID":1}}`, "object"},
		{"access codes", obj, `{"cursor":{"AU":"R","U1":"W"}}`, "object"},
		{"custom fields", obj, `{"cursor":{"TITLE":"a","UF_CRM_X":1}}`, "object"},
		{"translations", obj, `{"cursor":{"en":"a","de":"b"}}`, "object"},
		{"map of records", obj, `{"cursor":{"first":{"ID":1,"TYPE":"a"},"second":{"ID":2,"TYPE":"b"}}}`, "object"},
		{"untyped row", spec.Param{Name: "TASKID"}, `{"TASKID":13}`, "integer"},
		{"untyped row, object", spec.Param{Name: "PARAMS", Kind: spec.KindAny}, `{"PARAMS":{"A":"Y"}}`, "object{A:string}"},
		{"typed any kept", spec.Param{Name: "v", Kind: spec.KindAny, Type: "mixed"}, `{"v":1}`, "any"},
		{"documented scalar kept", spec.Param{Name: "v", Kind: spec.KindString}, `{"v":1}`, "string"},
		{"documented fields: open leaf refined", spec.Param{Name: "p", Kind: spec.KindObject, Fields: []spec.Param{{Name: "ids", Kind: spec.KindArray}, {Name: "n", Kind: spec.KindString}}},
			`{"p":{"ids":[3],"n":4}}`, "object{ids:array of integer n:string}"},
		{"documented rows: every row must agree", spec.Param{Name: "p", Kind: spec.KindArray, Elem: spec.KindObject, Fields: []spec.Param{{Name: "ids", Kind: spec.KindArray}}},
			`{"p":[{"ids":[3]},{"ids":["a"]}]}`, "array of object{ids:array of }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body map[string]any
			if err := decodeNumbers([]byte(tc.body), &body); err != nil {
				t.Fatal(err)
			}
			got, _ := refineParams([]spec.Param{tc.p}, []map[string]any{body}, true)
			if d := describeParam(got[0]); d != tc.want {
				t.Errorf("refined %s from %s: got %q, want %q", describeParam(tc.p), tc.body, d, tc.want)
			}
		})
	}
}
