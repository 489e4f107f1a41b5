package resolve

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/spec"
)

// A fields-rest-v3 page as the tasks section draws it: the object, the
// objects its fields link to, a link back to itself and one to an anchor
// the page lacks.
const linkedObjectsPage = "# Task fields in REST 3.0\n\n" +
	"## Task object {#taskdto}\n\n" +
	"#|\n|| **Name**\n`type` | **Description** ||\n" +
	"|| **id**\n[`integer`](../data-types.md) | Task id ||\n" +
	"|| **title**\n[`string`](../data-types.md) | Title ||\n" +
	"|| **deadline**\n[`datetime`](../data-types.md) | Deadline ||\n" +
	"|| **creator**\n[`object`](#user) | Who created it, see [User](#user) ||\n" +
	"|| **parent**\n[`object`](#taskdto) | The parent task ||\n" +
	"|| **stage**\n[`object`](#stage) | The stage ||\n|#\n\n" +
	"## User {#user}\n\n" +
	"#|\n|| **Name**\n`type` | **Description** ||\n" +
	"|| **id**\n[`integer`](../data-types.md) | User id ||\n" +
	"|| **name**\n[`string`](../data-types.md) | Name ||\n|#\n"

// TestLinkedResultTypeFollowed: a REST 3.0 list whose rows the page types
// by a link to the section's object ("See the field descriptions in the
// Task object block") has the object's fields, not only the keys its
// example shows; the objects those link to are expanded, and a cycle or a
// missing anchor is reported.
func TestLinkedResultTypeFollowed(t *testing.T) {
	res, _ := extract.Page("api-reference/tasks/fields-rest-v3.md", []byte(linkedObjectsPage), nil)
	if len(res.Objects) != 2 {
		t.Fatalf("objects = %d", len(res.Objects))
	}
	s := &spec.Spec{Objects: res.Objects, Methods: []spec.Method{{
		Name: "tasks.thing.list", Version: 3, Page: "api-reference/tasks/tasks-thing-list.md",
		Result: &spec.Result{Shape: "array", Kind: spec.KindObject, Wrapper: "items", Fields: []spec.Param{
			{Name: "id", Kind: spec.KindInteger}, {Name: "title", Kind: spec.KindString},
		}, Example: json.RawMessage(`{"result":{"items":[{"id":1,"title":"x"}]}}`)},
	}}}
	out, problems := Resolve(s)
	fields := out.Methods[0].Result.Fields
	var keys []string
	for _, f := range fields {
		keys = append(keys, f.Name)
	}
	if want := []string{"id", "title", "deadline", "creator", "parent", "stage"}; !slices.Equal(keys, want) {
		t.Fatalf("row fields %v, want %v", keys, want)
	}
	if f, _ := fieldNamed(fields, "deadline"); f.Kind != spec.KindDateTime {
		t.Errorf("deadline kind %s", f.Kind)
	}
	if f, _ := fieldNamed(fields, "creator"); len(f.Fields) != 2 || f.Fields[1].Name != "name" {
		t.Errorf("creator not expanded from #user: %+v", f.Fields)
	}
	kinds := map[string]int{}
	for _, p := range problems {
		kinds[p.Kind]++
	}
	if kinds[KindLinkCycle] != 1 || kinds[KindLinkMissing] != 1 {
		t.Errorf("problems %v, want one %s (parent) and one %s (stage)", kinds, KindLinkCycle, KindLinkMissing)
	}
	if len(s.Methods[0].Result.Fields) != 2 {
		t.Error("Resolve changed its input")
	}
}

