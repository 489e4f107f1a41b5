package b24_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

type user struct {
	ID           string `json:"ID"`
	UFDepartment []int  `json:"UF_DEPARTMENT"`
}

type department struct {
	ID   string `json:"ID"`
	NAME string `json:"NAME"`
}

// portalWithUsers answers user.current and department.get like the batch page's example.
func portalWithUsers(t *testing.T) *b24test.Portal {
	p := b24test.NewPortal(t)
	p.Answer("user.current", map[string]any{"ID": "1", "UF_DEPARTMENT": []int{7}})
	p.Handle("department.get", func(params map[string]any) (any, error) {
		id, ok := b24test.Int(params, "ID")
		if !ok {
			return nil, b24test.Errorf(400, "ERROR_ARGUMENT", "ID %q is not a number", b24test.Str(params, "ID"))
		}
		return []department{{ID: fmt.Sprint(id), NAME: fmt.Sprintf("Dept %d", id)}}, nil
	})
	p.Handle("crm.deal.add", func(params map[string]any) (any, error) {
		title := b24test.Str(b24test.Map(params, "fields"), "TITLE")
		if title == "" {
			return nil, b24test.Errorf(400, "ERROR_ARGUMENT", "TITLE is required")
		}
		return 100 + len(title), nil
	})
	return p
}

func TestBatchLinkedCalls(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p)
	b := b24.NewBatch()
	u := b24.Add(b, "get_user", b24.NewCommand[user](b24.Request{Method: "user.current"}))
	d := b24.Add(b, "get_department", b24.NewCommand[[]department](b24.Request{
		Method: "department.get", Params: map[string]any{"ID": u.Ref("UF_DEPARTMENT.0")},
	}))
	if u.Ref("UF_DEPARTMENT.0") != "$result[get_user][UF_DEPARTMENT][0]" {
		t.Errorf("Ref = %s", u.Ref("UF_DEPARTMENT.0"))
	}
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	gotU, err := u.Result()
	if err != nil || gotU.ID != "1" {
		t.Errorf("user = %+v, %v", gotU, err)
	}
	gotD, err := d.Result()
	if err != nil || len(gotD) != 1 || gotD[0].NAME != "Dept 7" {
		t.Errorf("department = %+v, %v", gotD, err)
	}
	if n := p.Requests("batch"); n != 1 {
		t.Errorf("batch requests = %d", n)
	}
	// The command string is PHP-encoded: the portal decoded ID from it.
	for _, call := range p.Calls() {
		if call.BatchKey == "get_department" && b24test.Str(call.Params, "ID") != "7" {
			t.Errorf("department.get params = %v", call.Params)
		}
	}
}

func TestBatchErrorsByKeyAndHalt(t *testing.T) {
	for _, halt := range []bool{false, true} {
		t.Run(fmt.Sprint("halt=", halt), func(t *testing.T) {
			p := portalWithUsers(t)
			c, _ := newClient(t, p)
			b := b24.NewBatch(b24.WithHalt(halt))
			ok1 := b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{"TITLE": "abc"}}}))
			bad := b24.Add(b, "b", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{}}}))
			after := b24.Add(b, "c", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{"TITLE": "x y&z=[1]"}}}))
			err := b.Run(context.Background(), c)
			var be *b24.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want *BatchError", err)
			}
			if len(be.Keys) != 1 || be.Keys[0] != "b" || !errors.Is(be.Failed["b"], b24.ErrArgument) {
				t.Errorf("failed = %v", be.Failed)
			}
			if !errors.Is(err, b24.ErrArgument) {
				t.Errorf("errors.Is through BatchError failed")
			}
			if v, err := ok1.Result(); err != nil || v != 103 {
				t.Errorf("a = %d, %v", v, err)
			}
			if _, err := bad.Result(); !errors.Is(err, b24.ErrArgument) || errors.Is(err, b24.ErrNotRun) {
				t.Errorf("b = %v", err)
			}
			v, err := after.Result()
			if halt {
				if !errors.Is(err, b24.ErrNotRun) || len(be.NotRun) != 1 {
					t.Errorf("with halt, c = %d, %v; not run %v", v, err, be.NotRun)
				}
				if p.Ran("crm.deal.add") != 2 {
					t.Errorf("with halt, crm.deal.add ran %d times, want 2 (a, then the failing b)", p.Ran("crm.deal.add"))
				}
			} else if err != nil || v != 109 {
				// "x y&z=[1]" survived the PHP encoding intact: 100+9.
				t.Errorf("without halt, c = %d, %v", v, err)
			}
		})
	}
}

