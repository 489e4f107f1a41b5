package resolve

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// A family as the docs show one: a *.fields page whose example describes
// each field, a get page with a table, a list page with rows and no
// table, an add page with a "fields" object.
func familyFixture() *spec.Spec {
	return &spec.Spec{Methods: []spec.Method{
		{Name: "crm.thing.fields", Version: 2, Page: "thing-fields.md", Result: &spec.Result{Shape: "object",
			Example: json.RawMessage(`{"result":{
				"ID":{"type":"integer","isReadOnly":true,"title":"ID"},
				"TITLE":{"type":"string","title":"Title"},
				"OPPORTUNITY":{"type":"integer","title":"Amount"},
				"PHONE":{"type":"crm_multifield","isMultiple":true,"title":"Phone"},
				"CLOSEDATE":{"type":"date","title":"Closes"},
				"ASSIGNED_BY_ID":{"type":"user","title":"Responsible"}}}`)}},
		{Name: "crm.thing.get", Version: 2, Page: "thing-get.md", Result: &spec.Result{Shape: "object",
			Fields: []spec.Param{
				{Name: "ID", Type: "integer", Kind: spec.KindInteger},
				{Name: "TITLE", Type: "string", Kind: spec.KindString, Description: "The title."},
				{Name: "STAGE", Type: "string", Kind: spec.KindEnum, Enum: []spec.EnumValue{{Value: "P"}, {Value: "S"}}},
				{Name: "OPPORTUNITY", Kind: spec.KindInteger}, // from the example only
			},
			Example: json.RawMessage(`{"result":{"ID":"1","TITLE":"x","STAGE":"P","OPPORTUNITY":"1999.99"}}`)}},
		{Name: "crm.thing.list", Version: 2, Page: "thing-list.md", Result: &spec.Result{Shape: "array", Paginated: true}},
		{Name: "crm.thing.add", Version: 2, Page: "thing-add.md",
			Params: []spec.Param{{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{
				{Name: "TITLE", Type: "string", Kind: spec.KindString, Required: true},
				{Name: "TRACE", Type: "string", Kind: spec.KindString},
			}}},
			Result: &spec.Result{Shape: "scalar", Kind: spec.KindInteger}},
		{Name: "crm.thing.delete", Version: 2, Page: "thing-delete.md", Result: &spec.Result{Shape: "scalar", Kind: spec.KindBoolean}},
	}}
}

func fieldNamed(ps []spec.Param, name string) (spec.Param, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return spec.Param{}, false
}

