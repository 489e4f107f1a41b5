package resolve

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/spec"
)

// A fields page as crm.deal.recurring.fields draws one: a table whose note
// column marks the fields the portal sets itself.
const readOnlyFieldsPage = "# Get the fields of a thing test.thing.fields\n\n" +
	"> Scope: [`crm`](../scopes/permissions.md)\n\n" +
	"## Method Parameters\n\nNo parameters.\n\n" +
	"## Code Examples\n\n" +
	"{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/test.thing.fields\n    ```\n\n{% endlist %}\n\n" +
	"## Response Handling\n\nHTTP status: **200**\n\n" +
	"```json\n{\"result\": {\"ID\": {\"type\": \"integer\", \"title\": \"ID\"}, \"TITLE\": {\"type\": \"string\", \"title\": \"Title\"},\n" +
	"\"COUNTER\": {\"type\": \"integer\", \"title\": \"Things\"}, \"START_DATE\": {\"type\": \"date\", \"title\": \"Start\"}}}\n```\n\n" +
	"### Returned Data\n\n" +
	"#|\n|| **Field** `type` | **Description** | **Note** ||\n" +
	"|| **ID**\n[`integer`](../data-types.md) | Identifier | Read-only ||\n" +
	"|| **TITLE**\n[`string`](../data-types.md) | Title | ||\n" +
	"|| **COUNTER**\n[`integer`](../data-types.md) | Things made | Только для чтения ||\n" +
	"|| **START_DATE**\n[`date`](../data-types.md) | Start | If not given, today ||\n|#\n"

// TestReadOnlyFieldsOutOfWriteForms: the write form holds what the write
// pages and the fields page document as writable, never a field the
// fields page marks read-only (in its note column or as isReadOnly) nor
// one that only a read page shows.
func TestReadOnlyFieldsOutOfWriteForms(t *testing.T) {
	res, problems := extract.Page("api-reference/crm/test-thing-fields.md", []byte(readOnlyFieldsPage), nil)
	if len(res.Methods) != 1 {
		t.Fatalf("methods = %d (%v)", len(res.Methods), problems)
	}
	s := &spec.Spec{Methods: append(res.Methods,
		spec.Method{Name: "test.thing.get", Version: 2, Page: "get.md", Result: &spec.Result{Shape: "object",
			Fields: []spec.Param{
				{Name: "ID", Type: "integer", Kind: spec.KindInteger},
				{Name: "TITLE", Type: "string", Kind: spec.KindString},
				{Name: "IS_WON", Type: "boolean", Kind: spec.KindBoolean}, // only the get page has it
			},
			Example: json.RawMessage(`{"result":{"ID":"1","TITLE":"x","IS_WON":"N"}}`)}},
		spec.Method{Name: "test.thing.update", Version: 2, Page: "update.md",
			Params: []spec.Param{{Name: "id", Kind: spec.KindInteger}, {Name: "fields", Kind: spec.KindObject}},
			Result: &spec.Result{Shape: "scalar", Kind: spec.KindBoolean}},
	)}
	out, _ := Resolve(s)
	if len(out.Entities) != 1 {
		t.Fatalf("entities = %d", len(out.Entities))
	}
	var in []string
	for _, f := range out.Entities[0].Input {
		in = append(in, f.Name)
	}
	if want := []string{"TITLE", "START_DATE"}; !slices.Equal(in, want) {
		t.Errorf("write form %v, want %v (ID and COUNTER are read-only, IS_WON only read)", in, want)
	}
	for _, f := range out.Entities[0].Fields {
		if (f.Name == "ID" || f.Name == "COUNTER") != f.ReadOnly {
			t.Errorf("%s: read-only %v", f.Name, f.ReadOnly)
		}
	}
}

// crm.item's write form has none of the fields crm.item.fields marks
// isReadOnly, and none that only the read pages show (isWon).
func TestCommittedItemInputHasNoReadOnlyField(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := Resolve(s)
	var fieldsM *spec.Method
	for i := range s.Methods {
		if s.Methods[i].Name == "crm.item.fields" {
			fieldsM = &s.Methods[i]
		}
	}
	if fieldsM == nil {
		t.Fatal("no crm.item.fields")
	}
	readOnly := map[string]bool{"isWon": true}
	for _, p := range descriptorFields(fieldsM) {
		if p.ReadOnly {
			readOnly[normKey(p.Name)] = true
		}
	}
	if len(readOnly) < 10 {
		t.Fatalf("crm.item.fields marks only %d fields read-only", len(readOnly))
	}
	for _, e := range out.Entities {
		if e.Family != "crm.item" {
			continue
		}
		if len(e.Input) < 40 {
			t.Errorf("crm.item's write form has %d fields", len(e.Input))
		}
		for _, f := range e.Input {
			if readOnly[normKey(f.Name)] || f.Name == "isWon" {
				t.Errorf("crm.item's write form takes the read-only %s", f.Name)
			}
		}
		return
	}
	t.Fatal("no crm.item entity")
}
