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
