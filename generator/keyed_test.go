package generator

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/spec"
)

// keyedPage is a method page as the docs draw one whose answer holds
// records keyed by their ids (tasks.task.get's auditorsData): the
// returned-data table says only "object", the example shows two ids.
const keyedPage = "# Get a thing test.thing.get\n\n" +
	"> Scope: [`task`](../scopes/permissions.md)\n\n" +
	"## Method Parameters\n\n" +
	"#|\n|| **Name**\n`type` | **Description** ||\n" +
	"|| **id***\n[`integer`](../data-types.md) | Thing id ||\n|#\n\n" +
	"## Code Examples\n\n" +
	"{% list tabs %}\n\n- cURL (Webhook)\n\n    ```bash\n    curl https://x/rest/1/s/test.thing.get\n    ```\n\n{% endlist %}\n\n" +
	"## Response Handling\n\nHTTP status: **200**\n\n" +
	"```json\n" + `{
    "result": {
        "id": "7",
        "title": "A thing",
        "auditorsData": {
            "13": {"id": "13", "name": "Ann", "link": "/company/personal/user/13/"},
            "103": {"id": "103", "name": "Bob", "icon": "/a.png"}
        },
        "labels": {"1669": "Planning", "1671": "Done"}
    },
    "time": {"start": 1}
}` + "\n```\n\n" +
	"### Returned Data\n\n" +
	"#|\n|| **Name**\n`type` | **Description** ||\n" +
	"|| **result**\n[`object`](../data-types.md) | The thing ||\n|#\n"

// TestKeyedByIDIsAMap: an object keyed by record ids is a map from the id
// to one row type (the union of the rows shown), never a struct with a
// field per id one example happens to show; each such object is reported.
func TestKeyedByIDIsAMap(t *testing.T) {
	res, problems := extract.Page("api-reference/tasks/test-thing-get.md", []byte(keyedPage), nil)
	if len(res.Methods) != 1 {
		t.Fatalf("methods = %d (%v)", len(res.Methods), problems)
	}
	s := &spec.Spec{Source: spec.Source{Repository: "r", Commit: "c"}, Methods: res.Methods}
	files, rep, err := Render(s, Options{ImportPath: "example.com/out"})
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for _, f := range files {
		if f.Path == "test/thing_gen.go" {
			src = string(f.Data)
		}
	}
	if src == "" {
		t.Fatal("no test/thing_gen.go")
	}
	if !regexp.MustCompile("Labels +map\\[string\\]b24.String +`json:\"labels\"`").MatchString(src) {
		t.Errorf("labels is not a map[string]b24.String:\n%s", src)
	}
	field := regexp.MustCompile("AuditorsData +map\\[string\\](\\w+) +`json:\"auditorsData\"`").FindStringSubmatch(src)
	if field == nil {
		t.Fatalf("auditorsData is not a map of rows:\n%s", src)
	}
	// One row type holds what either row shows.
	row := regexp.MustCompile(`(?s)type ` + field[1] + ` struct \{(.*?)\n\}`).FindStringSubmatch(src)
	if row == nil {
		t.Fatalf("no row type %s", field[1])
	}
	for _, key := range []string{"id", "name", "link", "icon"} {
		if !strings.Contains(row[1], `json:"`+key+`"`) {
			t.Errorf("the row lacks %q:%s", key, row[1])
		}
	}
	if m := regexp.MustCompile("json:\"[0-9]+[\",]").FindString(src); m != "" {
		t.Errorf("a field is keyed by a record id: %s", m)
	}
	n := 0
	for _, p := range rep.Problems {
		if p.Kind == "keyed-by-id" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("keyed-by-id problems = %d, want 2: %v", n, slices.DeleteFunc(rep.Problems, func(p spec.Problem) bool { return p.Kind != "keyed-by-id" }))
	}
}

// TestWrappedResultMatchesEntity: a result the page draws as one object
// member ({"task": object}, no wrapper named) whose example holds the
// family's entity is that entity under the key, not a per-method copy of
// it (tasks.task.approve, defer, start … returned 11 copies of the task).
func TestWrappedResultMatchesEntity(t *testing.T) {
	task := `{"id":"7","title":"T","status":"2","auditorsData":{"13":{"id":"13","name":"Ann"}},"extraKey":"x"}`
	s := &spec.Spec{Source: spec.Source{Repository: "r", Commit: "c"}, Methods: []spec.Method{
		{Name: "test.thing.get", Version: 2, Page: "get.md", Params: []spec.Param{{Name: "id", Type: "integer", Kind: spec.KindInteger, Required: true}},
			Result: &spec.Result{Shape: "object", Wrapper: "task", Fields: []spec.Param{
				{Name: "id", Type: "integer", Kind: spec.KindInteger},
				{Name: "title", Type: "string", Kind: spec.KindString},
				{Name: "status", Type: "integer", Kind: spec.KindInteger},
			}, Example: []byte(`{"result":{"task":` + task + `}}`)}},
		{Name: "test.thing.approve", Version: 2, Page: "approve.md", Params: []spec.Param{{Name: "id", Type: "integer", Kind: spec.KindInteger, Required: true}},
			Result: &spec.Result{Shape: "object", Fields: []spec.Param{{Name: "task", Type: "object", Kind: spec.KindObject}},
				Example: []byte(`{"result":{"task":` + task + `}}`)}},
	}}
	files, _, err := Render(s, Options{ImportPath: "example.com/out"})
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for _, f := range files {
		if f.Path == "test/thing_gen.go" {
			src = string(f.Data)
		}
	}
	if !regexp.MustCompile("(?s)type ThingApproveResult struct \\{\\s*Task \\*Thing `json:\"task\"`").MatchString(src) {
		t.Errorf("approve's result is not the entity under \"task\":\n%s", src)
	}
	if strings.Contains(src, "type ThingApproveResultTask ") {
		t.Error("a per-method copy of the entity is declared: ThingApproveResultTask")
	}
	// The entity holds what the wrapped example adds (extraKey), once.
	if !regexp.MustCompile("ExtraKey +b24.String +`json:\"extraKey\"`").MatchString(src) {
		t.Errorf("the entity lacks the wrapped example's extraKey:\n%s", src)
	}
}
