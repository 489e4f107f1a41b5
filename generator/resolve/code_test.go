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

// The response example ranks above the code example: a struct the code
// declares where the example shows a map of field descriptors, or a key
// the select names as text where the example holds an object, is left out
// and reported, so the generated type decodes the documented answer.
func TestCodeExampleYieldsToResponseExample(t *testing.T) {
	descriptors := &spec.Result{Shape: "object", Kind: spec.KindObject,
		Example: json.RawMessage(`{"result":{"fields":{"color":{"type":"string","title":"Color"},"name":{"type":"string","title":"Name"}}}}`),
		Fields:  []spec.Param{{Name: "fields", Type: "object", Kind: spec.KindObject, Line: 30}}}
	rows := &spec.Result{Shape: "array", Kind: spec.KindObject,
		Example: json.RawMessage(`{"result":[{"ID":"1","PHOTO":{"id":5,"url":"/a.png"}}]}`),
		Fields:  []spec.Param{{Name: "ID", Type: "integer", Kind: spec.KindInteger, Line: 40}}}
	s := &spec.Spec{Methods: []spec.Method{
		{Name: "test.scrum.getFields", Page: "a.md", Result: descriptors, CodeFields: []spec.Param{
			{Name: "fields", Kind: spec.KindObject, Line: 10, Fields: []spec.Param{
				{Name: "color", Type: "string", Kind: spec.KindString, Line: 11},
				{Name: "name", Type: "string", Kind: spec.KindString, Line: 12},
			}},
		}},
		{Name: "test.product.list", Page: "b.md", Result: rows,
			RequestExample: json.RawMessage(`{"select":["ID","PHOTO","NAME"]}`)},
	}}
	r := &resolver{s: s}
	r.codeExamples(true)
	if f := s.Methods[0].Result.Fields[0]; len(f.Fields) != 0 {
		t.Errorf("fields took the code's struct %v over the example's descriptors", f.Fields)
	}
	got := map[string]bool{}
	for _, f := range s.Methods[1].Result.Fields {
		got[f.Name] = true
	}
	if got["PHOTO"] || !got["NAME"] || !got["ID"] {
		t.Errorf("rows hold %v, want ID and NAME (PHOTO is an object in the example, not text)", got)
	}
	var kinds []string
	for _, p := range r.problems {
		if p.Kind == KindCodeContradicted {
			kinds = append(kinds, p.File)
		}
	}
	if len(kinds) != 2 || kinds[0] != "a.md" || kinds[1] != "b.md" {
		t.Errorf("code-contradicted problems in %v, want one in a.md and one in b.md", kinds)
	}
}
