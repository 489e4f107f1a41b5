package b24test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// withAnswers fills the registry the way a generated tree's
// documented_answers_gen.go does, for one test.
func withAnswers(t *testing.T, src map[string]string) {
	t.Helper()
	saved := documentedSource
	documentedSource = src
	t.Cleanup(func() { documentedSource = saved })
}

// listOf renders n documented rows {"ID":"1"}, {"ID":"2"}, … as JSON.
func listOf(n int) string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"ID":"%d"}`, i+1)
	}
	return "[" + strings.Join(rows, ",") + "]"
}

func documentedClient(t *testing.T, opts ...PortalOption) (*Portal, *b24.Client) {
	t.Helper()
	p := NewPortal(t, opts...)
	c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func call(t *testing.T, c *b24.Client, method string, version int, params any) (*b24.Response, error) {
	t.Helper()
	return c.Call(context.Background(), &b24.Request{Method: method, Version: version, Params: params})
}

// ids reads the IDs of rows {"ID": "…"}, under key when not empty.
func ids(t *testing.T, result json.RawMessage, key string) []string {
	t.Helper()
	if key != "" {
		var w map[string]json.RawMessage
		if err := json.Unmarshal(result, &w); err != nil {
			t.Fatalf("result %s: %v", result, err)
		}
		result = w[key]
	}
	var rows []struct{ ID string }
	if err := json.Unmarshal(result, &rows); err != nil {
		t.Fatalf("rows %s: %v", result, err)
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestDocumentedAnswerWithFreshTime(t *testing.T) {
	withAnswers(t, map[string]string{
		"user.current":     `{"result":{"ID":"1","NAME":"John"}}`,
		"tasks.task.get":   `{"result":{"task":{"id":"8017"}}}`,
		"tasks.task.get@3": `{"result":{"item":{"id":3835}}}`,
		"crm.item.fields":  `{"result":{"fields":{}},"total":2,"next":7}`,
	})
	_, c := documentedClient(t, WithDocumentedAnswers())
	before := float64(time.Now().Add(-time.Second).Unix())

	resp, err := call(t, c, "user.current", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(resp.Result); got != `{"ID":"1","NAME":"John"}` {
		t.Errorf("result = %s", got)
	}
	if resp.Time == nil || resp.Time.Start < before {
		t.Errorf("time = %+v, want filled in now (start ≥ %v)", resp.Time, before)
	}
	if resp.Total != 0 || resp.HasNext {
		t.Errorf("total/next = %d/%v on an answer without them", resp.Total, resp.HasNext)
	}

	// Names match case-insensitively, as on the portal.
	if resp, err := call(t, c, "User.Current", 2, nil); err != nil || !strings.Contains(string(resp.Result), "John") {
		t.Errorf("User.Current: %v %v", resp, err)
	}

	// A REST 3.0 twin gets its own page's answer.
	resp2, err := call(t, c, "tasks.task.get", 2, map[string]any{"taskId": 1})
	if err != nil || string(resp2.Result) != `{"task":{"id":"8017"}}` {
		t.Errorf("REST 2 tasks.task.get: %v %v", resp2, err)
	}
	resp3, err := call(t, c, "tasks.task.get", 3, map[string]any{"id": 1})
	if err != nil || string(resp3.Result) != `{"item":{"id":3835}}` {
		t.Errorf("REST 3.0 tasks.task.get: %v %v", resp3, err)
	}

	// total and next of a non-list answer are the documented ones.
	resp, err = call(t, c, "crm.item.fields", 2, nil)
	if err != nil || resp.Total != 2 || !resp.HasNext || resp.Next != 7 {
		t.Errorf("documented total/next: %+v %v", resp, err)
	}
}

func TestDocumentedListPages(t *testing.T) {
	withAnswers(t, map[string]string{
		"crm.deal.list":   `{"result":` + listOf(120) + `,"total":120,"next":50,"list":true,"id":"ID"}`,
		"tasks.task.list": `{"result":{"tasks":` + listOf(3) + `,"other":"kept"},"total":3,"list":true,"items":"tasks"}`,
	})
	_, c := documentedClient(t, WithDocumentedAnswers())

	cases := []struct {
		name      string
		method    string
		params    map[string]any
		key       string
		first     string // first row's ID
		rows      int
		total     int
		next      int
		hasNext   bool
		wantError string
	}{
		{name: "no start", method: "crm.deal.list", rows: 50, first: "1", total: 120, next: 50, hasNext: true},
		{name: "start 50", method: "crm.deal.list", params: map[string]any{"start": 50}, rows: 50, first: "51", total: 120, next: 100, hasNext: true},
		{name: "last page", method: "crm.deal.list", params: map[string]any{"start": 100}, rows: 20, first: "101", total: 120},
		{name: "start as text", method: "crm.deal.list", params: map[string]any{"start": "110"}, rows: 10, first: "111", total: 120},
		{name: "past the end", method: "crm.deal.list", params: map[string]any{"start": 500}, rows: 0, total: 120},
		{name: "start -1 counts nothing", method: "crm.deal.list", params: map[string]any{"start": -1}, rows: 50, first: "1"},
		{name: "bad start", method: "crm.deal.list", params: map[string]any{"start": "x"}, wantError: "INVALID_ARG_VALUE"},
		{name: "filter >ID", method: "crm.deal.list", params: map[string]any{"filter": map[string]any{">ID": 100}}, rows: 20, first: "101", total: 20},
		{name: "filter range, other keys ignored", method: "crm.deal.list", params: map[string]any{"filter": map[string]any{">=ID": "11", "<ID": 16, "STAGE_ID": "WON"}}, rows: 5, first: "11", total: 5},
		{name: "filter =ID and !ID", method: "crm.deal.list", params: map[string]any{"filter": map[string]any{"ID": 7, "!ID": 8}}, rows: 1, first: "7", total: 1},
		{name: "filter on a bad id", method: "crm.deal.list", params: map[string]any{"filter": map[string]any{">ID": "x"}}, rows: 0},
		{name: "order by ID DESC", method: "crm.deal.list", params: map[string]any{"order": map[string]any{"ID": "desc"}, "start": 100}, rows: 20, first: "20", total: 120},
		{name: "rows under items", method: "tasks.task.list", params: map[string]any{"start": 1}, key: "tasks", rows: 2, first: "2", total: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := call(t, c, tc.method, 2, tc.params)
			if tc.wantError != "" {
				if !errors.Is(err, &b24.APIError{Code: tc.wantError}) {
					t.Fatalf("err = %v, want %s", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ids(t, resp.Result, tc.key)
			if len(got) != tc.rows || (tc.rows > 0 && got[0] != tc.first) {
				t.Errorf("rows %v, want %d starting at %s", got, tc.rows, tc.first)
			}
			if resp.Total != tc.total || resp.HasNext != tc.hasNext || resp.Next != tc.next {
				t.Errorf("total/next = %d/%d (%v), want %d/%d (%v)", resp.Total, resp.Next, resp.HasNext, tc.total, tc.next, tc.hasNext)
			}
			if tc.key != "" && !strings.Contains(string(resp.Result), `"other":"kept"`) {
				t.Errorf("keys beside the rows lost: %s", resp.Result)
			}
		})
	}

	// The runtime's iterator walks every page and stops.
	var n int
	for row, err := range b24.List[struct{ ID string }](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{IDField: "ID"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if want := fmt.Sprint(n); row.ID != want {
			t.Fatalf("row %d has ID %s", n, row.ID)
		}
	}
	if n != 120 {
		t.Errorf("List read %d rows, want 120", n)
	}

	// The fast export by ID (start=-1, >ID, chained in batches) ends.
	n = 0
	for row, err := range b24.Export[struct{ ID string }](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{IDField: "ID"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if want := fmt.Sprint(n); row.ID != want {
			t.Fatalf("row %d has ID %s", n, row.ID)
		}
	}
	if n != 120 {
		t.Errorf("Export read %d rows, want 120", n)
	}

	// Inside a batch, a command is paged too.
	b := b24.NewBatch()
	h := b24.Add(b, "page", b24.NewCommand[[]struct{ ID string }](b24.Request{Method: "crm.deal.list", Params: map[string]any{"start": 100}}))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if rows, err := h.Result(); err != nil || len(rows) != 20 || rows[0].ID != "101" {
		t.Errorf("batch page: %v %v", rows, err)
	}
}

func TestDocumentedAnswersYieldToHandlersAndFaults(t *testing.T) {
	withAnswers(t, map[string]string{
		"user.current":  `{"result":{"ID":"1"}}`,
		"crm.deal.get":  `{"result":{"ID":"7"}}`,
		"crm.deal.list": `{"result":[{"ID":"1"}],"list":true}`,
	})
	p, c := documentedClient(t, WithDocumentedAnswers())
	p.Answer("user.current", map[string]string{"ID": "42"})
	p.Fail("crm.deal.get", APIFailure(403, "ACCESS_DENIED", "denied"))
	p.ServeList("crm.deal.list", []map[string]any{{"ID": "5"}, {"ID": "6"}}, ListOptions{})

	if resp, err := call(t, c, "user.current", 2, nil); err != nil || string(resp.Result) != `{"ID":"42"}` {
		t.Errorf("Answer must win over the documented answer: %v %v", resp, err)
	}
	_, err := call(t, c, "crm.deal.get", 2, map[string]any{"id": 7})
	var apiErr *b24.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "ACCESS_DENIED" || apiErr.Status != 403 {
		t.Errorf("Fail must strike before the documented answer: %v", err)
	}
	if resp, err := call(t, c, "crm.deal.get", 2, map[string]any{"id": 7}); err != nil || string(resp.Result) != `{"ID":"7"}` {
		t.Errorf("after the fault the documented answer: %v %v", resp, err)
	}
	if resp, err := call(t, c, "crm.deal.list", 2, nil); err != nil || len(ids(t, resp.Result, "")) != 2 {
		t.Errorf("ServeList must win over the documented rows: %v %v", resp, err)
	}
	if p.Ran("crm.deal.get") != 1 {
		t.Errorf("crm.deal.get ran %d times, want 1 (the faulted call must not run)", p.Ran("crm.deal.get"))
	}
}

func TestDocumentedAnswerMissing(t *testing.T) {
	withAnswers(t, map[string]string{
		"tasks.task.list": `{"result":{"tasks":[]},"list":true,"items":"tasks"}`,
		"broken.method":   `{"result":`,
	})
	_, c := documentedClient(t, WithDocumentedAnswers())
	cases := []struct {
		method  string
		version int
		status  int
		code    string
		text    string
	}{
		{"crm.deal.get", 2, 404, "ERROR_METHOD_NOT_FOUND", "b24test: no documented answer for crm.deal.get"},
		{"tasks.task.list", 3, 404, "ERROR_METHOD_NOT_FOUND", "b24test: no documented answer for tasks.task.list (REST 3.0)"},
		{"broken.method", 2, 500, "INTERNAL_SERVER_ERROR", "the documented answer for broken.method is not valid JSON"},
	}
	for _, tc := range cases {
		_, err := call(t, c, tc.method, tc.version, nil)
		var apiErr *b24.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Code != tc.code || !strings.Contains(apiErr.Description, tc.text) {
			t.Errorf("%s v%d: err = %v, want %d %s %q", tc.method, tc.version, err, tc.status, tc.code, tc.text)
		}
	}
	// An empty page of a list is an answer, not an error.
	if resp, err := call(t, c, "tasks.task.list", 2, nil); err != nil || string(resp.Result) != `{"tasks":[]}` {
		t.Errorf("empty list: %v %v", resp, err)
	}
}

func TestDocumentedAnswersEmptyRegistry(t *testing.T) {
	withAnswers(t, nil)
	_, c := documentedClient(t, WithDocumentedAnswers())
	_, err := call(t, c, "crm.deal.get", 2, nil)
	var apiErr *b24.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "ERROR_METHOD_NOT_FOUND" ||
		!strings.Contains(apiErr.Description, "no documented answer for crm.deal.get: none are registered") {
		t.Errorf("err = %v, want one that names the method and says no answers are registered", err)
	}
}
