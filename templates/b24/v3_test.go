package b24_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// taskPortal serves a REST 3.0 tasks.task.add that counts the tasks it made.
func taskPortal(t *testing.T) (*b24test.Portal, func() int) {
	p := b24test.NewPortal(t)
	var mu sync.Mutex
	next := 0
	p.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		title := b24test.Str(b24test.Map(params, "fields"), "title")
		if title == "" {
			return nil, &b24.APIError{Status: 400, Code: "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
				Description: "Error validating request object", Validation: []b24.ValidationError{{Field: "fields.title", Message: "Required field `title` is not specified"}}}
		}
		mu.Lock()
		defer mu.Unlock()
		next++
		return map[string]any{"item": map[string]any{"id": 100 + next, "title": title}}, nil
	})
	return p, func() int { mu.Lock(); defer mu.Unlock(); return next }
}

type addResult struct {
	Item struct {
		ID    b24.Int    `json:"id"`
		Title b24.String `json:"title"`
	} `json:"item"`
}

func addTask(ctx context.Context, c b24.Caller, title string, opts ...b24.CallOption) (addResult, error) {
	var out addResult
	err := b24.Invoke(ctx, c, b24.Request{Method: "tasks.task.add", Version: 3,
		Params: map[string]any{"fields": map[string]any{"title": title, "responsibleId": 1}}}, &out, opts...)
	return out, err
}

// A REST 3.0 write whose answer is lost after the portal ran it is retried
// with the same key; the portal answers the retry from its store, so the
// task exists once and the caller learns the answer was replayed.
func TestV3WriteCutOffIsRetriedWithTheSameKeyAndRunsOnce(t *testing.T) {
	for _, f := range []b24test.Fault{b24test.CutBody(), b24test.ConnectionReset(), b24test.TruncatedBody(), b24test.HTMLPage(502)} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			p, made := taskPortal(t)
			c, _ := newClient(t, p)
			p.Fail("tasks.task.add", f)
			var replayed bool
			res, err := addTask(context.Background(), c, "Prepare a report", b24.WithReplayed(&replayed))
			if err != nil {
				t.Fatal(err)
			}
			if made() != 1 || p.Ran("tasks.task.add") != 1 {
				t.Errorf("the task was made %d times (handler ran %d)", made(), p.Ran("tasks.task.add"))
			}
			if res.Item.ID != 101 || !replayed {
				t.Errorf("result %+v, replayed %v", res, replayed)
			}
			calls := p.Calls()
			if len(calls) != 2 || calls[0].IdempotencyKey == "" || calls[0].IdempotencyKey != calls[1].IdempotencyKey || !calls[1].Replayed {
				t.Errorf("calls = %+v", calls)
			}
		})
	}
}

// REST 2 writes stay unretried after an ambiguous failure: the portal keeps
// no store for them.
func TestV2WriteIsNotRetriedEvenWithAKey(t *testing.T) {
	p, made := taskPortal(t)
	c, _ := newClient(t, p)
	p.Fail("tasks.task.add", b24test.CutBody())
	err := b24.Invoke(context.Background(), c, b24.Request{Method: "tasks.task.add",
		Params: map[string]any{"fields": map[string]any{"title": "x"}}}, nil, b24.WithIdempotencyKey("k1"))
	var te *b24.TransportError
	if !errors.As(err, &te) || made() != 1 || p.Requests("tasks.task.add") != 1 {
		t.Errorf("err %v, made %d, requests %d", err, made(), p.Requests("tasks.task.add"))
	}
	if k := p.Calls()[0].IdempotencyKey; k != "" {
		t.Errorf("REST 2 call sent Idempotency-Key %q", k)
	}
}

