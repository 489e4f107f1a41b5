package model

import (
	"encoding/json"
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

// The refinement reaches the generated types and the stats: a list the
// table left open becomes []b24.Int, an object a struct; the strict count
// sees the difference.
func TestBuildRefinesFromRequestExample(t *testing.T) {
	params := []spec.Param{
		{Name: "USERS", Kind: spec.KindArray, Required: true},
		{Name: "pagination", Kind: spec.KindObject},
		{Name: "filter", Kind: spec.KindObject},
	}
	m := method("im.chat.add", 2, params, nil)
	before, st0, _ := Build(&spec.Spec{Methods: []spec.Method{m}}, Options{})
	m.RequestExample = json.RawMessage(`{"USERS":[1,2],"pagination":{"limit":10},"filter":{">ID":1}}`)
	after, st, probs := Build(&spec.Spec{Methods: []spec.Method{m}}, Options{})

	fields := func(mdl *Model) map[string]string {
		out := map[string]string{}
		for _, fl := range findFunc(mdl, "im", "ChatAdd").Params.Fields {
			out[fl.JSON] = typeString(fl.Type)
		}
		return out
	}
	if got := fields(before)["USERS"]; got != "[]any" {
		t.Errorf("without example: USERS is %s, want []any", got)
	}
	got := fields(after)
	for key, want := range map[string]string{"USERS": "[]b24.Int", "pagination": "*ChatAddParamsPagination", "filter": "b24.Filter"} {
		if got[key] != want {
			t.Errorf("%s is %s, want %s", key, got[key], want)
		}
	}
	if st.ParamsFromRequestExample != 2 {
		t.Errorf("ParamsFromRequestExample = %d, want 2", st.ParamsFromRequestExample)
	}
	// USERS and pagination turn strict, and pagination.limit is a new, strict field.
	if st.ParamsStrict != st0.ParamsStrict+3 {
		t.Errorf("ParamsStrict = %d, want %d+3", st.ParamsStrict, st0.ParamsStrict)
	}
	if hasKind(probs, "untyped-list") || hasKind(probs, "untyped-object") {
		t.Errorf("problems still report untyped params: %v", probs)
	}
}

func TestStrictType(t *testing.T) {
	for _, tc := range []struct {
		t    *Type
		want bool
	}{
		{tString, true},
		{sliceOf(tInt64), true},
		{optOf(runtime("Bool")), true},
		{runtime("Filter"), true},
		{tAny, false},
		{tRaw, false},
		{sliceOf(tAny), false},
		{mapOf(tAny), false},
		{pointerTo(sliceOf(tRaw)), false},
	} {
		if got := tc.t.strict(); got != tc.want {
			t.Errorf("strict(%s) = %v, want %v", typeString(tc.t), got, tc.want)
		}
	}
}