func TestEntityFromFamilyPages(t *testing.T) {
	in := familyFixture()
	out, problems := Resolve(in)
	if len(out.Entities) != 1 {
		t.Fatalf("entities = %d, want 1", len(out.Entities))
	}
	e := out.Entities[0]
	if e.Family != "crm.thing" || !slices.Equal(e.Name, []string{"thing"}) {
		t.Errorf("entity %s %v", e.Family, e.Name)
	}
	var keys []string
	for _, f := range e.Fields {
		keys = append(keys, f.Name)
	}
	// The fields page's order, then what only the get page has.
	if want := []string{"ID", "TITLE", "OPPORTUNITY", "PHONE", "CLOSEDATE", "ASSIGNED_BY_ID", "STAGE"}; !slices.Equal(keys, want) {
		t.Errorf("fields %v, want %v", keys, want)
	}
	checks := []struct {
		key  string
		kind spec.Kind
	}{
		{"ID", spec.KindInteger},
		{"ASSIGNED_BY_ID", spec.KindInteger}, // "user" is a user's ID
		{"CLOSEDATE", spec.KindDate},
		{"PHONE", spec.KindArray},
		{"STAGE", spec.KindEnum},
		// Documented integer, the example sends 1999.99: widened.
		{"OPPORTUNITY", spec.KindNumber},
	}
	for _, c := range checks {
		f, _ := fieldNamed(e.Fields, c.key)
		if f.Kind != c.kind {
			t.Errorf("%s: kind %s, want %s", c.key, f.Kind, c.kind)
		}
	}
	if f, _ := fieldNamed(e.Fields, "PHONE"); len(f.Fields) != 4 || f.Elem != spec.KindObject {
		t.Errorf("PHONE is not a multifield list: %+v", f)
	}
	if f, _ := fieldNamed(e.Fields, "TITLE"); f.Description == "" {
		t.Error("TITLE lost its description")
	}
	if !slices.ContainsFunc(problems, func(p spec.Problem) bool {
		return p.Kind == "entity-widened" && p.File == "thing-get.md" && strings.Contains(p.Message, "OPPORTUNITY")
	}) {
		t.Errorf("the widening is not reported: %v", problems)
	}

	// The write form: the add table's keys, then every writable field of
	// the fields page; never the read-only ID, nor STAGE, which only the
	// get page shows, and nothing required (update requires none).
	var inKeys []string
	for _, f := range e.Input {
		inKeys = append(inKeys, f.Name)
		if f.Required {
			t.Errorf("input %s is required", f.Name)
		}
	}
	if want := []string{"TITLE", "TRACE", "OPPORTUNITY", "PHONE", "CLOSEDATE", "ASSIGNED_BY_ID"}; !slices.Equal(inKeys, want) {
		t.Errorf("input %v, want %v", inKeys, want)
	}

	// The methods point at it: get and the bare list return it, add takes
	// it, delete is left alone.
	byName := map[string]spec.Method{}
	for _, m := range out.Methods {
		byName[m.Name] = m
	}
	for _, n := range []string{"crm.thing.get", "crm.thing.list"} {
		if got := byName[n].Result.Entity; got != "crm.thing" {
			t.Errorf("%s returns entity %q", n, got)
		}
	}
	if got := byName["crm.thing.delete"].Result.Entity; got != "" {
		t.Errorf("delete returns entity %q", got)
	}
	if got := byName["crm.thing.add"].Params[0].Entity; got != "crm.thing" {
		t.Errorf("add's fields are entity %q", got)
	}
	// The input spec is not changed.
	if in.Methods[1].Result.Entity != "" || in.Methods[3].Params[0].Entity != "" || len(in.Entities) != 0 {
		t.Error("Resolve changed its input")
	}
}

// tasks.task.getFields spells PARENT_ID where tasks.task.get returns
// parentId: one field, read as parentId, written as PARENT_ID.
func TestEntityKeysMatchAcrossSpellings(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{
		{Name: "tasks.task.getFields", Version: 2, Result: &spec.Result{Shape: "object", Wrapper: "fields",
			Example: json.RawMessage(`{"result":{"fields":{"ID":{"type":"integer","primary":true},"PARENT_ID":{"type":"integer"},
				"PRIORITY":{"type":"enum","values":{"2":"High","1":"Medium","0":"Low"}}}}}`)}},
		{Name: "tasks.task.get", Version: 2, Result: &spec.Result{Shape: "object", Wrapper: "task",
			Fields: []spec.Param{{Name: "id", Kind: spec.KindString}, {Name: "parentId", Kind: spec.KindString}, {Name: "priority", Kind: spec.KindString}}}},
		{Name: "tasks.task.add", Version: 2, Params: []spec.Param{{Name: "fields", Kind: spec.KindObject}}},
	}}
	out, _ := Resolve(s)
	if len(out.Entities) != 1 {
		t.Fatalf("entities = %d", len(out.Entities))
	}
	e := out.Entities[0]
	f, ok := fieldNamed(e.Fields, "parentId")
	if !ok || f.Kind != spec.KindInteger {
		t.Errorf("parentId: %+v (present %v), want the descriptor's integer", f, ok)
	}
	if p, _ := fieldNamed(e.Fields, "priority"); p.Kind != spec.KindEnum || len(p.Enum) != 3 || p.Enum[0].Value != "2" || p.Enum[0].Description != "High" {
		t.Errorf("priority: %+v", p)
	}
	var in []string
	for _, p := range e.Input {
		in = append(in, p.Name)
	}
	if want := []string{"PARENT_ID", "PRIORITY"}; !slices.Equal(in, want) {
		t.Errorf("input %v, want %v (the primary ID is read-only)", in, want)
	}
}

