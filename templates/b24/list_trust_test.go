package b24_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// trustList is a list of rows with an id and a sort key (SORT in REST 2,
// sort in REST 3.0) that changes under the walk, served the way REST 2 and
// REST 3.0 lists page, for the churn and move schedules of issue 17.
//
// REST 2 (serve): filter >ID, >=ID, <ID, <=ID; order by ID or SORT; start
// (an offset, or -1 for no total); select [ID]. REST 3.0 (serveV3): filter
// [id, op, n] conditions; order {id|sort: ASC|DESC}; pagination limit (at
// most 50 rows a page, so a walk has many pages) and offset; select [id].
//
// Every `every` commands the schedule changes the list:
//   - churn: the lowest id is deleted and a row with a new id added at the
//     end of both orders (the total holds, offsets shift);
//   - move: a row moves, its sort key changed while its id holds: in turn
//     the last row in sort order goes to the front (moved ahead of an
//     offset walk, it would never be read) and the first to the end (read
//     already, it would be read again and push a row past the cursor).
//
// ignoreOrder plays a portal that ignores order: it always serves in sort
// key order, whatever was asked.
type trustList struct {
	mu          sync.Mutex
	rows        []trustRow // in no particular order
	nextID      int64
	lowKey      int64 // the next key at the front
	highKey     int64 // the next key at the end
	every       int
	move        bool
	ignoreOrder bool
	calls       int
	moves       int
	pageCap     int // most rows a REST 3.0 page holds (50 when 0)
	deleted     map[int64]bool
}

type trustRow struct{ id, key int64 }

func newTrustList(n, every int, move, ignoreOrder bool) *trustList {
	l := &trustList{every: every, move: move, ignoreOrder: ignoreOrder, deleted: map[int64]bool{}}
	for i := range n {
		l.rows = append(l.rows, trustRow{id: int64(3*i + 5), key: int64(i)})
	}
	l.nextID, l.lowKey, l.highKey = int64(3*n+5), -1, int64(n)
	return l
}

// ids is the ids of the list as it is now.
func (l *trustList) ids() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, len(l.rows))
	for i, r := range l.rows {
		out[i] = r.id
	}
	return out
}

// tick counts a command and changes the list when the schedule says so.
func (l *trustList) tick() {
	l.calls++
	if l.every <= 0 || l.calls%l.every != 0 || len(l.rows) < 2 {
		return
	}
	if !l.move {
		lo := 0
		for i, r := range l.rows {
			if r.id < l.rows[lo].id {
				lo = i
			}
		}
		l.deleted[l.rows[lo].id] = true
		l.rows = slices.Delete(l.rows, lo, lo+1)
		l.rows = append(l.rows, trustRow{id: l.nextID, key: l.highKey})
		l.nextID++
		l.highKey++
		return
	}
	first, last := 0, 0
	for i, r := range l.rows {
		if r.key < l.rows[first].key {
			first = i
		}
		if r.key > l.rows[last].key {
			last = i
		}
	}
	if l.moves%2 == 0 {
		l.rows[last].key = l.lowKey
		l.lowKey--
	} else {
		l.rows[first].key = l.highKey
		l.highKey++
	}
	l.moves++
}

// view is the rows within (gt, ge, lt, le) ids, in the order asked.
func (l *trustList) view(bounds map[string]int64, byKey, desc bool) []trustRow {
	if !desc && !l.ignoreOrder && (!byKey || l.moves == 0) {
		// Rows stay in id order (churn adds at the top), and in key order
		// too while nothing moved: the range is found by binary search and
		// not copied, so a benchmark measures the client, not the fake.
		lo, hi := 0, len(l.rows)
		at := func(n int64, incl bool) int {
			i, _ := slices.BinarySearchFunc(l.rows, n, func(r trustRow, n int64) int {
				if r.id < n || !incl && r.id == n {
					return -1
				}
				return 1
			})
			return i
		}
		if n, ok := bounds[">"]; ok {
			lo = max(lo, at(n, false))
		}
		if n, ok := bounds[">="]; ok {
			lo = max(lo, at(n, true))
		}
		if n, ok := bounds["<"]; ok {
			hi = min(hi, at(n, true))
		}
		if n, ok := bounds["<="]; ok {
			hi = min(hi, at(n, false))
		}
		return l.rows[lo:max(lo, hi)]
	}
	var sel []trustRow
	for _, r := range l.rows {
		if n, ok := bounds[">"]; ok && r.id <= n {
			continue
		}
		if n, ok := bounds[">="]; ok && r.id < n {
			continue
		}
		if n, ok := bounds["<"]; ok && r.id >= n {
			continue
		}
		if n, ok := bounds["<="]; ok && r.id > n {
			continue
		}
		sel = append(sel, r)
	}
	if l.ignoreOrder {
		byKey, desc = true, false
	}
	slices.SortFunc(sel, func(a, b trustRow) int {
		x, y := a.id, b.id
		if byKey {
			x, y = a.key, b.key
		}
		if desc {
			x, y = y, x
		}
		return int(x - y)
	})
	return sel
}