func TestV3KeyReusedWithAnotherBody(t *testing.T) {
	p, made := taskPortal(t)
	c, _ := newClient(t, p)
	ctx := context.Background()
	key := b24.WithIdempotencyKey("9f1c1a7e-5f1b-4a1e-9a2c-2f5f2b6c7d80")
	var replayed bool
	first, err := addTask(ctx, c, "one", key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := addTask(ctx, c, "one", key, b24.WithReplayed(&replayed))
	if err != nil || again.Item.ID != first.Item.ID || !replayed || made() != 1 {
		t.Fatalf("repeat: %+v %v replayed=%v made=%d", again, err, replayed, made())
	}
	_, err = addTask(ctx, c, "two", key)
	var ae *b24.APIError
	if !errors.Is(err, b24.ErrIdempotencyKeyReused) || !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("reused key: %v", err)
	}
	if !strings.Contains(err.Error(), "would run it again") || strings.Contains(err.Error(), "take a new key") {
		t.Errorf("the error does not say what to do: %v", err)
	}
	if made() != 1 {
		t.Errorf("made %d tasks", made())
	}
}

func TestV3InvalidKeyIsRefusedBeforeSending(t *testing.T) {
	p, _ := taskPortal(t)
	c, _ := newClient(t, p)
	for _, k := range []string{strings.Repeat("k", 256), "tab\there", "ключ"} {
		_, err := addTask(context.Background(), c, "x", b24.WithIdempotencyKey(k))
		if !errors.Is(err, b24.ErrInvalidIdempotencyKey) {
			t.Errorf("key %q: %v", k, err)
		}
	}
	if n := p.Requests("tasks.task.add"); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// The portal's own refusal maps to the same sentinel.
	p.Fail("tasks.task.add", b24test.APIFailure(400, "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION", "bad key"))
	if _, err := addTask(context.Background(), c, "x"); !errors.Is(err, b24.ErrInvalidIdempotencyKey) {
		t.Errorf("portal refusal: %v", err)
	}
}

// Every REST 3.0 write gets its own key; reads get none.
func TestV3KeysOnWritesOnly(t *testing.T) {
	p, _ := taskPortal(t)
	p.Answer("tasks.task.get", map[string]any{"item": map[string]any{"id": 1}})
	c, _ := newClient(t, p)
	ctx := context.Background()
	addTask(ctx, c, "a")
	addTask(ctx, c, "a")
	b24.Invoke(ctx, c, b24.Request{Method: "tasks.task.get", Version: 3, Idempotent: true, Params: map[string]any{"id": 1}}, nil)
	calls := p.Calls()
	if calls[0].IdempotencyKey == "" || calls[0].IdempotencyKey == calls[1].IdempotencyKey || calls[2].IdempotencyKey != "" {
		t.Errorf("keys: %q %q %q", calls[0].IdempotencyKey, calls[1].IdempotencyKey, calls[2].IdempotencyKey)
	}
}

// Two calls with one key at the same time: the second waits for the first,
// so the portal never has both in flight, and gets the stored answer.
func TestV3NoTwoRequestsWithOneKeyAtOnce(t *testing.T) {
	p, made := taskPortal(t)
	c, _ := newClient(t, p)
	p.Fail("tasks.task.add", b24test.SlowAnswer(50*time.Millisecond))
	var wg sync.WaitGroup
	ids := make([]b24.Int, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := addTask(context.Background(), c, "same", b24.WithIdempotencyKey("one-key"))
			ids[i], errs[i] = r.Item.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("call %d: id %d, %v", i, ids[i], errs[i])
		}
	}
	if made() != 1 || p.KeyOverlaps() != 0 {
		t.Errorf("made %d, overlapping requests %d", made(), p.KeyOverlaps())
	}
}

func TestV3ErrorsMatchTheSentinels(t *testing.T) {
	p := b24test.NewPortal(t)
	c, _ := newClient(t, p)
	for code, want := range map[string]error{
		"BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION":               b24.ErrNotFound,
		"BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION":                 b24.ErrAccessDenied,
		"BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION":            b24.ErrInsufficientScope,
		"BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION": b24.ErrValidation,
		"BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION":        b24.ErrArgument,
	} {
		p.Fail("tasks.task.get", b24test.APIFailure(400, code, "x"))
		err := b24.Invoke(context.Background(), c, b24.Request{Method: "tasks.task.get", Version: 3, Idempotent: true}, nil)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v does not match %v", code, err, want)
		}
	}
	// Validation errors keep their field.
	p2, _ := taskPortal(t)
	c2, _ := newClient(t, p2)
	_, err := addTask(context.Background(), c2, "")
	var ae *b24.APIError
	if !errors.As(err, &ae) || !errors.Is(err, b24.ErrValidation) {
		t.Fatalf("validation: %v", err)
	}
	if v, ok := ae.FieldError("fields.title"); !ok || !strings.Contains(v.Message, "title") {
		t.Errorf("field error: %+v %v (%v)", v, ok, err)
	}
}

