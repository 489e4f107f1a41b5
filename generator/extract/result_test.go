package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestFlatResultTable reads a returned-data table that lists the fields of
// what result holds as result's siblings ("result `array` | Array with file
// fields", then ID, NAME, SIZE …; fixtures/flat-result.md, the disk pages'
// layout): they are result's members, typed by their rows, not the
// example's strings. The example decides between one object and a list;
// rows that describe fields ({"ID": {"TYPE": …}}) are left to the example.
func TestFlatResultTable(t *testing.T) {
	page := "api-reference/fixtures/flat-result.md"
	src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	read := func(t *testing.T, src string) *spec.Result {
		t.Helper()
		res, _ := Page(page, []byte(src), fixtureIncludes)
		if len(res.Methods) != 1 || res.Methods[0].Result == nil {
			t.Fatalf("methods = %+v, want one with a result", res.Methods)
		}
		return res.Methods[0].Result
	}
	kinds := func(r *spec.Result) map[string]spec.Kind {
		got := map[string]spec.Kind{}
		for _, f := range r.Fields {
			got[f.Name] = f.Kind
		}
		return got
	}
	want := map[string]spec.Kind{"ID": spec.KindInteger, "NAME": spec.KindString, "SIZE": spec.KindInteger, "CREATE_TIME": spec.KindDateTime}

	t.Run("object", func(t *testing.T) {
		r := read(t, string(src))
		if r.Shape != "object" {
			t.Errorf("shape = %q, want object (the example is one file)", r.Shape)
		}
		got := kinds(r)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: kind %q, want %q", k, got[k], v)
			}
		}
		if _, ok := got["time"]; ok || len(got) != len(want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
	})
	t.Run("list", func(t *testing.T) {
		list := strings.Replace(strings.Replace(string(src), `"result": {`, `"result": [{`, 1), "},\n    \"time\"", "}],\n    \"time\"", 1)
		r := read(t, list)
		if r.Shape != "array" || r.Kind != spec.KindObject {
			t.Errorf("shape = %q of %q, want array of object (the example is a list)", r.Shape, r.Kind)
		}
		if got := kinds(r); got["SIZE"] != spec.KindInteger || len(got) != len(want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
	})
	t.Run("fields description", func(t *testing.T) {
		desc := strings.NewReplacer(`"ID": "8964"`, `"ID": {"TYPE": "integer"}`, `"NAME": "Picture.png"`, `"NAME": {"TYPE": "string"}`,
			`"SIZE": "52486"`, `"SIZE": {"TYPE": "integer"}`).Replace(string(src))
		r := read(t, desc)
		if got := kinds(r); got["SIZE"] == spec.KindInteger {
			t.Errorf("SIZE typed integer from a fields description: %v", got)
		}
	})
}

// TestResultTableWithoutExample: without a response example, the first
// parameters table after the code examples is the returned data, unless
// code follows it (then it is a second call form's parameters, as on
// imbot.app.register).
func TestResultTableWithoutExample(t *testing.T) {
	head := "# Get something test.thing.list\n\n> Scope: [`crm`](../scopes/permissions.md)\n\n" +
		"## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **start**\n[`integer`](../data-types.md) | Offset ||\n|#\n\n" +
		"## Code Examples\n\n{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/test.thing.list\n    ```\n\n{% endlist %}\n\n" +
		"## Returned Data\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		"|| **ID**\n[`integer`](../data-types.md) | Identifier ||\n|| **TITLE**\n[`string`](../data-types.md) | Title ||\n|#\n"
	res, _ := Page("api-reference/crm/test-thing-list.md", []byte(head), nil)
	if len(res.Methods) != 1 || res.Methods[0].Result == nil || len(res.Methods[0].Result.Fields) != 2 {
		t.Fatalf("methods %+v, want one whose result has the table's 2 fields", res.Methods)
	}
	if k := res.Methods[0].Result.Fields[0].Kind; k != spec.KindInteger {
		t.Errorf("ID kind %q, want integer", k)
	}
	second := head + "\n### Code Example\n\n```js\nBX24.callMethod('test.thing.list', {start: 0});\n```\n"
	res, _ = Page("api-reference/crm/test-thing-list.md", []byte(second), nil)
	if len(res.Methods) != 1 || res.Methods[0].Result != nil {
		t.Errorf("a table code follows read as the result: %+v", res.Methods[0].Result)
	}
}

// TestEventAnchorWithoutTable: a row linking an anchor whose section has
// no table of its own (fixtures/event-anchor.md, the imbot.v2 events'
// "Bot object") is not given the next table on the page (the auth
// parameters under their own anchor): its section's example gives it.
func TestEventAnchorWithoutTable(t *testing.T) {
	page := "api-reference/fixtures/event-anchor.md"
	src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Page(page, src, fixtureIncludes)
	if len(res.Events) != 2 || res.Events[0].Name != "ONTESTBOTMESSAGEUPDATE" {
		t.Fatalf("events = %+v, want ONTESTBOTMESSAGEUPDATE and ONTESTBOTDELETE", res.Events)
	}
	var bot *spec.Param
	for i, f := range res.Events[0].Fields {
		if f.Name == "bot" {
			bot = &res.Events[0].Fields[i]
		}
	}
	if bot == nil {
		t.Fatal("no bot field")
	}
	var names []string
	for _, f := range bot.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "id,code,auth" {
		t.Errorf("bot holds %s, want id,code,auth", got)
	}
}

// TestWrappedListKeepsItsShape: a list under one key ({"measures": [...]},
// catalog.measure.list) stays a wrapped list, not one entity, even where
// the table names the key in the singular: the example's key is what
// arrives, and the disagreement is reported.
func TestWrappedListKeepsItsShape(t *testing.T) {
	src := "# Get units test.measure.list\n\n> Scope: [`catalog`](../scopes/permissions.md)\n\n" +
		"## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **start**\n[`integer`](../data-types.md) | Offset ||\n|#\n\n" +
		"## Code Examples\n\n{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/test.measure.list\n    ```\n\n{% endlist %}\n\n" +
		"## Response Handling\n\n```json\n{\"result\": {\"measures\": [{\"code\": 166, \"id\": 4, \"symbolIntl\": \"kg\"}]}, \"total\": 1}\n```\n\n" +
		"### Returned Data\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		"|| **result**\n[`object`](../data-types.md) | Root element ||\n" +
		"|| **measure**\n[`catalog_measure[]`](../data-types.md#catalog_measure) | Array of units ||\n" +
		"|| **total**\n[`integer`](../data-types.md) | Total ||\n|#\n"
	res, probs := Page("api-reference/catalog/test-measure-list.md", []byte(src), nil)
	if len(res.Methods) != 1 || res.Methods[0].Result == nil {
		t.Fatalf("methods %+v", res.Methods)
	}
	r := res.Methods[0].Result
	if r.Wrapper != "measures" || r.Shape != "array" || r.Kind != spec.KindObject || !r.Paginated {
		t.Errorf("result wrapper %q, shape %q of %q, paginated %v; want paged rows under \"measures\"", r.Wrapper, r.Shape, r.Kind, r.Paginated)
	}
	if len(r.Fields) != 3 {
		t.Errorf("row fields %+v, want the example's code, id, symbolIntl", r.Fields)
	}
	reported := false
	for _, p := range probs {
		reported = reported || p.Kind == "key-conflict"
	}
	if !reported {
		t.Errorf("the row/key disagreement is not reported: %v", probs)
	}
}
