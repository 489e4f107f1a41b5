package b24_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// collectIDs reads a whole sequence, failing the test on an error.
func collectIDs(t *testing.T, seq func(func(row, error) bool)) []int64 {
	t.Helper()
	var ids []int64
	for r, err := range seq {
		if err != nil {
			t.Fatalf("after %d rows: %v", len(ids), err)
		}
		ids = append(ids, int64(r.ID))
	}
	return ids
}

// wantExactly checks ids against want: same rows, same order, and says how
// many are duplicated or missing when they differ.
func wantExactly(t *testing.T, got, want []int64) {
	t.Helper()
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	dups, missing := 0, 0
	for _, n := range seen {
		dups += n - 1
	}
	for _, id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	if len(got) != len(want) || dups > 0 || missing > 0 {
		t.Fatalf("got %d rows (%d duplicated, %d missing), want %d", len(got), dups, missing, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d is id %d, want %d (order)", i, got[i], want[i])
		}
	}
}

func idsOf(rows []map[string]any) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i], _ = b24test.Int(r, "ID")
	}
	return out
}

// TestListBatchesPagesAfterTheFirst checks the batched start/next paging on
// the sizes around its edges: rows exact and in order, in 1 + ceil(pages-1
// / 50) requests.
func TestListBatchesPagesAfterTheFirst(t *testing.T) {
	for _, n := range []int{0, 1, 49, 50, 51, 2500, 2501} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			p := b24test.NewPortal(t)
			rows := makeRows(n)
			p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
			c, _ := newClient(t, p)
			got := collectIDs(t, b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}))
			wantExactly(t, got, idsOf(rows))
			pages := max((n+49)/50, 1)
			want := 1 + (pages-1+49)/50
			if r := p.Requests("crm.deal.list") + p.Requests("batch"); r != want {
				t.Errorf("%d requests, want %d", r, want)
			}
		})
	}
}

// TestListBatchedKeepsANonIDOrder: rows come in the order asked for, which
// is what List is for (Export reads by id).
func TestListBatchedKeepsANonIDOrder(t *testing.T) {
	p := b24test.NewPortal(t)
	rows := makeRows(333)
	p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
	c, _ := newClient(t, p)
	got := collectIDs(t, b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list", Params: map[string]any{"order": map[string]string{"ID": "DESC"}}}, b24.ListSpec{}))
	want := idsOf(rows)
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	wantExactly(t, got, want)
}

// changingList serves start/next pages of a list that a test changes between
// requests: change runs before the request numbered at (1-based), under the
// same lock as the pages.
type changingList struct {
	mu       sync.Mutex
	rows     []map[string]any
	requests int
	at       int
	change   func(rows []map[string]any) []map[string]any
}

func (l *changingList) serve(params map[string]any) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	if l.requests == l.at {
		l.rows = l.change(l.rows)
	}
	rows := l.rows
	filter, _ := params["filter"].(map[string]any)
	order, _ := params["order"].(map[string]any)
	if len(filter) > 0 || order["ID"] != nil {
		// The check by id: rows by id, within the filter's id bounds.
		rows = nil
		for _, r := range l.rows {
			id, _ := b24test.Int(r, "ID")
			if n, ok := b24test.Int(filter, ">ID"); ok && id <= n {
				continue
			}
			if n, ok := b24test.Int(filter, "<=ID"); ok && id > n {
				continue
			}
			rows = append(rows, r)
		}
		slices.SortFunc(rows, func(a, b map[string]any) int {
			x, _ := b24test.Int(a, "ID")
			y, _ := b24test.Int(b, "ID")
			if order["ID"] == "DESC" {
				x, y = y, x
			}
			return int(x - y)
		})
	}
	start, _ := strconv.Atoi(b24test.Str(params, "start"))
	if start < 0 {
		return b24test.Result{Value: rows[:min(50, len(rows))]}, nil
	}
	res := b24test.Result{Total: len(rows), Value: []map[string]any{}}
	if start < len(rows) {
		res.Value = rows[start:min(start+50, len(rows))]
	}
	if start+50 < len(rows) {
		res.Next, res.HasNext = start+50, true
	}
	return res, nil
}

