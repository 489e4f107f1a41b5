package b24test_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

func client(t *testing.T, p *b24test.Portal) *b24.Client {
	t.Helper()
	c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends a raw request and returns status and body.
func post(t *testing.T, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, m
}

func TestPortalAuthAndErrorShapes(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("tasks.task.get", func(map[string]any) (any, error) {
		return nil, b24test.Errorf(404, "NOT_FOUND", "no task")
	})
	status, body := post(t, p.URL()+"/rest/1/wrong/user.current", "application/json", "{}")
	if status != 401 || body["error"] != "NO_AUTH_FOUND" {
		t.Errorf("wrong secret: %d %v", status, body)
	}
	status, body = post(t, p.WebhookURL()+"tasks.task.get.json", "application/json", `{"id":1}`)
	if status != 404 || body["error"] != "NOT_FOUND" || body["error_description"] != "no task" {
		t.Errorf("REST 2 error: %d %v", status, body)
	}
	status, body = post(t, strings.Replace(p.WebhookURL(), "/rest/", "/rest/api/", 1)+"tasks.task.get", "application/json", `{"id":1}`)
	e, _ := body["error"].(map[string]any)
	if status != 404 || e["code"] != "NOT_FOUND" || e["message"] != "no task" {
		t.Errorf("REST 3.0 error: %d %v", status, body)
	}
	status, body = post(t, p.WebhookURL()+"x.y", "application/json", `[1,2`)
	if status != 400 || body["error"] != "INVALID_REQUEST" {
		t.Errorf("bad body: %d %v", status, body)
	}
}

func TestPortalHandlerPanicIsAnError(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("x.y", func(map[string]any) (any, error) { panic("boom") })
	err := client(t, p).CallMethod(context.Background(), "x.y", nil, nil)
	if !errors.Is(err, b24.ErrInternal) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
}

func TestPortalFormBodyAndParamHelpers(t *testing.T) {
	p := b24test.NewPortal(t)
	var got map[string]any
	p.Handle("crm.deal.update", func(params map[string]any) (any, error) { got = params; return true, nil })
	body := b24.EncodeForm(map[string]any{"id": 5, "fields": map[string]any{"TITLE": "a b", "UF_LIST": []int{1, 2}}})
	status, _ := post(t, p.WebhookURL()+"crm.deal.update", "application/x-www-form-urlencoded", body)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	if id, ok := b24test.Int(got, "id"); !ok || id != 5 {
		t.Errorf("id = %v", got["id"])
	}
	if b24test.Str(b24test.Map(got, "fields"), "TITLE") != "a b" {
		t.Errorf("fields = %v", got["fields"])
	}
	if c := p.Calls(); len(c) != 1 || !c[0].Ran || c[0].Method != "crm.deal.update" {
		t.Errorf("calls = %+v", c)
	}
}

func TestPortalBatchLimitsAndLayout(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("echo", func(params map[string]any) (any, error) { return b24test.Str(params, "v"), nil })
	cmd := map[string]string{}
	var order []string
	for i := range 52 {
		k := fmt.Sprintf("k%02d", i)
		cmd[k] = "echo?v=" + k
		order = append(order, k)
	}
	cmd["k00"] = "batch?halt=0"
	cmd["k01"] = "echo?v=$result[k02]" // a forward reference resolves to nothing
	cmd["k03"] = "echo?v=$result[k02]-x"
	resp, err := client(t, p).Call(context.Background(), &b24.Request{Method: "batch", Params: map[string]any{"halt": 0, "cmd": cmd}})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Result map[string]string            `json:"result"`
		Error  map[string]map[string]string `json:"result_error"`
		Time   map[string]map[string]any    `json:"result_time"`
		Total  json.RawMessage              `json:"result_total"`
	}
	if err := json.Unmarshal(resp.Result, &r); err != nil {
		t.Fatalf("%s: %v", resp.Result, err)
	}
	if r.Error["k00"]["error"] != "ERROR_BATCH_METHOD_NOT_ALLOWED" {
		t.Errorf("nested batch: %v", r.Error["k00"])
	}
	if r.Error["k50"]["error"] != "ERROR_BATCH_LENGTH_EXCEEDED" || r.Error["k51"]["error"] != "ERROR_BATCH_LENGTH_EXCEEDED" {
		t.Errorf("51st and 52nd: %v %v", r.Error["k50"], r.Error["k51"])
	}
	if r.Result["k01"] != "" || r.Result["k03"] != "k02-x" || r.Result["k49"] != "k49" || len(r.Result) != 49 {
		t.Errorf("results: %v", r.Result)
	}
	if len(r.Time) != 49 || string(r.Total) != "[]" {
		t.Errorf("time %d entries, total %s", len(r.Time), r.Total)
	}
	_ = order
}