func TestBatchChunksAndCrossChunkRefs(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p)
	b := b24.NewBatch()
	u := b24.Add(b, "get_user", b24.NewCommand[user](b24.Request{Method: "user.current"}))
	var adds []*b24.Handle[int]
	for i := range 120 {
		adds = append(adds, b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{"TITLE": strings.Repeat("x", i%7+1)}}})))
	}
	// Lands in the third chunk; refers to a command of the first.
	d := b24.Add(b, "dept", b24.NewCommand[[]department](b24.Request{Method: "department.get", Params: map[string]any{"ID": u.Ref("UF_DEPARTMENT.0"), "label": "dept " + u.Ref("ID")}}))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if n := p.Requests("batch"); n != 3 {
		t.Errorf("122 commands went in %d requests, want 3", n)
	}
	for i, h := range adds {
		if v, err := h.Result(); err != nil || v != 100+i%7+1 {
			t.Fatalf("add %d = %d, %v", i, v, err)
		}
	}
	if got, err := d.Result(); err != nil || got[0].ID != "7" {
		t.Errorf("cross-chunk reference: %+v, %v", got, err)
	}
	for _, call := range p.Calls() {
		if call.BatchKey == "dept" && b24test.Str(call.Params, "label") != "dept 1" {
			t.Errorf("embedded reference resolved to %q", b24test.Str(call.Params, "label"))
		}
	}
	if p.Ran("crm.deal.add") != 120 {
		t.Errorf("ran %d adds", p.Ran("crm.deal.add"))
	}
}

func TestBatchOfWritesIsNeverRetriedWhole(t *testing.T) {
	for _, f := range []b24test.Fault{b24test.ConnectionReset(), b24test.TruncatedBody(), b24test.HTMLPage(502)} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			p := portalWithUsers(t)
			c, _ := newClient(t, p)
			p.Fail("batch", f)
			b := b24.NewBatch()
			r := b24.Add(b, "read", b24.NewCommand[user](b24.Request{Method: "user.current", Idempotent: true}))
			w := b24.Add(b, "write", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{"TITLE": "t"}}}))
			err := b.Run(context.Background(), c)
			var be *b24.BatchError
			if !errors.As(err, &be) || be.Call == nil {
				t.Fatalf("err = %v", err)
			}
			assertErrClean(t, err)
			if n := p.Ran("crm.deal.add"); n != 1 {
				t.Errorf("write ran %d times", n)
			}
			// The outcome is unknown: not ErrNotRun.
			for _, e := range []error{func() error { _, e := r.Result(); return e }(), func() error { _, e := w.Result(); return e }()} {
				var te *b24.TransportError
				if !errors.As(e, &te) || errors.Is(e, b24.ErrNotRun) {
					t.Errorf("command error = %v, want the transport error", e)
				}
			}
		})
	}
}

func TestBatchOfReadsIsRetriedAndRefusedBatchDidNotRun(t *testing.T) {
	p := portalWithUsers(t)
	// The second batch ends when the caller gives up after the portal's
	// third refusal: cancelled between attempts, not by a deadline that
	// could cut an attempt in flight (which may have run).
	var giveUp context.CancelFunc
	c, _ := newClient(t, p, b24.WithAttemptHook(func(a b24.Attempt) {
		if giveUp != nil && a.Status == 503 && a.Retry >= 2 {
			giveUp()
		}
	}))
	p.Fail("batch", b24test.ConnectionReset())
	b := b24.NewBatch()
	r := b24.Add(b, "", b24.NewCommand[user](b24.Request{Method: "user.current", Idempotent: true}))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if u, err := r.Result(); err != nil || u.ID != "1" {
		t.Errorf("read = %+v, %v", u, err)
	}

	// A batch the portal refuses until the caller gives up ran nothing.
	p.Fail("batch", b24test.QueryLimitStorm(1_000_000))
	b = b24.NewBatch()
	w := b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "crm.deal.add"}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	giveUp = cancel
	err := b.Run(ctx, c)
	if !errors.Is(err, b24.ErrQueryLimitExceeded) {
		t.Fatalf("err = %v", err)
	}
	if _, err := w.Result(); !errors.Is(err, b24.ErrNotRun) || !errors.Is(err, b24.ErrQueryLimitExceeded) {
		t.Errorf("command of a refused batch: %v", err)
	}
}

