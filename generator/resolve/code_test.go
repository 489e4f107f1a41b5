package resolve

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// The code example's evidence ranks below the tables and above the name:
// a documented row keeps its type, an untyped row takes the struct's, a
// key only the code (or the request's select) names is added, marked with
// code-example evidence; a struct of another level than the result's is
// not the result's.
func TestCodeExamplesRankBelowTables(t *testing.T) {
	rows := &spec.Result{Shape: "array", Kind: spec.KindObject, Wrapper: "items", Fields: []spec.Param{
		{Name: "ID", Type: "integer", Kind: spec.KindInteger, Line: 40},
		{Name: "CREATED_TIME", Type: "datetime", Kind: spec.KindDateTime, Line: 41},
		{Name: "NOTE", Line: 42}, // a row without a type
	}}
	code := []spec.Param{
		{Name: "ID", Type: "string", Kind: spec.KindString, Line: 20},
		{Name: "NOTE", Type: "string", Kind: spec.KindString, Line: 21},
		{Name: "STAGE_SEMANTIC_ID", Type: "string", Kind: spec.KindString, Line: 22},
		{Name: "UF_CRM_1712345678", Type: "string", Kind: spec.KindString, Line: 23},
	}
	sel := json.RawMessage(`{"select":["ID","STAGE_ID","*","UF_*","responsible.name"]}`)
	s := &spec.Spec{Methods: []spec.Method{
		{Name: "test.stage.list", Page: "a.md", Result: rows, CodeFields: code, CodeWrapper: "items", RequestExample: sel},
		{Name: "test.other.list", Page: "b.md", Result: rows, CodeFields: code, CodeWrapper: ""},
	}}
	r := &resolver{s: s}
	r.codeExamples(true)
	type want struct {
		kind     spec.Kind
		evidence spec.EvidenceKind // the deciding source, "" for the row itself
	}
	for _, c := range []struct {
		method string
		fields map[string]want
	}{
		{"test.stage.list", map[string]want{
			"ID":                {spec.KindInteger, ""},
			"CREATED_TIME":      {spec.KindDateTime, ""},
			"NOTE":              {spec.KindString, spec.EvidenceCode},
			"STAGE_SEMANTIC_ID": {spec.KindString, spec.EvidenceCode},
			"STAGE_ID":          {spec.KindString, spec.EvidenceCode},
		}},
		{"test.other.list", map[string]want{ // unwraps nothing, the result has "items": not its struct
			"ID": {spec.KindInteger, ""}, "CREATED_TIME": {spec.KindDateTime, ""}, "NOTE": {"", ""},
		}},
	} {
		var m *spec.Method
		for i := range s.Methods {
			if s.Methods[i].Name == c.method {
				m = &s.Methods[i]
			}
		}
		got := map[string]want{}
		for _, f := range m.Result.Fields {
			w := want{kind: f.Kind}
			if len(f.Evidence) > 0 {
				w.evidence = f.Evidence[0].Kind
			}
			got[f.Name] = w
		}
		if len(got) != len(c.fields) {
			t.Errorf("%s: fields %v, want %v", c.method, got, c.fields)
		}
		for k, w := range c.fields {
			if got[k] != w {
				t.Errorf("%s: %s is %v, want %v", c.method, k, got[k], w)
			}
		}
	}
	if len(rows.Fields) != 3 || rows.Fields[2].Kind != "" {
		t.Error("codeExamples changed its input's result")
	}
}