// TestListSurvivesRowsAddedOrRemovedBetweenPages: offsets shift when rows
// are added or removed above the page being read. For a method that filters
// by id, in another order (the walk checked by id), the rows that were there
// all along are each yielded once, in order, and rows added are not
// duplicated, whether the change lands inside a batch or between requests.
// For a method that cannot be checked by id, the change in the total ends
// the walk with ErrListIncomplete, no row yielded twice: the offsets may
// have shifted a row past the pages, and nothing could tell.
func TestListSurvivesRowsAddedOrRemovedBetweenPages(t *testing.T) {
	// Rows added get new ids, higher than any before, as a portal gives.
	newRow := func(n int) map[string]any { return map[string]any{"ID": strconv.Itoa(1_000_000 + n), "TITLE": "new"} }
	cases := []struct {
		name   string
		at     int // handler call at which the list changes (1 is the first page)
		change func([]map[string]any) []map[string]any
	}{
		{"removed above, before the batch", 2, func(r []map[string]any) []map[string]any {
			return append(append([]map[string]any{}, r[:10]...), r[15:]...)
		}},
		{"added above, before the batch", 2, func(r []map[string]any) []map[string]any {
			return append([]map[string]any{newRow(1), newRow(2), newRow(3)}, r...)
		}},
		{"removed above, inside the batch", 30, func(r []map[string]any) []map[string]any {
			return append(append([]map[string]any{}, r[:100]...), r[170:]...)
		}},
		{"added above, inside the batch", 30, func(r []map[string]any) []map[string]any {
			return append(append(append([]map[string]any{}, r[:100]...), newRow(2), newRow(4)), r[100:]...)
		}},
		{"removed at the end", 40, func(r []map[string]any) []map[string]any {
			return r[:len(r)-7]
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/unchecked", func(t *testing.T) {
			p := b24test.NewPortal(t)
			l := &changingList{rows: makeRows(2600), at: tc.at, change: tc.change}
			p.Handle("crm.deal.list", l.serve)
			c, _ := newClient(t, p)
			seen := map[int64]bool{}
			var failed error
			for r, err := range b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}) {
				if err != nil {
					failed = err
					break
				}
				if seen[int64(r.ID)] {
					t.Fatalf("id %d yielded twice", r.ID)
				}
				seen[int64(r.ID)] = true
			}
			if !errors.Is(failed, b24.ErrListIncomplete) {
				t.Fatalf("%d rows, error %v; want ErrListIncomplete", len(seen), failed)
			}
			t.Logf("%d rows, then: %v", len(seen), failed)
		})
		t.Run(tc.name+"/checked by id", func(t *testing.T) {
			p := b24test.NewPortal(t)
			rows := makeRows(2600)
			l := &changingList{rows: rows, at: tc.at, change: tc.change}
			p.Handle("crm.deal.list", l.serve)
			c, _ := newClient(t, p)
			req := b24.Request{Method: "crm.deal.list", Params: map[string]any{"order": map[string]string{"TITLE": "ASC"}}}
			got := collectIDs(t, b24.List[row](context.Background(), c, req, b24.ListSpec{ByID: true}))
			if l.requests < tc.at {
				t.Fatalf("the list was read in %d calls: the change at call %d never happened", l.requests, tc.at)
			}
			// The rows there before and after the change must each come
			// once, in order; the others (removed or added) may come or not.
			after := map[int64]bool{}
			for _, id := range idsOf(l.rows) {
				after[id] = true
			}
			before := map[int64]bool{}
			var kept []int64
			for _, id := range idsOf(rows) {
				before[id] = true
				if after[id] {
					kept = append(kept, id)
				}
			}
			var gotKept []int64
			for _, id := range got {
				if !before[id] && !after[id] {
					t.Fatalf("id %d was never in the list", id)
				}
				if before[id] && after[id] {
					gotKept = append(gotKept, id)
				}
			}
			seen := map[int64]bool{}
			for _, id := range got {
				if seen[id] {
					t.Fatalf("id %d yielded twice", id)
				}
				seen[id] = true
			}
			wantExactly(t, gotKept, kept)
		})
	}
}

