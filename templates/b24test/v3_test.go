package b24test_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24test"
)

// postV3 sends a raw REST 3.0 request with an optional Idempotency-Key.
func postV3(t *testing.T, p *b24test.Portal, method, contentType, key, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.URL()+"/rest/api/"+b24test.UserID+"/"+b24test.Secret+"/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, resp.Header, m
}

func v3Code(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// The idempotency store as rest-v3.md describes it: the first call runs and
// its answer is stored; the same key and body get the stored answer with
// Idempotent-Replayed: true; the same key with another body is 422; a bad
// key is 400; a key is per method; an error is not stored.
func TestV3IdempotencyStore(t *testing.T) {
	p := b24test.NewPortal(t)
	n := 0
	p.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		if b24test.Str(b24test.Map(params, "fields"), "title") == "" {
			return nil, b24test.Errorf(400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", "no title")
		}
		n++
		return map[string]any{"item": map[string]any{"id": n}}, nil
	})
	p.Handle("tasks.task.update", func(map[string]any) (any, error) { n++; return map[string]any{"result": true}, nil })
	const body = `{"fields":{"title":"Prepare a report"}}`
	status, h, first := postV3(t, p, "tasks.task.add", "application/json", "k-1", body)
	if status != 200 || h.Get("Idempotency-Key") != "k-1" || h.Get("Idempotent-Replayed") != "" || n != 1 {
		t.Fatalf("first: %d %v %v (ran %d)", status, h, first, n)
	}
	status, h, again := postV3(t, p, "tasks.task.add", "application/json", "k-1", body)
	if status != 200 || h.Get("Idempotent-Replayed") != "true" || h.Get("Idempotency-Key") != "k-1" || n != 1 {
		t.Fatalf("repeat: %d %v %v (ran %d)", status, h, again, n)
	}
	if fi, ai := first["result"], again["result"]; !jsonEqual(fi, ai) {
		t.Errorf("replay %v differs from %v", ai, fi)
	}
	status, _, reused := postV3(t, p, "tasks.task.add", "application/json", "k-1", `{"fields":{"title":"Other"}}`)
	if status != 422 || v3Code(reused) != "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION" || n != 1 {
		t.Errorf("reused: %d %v", status, reused)
	}
	status, _, _ = postV3(t, p, "tasks.task.update", "application/json", "k-1", `{"id":1}`)
	if status != 200 || n != 2 {
		t.Errorf("the same key on another method: %d, ran %d", status, n)
	}
	for _, k := range []string{strings.Repeat("x", 256), "tab\tkey"} {
		status, _, bad := postV3(t, p, "tasks.task.add", "application/json", k, body)
		if status != 400 || v3Code(bad) != "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION" {
			t.Errorf("key %q: %d %v", k, status, bad)
		}
	}
	// A failed call is not stored: the repeat runs again.
	postV3(t, p, "tasks.task.add", "application/json", "k-2", `{"fields":{}}`)
	status, h, _ = postV3(t, p, "tasks.task.add", "application/json", "k-2", `{"fields":{}}`)
	if status != 400 || h.Get("Idempotent-Replayed") != "" || p.Ran("tasks.task.add") != 3 {
		t.Errorf("failed call replayed: %d %v, ran %d", status, h, p.Ran("tasks.task.add"))
	}
	if p.StoredAnswers() != 2 || p.KeyOverlaps() != 0 {
		t.Errorf("stored %d, overlaps %d", p.StoredAnswers(), p.KeyOverlaps())
	}
	calls := p.Calls()
	if !calls[1].Replayed || calls[0].Replayed || calls[1].IdempotencyKey != "k-1" {
		t.Errorf("calls: %+v", calls[:2])
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestV3RequestShape(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("tasks.task.get", map[string]any{"item": map[string]any{"id": 1}})
	status, _, body := postV3(t, p, "tasks.task.get", "application/x-www-form-urlencoded", "", "id=1")
	if status != 400 || v3Code(body) != "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION" {
		t.Errorf("form body: %d %v", status, body)
	}
	status, _, body = postV3(t, p, "tasks.task.get", "application/json", "", `{"id":1}`)
	if status != 200 || body["time"] == nil || !jsonEqual(body["result"], map[string]any{"item": map[string]any{"id": 1}}) {
		t.Errorf("envelope: %d %v", status, body)
	}
	if _, ok := body["total"]; ok {
		t.Errorf("REST 3.0 answer with total: %v", body)
	}
	p.SetOperating("tasks.task.get", 12.5, time.Unix(1787220142, 0))
	_, _, body = postV3(t, p, "tasks.task.get", "application/json", "", `{"id":1}`)
	if tm, _ := body["time"].(map[string]any); tm["operating"] != 12.5 || tm["operating_reset_at"] != float64(1787220142) {
		t.Errorf("time: %v", body["time"])
	}
}

// REST 3.0 batch: a JSON array at the root, results in order, references
// substituted with the JSON value they point at (a list stays a list), a
// failed call in its place as {"error": {...}}.
func TestV3Batch(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("x.make", func(map[string]any) (any, error) {
		return map[string]any{"item": map[string]any{"id": 7, "tags": []int{1, 2, 3}}}, nil
	})
	var got []any
	p.Handle("x.use", func(params map[string]any) (any, error) {
		got = append(got, params["id"], params["tags"])
		return map[string]any{"ok": true}, nil
	})
	status, _, body := postV3(t, p, "batch", "application/json",
		"", `[{"method":"x.make","query":{}},{"method":"x.use","query":{"id":"$result[0][item][id]","tags":"$result[0][item][tags]"}},{"method":"x.use","query":{"id":"$result[5][item]"}},{"method":"nope.nope","query":{}}]`)
	res, _ := body["result"].([]any)
	if status != 200 || len(res) != 4 {
		t.Fatalf("%d %v", status, body)
	}
	if !jsonEqual(got, []any{7, []int{1, 2, 3}}) {
		t.Errorf("substituted %v", got)
	}
	for _, i := range []int{2, 3} {
		if e, _ := res[i].(map[string]any); e["error"] == nil {
			t.Errorf("call %d: %v", i, res[i])
		}
	}
	calls := p.Calls()
	if len(calls) != 5 || calls[2].BatchKey != "1" || calls[2].Version != 3 {
		t.Errorf("calls %+v", calls)
	}
}

func TestV3ServeList(t *testing.T) {
	p := b24test.NewPortal(t)
	rows := []map[string]any{}
	for i := 1; i <= 10; i++ {
		rows = append(rows, map[string]any{"id": i, "status": []string{"new", "done"}[i%2], "title": "t"})
	}
	p.ServeListV3("x.list", rows, b24test.ListOptionsV3{MaxLimit: 4})
	ids := func(body map[string]any) []any {
		var out []any
		r, _ := body["result"].(map[string]any)
		items, _ := r["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any)["id"])
		}
		return out
	}
	for q, want := range map[string][]int{
		`{"pagination":{"limit":3,"page":2}}`:                                            {4, 5, 6},
		`{"pagination":{"limit":100,"offset":8}}`:                                        {9, 10},
		`{"pagination":{"limit":100}}`:                                                   {1, 2, 3, 4}, // capped
		`{"filter":[["id",">",5],["status","new"]]}`:                                     {6, 8, 10},
		`{"filter":[{"logic":"or","conditions":[["id",[1,2]],["id","between",[9,9]]]}]}`: {1, 2, 9},
		`{"filter":[["id","!=",1]],"order":{"id":"DESC"},"pagination":{"limit":2}}`:      {10, 9},
	} {
		status, _, body := postV3(t, p, "x.list", "application/json", "", q)
		if status != 200 || !jsonEqual(ids(body), want) {
			t.Errorf("%s: %d %v, want %v", q, status, ids(body), want)
		}
	}
	status, _, body := postV3(t, p, "x.list", "application/json", "", `{"filter":[["id","like",1]]}`)
	if status != 400 || v3Code(body) != "BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION" {
		t.Errorf("unknown operator: %d %v", status, body)
	}
	status, _, body = postV3(t, p, "x.list", "application/json", "", `{"pagination":{"limit":0}}`)
	if status != 400 || v3Code(body) != "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION" {
		t.Errorf("limit 0: %d %v", status, body)
	}
	status, _, body = postV3(t, p, "x.list", "application/json", "", `{"select":["title"],"pagination":{"limit":1}}`)
	r, _ := body["result"].(map[string]any)
	if items, _ := r["items"].([]any); status != 200 || len(items) != 1 || len(items[0].(map[string]any)) != 2 {
		t.Errorf("select: %d %v", status, body)
	}
}
