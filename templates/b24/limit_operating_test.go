package b24_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// TestOperatingTimePacedBeforeTheLimit: an answer reporting that the
// method's operating time is at the budget holds the method until its
// operating_reset_at, before the portal would answer 429 (or ban it); a
// method with room left goes at once, and WithOperatingLimit(0) turns the
// pacing off.
func TestOperatingTimePacedBeforeTheLimit(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", map[string]string{"ID": "1"})
	p.Answer("user.current", map[string]string{"ID": "1"})
	var (
		mu     sync.Mutex
		starts = map[string][]time.Time{}
	)
	hook := b24.WithAttemptHook(func(a b24.Attempt) {
		mu.Lock()
		starts[a.Method] = append(starts[a.Method], a.Start)
		mu.Unlock()
	})
	c, _ := newClient(t, p, hook)
	ctx := context.Background()
	reset := time.Now().Add(300 * time.Millisecond)
	p.SetOperating("crm.deal.get", 479.5, reset) // the cloud's budget is 480 s
	p.SetOperating("user.current", 100, reset)
	for range 2 {
		if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.CallMethod(ctx, "crm.deal.get", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if s := starts["crm.deal.get"]; len(s) != 2 || s[1].Before(reset) {
		t.Errorf("crm.deal.get at 479.5 s of 480 was sent again at %v, before its reset at %v", s, reset)
	}
	if s := starts["user.current"]; len(s) != 2 || !s[1].Before(reset) {
		t.Errorf("user.current, with room left, waited: %v (reset %v)", s, reset)
	}
	mu.Unlock()

	off, _ := newClient(t, p, b24.WithOperatingLimit(0))
	reset = time.Now().Add(time.Hour)
	p.SetOperating("crm.deal.get", 479.5, reset)
	for range 2 {
		if err := off.CallMethod(ctx, "crm.deal.get", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if p.Requests("crm.deal.get") != 4 {
		t.Errorf("without pacing: %d requests, want 4", p.Requests("crm.deal.get")-2)
	}
}

// TestBatchCommandRefusedByOperatingTimeRunsAgain: a command the portal
// refuses inside a batch with OPERATION_TIME_LIMIT did not run; the batch
// waits for the method's budget and sends it again, with the read after it
// that referenced its result (it ran on the reference's text), instead of
// reporting an error. A write that ran on such a reference is not run a
// second time, and says so.
func TestBatchCommandRefusedByOperatingTimeRunsAgain(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", map[string]string{"ID": "7"})
	p.Answer("user.current", map[string]string{"ID": "1"})
	p.Answer("crm.deal.update", true)
	c, _ := newClient(t, p)
	p.Fail("crm.deal.get", b24test.OperationLimit(time.Now().Add(100*time.Millisecond)))

	b := b24.NewBatch()
	u := b24.Add(b, "u", b24.NewCommand[map[string]string](b24.Request{Method: "user.current", Idempotent: true}))
	d := b24.Add(b, "d", b24.NewCommand[map[string]string](b24.Request{Method: "crm.deal.get", Params: map[string]int{"id": 7}, Idempotent: true}))
	r := b24.Add(b, "r", b24.NewCommand[map[string]string](b24.Request{Method: "crm.deal.get", Idempotent: true}), b24.WithRef("id", d.Ref("ID")))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatalf("a refused command made the batch fail: %v", err)
	}
	for name, h := range map[string]*b24.Handle[map[string]string]{"u": u, "d": d, "r": r} {
		if v, err := h.Result(); err != nil || v["ID"] == "" {
			t.Errorf("%s: %v, %v", name, v, err)
		}
	}
	if n := p.Requests("batch"); n != 2 {
		t.Errorf("%d batch requests, want 2 (the refused command and its dependant again)", n)
	}

	p.Fail("crm.deal.get", b24test.OperationLimit(time.Now().Add(100*time.Millisecond)))
	b = b24.NewBatch()
	d = b24.Add(b, "d", b24.NewCommand[map[string]string](b24.Request{Method: "crm.deal.get", Params: map[string]int{"id": 7}, Idempotent: true}))
	w := b24.Add(b, "w", b24.NewCommand[bool](b24.Request{Method: "crm.deal.update"}), b24.WithRef("id", d.Ref("ID")))
	err := b.Run(context.Background(), c)
	var be *b24.BatchError
	if !errors.As(err, &be) || len(be.Keys) != 1 || be.Keys[0] != "w" {
		t.Fatalf("err = %v, want the write reported", err)
	}
	if _, err := d.Result(); err != nil {
		t.Errorf("the refused read was not run again: %v", err)
	}
	if _, err := w.Result(); err == nil {
		t.Error("the write that ran on an unresolved reference reports no error")
	}
}

// TestWalkOnOperatingLimitedFakeFinishesExact: on a fake portal that
// enforces operating time (WithOperatingLimit: 75 ms of crm.deal.list in a
// 0.5 s window, 1 ms a command), an Export and a List by id of rows needing
// three budgets and more finish exact and without an error, with and
// without a ban for a method that goes over; the 429s met are logged.
func TestWalkOnOperatingLimitedFakeFinishesExact(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of operating-time windows")
	}
	const (
		limit  = 75 * time.Millisecond
		window = 500 * time.Millisecond
		rows   = 12_500 // 250 pages of 50, at least 1 ms each: 3.3 budgets
	)
	for _, ban := range []time.Duration{0, 500 * time.Millisecond} {
		for _, walk := range []string{"Export", "All"} {
			p := b24test.NewPortal(t, b24test.WithServerCost(time.Millisecond), b24test.WithOperatingLimit(limit, window, ban))
			p.ServeList("crm.deal.list", makeRows(rows), b24test.ListOptions{})
			c, _ := newClient(t, p, b24.WithOperatingLimit(limit))
			req := b24.Request{Method: "crm.deal.list"}
			ls := b24.ListSpec{ByID: true}
			seq := b24.Export[row](context.Background(), c, req, ls)
			if walk == "All" {
				seq = b24.List[row](context.Background(), c, req, ls)
			}
			start := time.Now()
			seen := map[int64]bool{}
			for r, err := range seq {
				if err != nil {
					t.Fatalf("%s, ban %v: after %d rows: %v", walk, ban, len(seen), err)
				}
				if seen[int64(r.ID)] {
					t.Fatalf("%s, ban %v: row %d twice", walk, ban, r.ID)
				}
				seen[int64(r.ID)] = true
			}
			refused, bans := p.OperatingRefusals()
			t.Logf("%s, ban %v: %d rows in %v, %d × 429, %d bans", walk, ban, len(seen), time.Since(start).Round(time.Millisecond), refused, bans)
			if len(seen) != rows {
				t.Errorf("%s, ban %v: %d of %d rows", walk, ban, len(seen), rows)
			}
		}
	}
}

// TestFakeCountsTheBucketAcrossClients: several clients of one fake portal
// share its request bucket, as clients on one server share a portal's.
func TestFakeCountsTheBucketAcrossClients(t *testing.T) {
	p := b24test.NewPortal(t, b24test.WithRateLimit(6, 0.5))
	p.Answer("user.current", map[string]string{"ID": "1"})
	refused := 0
	for i := range 3 {
		c, _ := newClient(t, p, b24.WithMaxRetries(0)) // each alone stays under the burst
		for range 3 {
			if err := c.CallMethod(context.Background(), "user.current", nil, nil); errors.Is(err, b24.ErrQueryLimitExceeded) {
				refused++
			} else if err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
		}
	}
	if refused != 3 {
		t.Errorf("%d of 9 requests refused by a bucket of 6, want 3", refused)
	}
}

// TestFleetWalksShareOperatingTimeWithoutRefusal: two clients (two
// processes: they share no state, only the portal, which counts the
// method's operating time per webhook) walk one list at once. Each sees in
// its answers the sum both spent, not what the other has in flight; each
// estimates the other's spending from the rise of the sums and keeps room
// for it, so neither meets a 429 or the ban, and both walks finish exact.
func TestFleetWalksShareOperatingTimeWithoutRefusal(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of operating-time windows")
	}
	const (
		limit  = 300 * time.Millisecond // a batch of 50 pages is a sixth of it, as on the proof portal
		window = 2 * time.Second
		rows   = 25_000 // 500 pages of 50 each, at least 1 ms each: 2 × 1.7 budgets
	)
	p := b24test.NewPortal(t, b24test.WithServerCost(time.Millisecond), b24test.WithOperatingLimit(limit, window, 2*time.Second))
	p.ServeList("crm.deal.list", makeRows(rows), b24test.ListOptions{})
	var wg sync.WaitGroup
	got := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		c, _ := newClient(t, p, b24.WithOperatingLimit(limit))
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[int64]bool{}
			for r, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{ByID: true}) {
				if err != nil {
					errs[i] = err
					break
				}
				seen[int64(r.ID)] = true
			}
			got[i] = len(seen)
		}()
	}
	start := time.Now()
	wg.Wait()
	refused, bans := p.OperatingRefusals()
	t.Logf("2 clients: %v rows in %v, %d × 429, %d bans", got, time.Since(start).Round(time.Millisecond), refused, bans)
	for i := range 2 {
		if errs[i] != nil || got[i] != rows {
			t.Errorf("client %d: %d of %d rows, error %v", i, got[i], rows, errs[i])
		}
	}
	if refused != 0 || bans != 0 {
		t.Errorf("two clients walking one webhook's method met %d × 429 and %d bans, want none", refused, bans)
	}
}