// TestListWithoutTotalPagesOneByOne: a method whose pages carry no total
// cannot be batched by offset; it is still read exactly.
func TestListWithoutTotalPagesOneByOne(t *testing.T) {
	p := b24test.NewPortal(t)
	rows := makeRows(130)
	p.Handle("nototal.list", func(params map[string]any) (any, error) {
		start, _ := strconv.Atoi(b24test.Str(params, "start"))
		res := b24test.Result{Value: rows[min(start, len(rows)):min(start+50, len(rows))]}
		if start+50 < len(rows) {
			res.Next, res.HasNext = start+50, true
		}
		return res, nil
	})
	c, _ := newClient(t, p)
	wantExactly(t, collectIDs(t, b24.List[row](context.Background(), c, b24.Request{Method: "nototal.list"}, b24.ListSpec{})), idsOf(rows))
	if n := p.Requests("nototal.list"); n != 3 {
		t.Errorf("%d requests, want 3 (one per page)", n)
	}
}

func exportOf(t *testing.T, p *b24test.Portal, c b24.Caller, params map[string]any, opts ...b24.CallOption) []int64 {
	t.Helper()
	return collectIDs(t, b24.Export[row](context.Background(), c, b24.Request{Method: "crm.deal.list", Params: params}, b24.ListSpec{}, opts...))
}

// TestExportIsExact reads lists of every edge size by id, in both orders and
// with one chain or several at once.
func TestExportIsExact(t *testing.T) {
	for _, n := range []int{0, 1, 50, 51, 2500, 2551, 12345} {
		for _, conc := range []int{1, 4} {
			for _, order := range []string{"ASC", "DESC"} {
				t.Run(fmt.Sprintf("%d/%d/%s", n, conc, order), func(t *testing.T) {
					p := b24test.NewPortal(t)
					rows := makeRows(n)
					p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
					c, _ := newClient(t, p)
					var params map[string]any
					want := idsOf(rows)
					if order == "DESC" {
						params = map[string]any{"order": map[string]string{"ID": "DESC"}}
						for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
							want[i], want[j] = want[j], want[i]
						}
					}
					wantExactly(t, exportOf(t, p, c, params, b24.WithExportConcurrency(conc)), want)
				})
			}
		}
	}
}

// TestExportBoundsAndSparseIDs: a starting bound and an end bound in the
// filter, and ids far apart (one row per 1,000 ids), still give every row
// once, without a request per empty stretch of ids.
func TestExportBoundsAndSparseIDs(t *testing.T) {
	rows := make([]map[string]any, 3000)
	for i := range rows {
		rows[i] = map[string]any{"ID": strconv.Itoa(1000*i + 7)}
	}
	p := b24test.NewPortal(t)
	p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
	c, _ := newClient(t, p)
	got := exportOf(t, p, c, map[string]any{"filter": map[string]any{">=ID": 5007, "<ID": 2_900_007}})
	var want []int64
	for _, id := range idsOf(rows) {
		if id >= 5007 && id < 2_900_007 {
			want = append(want, id)
		}
	}
	wantExactly(t, got, want)
	if r := p.Requests("batch"); r > 3 {
		t.Errorf("%d batch requests for %d rows, want at most 3", r, len(want))
	}
	desc := exportOf(t, p, c, map[string]any{"order": map[string]string{"ID": "desc"}, "filter": map[string]any{"<=ID": 100_007}})
	if len(desc) != 101 || desc[0] != 100_007 || desc[100] != 7 {
		t.Errorf("descending from <=100007: %d rows, %v … %v", len(desc), desc[:1], desc[len(desc)-1:])
	}
}