// What the examples show wins over the documented kind, the way the
// runtime reads values: a "char" flag sent as "I" becomes text, a label
// sent per language becomes localized text, an ID sent as an object raw.
func TestWidenFollowsTheExample(t *testing.T) {
	cases := []struct {
		kind     spec.Kind
		value    string
		want     spec.Kind
		wantType string
	}{
		{spec.KindInteger, `"410"`, spec.KindInteger, ""},
		{spec.KindInteger, `1999.99`, spec.KindNumber, "double"},
		{spec.KindInteger, `"N"`, spec.KindString, "string"},
		{spec.KindInteger, `{"value":"1275","valueId":"9867"}`, spec.KindAny, "any"},
		{spec.KindBoolean, `"Y"`, spec.KindBoolean, ""},
		{spec.KindBoolean, `"I"`, spec.KindString, "string"},
		{spec.KindDateTime, `"2024-01-01T03:00:00+03:00"`, spec.KindDateTime, ""},
		{spec.KindDateTime, `"12/11/2024 05:59:00 pm"`, spec.KindString, "string"},
		{spec.KindString, `{"en":"Region","de":"Gebiet"}`, spec.KindObject, LocalizedType},
		{spec.KindString, `["L_4","C_7"]`, spec.KindAny, "any"},
		{spec.KindString, `""`, spec.KindString, ""},
		{spec.KindArray, `false`, spec.KindArray, ""},
		{spec.KindArray, `{"7":"a","9":"b"}`, spec.KindArray, ""}, // a list PHP keyed by ID
	}
	for _, c := range cases {
		got, changed := widen(spec.Param{Name: "X", Kind: c.kind}, json.RawMessage(c.value))
		if got.Kind != c.want || got.Type != c.wantType || changed != (c.wantType != "") {
			t.Errorf("%s with %s: %s %q (changed %v), want %s %q", c.kind, c.value, got.Kind, got.Type, changed, c.want, c.wantType)
		}
	}
}

// A list of rows whose example is one row is one object (tasks.task's
// group: documented by an empty [] example, sent as {"id": "125", …}).
func TestWidenListOfRowsToOneRow(t *testing.T) {
	f := spec.Param{Name: "group", Kind: spec.KindArray, Elem: spec.KindObject, Fields: []spec.Param{{Name: "id", Kind: spec.KindString}}}
	if _, changed := widen(f, json.RawMessage(`{"10":{"id":"10"},"11":{"id":"11"}}`)); changed {
		t.Error("rows keyed by ID were taken for one row")
	}
	got, changed := widen(f, json.RawMessage(`{"id":"125","name":"Working Group"}`))
	if !changed || got.Kind != spec.KindObject || len(got.Fields) != 1 {
		t.Errorf("one row: %+v (changed %v)", got, changed)
	}
}

// Counters keyed by chat ID ({"1317": 1, "1319": 2}) are a map of integers;
// keys that are names are not.
func TestKeyedScalars(t *testing.T) {
	obj := spec.Param{Name: "CHAT_MUTED", Kind: spec.KindObject}
	if k, ok := keyedScalars(obj, json.RawMessage(`{"1317": 1, "1319": 2}`)); !ok || k != spec.KindInteger {
		t.Errorf("counters: %q %v", k, ok)
	}
	for _, v := range []string{`{"a": 1}`, `{"1": 1, "2": "x"}`, `{"1": {"id": 1}}`, `{}`} {
		if _, ok := keyedScalars(obj, json.RawMessage(v)); ok {
			t.Errorf("%s taken for a keyed map", v)
		}
	}
	if !fitsKind(spec.Param{Kind: spec.KindObject, Elem: spec.KindInteger}, []byte(`{"5": "7"}`)) ||
		fitsKind(spec.Param{Kind: spec.KindObject, Elem: spec.KindInteger}, []byte(`{"5": "x"}`)) {
		t.Error("member kinds not checked")
	}
}
