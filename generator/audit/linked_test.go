package audit

import (
	"strings"
	"testing"
)

// TestLinkedRowsExpected: a row whose type links to another page's
// section is documented by that section's table, in the docs' markup: the
// linked rows are expected as members of the row's Go type (present ones
// count, an absent one is a miss on the linked page), a link inside the
// linked table is followed too (in-page included), a link back is not
// followed again, a basic type's link and a dotted value token are not
// structures, and a section is found by its {#anchor} or its heading's
// slug.
func TestLinkedRowsExpected(t *testing.T) {
	const page = "api-reference/test/test-thing-add.md"
	const types = "api-reference/test/types.md"
	own := readPage("# Add a thing test.thing.add\n\n## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		"|| **unit**\n[`Unit`](./types.md#unit) | The unit ||\n" +
		"|| **label**\n[`textWithTranslation`](./types.md#textwithtranslation) | A label ||\n" +
		"|| **unitId**\n[`unit.id`](./types.md#unit) | A value of it ||\n" +
		"|| **plain**\n[`object`](./types.md#unit) | A basic type's link ||\n|#\n")
	linked := "# Types\n\n## Unit {#unit}\n\n### Fields of the unit\n\n#|\n|| **Field** | **Description** ||\n" +
		"|| **id**\n[`integer`](../data-types.md) | Id ||\n|| **symbol**\n[`string`](../data-types.md) | Symbol ||\n" +
		"|| **parent**\n[`Unit`](#unit) | The parent, a unit again ||\n" +
		"|| **scale**\n[`Scale`](#scale) | Its scale ||\n|#\n\n" +
		"## Scale {#scale}\n\n#|\n|| **Field** | **Description** ||\n|| **factor**\n[`double`](../data-types.md) | Factor ||\n|#\n\n" +
		"## textWithTranslation\n\nA text, or one per language.\n"
	str := &goType{class: gString, name: "b24.String"}
	scale := &goType{class: gStruct, name: "Scale", fields: map[string]*goType{}}
	scale.add("factor", &goType{class: gNumber, name: "b24.Number"})
	unit := &goType{class: gStruct, name: "Unit", fields: map[string]*goType{}}
	unit.add("id", &goType{class: gInt, name: "b24.Int"})
	unit.add("parent", &goType{class: gRaw, name: "json.RawMessage"})
	unit.add("scale", scale) // no symbol: a miss
	root := &goType{class: gStruct, name: "Params", fields: map[string]*goType{}}
	root.add("unit", unit)
	root.add("label", str)
	root.add("unitId", &goType{class: gInt, name: "b24.Int"})
	root.add("plain", &goType{class: gStruct, name: "Plain", fields: map[string]*goType{}})

	a := &Audit{ByFamily: map[string]*Counts{}}
	read := 0
	c := &checker{a: a, fam: "test", key: "test.thing.add@2", page: page, names: func(string, bool) map[string]bool { return nil },
		tablesOf: func(p string) ([]*docTable, string) {
			if p != types {
				t.Errorf("read %s, want only %s", p, types)
				return nil, ""
			}
			read++
			return readPage(linked), linked
		}}
	c.fields(own, zoneParams, root, false)
	n := a.ByFamily["test"]
	// unit, label, unitId, plain; unit's id, symbol, parent, scale; scale's factor
	if n.Params != 9 || n.ParamsOK != 8 {
		t.Errorf("params %d of %d, want 8 of 9 (the unit's symbol absent)", n.ParamsOK, n.Params)
	}
	if len(a.Misses) != 1 || a.Misses[0].Field != "symbol" || a.Misses[0].Page != types || a.Misses[0].Line == 0 {
		t.Errorf("misses %+v, want one: symbol, on %s", a.Misses, types)
	}
	if read == 0 {
		t.Error("the linked page was not read")
	}
	if got := typeLinkOf(&docRow{cells: []string{"**x**\n[`item`](./object-fields.md)"}}, page, false); got != "api-reference/test/object-fields.md" {
		t.Errorf("a whole page's link = %q", got)
	}
	if s := readPage(linked); s[0].section != "unit" || s[1].section != "scale" {
		t.Errorf("sections %q %q, want unit, scale", s[0].section, s[1].section)
	}
	if got := slug("textWithTranslation"); !strings.EqualFold(got, "textwithtranslation") {
		t.Errorf("slug = %q", got)
	}
}