type taskRow struct {
	ID    b24.Int    `json:"id"`
	Title b24.String `json:"title"`
}

func taskRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		// ids with gaps, served out of insertion order
		rows[i] = map[string]any{"id": 3*(n-i) + 7, "title": fmt.Sprintf("task %d", n-i), "status": []string{"pending", "completed"}[i%2]}
	}
	return rows
}

// A 2,501-row REST 3.0 list read exactly, by pages and by export.
func TestV3List2501RowsByPagesAndByExport(t *testing.T) {
	for _, cap := range []int{1000, 300} { // 300: a portal that serves fewer rows than asked
		t.Run(fmt.Sprint("cap ", cap), func(t *testing.T) {
			p := b24test.NewPortal(t)
			p.ServeListV3("tasks.task.list", taskRows(2501), b24test.ListOptionsV3{MaxLimit: cap})
			c, _ := newClient(t, p)
			ctx := context.Background()
			for name, seq := range map[string]func(yield func(taskRow, error) bool){
				"List": b24.List[taskRow](ctx, c, b24.Request{Method: "tasks.task.list", Version: 3,
					Params: map[string]any{"select": []string{"id", "title"}, "pagination": map[string]any{"limit": 1000}}}, b24.ListSpec{ItemsKey: "items", IDField: "id"}),
				"Export": b24.Export[taskRow](ctx, c, b24.Request{Method: "tasks.task.list", Version: 3,
					Params: map[string]any{"select": []string{"id", "title"}}}, b24.ListSpec{ItemsKey: "items", IDField: "id"}),
			} {
				before := p.Requests("tasks.task.list")
				seen := map[b24.Int]bool{}
				prev := b24.Int(0)
				for row, err := range seq {
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if seen[row.ID] || row.ID <= prev || row.Title == "" {
						t.Fatalf("%s: row %+v after %d", name, row, prev)
					}
					seen[row.ID], prev = true, row.ID
				}
				reqs := p.Requests("tasks.task.list") - before
				if len(seen) != 2501 {
					t.Errorf("%s: %d rows", name, len(seen))
				}
				t.Logf("%s (portal cap %d): 2,501 rows in %d requests", name, cap, reqs)
			}
			for _, call := range p.Calls() {
				pg, _ := call.Params["pagination"].(map[string]any)
				if n, _ := b24test.Int(pg, "limit"); n > 1000 {
					t.Errorf("asked limit %d", n)
				}
			}
		})
	}
}

// With the largest page documented (ListSpec.PageSize), a short page is the
// last one: a small list costs one request.
func TestV3ShortListOneRequest(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeListV3("tasks.task.list", taskRows(37), b24test.ListOptionsV3{})
	c, _ := newClient(t, p)
	ls := b24.ListSpec{ItemsKey: "items", IDField: "id", PageSize: 1000}
	for name, seq := range map[string]func(yield func(taskRow, error) bool){
		"List":   b24.List[taskRow](context.Background(), c, b24.Request{Method: "tasks.task.list", Version: 3}, ls),
		"Export": b24.Export[taskRow](context.Background(), c, b24.Request{Method: "tasks.task.list", Version: 3}, ls),
	} {
		before, n := p.Requests("tasks.task.list"), 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if reqs := p.Requests("tasks.task.list") - before; n != 37 || reqs != 1 {
			t.Errorf("%s: %d rows in %d requests", name, n, reqs)
		}
	}
}

