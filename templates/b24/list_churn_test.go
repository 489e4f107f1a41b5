package b24_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// churnList is a REST 2 list kept in id order that honours start (offset
// or -1), order by ID and the >, >=, <, <= ID filters, and deletes its
// lowest row and adds a new one every `every` commands: the total holds,
// offsets shift.
type churnList struct {
	mu      sync.Mutex
	ids     []int64 // ascending
	next    int64
	every   int
	calls   int
	deleted map[int64]bool
}

func newChurnList(n, every int) *churnList {
	l := &churnList{every: every, deleted: map[int64]bool{}}
	for i := range n {
		l.ids = append(l.ids, int64(3*i+5))
	}
	l.next = l.ids[n-1] + 1
	return l
}

func (l *churnList) serve(params map[string]any) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.every > 0 && l.calls%l.every == 0 && len(l.ids) > 0 {
		l.deleted[l.ids[0]] = true
		l.ids = append(l.ids[1:], l.next)
		l.next++
	}
	filter, _ := params["filter"].(map[string]any)
	bound := func(k string) (int64, bool) {
		v, ok := filter[k]
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(b24test.Str(map[string]any{"v": v}, "v"), 10, 64)
		return n, err == nil
	}
	// The ids the filter selects are a range of the sorted ids, found by
	// binary search and never copied: the fake's own cost per command is
	// its page, so BenchmarkRowsAllocation measures the client.
	lo, hi := 0, len(l.ids)
	if n, ok := bound(">ID"); ok {
		lo = max(lo, sort.Search(len(l.ids), func(i int) bool { return l.ids[i] > n }))
	}
	if n, ok := bound(">=ID"); ok {
		lo = max(lo, sort.Search(len(l.ids), func(i int) bool { return l.ids[i] >= n }))
	}
	if n, ok := bound("<ID"); ok {
		hi = min(hi, sort.Search(len(l.ids), func(i int) bool { return l.ids[i] >= n }))
	}
	if n, ok := bound("<=ID"); ok {
		hi = min(hi, sort.Search(len(l.ids), func(i int) bool { return l.ids[i] > n }))
	}
	hi = max(hi, lo)
	desc := false
	if order, _ := params["order"].(map[string]any); order["ID"] == "DESC" {
		desc = true
	}
	// at is the i-th selected id in the requested order.
	at := func(i int) int64 {
		if desc {
			return l.ids[hi-1-i]
		}
		return l.ids[lo+i]
	}
	count := hi - lo
	start, _ := strconv.Atoi(b24test.Str(params, "start"))
	from := max(start, 0)
	page := []map[string]any{}
	idOnly := false // select [ID], as the check by id asks
	if sel, _ := params["select"].([]any); len(sel) == 1 && sel[0] == "ID" {
		idOnly = true
	}
	for i := from; i < min(from+50, count); i++ {
		r := map[string]any{"ID": strconv.FormatInt(at(i), 10)}
		if !idOnly {
			r["TITLE"] = "t"
		}
		page = append(page, r)
	}
	if start < 0 {
		return b24test.Result{Value: page}, nil
	}
	res := b24test.Result{Total: count, Value: page}
	if start+50 < count {
		res.Next, res.HasNext = start+50, true
	}
	return res, nil
}

// TestListsLoseNoRowUnderChurn: a row deleted and another added between
// pages, or every 20 commands inside batches. Every row present for the
// whole walk comes exactly once, from List (which walks by id for a method
// that filters by id) and from Export, or the walk ends with an error.
func TestListsLoseNoRowUnderChurn(t *testing.T) {
	walks := map[string]func(context.Context, b24.Caller, b24.Request, b24.ListSpec, ...b24.CallOption) func(func(row, error) bool){
		"All": func(ctx context.Context, c b24.Caller, r b24.Request, ls b24.ListSpec, o ...b24.CallOption) func(func(row, error) bool) {
			return b24.List[row](ctx, c, r, ls, o...)
		},
		"Export": func(ctx context.Context, c b24.Caller, r b24.Request, ls b24.ListSpec, o ...b24.CallOption) func(func(row, error) bool) {
			return b24.Export[row](ctx, c, r, ls, o...)
		},
	}
	for _, sched := range []struct {
		name  string
		every int
	}{{"delete+add between pages", 2}, {"delete+add every 20 commands", 20}} {
		for name, walk := range walks {
			t.Run(sched.name+"/"+name, func(t *testing.T) {
				p := b24test.NewPortal(t)
				l := newChurnList(10000, sched.every)
				before := append([]int64(nil), l.ids...)
				p.Handle("crm.deal.list", l.serve)
				c, _ := newClient(t, p)
				seen := map[int64]int{}
				var failed error
				for r, err := range walk(context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{ByID: true}) {
					if err != nil {
						failed = err
						break
					}
					seen[int64(r.ID)]++
				}
				lost, dups := 0, 0
				for _, id := range before {
					if !l.deleted[id] && seen[id] == 0 {
						lost++
					}
				}
				for _, n := range seen {
					dups += n - 1
				}
				if len(l.deleted) == 0 {
					t.Fatal("the list never changed during the walk")
				}
				if dups > 0 || failed == nil && lost > 0 {
					t.Fatalf("%d rows lost, %d duplicated, error %v (%d deleted during the walk)", lost, dups, failed, len(l.deleted))
				}
				t.Logf("rows lost without an error: 0; deleted during the walk %d; error: %v", len(l.deleted), failed)
			})
		}
	}
}