func (l *trustList) serve(params map[string]any) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tick()
	bounds := map[string]int64{}
	filter, _ := params["filter"].(map[string]any)
	for _, op := range []string{">", ">=", "<", "<="} {
		if v, ok := filter[op+"ID"]; ok {
			n, ok := b24test.Int(map[string]any{"v": v}, "v")
			if !ok {
				return nil, b24test.Errorf(400, "INVALID_FILTER", "filter %sID is not a number", op)
			}
			bounds[op] = n
		}
	}
	order, _ := params["order"].(map[string]any)
	byKey := order["SORT"] != nil
	desc := order["ID"] == "DESC" || order["SORT"] == "DESC"
	sel := l.view(bounds, byKey, desc)
	idOnly := false
	if s, _ := params["select"].([]any); len(s) == 1 && s[0] == "ID" {
		idOnly = true
	}
	start, _ := strconv.Atoi(b24test.Str(params, "start"))
	from := max(start, 0)
	page := []map[string]any{}
	for _, r := range sel[min(from, len(sel)):min(from+50, len(sel))] {
		m := map[string]any{"ID": strconv.FormatInt(r.id, 10)}
		if !idOnly {
			m["TITLE"], m["SORT"] = "t", strconv.FormatInt(r.key, 10)
		}
		page = append(page, m)
	}
	if start < 0 {
		return b24test.Result{Value: page}, nil
	}
	res := b24test.Result{Total: len(sel), Value: page}
	if start+50 < len(sel) {
		res.Next, res.HasNext = start+50, true
	}
	return res, nil
}

func (l *trustList) serveV3(params map[string]any) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tick()
	bounds := map[string]int64{}
	conds, _ := params["filter"].([]any)
	for _, c := range conds {
		cond, _ := c.([]any)
		if len(cond) != 3 || cond[0] != "id" {
			return nil, b24test.Errorf(400, "VALIDATION_REQUESTVALIDATIONEXCEPTION", "unexpected condition %v", c)
		}
		op, _ := cond[1].(string)
		n, ok := b24test.Int(map[string]any{"v": cond[2]}, "v")
		if !ok {
			return nil, b24test.Errorf(400, "VALIDATION_REQUESTVALIDATIONEXCEPTION", "condition %v is not a number", c)
		}
		bounds[op] = n
	}
	order, _ := params["order"].(map[string]any)
	byKey := order["sort"] != nil
	desc := order["id"] == "DESC" || order["sort"] == "DESC"
	sel := l.view(bounds, byKey, desc)
	pg, _ := params["pagination"].(map[string]any)
	limit, ok := b24test.Int(pg, "limit")
	if !ok {
		limit = 50
	}
	limit = min(limit, int64(cmp.Or(l.pageCap, 50)))
	offset, _ := b24test.Int(pg, "offset")
	idOnly := false
	if s, _ := params["select"].([]any); len(s) == 1 && s[0] == "id" {
		idOnly = true
	}
	// The answer is written as JSON directly: the fake costs about its
	// page, so a benchmark measures the client.
	out := []byte(`{"items":[`)
	for i, r := range sel[min(int(offset), len(sel)):min(int(offset+limit), len(sel))] {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(append(out, `{"id":`...), r.id, 10)
		if !idOnly {
			out = strconv.AppendInt(append(out, `,"title":"t","sort":`...), r.key, 10)
		}
		out = append(out, '}')
	}
	return json.RawMessage(append(out, "]}"...)), nil
}

// walkOutcome is what a walk yielded under a schedule.
type walkOutcome struct {
	lost, dups, changes int
	err                 error
}

func (o walkOutcome) String() string {
	return fmt.Sprintf("%d rows lost, %d duplicated, %d changes during the walk, error: %v", o.lost, o.dups, o.changes, o.err)
}

// walkTrust runs seq and compares what it yielded with the rows present for
// the whole walk (those of before that were never deleted); for a walk by
// id from an offset, fromFirst, those from the first row yielded on.
func walkTrust[T any](l *trustList, before []int64, seq func(func(T, error) bool), id func(T) int64, fromFirst bool) walkOutcome {
	var o walkOutcome
	seen := map[int64]int{}
	first := int64(-1)
	for r, err := range seq {
		if err != nil {
			o.err = err
			break
		}
		if first < 0 {
			first = id(r)
		}
		seen[id(r)]++
	}
	for _, n := range before {
		if fromFirst && n < first {
			continue
		}
		if !l.deleted[n] && seen[n] == 0 {
			o.lost++
		}
	}
	for _, n := range seen {
		o.dups += n - 1
	}
	l.mu.Lock()
	o.changes = len(l.deleted) + l.moves
	l.mu.Unlock()
	return o
}