// TestExportIsExactUnderFaults: 503s from the rate limit and a connection
// reset in the middle of the export are retried, and the rows stay exact.
func TestExportIsExactUnderFaults(t *testing.T) {
	for name, fault := range map[string]b24test.Fault{
		"503s":             b24test.QueryLimitStorm(3),
		"connection reset": b24test.ConnectionReset(),
		"cut body":         b24test.CutBody(),
	} {
		t.Run(name, func(t *testing.T) {
			p := b24test.NewPortal(t)
			rows := makeRows(15000)
			commands := 0
			p.Handle("crm.deal.list", func(params map[string]any) (any, error) {
				// Mid-export (the probe and some chains are done), the next
				// batch requests fail.
				if commands++; commands == 120 {
					p.Fail("batch", fault)
				}
				return idPage(rows, params), nil
			})
			c, _ := newClient(t, p)
			wantExactly(t, exportOf(t, p, c, nil), idsOf(rows))
			faulted := 0
			for _, call := range p.Calls() {
				if call.Method == "batch" && call.Fault != 0 {
					faulted++
				}
			}
			if faulted == 0 {
				t.Fatal("the fault never fired")
			}
		})
	}
}

// TestExportRequestsFollowRowsNotIDs: the requests an export takes are
// bounded by its rows, 1 + ⌈rows/2,500⌉ + 4, whatever the ids look like:
// two clusters ten million ids apart, clusters at exponentially growing
// gaps, and one far outlier, in both orders and with one chain or four.
func TestExportRequestsFollowRowsNotIDs(t *testing.T) {
	ids := map[string][]int64{}
	for i := int64(1); i <= 60; i++ {
		ids["two clusters"] = append(ids["two clusters"], i, 10_000_000+i)
	}
	gap := int64(1)
	for c := 0; c < 40; c++ { // 40 clusters of 150 rows, gaps doubling
		gap *= 2
		for i := int64(0); i < 150; i++ {
			ids["growing gaps"] = append(ids["growing gaps"], gap*1000+i)
		}
	}
	for i := int64(1); i <= 7000; i++ {
		ids["one outlier"] = append(ids["one outlier"], i)
	}
	ids["one outlier"] = append(ids["one outlier"], 1<<50)
	for name, list := range ids {
		slices.Sort(list)
		rows := make([]map[string]any, len(list))
		for i, id := range list {
			rows[i] = map[string]any{"ID": strconv.FormatInt(id, 10)}
		}
		for _, conc := range []int{1, 4} {
			for _, order := range []string{"ASC", "DESC"} {
				t.Run(fmt.Sprintf("%s/%d/%s", name, conc, order), func(t *testing.T) {
					p := b24test.NewPortal(t)
					p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
					c, _ := newClient(t, p)
					want := idsOf(rows)
					if order == "DESC" {
						slices.Reverse(want)
					}
					got := exportOf(t, p, c, map[string]any{"order": map[string]string{"ID": order}}, b24.WithExportConcurrency(conc))
					wantExactly(t, got, want)
					limit := 1 + (len(rows)+2499)/2500 + 4
					if r := p.Requests("batch") + p.Requests("crm.deal.list"); r > limit {
						t.Errorf("%d requests for %d rows, want at most %d", r, len(rows), limit)
					}
				})
			}
		}
	}
}

// TestListOnAPortalIgnoringOrderIsLoud: a portal that serves every page
// of a fixed list in another order (it ignores order) makes offset pages
// overlap. A row served twice while the total holds means another was
// missed: List must stop with an error, never yield duplicates silently.
func TestListOnAPortalIgnoringOrderIsLoud(t *testing.T) {
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
		start, _ := strconv.Atoi(b24test.Str(params, "start"))
		res := b24test.Result{Total: len(rows), Value: shuffled[min(start, len(rows)):min(start+50, len(rows))]}
		if start+50 < len(rows) {
			res.Next, res.HasNext = start+50, true
		}
		return res, nil
	})
	c, _ := newClient(t, p)
	seen := map[int64]bool{}
	var failed error
	for r, err := range b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}) {
		if err != nil {
			failed = err
			break
		}
		if seen[int64(r.ID)] {
			t.Fatalf("id %d yielded twice without an error", r.ID)
		}
		seen[int64(r.ID)] = true
	}
	if failed == nil && len(seen) != len(rows) {
		t.Fatalf("%d of %d rows and no error", len(seen), len(rows))
	}
	if failed != nil && !strings.Contains(failed.Error(), "missed") {
		t.Errorf("the error does not say rows were missed: %v", failed)
	}
}