func TestPortalServeList(t *testing.T) {
	p := b24test.NewPortal(t)
	rows := []map[string]any{}
	for i := 1; i <= 120; i++ {
		rows = append(rows, map[string]any{"ID": fmt.Sprint(i * 10), "KIND": []string{"a", "b", "c"}[i%3]})
	}
	p.ServeList("x.list", rows, b24test.ListOptions{})
	c := client(t, p)
	call := func(params map[string]any) *b24.Response {
		resp, err := c.Call(context.Background(), &b24.Request{Method: "x.list", Params: params})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ids := func(r *b24.Response) []string {
		var rs []struct{ ID string }
		json.Unmarshal(r.Result, &rs)
		var out []string
		for _, x := range rs {
			out = append(out, x.ID)
		}
		return out
	}
	r := call(map[string]any{"start": 100})
	if r.Total != 120 || r.HasNext || len(ids(r)) != 20 || ids(r)[0] != "1010" {
		t.Errorf("start=100: total %d next %v ids %v", r.Total, r.HasNext, ids(r))
	}
	r = call(map[string]any{"start": 0, "order": map[string]string{"ID": "DESC"}, "filter": map[string]any{"<=ID": 500}})
	if r.Total != 50 || r.HasNext || ids(r)[0] != "500" || ids(r)[49] != "10" {
		t.Errorf("desc <=500: total %d ids %v", r.Total, ids(r))
	}
	r = call(map[string]any{"start": -1, "filter": map[string]any{">ID": 1000, "KIND": "a"}})
	if r.Total != 0 || r.HasNext || len(ids(r)) != 7 || ids(r)[0] != "1020" {
		t.Errorf("start=-1 >1000 KIND=a: total %d next %v ids %v", r.Total, r.HasNext, ids(r))
	}
	r = call(map[string]any{"filter": map[string]any{">ID": "not a number"}})
	if len(ids(r)) != 0 {
		t.Errorf("bad id filter found rows: %v", ids(r))
	}
	if _, err := c.Call(context.Background(), &b24.Request{Method: "x.list", Params: map[string]any{"start": "x"}}); !errors.Is(err, &b24.APIError{Code: "INVALID_ARG_VALUE"}) {
		t.Errorf("bad start: %v", err)
	}
}

func TestPortalBucketRefuses(t *testing.T) {
	p := b24test.NewPortal(t, b24test.WithRateLimit(2, 1))
	p.Answer("x.y", 1)
	c := client(t, p)
	var errs []error
	for range 4 {
		errs = append(errs, c.CallMethod(context.Background(), "x.y", nil, nil))
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], b24.ErrQueryLimitExceeded) || !errors.Is(errs[3], b24.ErrQueryLimitExceeded) {
		t.Errorf("errs = %v", errs)
	}
	if p.Limited() != 2 || p.Ran("x.y") != 2 || p.Requests("x.y") != 4 {
		t.Errorf("limited %d ran %d requests %d", p.Limited(), p.Ran("x.y"), p.Requests("x.y"))
	}
}

func TestPortalFaultQueueAndFallback(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Fallback(func(method string, params map[string]any) (any, error) { return "fallback:" + method, nil })
	c := client(t, p)
	p.Fail("a.b", b24test.APIFailure(403, "ACCESS_DENIED", "no").Repeat(2))
	p.Fail("a.b", b24test.OperationLimit(time.Unix(1778747792, 500e6)))
	var errs []error
	for range 4 {
		errs = append(errs, c.CallMethod(context.Background(), "a.b", nil, nil))
	}
	if !errors.Is(errs[0], b24.ErrAccessDenied) || !errors.Is(errs[1], b24.ErrAccessDenied) || !errors.Is(errs[2], b24.ErrOperationTimeLimit) || errs[3] != nil {
		t.Errorf("errs = %v", errs)
	}
	var s string
	if err := c.CallMethod(context.Background(), "any.thing", nil, &s); err != nil || s != "fallback:any.thing" {
		t.Errorf("fallback: %q %v", s, err)
	}
}

func TestPortalDeliversEventsFormEncoded(t *testing.T) {
	p := b24test.NewPortal(t)
	r := b24.NewReceiver("app-token-1")
	var got *b24.Event
	r.Handle("ONCRMDEALUPDATE", func(_ context.Context, e *b24.Event) error { got = e; return nil })
	payload := map[string]any{
		"event": "ONCRMDEALUPDATE",
		"data":  map[string]any{"FIELDS": map[string]any{"ID": 759}},
		"ts":    "1724916859",
		"auth":  map[string]any{"application_token": "app-token-1", "domain": "example.bitrix24.com"},
	}
	status, err := p.Deliver(context.Background(), r, payload)
	if err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	if got == nil || !strings.Contains(string(got.Data), `"ID":"759"`) {
		t.Fatalf("event = %+v", got)
	}
	payload["auth"] = map[string]any{"application_token": "forged"}
	if status, _ := p.Deliver(context.Background(), r, payload); status != 401 {
		t.Errorf("forged token answered %d", status)
	}
	// Over HTTP, to a receiver on its own server.
	payload["auth"] = map[string]any{"application_token": "app-token-1"}
	got = nil
	srv := httptest.NewServer(r)
	defer srv.Close()
	if status, err := p.DeliverURL(context.Background(), srv.URL+"/b24/events", payload); err != nil || status != 200 || got == nil {
		t.Errorf("DeliverURL: %d %v, event %v", status, err, got)
	}
}