// check fails t when a row came twice or was lost without an error.
func (o walkOutcome) check(t *testing.T) {
	t.Helper()
	if o.changes == 0 && o.err == nil {
		t.Fatal("the list never changed during the walk")
	}
	if o.dups > 0 || o.err == nil && o.lost > 0 {
		t.Fatal(o)
	}
	t.Log(o)
}

var trustSchedules = []struct {
	name  string
	every int
}{{"between pages", 2}, {"every 20 commands", 20}}

// TestV3ListsLoseNoRowUnderChurn: REST 3.0 …All and …Export under a delete
// and an add between pages and every 20 commands (a REST 3.0 page is one
// command). Every row present for the whole walk comes exactly once, or the
// walk ends with an error. Offset paging lost one row per deletion.
func TestV3ListsLoseNoRowUnderChurn(t *testing.T) {
	ls := b24.ListSpec{IDField: "id", ByID: true}
	for _, sched := range []struct {
		name  string
		every int
	}{{"between pages", 1}, {"every 20 commands", 20}} {
		for _, walk := range []struct {
			name   string
			export bool
			params map[string]any
		}{
			{"All", false, nil},
			{"All/limit 50", false, map[string]any{"pagination": map[string]any{"limit": 50}}},
			{"All by sort", false, map[string]any{"order": map[string]string{"sort": "ASC"}}},
			{"All from offset 1000", false, map[string]any{"pagination": map[string]any{"offset": 1000}}},
			{"Export", true, nil},
		} {
			t.Run("delete+add "+sched.name+"/"+walk.name, func(t *testing.T) {
				p := b24test.NewPortal(t)
				l := newTrustList(5000, sched.every, false, false)
				before := l.ids()
				p.Handle("tasks.task.list", l.serveV3)
				c, _ := newClient(t, p)
				req := b24.Request{Method: "tasks.task.list", Version: 3, Params: walk.params}
				seq := b24.List[taskRow](context.Background(), c, req, ls)
				if walk.export {
					seq = b24.Export[taskRow](context.Background(), c, req, ls)
				}
				pg, _ := walk.params["pagination"].(map[string]any)
				_, fromOffset := pg["offset"]
				walkTrust(l, before, seq, func(r taskRow) int64 { return int64(r.ID) }, fromOffset).check(t)
			})
		}
	}
}

// TestListsUnderMovesAndReordering: rows move (their sort key changes)
// during a REST 2 walk ordered by that key, and on a portal that ignores
// order and always serves by that key. Every row present for the whole walk
// comes exactly once from …All and …Export, or the walk ends with an error.
func TestListsUnderMovesAndReordering(t *testing.T) {
	bySort := map[string]any{"order": map[string]string{"SORT": "ASC"}}
	for _, portal := range []struct {
		name        string
		ignoreOrder bool
	}{{"order honoured", false}, {"order ignored", true}} {
		for _, sched := range trustSchedules {
			for _, walk := range []struct {
				name   string
				export bool
				params map[string]any
			}{
				{"All by SORT", false, bySort},
				{"All", false, nil},
				{"Export", true, nil},
			} {
				t.Run(portal.name+"/moves "+sched.name+"/"+walk.name, func(t *testing.T) {
					p := b24test.NewPortal(t)
					l := newTrustList(5000, sched.every, true, portal.ignoreOrder)
					before := l.ids()
					p.Handle("crm.deal.list", l.serve)
					c, _ := newClient(t, p)
					req := b24.Request{Method: "crm.deal.list", Params: walk.params}
					seq := b24.List[row](context.Background(), c, req, b24.ListSpec{ByID: true})
					if walk.export {
						seq = b24.Export[row](context.Background(), c, req, b24.ListSpec{ByID: true})
					}
					o := walkTrust(l, before, seq, func(r row) int64 { return int64(r.ID) }, walk.params["start"] != nil)
					o.check(t)
					if portal.ignoreOrder && walk.params == nil && (o.err == nil || !strings.Contains(o.err.Error(), "ignores order")) {
						t.Errorf("a walk by id on a portal ignoring order: %v", o)
					}
				})
			}
		}
	}
}