// Export keeps the caller's conditions and starts after an id bound in them.
func TestV3ExportKeepsTheFilter(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeListV3("tasks.task.list", taskRows(2501), b24test.ListOptionsV3{})
	c, _ := newClient(t, p)
	id := b24.OrderedField[int64]("id")
	status := b24.Field[string]("status")
	n := 0
	for row, err := range b24.Export[taskRow](context.Background(), c, b24.Request{Method: "tasks.task.list", Version: 3,
		Params: map[string]any{"filter": b24.FilterV3{id.Gt(5000), status.Eq("pending")}}}, b24.ListSpec{IDField: "id"}) {
		if err != nil {
			t.Fatal(err)
		}
		if row.ID <= 5000 {
			t.Fatalf("row %d", row.ID)
		}
		n++
	}
	// ids 3k+7 for k=1..2501: above 5000 from k=1665 (833 rows of 2501-1664=837, of which every other is pending)
	want := 0
	for _, r := range taskRows(2501) {
		if r["id"].(int) > 5000 && r["status"] == "pending" {
			want++
		}
	}
	if n != want {
		t.Errorf("%d rows, want %d", n, want)
	}
}

// A method that ignores pagination or order stops with an error instead of
// looping.
func TestV3ListGuards(t *testing.T) {
	p := b24test.NewPortal(t)
	page := make([]map[string]any, 50)
	for i := range page {
		page[i] = map[string]any{"id": i + 1}
	}
	p.Answer("stuck.list", map[string]any{"items": page})
	c, _ := newClient(t, p)
	for name, seq := range map[string]func(yield func(taskRow, error) bool){
		"List":   b24.List[taskRow](context.Background(), c, b24.Request{Method: "stuck.list", Version: 3}, b24.ListSpec{}),
		"Export": b24.Export[taskRow](context.Background(), c, b24.Request{Method: "stuck.list", Version: 3}, b24.ListSpec{}),
	} {
		var last error
		rows := 0
		for _, err := range seq {
			if err != nil {
				last = err
			} else {
				rows++
			}
		}
		if last == nil || rows != 50 {
			t.Errorf("%s: %d rows, err %v", name, rows, last)
		}
	}
	if n := p.Requests("stuck.list"); n > 4 {
		t.Errorf("%d requests", n)
	}
}

