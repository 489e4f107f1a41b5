package resolve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/spec"
)

// An older crm page that shows its request but no response: the table of
// the returned fields after the code examples is all the page says.
func noExamplePage(name string) string {
	return "# Get something " + name + "\n\n" +
		"> Scope: [`crm`](../scopes/permissions.md)\n\n" +
		"## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		"|| **start**\n[`integer`](../data-types.md) | Offset ||\n|#\n\n" +
		"## Code Examples\n\n" +
		"{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/" + name + "\n    ```\n\n{% endlist %}\n\n" +
		"## Returned Data\n\n" +
		"#|\n|| **Name**\n`type` | **Description** | **Note** ||\n" +
		"|| **ID**\n[`integer`](../data-types.md) | Identifier | Read-only ||\n" +
		"|| **ACCOUNT_NUMBER**\n[`string`](../data-types.md) | Number | ||\n" +
		"|| **DATE_BILL**\n[`date`](../data-types.md) | Billing date | ||\n|#\n"
}

// TestResultWithoutExample: a page without a response example is typed
// from its returned-data table. A *.fields method among *.fields siblings
// that all answer descriptor maps is one too (its table gives the
// entity's fields and their types); a list method's table gives its rows.
func TestResultWithoutExample(t *testing.T) {
	page := func(name string) spec.Method {
		t.Helper()
		res, problems := extract.Page("api-reference/crm/"+strings.ReplaceAll(name, ".", "-")+".md", []byte(noExamplePage(name)), nil)
		if len(res.Methods) != 1 || res.Methods[0].Result == nil {
			t.Fatalf("%s: methods %+v (%v), want one with a result from the table", name, res.Methods, problems)
		}
		return res.Methods[0]
	}
	fieldsM, listM := page("crm.thing.fields"), page("crm.thing.list")
	if n := len(fieldsM.Result.Fields); n != 3 {
		t.Errorf("crm.thing.fields: %d result fields from the table, want 3", n)
	}
	ms := []spec.Method{fieldsM, listM}
	for i := range 3 {
		ms = append(ms, spec.Method{Name: fmt.Sprintf("crm.other%d.fields", i), Version: 2, Page: "o.md",
			Result: &spec.Result{Shape: "object", Example: json.RawMessage(
				`{"result":{"ID":{"type":"integer","isRequired":false,"title":"ID"},"NAME":{"type":"string","isRequired":true,"title":"Name"}}}`)}})
	}
	out, _ := Resolve(&spec.Spec{Methods: ms})
	got := map[string]*spec.Result{}
	for _, m := range out.Methods {
		got[m.Name] = m.Result
	}
	if r := got["crm.thing.fields"]; r.Shape != spec.ShapeDescriptors {
		t.Errorf("crm.thing.fields: shape %q, want %q as its siblings show", r.Shape, spec.ShapeDescriptors)
	}
	if r := got["crm.thing.list"]; r.Shape != "array" || r.Kind != spec.KindObject || !r.Paginated {
		t.Errorf("crm.thing.list: shape %q of %q, paginated %v; want paged rows", r.Shape, r.Kind, r.Paginated)
	}
	var thing *spec.Entity
	for i := range out.Entities {
		if out.Entities[i].Family == "crm.thing" {
			thing = &out.Entities[i]
		}
	}
	if thing == nil {
		t.Fatal("no crm.thing entity from the fields table")
	}
	kinds := map[string]spec.Kind{}
	for _, f := range thing.Fields {
		kinds[f.Name] = f.Kind
		if f.Name == "ID" && !f.ReadOnly {
			t.Errorf("ID: not read-only, the note column says it is")
		}
	}
	if kinds["DATE_BILL"] != spec.KindDate || kinds["ID"] != spec.KindInteger {
		t.Errorf("entity kinds %v, want the table's", kinds)
	}

	// A lone *.fields page without siblings to show the shape keeps its table.
	alone, _ := Resolve(&spec.Spec{Methods: []spec.Method{page("crm.thing.fields")}})
	if r := alone.Methods[0].Result; r.Shape == spec.ShapeDescriptors {
		t.Errorf("a *.fields page with no siblings read as descriptors")
	}
}
