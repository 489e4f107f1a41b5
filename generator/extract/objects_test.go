package extract

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// A fields-rest-v3 page: each anchored heading with a field table is an
// object; a field whose type links to another object keeps its anchor.
func TestObjectsPage(t *testing.T) {
	src := []byte("# Task Fields in REST 3.0\n\nIntro.\n\n## Task Object {#taskdto}\n\n#|\n|| **Name**\n`type` | **Description** ||\n" +
		"|| **id**\n[`integer`](../data-types.md) | Task identifier ||\n" +
		"|| **responsible**\n[`object`](#user) | Assignee. An object of type [user](#user) ||\n" +
		"|| **deadline**\n[`datetime`](../data-types.md) | Deadline ||\n|#\n\n" +
		"## Объект пользователя {#user}\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **name**\n[`string`](../data-types.md) | Name ||\n|#\n\n" +
		"## No table {#empty}\n\nText only.\n")
	res, probs := Page("api-reference/tasks/fields-rest-v3.md", src, nil)
	if len(res.Methods) != 0 || len(res.Events) != 0 {
		t.Errorf("methods %v events %v", res.Methods, res.Events)
	}
	if len(res.Objects) != 2 {
		t.Fatalf("objects = %+v (problems %v)", res.Objects, probs)
	}
	task, user := res.Objects[0], res.Objects[1]
	if task.Name != "taskdto" || task.Title != "Task Object" || len(task.Fields) != 3 || user.Name != "user" || len(user.Fields) != 1 {
		t.Fatalf("objects = %+v", res.Objects)
	}
	want := []struct {
		name string
		kind spec.Kind
		ref  string
	}{{"id", spec.KindInteger, ""}, {"responsible", spec.KindObject, "user"}, {"deadline", spec.KindDateTime, ""}}
	for i, w := range want {
		f := task.Fields[i]
		if f.Name != w.name || f.Kind != w.kind || f.Ref != w.ref || len(f.Fields) != 0 {
			t.Errorf("field %d = %+v, want %+v", i, f, w)
		}
	}
	// The same page under another name is not an objects page.
	if res, _ := Page("api-reference/tasks/fields.md", src, nil); len(res.Objects) != 0 {
		t.Errorf("objects read from a page not named fields-rest-v3: %+v", res.Objects)
	}
}