func TestV3FilterEncoding(t *testing.T) {
	id := b24.OrderedField[int64]("id")
	status := b24.Field[string]("status")
	deadline := b24.OrderedField[time.Time]("deadline")
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := b24.FilterV3{
		status.Eq("NEW"),
		b24.Or(id.In(1, 2), id.Between(3, 5)),
		deadline.Lt(day),
		b24.Where("ufCrm", b24.OpNe, "x"),
	}
	// encoding/json writes < and > as \u003c and \u003e: the same JSON.
	unescape := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got := unescape(string(raw))
	want := `[["status","=","NEW"],{"logic":"or","conditions":[["id","in",[1,2]],["id","between",[3,5]]]},["deadline","<","2025-01-01T00:00:00Z"],["ufCrm","!=","x"]]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var back b24.FilterV3
	if err := json.Unmarshal([]byte(`[["id",[1,2]],["status","NEW"],["id",">=",17],{"logic":"or","conditions":[["id","=",1]]}]`), &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if unescape(string(again)) != `[["id","in",[1,2]],["status","=","NEW"],["id",">=",17],{"logic":"or","conditions":[["id","=",1]]}]` {
		t.Errorf("round trip: %s", again)
	}
	if err := json.Unmarshal([]byte(`[["id","like",1]]`), &back); err == nil {
		t.Error("unknown operator accepted")
	}
	for _, bad := range []b24.Cond{{}, b24.Or(), b24.Where("", b24.OpEq, 1), b24.Where("x", b24.Operator{}, 1)} {
		if _, err := json.Marshal(b24.FilterV3{bad}); err == nil {
			t.Errorf("%v encoded", bad)
		}
	}
	sel := b24.Select(id, status, b24.Relation("responsible").Dot(b24.FieldPath("name")))
	if strings.Join(sel, ",") != "id,status,responsible.name" {
		t.Errorf("select %v", sel)
	}
	o, _ := json.Marshal(b24.Order{deadline.Desc(), id.Asc()})
	if string(o) != `{"deadline":"DESC","id":"ASC"}` {
		t.Errorf("order %s", o)
	}
}

// REST 3.0 batch: a JSON array at the root, later commands taking earlier
// results by reference, a whole list included; more than 50 commands are
// chunked and references across chunks resolved by the client.
func TestV3BatchWithReferences(t *testing.T) {
	p, _ := taskPortal(t)
	p.Handle("tasks.task.get", func(params map[string]any) (any, error) {
		id, ok := b24test.Int(params, "id")
		if !ok {
			return nil, b24test.Errorf(400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", "id %v", params["id"])
		}
		return map[string]any{"item": map[string]any{"id": id, "title": fmt.Sprint("task ", id)}}, nil
	})
	p.Handle("tasks.task.access.get", func(params map[string]any) (any, error) {
		ids, ok := params["ids"].([]any)
		if !ok {
			return nil, b24test.Errorf(400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", "ids is not a list: %v", params["ids"])
		}
		return map[string]any{"count": len(ids)}, nil
	})
	p.ServeListV3("tasks.task.list", taskRows(20), b24test.ListOptionsV3{})
	c, _ := newClient(t, p)
	b := b24.NewBatchV3()
	add := b24.AddV3(b, b24.NewCommandV3[addResult](b24.Request{Method: "tasks.task.add", Version: 3,
		Params: map[string]any{"fields": map[string]any{"title": "parent"}}}))
	get := b24.AddV3(b, b24.NewCommandV3[addResult](b24.Request{Method: "tasks.task.get", Version: 3, Idempotent: true,
		Params: map[string]any{"id": 0}}), b24.WithRefV3("id", add.Ref("item.id")))
	var gets []*b24.HandleV3[addResult]
	for range 60 { // past one chunk: the last ones refer across it
		gets = append(gets, b24.AddV3(b, b24.NewCommandV3[addResult](b24.Request{Method: "tasks.task.get", Version: 3, Idempotent: true,
			Params: map[string]any{"select": []string{"id"}}}), b24.WithRefV3("id", get.Ref("item.id"))))
	}
	list := b24.AddV3(b, b24.NewCommandV3[json.RawMessage](b24.Request{Method: "tasks.task.list", Version: 3, Idempotent: true,
		Params: map[string]any{"pagination": map[string]any{"limit": 7}}}))
	whole := b24.AddV3(b, b24.NewCommandV3[struct{ Count int }](b24.Request{Method: "tasks.task.access.get", Version: 3, Idempotent: true,
		Params: map[string]any{}}), b24.WithRefV3("ids", list.Ref("items")))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a, err := add.Result()
	if err != nil || a.Item.ID != 101 {
		t.Fatalf("add: %+v %v", a, err)
	}
	for i, h := range append([]*b24.HandleV3[addResult]{get}, gets...) {
		r, err := h.Result()
		if err != nil || r.Item.ID != 101 {
			t.Errorf("get %d: %+v %v", i, r, err)
		}
	}
	if w, err := whole.Result(); err != nil || w.Count != 7 {
		t.Errorf("a whole list by reference: %+v %v", w, err)
	}
	if n := p.Requests("batch"); n != 2 {
		t.Errorf("%d batch requests", n)
	}
}

// Mixing batch versions is refused when the command is added, before
// anything is sent; generated code cannot even compile it (a CommandV3 is not
// a Command).
func TestBatchVersionsDoNotMix(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p)
	b := b24.NewBatch()
	h := b24.Add(b, "t", b24.NewCommand[int](b24.Request{Method: "tasks.task.list", Version: 3}))
	if b.Err() == nil {
		t.Error("b24.Add took a REST 3.0 command")
	}
	if _, err := h.Result(); err == nil || !strings.Contains(err.Error(), "REST 3.0") || errors.Is(err, b24.ErrNotRun) {
		t.Errorf("handle before Run: %v", err)
	}
	if err := b.Run(context.Background(), c); err == nil {
		t.Error("Run sent a mixed batch")
	}
	b3 := b24.NewBatchV3()
	b24.AddV3(b3, b24.NewCommandV3[int](b24.Request{Method: "user.current"}))
	if b3.Err() == nil {
		t.Error("AddV3 took a REST 2 command")
	}
	if err := b3.Run(context.Background(), c); err == nil {
		t.Error("Run sent a mixed REST 3.0 batch")
	}
	if n := p.Requests("batch"); n != 0 {
		t.Errorf("%d batch requests sent", n)
	}
}