func TestBatchRefusesBadInput(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p)
	for name, add := range map[string]func(*b24.Batch){
		"numeric key": func(b *b24.Batch) { b24.Add(b, "12", b24.NewCommand[int](b24.Request{Method: "x.y"})) },
		"bracket key": func(b *b24.Batch) { b24.Add(b, "a[b]", b24.NewCommand[int](b24.Request{Method: "x.y"})) },
		"duplicate key": func(b *b24.Batch) {
			b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "x.y"}))
			b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "x.y"}))
		},
		"nested batch": func(b *b24.Batch) { b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "batch"})) },
		"REST 3.0":     func(b *b24.Batch) { b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "x.y", Version: 3})) },
		"bad method":   func(b *b24.Batch) { b24.Add(b, "a", b24.NewCommand[int](b24.Request{Method: "x?y=1"})) },
	} {
		b := b24.NewBatch()
		add(b)
		if err := b.Run(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := p.Requests("batch"); n != 0 {
		t.Errorf("bad batches sent %d requests", n)
	}
	b := b24.NewBatch()
	h := b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: []int{1}}))
	err := b.Run(context.Background(), c)
	if _, herr := h.Result(); !errors.Is(herr, b24.ErrNotRun) || !strings.Contains(herr.Error(), "JSON object") || err == nil {
		t.Errorf("list params: %v / %v", err, herr)
	}
	if _, err := b24.Add(b24.NewBatch(), "", b24.NewCommand[int](b24.Request{Method: "x.y"})).Result(); !errors.Is(err, b24.ErrNotRun) {
		t.Errorf("Result before Run = %v", err)
	}
}

func TestBatchCommandFaultsAndDecodeErrors(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p, b24.WithStrictDecoding()) // strict: a result that does not fit is an error
	p.Fail("crm.deal.add", b24test.APIFailure(403, "ACCESS_DENIED", "Access denied"))
	b := b24.NewBatch()
	w := b24.Add(b, "w", b24.NewCommand[int](b24.Request{Method: "crm.deal.add", Params: map[string]any{"fields": map[string]string{"TITLE": "t"}}}))
	u := b24.Add(b, "u", b24.NewCommand[[]string](b24.Request{Method: "user.current"}))
	err := b.Run(context.Background(), c)
	if !errors.Is(err, b24.ErrAccessDenied) {
		t.Errorf("err = %v", err)
	}
	if _, err := w.Result(); !errors.Is(err, b24.ErrAccessDenied) {
		t.Errorf("w = %v", err)
	}
	_, err = u.Result()
	var de *b24.DecodeError
	if !errors.As(err, &de) || de.Key != "u" || !strings.Contains(err.Error(), "user.current") {
		t.Errorf("decode error = %v", err)
	}
	raw, err := u.Response()
	if err != nil || !json.Valid(raw.Result) || raw.Time == nil {
		t.Errorf("raw response = %+v, %v", raw, err)
	}
}

// A batch whose context ends while it waits for the rate limit was never
// sent: its commands did not run.
func TestBatchNotSentIsNotRun(t *testing.T) {
	p := portalWithUsers(t)
	c, _ := newClient(t, p, b24.WithRateLimit(1, 0.5))
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	b := b24.NewBatch()
	w := b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "crm.deal.add"}))
	err := b.Run(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if _, err := w.Result(); !errors.Is(err, b24.ErrNotRun) {
		t.Errorf("command = %v, want ErrNotRun", err)
	}
	if p.Requests("batch") != 0 {
		t.Error("the batch was sent")
	}
}
