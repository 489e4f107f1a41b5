package extract

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestLinkedTypes: a row whose type links to a structure another page
// describes keeps the link (page#anchor from the docs root), and the
// linked tables are read as objects: an anchor's table, a whole page's
// tables, an anchor without a table as an object without fields, and no
// object for a target that does not exist. Links of scalar tokens
// (crm_currency, catalog_thing.id) and of basic types are not structures.
func TestLinkedTypes(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("api-reference/catalog/data-types.md", "# Catalog data types\n\n"+
		"## Unit {#catalog_measure}\n\n#|\n|| **Name**\n`type` | **Description** ||\n"+
		"|| **id**\n[`integer`](../data-types.md) | Id ||\n|| **code**\n[`integer`](../data-types.md) | Code ||\n"+
		"|| **symbol**\n[`string`](../data-types.md) | Symbol ||\n|| **parent**\n[`catalog_measure`](#catalog_measure) | Parent unit ||\n|#\n\n"+
		"## Currency {#crm_currency}\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **id**\n[`string`](../data-types.md) | Code ||\n|#\n\n"+
		"## Flag {#flag}\n\nY or N.\n\n## Text {#text}\n\nA text, or one per language:\n\n```json\n{\"de\": \"Ja\", \"en\": \"Yes\"}\n```\n")
	write("api-reference/catalog/object-fields.md", "# Thing fields\n\n## Common {#common}\n\n#|\n|| **Name**\n`type` | **Description** ||\n"+
		"|| **id**\n[`integer`](../data-types.md) | Id ||\n|#\n\n## Special {#special}\n\n#|\n|| **Name**\n`type` | **Description** ||\n"+
		"|| **weight**\n[`double`](../data-types.md) | Weight ||\n|| **id**\n[`integer`](../data-types.md) | Id again ||\n|#\n")
	write("api-reference/catalog/test-thing-list.md", "# List things test.thing.list\n\n> Scope: [`catalog`](../scopes/permissions.md)\n\n"+
		"## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n"+
		"|| **thing**\n[`thing`](./object-fields.md) | The thing ||\n"+
		"|| **currency**\n[`crm_currency`](./data-types.md#crm_currency) | Currency code ||\n"+
		"|| **unitId**\n[`catalog_measure.id`](./data-types.md#catalog_measure) | Unit id ||\n"+
		"|| **flag**\n[`yesno`](./data-types.md#flag) | A flag ||\n"+
		"|| **label**\n[`phrase`](./data-types.md#text) | A label ||\n"+
		"|| **gone**\n[`ghost`](./data-types.md#ghost) | Links nowhere ||\n"+
		"|| **plain**\n[`object`](./data-types.md#catalog_measure) | A basic type's link ||\n|#\n\n"+
		"## Code Examples\n\n{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/test.thing.list\n    ```\n\n{% endlist %}\n\n"+
		"## Response Handling\n\n```json\n{\"result\": {\"measures\": [{\"id\": 1, \"code\": 6}]}}\n```\n\n"+
		"### Returned Data\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **result**\n[`object`](../data-types.md) | Root ||\n"+
		"|| **measures**\n[`catalog_measure[]`](./data-types.md#catalog_measure) | Units ||\n|#\n")
	s, err := Dir(root, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) != 1 {
		t.Fatalf("methods = %d", len(s.Methods))
	}
	m := s.Methods[0]
	links := map[string]string{}
	for _, p := range m.Params {
		links[p.Name] = p.Link
	}
	for name, want := range map[string]string{
		"thing": "api-reference/catalog/object-fields.md", "flag": "api-reference/catalog/data-types.md#flag",
		"gone": "api-reference/catalog/data-types.md#ghost", "currency": "", "unitId": "", "plain": "",
	} {
		if links[name] != want {
			t.Errorf("%s: link %q, want %q", name, links[name], want)
		}
	}
	if m.Result == nil || m.Result.Link != "api-reference/catalog/data-types.md#catalog_measure" {
		t.Errorf("result link = %+v, want the wrapped rows' catalog_measure", m.Result)
	}
	objs := map[string]spec.Object{}
	for _, o := range s.Objects {
		objs[o.Page+"#"+o.Name] = o
	}
	names := func(o spec.Object) []string {
		var out []string
		for _, f := range o.Fields {
			out = append(out, f.Name)
		}
		return out
	}
	if o, ok := objs["api-reference/catalog/data-types.md#catalog_measure"]; !ok || len(o.Fields) != 4 {
		t.Errorf("catalog_measure: %v (%v), want its 4 rows", names(o), ok)
	}
	if o, ok := objs["api-reference/catalog/object-fields.md#"]; !ok || len(o.Fields) != 2 {
		t.Errorf("object-fields.md: %v (%v), want id and weight, each once", names(o), ok)
	}
	if o, ok := objs["api-reference/catalog/data-types.md#flag"]; !ok || len(o.Fields) != 0 {
		t.Errorf("flag: %+v (%v), want an object without fields", o, ok)
	}
	if o := objs["api-reference/catalog/data-types.md#flag"]; o.Example != nil {
		t.Errorf("flag: example %s, want none (its section shows none)", o.Example)
	}
	if o, ok := objs["api-reference/catalog/data-types.md#text"]; !ok || len(o.Fields) != 0 || string(o.Example) != `{"de":"Ja","en":"Yes"}` {
		t.Errorf("text: %+v (%v), want an object without fields whose example is the section's JSON", o, ok)
	}
	if _, ok := objs["api-reference/catalog/data-types.md#ghost"]; ok {
		t.Errorf("an object for an anchor the page lacks")
	}
}