// BenchmarkRowsAllocation reports the bytes allocated per row (client and
// the in-process fake together; the fake's own cost per command is its
// page) by every path of List and by Export over 10,000 deals: List walked
// by id, List in another order (offset pages checked by id at the end),
// List paged by offset unchecked (no ByID), and Export. The target is List
// ≤ 2× Export on every path.
func BenchmarkRowsAllocation(b *testing.B) {
	byTitle := map[string]any{"order": map[string]string{"TITLE": "ASC"}}
	for _, tc := range []struct {
		name   string
		ls     b24.ListSpec
		params map[string]any
		list   bool
	}{
		{"All-by-id", b24.ListSpec{ByID: true}, nil, true},
		{"All-by-offset-checked", b24.ListSpec{ByID: true}, byTitle, true},
		{"All-by-offset", b24.ListSpec{}, nil, true},
		{"Export", b24.ListSpec{}, nil, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := b24test.NewPortal(b)
			l := newChurnList(10000, 0)
			p.Handle("crm.deal.list", l.serve)
			c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit())
			if err != nil {
				b.Fatal(err)
			}
			req := b24.Request{Method: "crm.deal.list", Params: tc.params}
			reportAllocPerRow[row](b, c, req, tc.ls, tc.list, 10000)
		})
	}
}

// TestListByIDOnAPortalIgnoringOrderIsLoud: List walked by id meets a
// portal that shuffles every page: it stops with an error, never a
// duplicate, never a silent loss.
func TestListByIDOnAPortalIgnoringOrderIsLoud(t *testing.T) {
	p := b24test.NewPortal(t)
	rows := makeRows(10000)
	var mu sync.Mutex
	calls := 0
	p.Handle("crm.deal.list", func(params map[string]any) (any, error) {
		mu.Lock()
		calls++
		r := rand.New(rand.NewPCG(uint64(calls), 7))
		mu.Unlock()
		shuffled := slices.Clone(rows)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		return b24test.Result{Total: len(rows), Value: shuffled[:50], Next: 50, HasNext: true}, nil
	})
	c, _ := newClient(t, p)
	seen := map[int64]bool{}
	var failed error
	for r, err := range b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{ByID: true}) {
		if err != nil {
			failed = err
			break
		}
		if seen[int64(r.ID)] {
			t.Fatalf("id %d yielded twice", r.ID)
		}
		seen[int64(r.ID)] = true
	}
	if failed == nil {
		t.Fatalf("%d of %d rows and no error", len(seen), len(rows))
	}
	if !strings.Contains(failed.Error(), "ignores order") {
		t.Errorf("the error does not name the cause: %v", failed)
	}
}

// TestListInAnotherOrderIsCheckedByID: List ordered by a field other than
// the id pages by offset, and a delete and an add above the page being read
// shift a row past it while the total holds. The walk is checked by id at
// its end, so every row present for the whole walk comes once or the walk
// ends with an error that names the missed rows.
func TestListInAnotherOrderIsCheckedByID(t *testing.T) {
	for _, sched := range []struct {
		name  string
		every int
	}{{"delete+add between pages", 2}, {"delete+add every 20 commands", 20}, {"no churn", 0}} {
		t.Run(sched.name, func(t *testing.T) {
			p := b24test.NewPortal(t)
			l := newChurnList(5000, sched.every)
			before := append([]int64(nil), l.ids...)
			p.Handle("crm.deal.list", l.serve)
			c, _ := newClient(t, p)
			// All titles are equal, so the id order the list serves is a
			// TITLE order too.
			req := b24.Request{Method: "crm.deal.list", Params: map[string]any{"order": map[string]string{"TITLE": "ASC"}}}
			seen := map[int64]int{}
			var failed error
			for r, err := range b24.List[row](context.Background(), c, req, b24.ListSpec{ByID: true}) {
				if err != nil {
					failed = err
					break
				}
				seen[int64(r.ID)]++
			}
			lost := 0
			for _, id := range before {
				if !l.deleted[id] && seen[id] == 0 {
					lost++
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Fatalf("id %d yielded %d times", id, n)
				}
			}
			if failed == nil && lost > 0 {
				t.Fatalf("%d rows lost without an error (%d deleted during the walk)", lost, len(l.deleted))
			}
			if sched.every == 0 && (failed != nil || lost > 0) {
				t.Fatalf("a quiet list: %d lost, error %v", lost, failed)
			}
			if failed != nil && !strings.Contains(failed.Error(), "not served") {
				t.Fatalf("the error does not say rows were missed: %v", failed)
			}
			t.Logf("lost %d, deleted during the walk %d, error: %v", lost, len(l.deleted), failed)
		})
	}
}

// reportAllocPerRow walks req with List (list) or Export once per benchmark
// iteration and reports the bytes allocated per row; a walk that errs or
// yields other than rows rows fails the benchmark.
func reportAllocPerRow[T any](b *testing.B, c *b24.Client, req b24.Request, ls b24.ListSpec, list bool, rows int) {
	b.Helper()
	var ms0, ms1 runtime.MemStats
	var total uint64
	n := 0
	for b.Loop() {
		runtime.ReadMemStats(&ms0)
		seq := b24.Export[T](context.Background(), c, req, ls)
		if list {
			seq = b24.List[T](context.Background(), c, req, ls)
		}
		got := 0
		for _, err := range seq {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		runtime.ReadMemStats(&ms1)
		if got != rows {
			b.Fatalf("%d rows", got)
		}
		total += ms1.TotalAlloc - ms0.TotalAlloc
		n += got
	}
	b.ReportMetric(float64(total)/float64(n), "B/row")
}