// TestListFromAStartOffset: a walk from a start offset, under a delete and
// an add between pages and every 20 commands. Ordered by id (or in no
// order), the page at the offset is read by offset and the rest by id: every
// row from that page on present for the whole walk comes once (an offset walk
// lost one row per deletion). In another order nothing could check the walk,
// so it is refused before any request, in REST 2 and REST 3.0.
func TestListFromAStartOffset(t *testing.T) {
	for _, sched := range trustSchedules {
		for _, order := range []map[string]string{nil, {"ID": "ASC"}} {
			t.Run(fmt.Sprintf("%s/order %v", sched.name, order), func(t *testing.T) {
				p := b24test.NewPortal(t)
				l := newTrustList(5000, sched.every, false, false)
				before := l.ids()
				p.Handle("crm.deal.list", l.serve)
				c, _ := newClient(t, p)
				params := map[string]any{"start": 1000}
				if order != nil {
					params["order"] = order
				}
				seq := b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list", Params: params}, b24.ListSpec{ByID: true})
				o := walkTrust(l, before, seq, func(r row) int64 { return int64(r.ID) }, true)
				o.check(t)
				if o.err != nil {
					t.Fatalf("a walk by id from an offset failed: %v", o)
				}
			})
		}
	}
	for _, tc := range []struct {
		name string
		req  b24.Request
		ls   b24.ListSpec
	}{
		{"REST 2", b24.Request{Method: "crm.deal.list", Params: map[string]any{"start": 1000, "order": map[string]string{"SORT": "ASC"}}}, b24.ListSpec{ByID: true}},
		{"REST 3.0", b24.Request{Method: "tasks.task.list", Version: 3, Params: map[string]any{"pagination": map[string]any{"page": 3}, "order": map[string]string{"sort": "ASC"}}}, b24.ListSpec{IDField: "id", ByID: true}},
	} {
		t.Run("another order refused/"+tc.name, func(t *testing.T) {
			p := b24test.NewPortal(t)
			l := newTrustList(100, 0, false, false)
			p.Handle("crm.deal.list", l.serve)
			p.Handle("tasks.task.list", l.serveV3)
			c, _ := newClient(t, p)
			n := 0
			var failed error
			for _, err := range b24.List[row](context.Background(), c, tc.req, tc.ls) {
				if err != nil {
					failed = err
					break
				}
				n++
			}
			if failed == nil || !strings.Contains(failed.Error(), "cannot be checked") || n > 0 || len(p.Calls()) > 0 {
				t.Fatalf("%d rows, %d calls, error %v; want a refusal before any call", n, len(p.Calls()), failed)
			}
		})
	}
}

// TestV3ListWithoutIDFilterIsLoudOnAShift: a REST 3.0 method that cannot
// filter by id, paged by offset while rows are added at the front: a row
// that comes a second time ends the walk with ErrListIncomplete.
func TestV3ListWithoutIDFilterIsLoudOnAShift(t *testing.T) {
	p := b24test.NewPortal(t)
	l := newTrustList(2000, 3, true, false) // moves: rows go to the front and back
	p.Handle("tasks.task.list", l.serveV3)
	c, _ := newClient(t, p)
	req := b24.Request{Method: "tasks.task.list", Version: 3, Params: map[string]any{"order": map[string]string{"sort": "ASC"}}}
	seen := map[b24.Int]bool{}
	var failed error
	for r, err := range b24.List[taskRow](context.Background(), c, req, b24.ListSpec{IDField: "id"}) {
		if err != nil {
			failed = err
			break
		}
		if seen[r.ID] {
			t.Fatalf("id %d yielded twice", r.ID)
		}
		seen[r.ID] = true
	}
	if !errors.Is(failed, b24.ErrListIncomplete) {
		t.Fatalf("%d rows, error %v; want ErrListIncomplete", len(seen), failed)
	}
	t.Logf("%d rows, then: %v", len(seen), failed)
}

// BenchmarkV3RowsAllocation is BenchmarkRowsAllocation for REST 3.0 over
// 10,000 tasks in pages of 1,000: List walked by id, List in another order
// (offset pages checked by id at the end), List paged by offset unchecked
// (no ByID), and Export.
func BenchmarkV3RowsAllocation(b *testing.B) {
	bySort := map[string]any{"order": map[string]string{"sort": "ASC"}}
	for _, tc := range []struct {
		name   string
		params map[string]any
		list   bool
		ls     b24.ListSpec
	}{
		{"All-by-id", nil, true, b24.ListSpec{IDField: "id", ByID: true}},
		{"All-by-offset-checked", bySort, true, b24.ListSpec{IDField: "id", ByID: true}},
		{"All-by-offset", bySort, true, b24.ListSpec{IDField: "id"}},
		{"Export", nil, false, b24.ListSpec{IDField: "id", ByID: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := b24test.NewPortal(b)
			l := newTrustList(10000, 0, false, false)
			l.pageCap = 1000
			p.Handle("tasks.task.list", l.serveV3)
			c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit())
			if err != nil {
				b.Fatal(err)
			}
			req := b24.Request{Method: "tasks.task.list", Version: 3, Params: tc.params}
			reportAllocPerRow[taskRow](b, c, req, tc.ls, tc.list, 10000)
		})
	}
}
