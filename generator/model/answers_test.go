package model

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24gen/b24gen/spec"
)

func TestAnswers(t *testing.T) {
	method := func(name string, version int, scope string, r *spec.Result) spec.Method {
		return spec.Method{Name: name, Version: version, Scopes: []string{scope}, Result: r}
	}
	example := func(s string) *spec.Result { return &spec.Result{Example: json.RawMessage(s)} }
	paged := func(wrapper, s string) *spec.Result {
		return &spec.Result{Paginated: true, Wrapper: wrapper, Example: json.RawMessage(s)}
	}
	s := &spec.Spec{Methods: []spec.Method{
		method("user.current", 2, "user", example(`{"result": {"ID": "1", "NAME": "<b>A & B</b>"}, "time": {"start": 1}}`)),
		// A paged array: the portal counts the rows, the documented 120 goes.
		method("crm.deal.list", 2, "crm", paged("", `{"result":[{"ID":"1"}],"total":120,"next":50}`)),
		// Rows under the documented wrapper.
		method("tasks.task.list", 2, "task", paged("tasks", `{"result":{"tasks":[{"id":"1"}]},"total":1}`)),
		// Rows under the one array-valued key, with no wrapper documented;
		// total and next written as strings.
		method("sale.status.list", 2, "sale", example(`{"result":{"statuses":[{"id":"N"}],"count":1},"total":"1","next":"50"}`)),
		// Two arrays: which one holds the rows is unknown, so no paging and
		// the documented total and next stay.
		method("im.recent.list", 2, "im", paged("", `{"result":{"items":[],"chats":[]},"total":2,"next":1}`)),
		// A REST 3.0 list pages its own way: served as documented.
		method("tasks.task.list", 3, "task", example(`{"result":{"items":[{"id":1}]},"total":1}`)),
		// An envelope drawn without its "result" level: the rest is the
		// result (here a paged list under its one array).
		method("catalog.vat.list", 2, "catalog", example(`{"vats":[{"id":2}],"total":1,"time":{"start":1}}`)),
		method("rpa.comment.add", 2, "rpa", example(`{"comment":{"id":350},"time":{"start":1}}`)),
		// Nothing but the envelope, no example, not JSON: no answer.
		method("catalog.vat.get", 2, "catalog", example(`{"time":{"start":1}}`)),
		method("crm.deal.add", 2, "crm", &spec.Result{Shape: "scalar"}),
		method("crm.deal.update", 2, "crm", nil),
		method("crm.deal.delete", 2, "crm", example(`{"result":`)),
		// Case twins: the usual spelling's answer is kept.
		method("crm.Deal.get", 2, "crm", example(`{"result":{"ID":"stray"}}`)),
		method("crm.deal.get", 2, "crm", example(`{"result":{"ID":"usual"}}`)),
		method("", 2, "crm", example(`{"result":1}`)),
	}}
	got := map[string]string{}
	var keys []string
	for _, a := range Answers(s, nil) {
		got[a.Key] = string(a.JSON)
		keys = append(keys, a.Key)
		if a.Key != AnswerKey(a.Method, a.Version) {
			t.Errorf("%s: key %q for %s v%d", a.Key, a.Key, a.Method, a.Version)
		}
	}
	want := map[string]string{
		"user.current":      `{"result":{"ID":"1","NAME":"<b>A & B</b>"}}`,
		"crm.deal.list":     `{"result":[{"ID":"1"}],"list":true,"id":"ID"}`,
		"tasks.task.list":   `{"result":{"tasks":[{"id":"1"}]},"list":true,"items":"tasks","id":"id"}`,
		"sale.status.list":  `{"result":{"statuses":[{"id":"N"}],"count":1},"list":true,"items":"statuses"}`,
		"im.recent.list":    `{"result":{"items":[],"chats":[]},"total":2,"next":1}`,
		"tasks.task.list@3": `{"result":{"items":[{"id":1}]},"total":1}`,
		"crm.deal.get":      `{"result":{"ID":"usual"}}`,
		"catalog.vat.list":  `{"result":{"vats":[{"id":2}]},"list":true,"items":"vats","id":"id"}`,
		"rpa.comment.add":   `{"result":{"comment":{"id":350}}}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	wantOrder := []string{"catalog.vat.list", "crm.deal.get", "crm.deal.list", "im.recent.list", "rpa.comment.add", "sale.status.list", "tasks.task.list", "tasks.task.list@3", "user.current"}
	if diff := cmp.Diff(wantOrder, keys); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}

	// Scopes select as Build does.
	var scoped []string
	for _, a := range Answers(s, []string{"task"}) {
		scoped = append(scoped, a.Key)
	}
	if diff := cmp.Diff([]string{"tasks.task.list", "tasks.task.list@3"}, scoped); diff != "" {
		t.Errorf("scope task (-want +got):\n%s", diff)
	}
}