// TestFollowLinksToOtherPages: a row whose type links to another page's
// table is typed by it (its own members first, with their spelling and
// required flags; the table's rows after, none of them required); the
// result's wrapped rows too; a link into a structure being expanded is a
// link-cycle, a target the docs lack a link-missing, and an anchor without
// a table changes nothing.
func TestFollowLinksToOtherPages(t *testing.T) {
	const dt = "api-reference/catalog/data-types.md"
	s := &spec.Spec{
		Objects: []spec.Object{
			{Name: "catalog_measure", Page: dt, Fields: []spec.Param{
				{Name: "id", Type: "integer", Kind: spec.KindInteger, Required: true},
				{Name: "symbol", Type: "string", Kind: spec.KindString},
				{Name: "parent", Type: "catalog_measure", Kind: spec.KindString, Link: dt + "#catalog_measure"},
			}},
			{Name: "flag", Page: dt, Fields: []spec.Param{}},
		},
		Methods: []spec.Method{{
			Name: "test.measure.list", Version: 2, Page: "api-reference/catalog/test-measure-list.md",
			Params: []spec.Param{
				{Name: "unit", Type: "catalog_measure", Kind: spec.KindString, Link: dt + "#catalog_measure",
					Fields: []spec.Param{{Name: "id", Kind: spec.KindInteger, Required: true, Line: 7}}},
				{Name: "flag", Type: "yesno", Kind: spec.KindString, Link: dt + "#flag"},
				{Name: "gone", Type: "ghost", Kind: spec.KindString, Link: dt + "#ghost", Line: 9},
			},
			Result: &spec.Result{Shape: "array", Kind: spec.KindObject, Wrapper: "measures", Link: dt + "#catalog_measure",
				Fields: []spec.Param{{Name: "id", Kind: spec.KindAny}}},
		}},
	}
	out, problems := Resolve(s)
	m := out.Methods[0]
	byName := func(ps []spec.Param) map[string]spec.Param {
		got := map[string]spec.Param{}
		for _, p := range ps {
			got[p.Name] = p
		}
		return got
	}
	params := byName(m.Params)
	unit := params["unit"]
	if unit.Kind != spec.KindObject || len(unit.Fields) != 3 || unit.Fields[0].Name != "id" || !unit.Fields[0].Required || unit.Fields[0].Line != 7 {
		t.Errorf("unit = %+v, want an object: its own required id first, then symbol and parent", unit)
	}
	if f := byName(unit.Fields)["symbol"]; f.Required || f.Page != dt || f.Kind != spec.KindString {
		t.Errorf("unit.symbol = %+v, want the table's string, from %s, not required", f, dt)
	}
	if p := byName(unit.Fields)["parent"]; len(p.Fields) != 0 {
		t.Errorf("unit.parent expanded into itself: %+v", p)
	}
	if f := params["flag"]; f.Kind != spec.KindString || len(f.Fields) != 0 {
		t.Errorf("flag = %+v: an anchor without a table changed it", f)
	}
	rows := byName(m.Result.Fields)
	if rows["id"].Kind != spec.KindInteger || rows["symbol"].Kind != spec.KindString {
		t.Errorf("result rows %+v, want the table's types over the example's", m.Result.Fields)
	}
	kinds := map[string]int{}
	for _, p := range problems {
		kinds[p.Kind]++
	}
	if kinds[KindLinkMissing] != 1 || kinds[KindLinkCycle] == 0 {
		t.Errorf("problems %v, want one link-missing (gone) and a link-cycle (parent)", problems)
	}
}

// TestLinkToAValueIsNotAStruct: a row extract read as an object only
// because its type links to a section, where that section has no table,
// describes a value: a text per language where the section's example is
// one (localized, which also takes a plain text), else any; each is a
// reported link-value. A row whose token gives a kind keeps it.
func TestLinkToAValueIsNotAStruct(t *testing.T) {
	const ft = "api-reference/crm/structure/field-types.md"
	s := &spec.Spec{
		Objects: []spec.Object{
			{Name: "textwithtranslation", Page: ft, Fields: []spec.Param{}, Example: []byte(`{"de": "Speichern", "en": "Save"}`)},
			{Name: "scope", Page: ft, Fields: []spec.Param{}},
		},
		Methods: []spec.Method{{
			Name: "test.block.add", Version: 2, Page: "api-reference/crm/test-block-add.md",
			Params: []spec.Param{
				{Name: "title", Type: "textWithTranslation", Kind: spec.KindObject, Required: true, Link: ft + "#textwithtranslation", Line: 5},
				{Name: "where", Type: "Scope", Kind: spec.KindObject, Link: ft + "#scope", Line: 6},
				{Name: "caption", Type: "string", Kind: spec.KindString, Link: ft + "#textwithtranslation", Line: 7},
			},
		}},
	}
	out, problems := Resolve(s)
	got := map[string]spec.Param{}
	for _, p := range out.Methods[0].Params {
		got[p.Name] = p
	}
	if p := got["title"]; p.Type != LocalizedType || len(p.Fields) != 0 || !p.Required {
		t.Errorf("title = %+v, want a required localized text", p)
	}
	if p := got["where"]; p.Kind != spec.KindAny {
		t.Errorf("where = %+v, want any: the section describes a value without an example", p)
	}
	if p := got["caption"]; p.Kind != spec.KindString || p.Type != "string" {
		t.Errorf("caption = %+v, want the string its token says", p)
	}
	n := 0
	for _, p := range problems {
		if p.Kind == KindLinkValue {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d link-value problems, want 2 (title, where): %v", n, problems)
	}
}
