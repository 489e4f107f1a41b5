package b24_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

type row struct {
	ID    b24.Int `json:"ID"`
	TITLE string  `json:"TITLE"`
}

type item struct {
	ID    b24.Int `json:"id"`
	Title string  `json:"title"`
}

func makeRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		// IDs with gaps, sent as strings like REST 2 does.
		rows[i] = map[string]any{"ID": itoa(3*i + 5), "TITLE": "t" + itoa(i), "STAGE": []string{"NEW", "WON"}[i%2]}
	}
	return rows
}

func makeItems(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"id": 2*i + 1, "title": "t" + itoa(i)}
	}
	return rows
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestListPagesThroughStartNext(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeList("crm.deal.list", makeRows(123), b24test.ListOptions{})
	c, _ := newClient(t, p)
	var got []row
	for r, err := range b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list", Params: map[string]any{"filter": map[string]string{"STAGE": "WON"}}}, b24.ListSpec{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 61 {
		t.Fatalf("got %d rows, want 61 (the WON ones)", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("rows out of order at %d", i)
		}
	}
	// The first page tells the total; the second goes in a batch.
	if n, b := p.Requests("crm.deal.list"), p.Requests("batch"); n != 1 || b != 1 {
		t.Errorf("requests = %d list + %d batch, want 1 + 1", n, b)
	}

	// Breaking out stops the requests.
	n := 0
	for range b24.List[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}) {
		if n++; n == 10 {
			break
		}
	}
	if r, b := p.Requests("crm.deal.list"), p.Requests("batch"); r != 2 || b != 1 {
		t.Errorf("requests after break = %d list + %d batch, want 2 + 1", r, b)
	}
}

func TestListRowsUnderItemsKey(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeList("crm.item.list", makeItems(70), b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	c, _ := newClient(t, p)
	n := 0
	for it, err := range b24.List[item](context.Background(), c, b24.Request{Method: "crm.item.list", Params: map[string]any{"entityTypeId": 2}}, b24.ListSpec{ItemsKey: "items", IDField: "id"}) {
		if err != nil {
			t.Fatal(err)
		}
		if it.ID != b24.Int(2*n+1) {
			t.Fatalf("row %d id %d", n, it.ID)
		}
		n++
	}
	if n != 70 {
		t.Errorf("rows = %d", n)
	}
}

func TestListStopsWhenNextDoesNotAdvance(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("broken.list", func(map[string]any) (any, error) {
		return b24test.Result{Value: []map[string]any{{"ID": "1"}}, Total: 5, Next: 0, HasNext: true}, nil
	})
	c, _ := newClient(t, p)
	var last error
	rows := 0
	for _, err := range b24.List[row](context.Background(), c, b24.Request{Method: "broken.list"}, b24.ListSpec{}) {
		if err != nil {
			last = err
			break
		}
		rows++
	}
	if last == nil || !strings.Contains(last.Error(), "does not move past") {
		t.Errorf("err = %v", last)
	}
	if p.Requests("broken.list") > 2 {
		t.Errorf("looped: %d requests", p.Requests("broken.list"))
	}
}

func TestExportReadsEverythingInChainedBatches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rows   []map[string]any
		method string
		ls     b24.ListSpec
		lo     b24test.ListOptions
	}{
		{"ID rows", makeRows(5123), "crm.deal.list", b24.ListSpec{}, b24test.ListOptions{}},
		{"items/id", makeItems(5000), "crm.item.list", b24.ListSpec{ItemsKey: "items", IDField: "id"}, b24test.ListOptions{ItemsKey: "items", IDField: "id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b24test.NewPortal(t)
			p.ServeList(tc.method, tc.rows, tc.lo)
			c, _ := newClient(t, p)
			seen := map[string]bool{}
			prev := ""
			for r, err := range b24.Export[map[string]any](context.Background(), c, b24.Request{Method: tc.method}, tc.ls) {
				if err != nil {
					t.Fatal(err)
				}
				id := b24test.Str(r, tc.ls.IDField)
				if id == "" {
					id = b24test.Str(r, "ID")
				}
				if seen[id] {
					t.Fatalf("row %s yielded twice", id)
				}
				seen[id] = true
				prev = id
			}
			if len(seen) != len(tc.rows) {
				t.Fatalf("exported %d of %d rows (last %s)", len(seen), len(tc.rows), prev)
			}
			// One plain page, then 2,500 rows per batch request.
			want := 1 + (len(tc.rows)-50+2499)/2500
			if got := p.Requests(tc.method) + p.Requests("batch"); got != want {
				t.Errorf("HTTP requests = %d, want %d", got, want)
			}
			for _, call := range p.Calls() {
				if call.BatchKey == "" && call.Method == "batch" {
					continue
				}
				if b24test.Str(call.Params, "start") != "-1" {
					t.Fatalf("page without start=-1: %v", call.Params)
				}
			}
		})
	}
}

func TestExportKeepsFilterAndStartsFromBound(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeList("crm.deal.list", makeRows(300), b24test.ListOptions{})
	c, _ := newClient(t, p)
	n := 0
	for r, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "crm.deal.list", Params: map[string]any{
		"filter": map[string]any{"STAGE": "NEW", ">ID": 200}, "order": map[string]string{"ID": "DESC"}, "select": []string{"ID", "TITLE"},
	}}, b24.ListSpec{}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID <= 200 {
			t.Fatalf("row %d is not past the bound", r.ID)
		}
		n++
	}
	// IDs are 3i+5; NEW are even i; ID>200 means i>=66: i=66..298 even → 117.
	if n != 117 {
		t.Errorf("rows = %d, want 117", n)
	}
}

func TestExportStopsWhenCursorDoesNotAdvance(t *testing.T) {
	p := b24test.NewPortal(t)
	page := makeRows(50)
	// A method that ignores the filter: the same full page every time.
	p.Handle("stuck.list", func(map[string]any) (any, error) { return page, nil })
	c, _ := newClient(t, p)
	var last error
	rows := 0
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "stuck.list"}, b24.ListSpec{}) {
		if err != nil {
			last = err
			break
		}
		rows++
	}
	// The probe's reverse page comes back ascending too, which tells that
	// the method ignores order before any row is lost.
	if last == nil || !strings.Contains(last.Error(), "ignores order") {
		t.Fatalf("err = %v", last)
	}
	if rows != 50 {
		t.Errorf("rows = %d, want each row once", rows)
	}
}

func TestExportReportsErrors(t *testing.T) {
	p := b24test.NewPortal(t)
	p.ServeList("crm.deal.list", makeRows(400), b24test.ListOptions{})
	c, _ := newClient(t, p)
	p.Fail("crm.deal.list", b24test.APIFailure(403, "ACCESS_DENIED", "no"))
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}) {
		if !errors.Is(err, b24.ErrAccessDenied) {
			t.Errorf("first page: %v", err)
		}
		break
	}
	// A failure inside a chained batch: the method fails for a cursor past 200.
	all := makeRows(400)
	p.Handle("partly.list", func(params map[string]any) (any, error) {
		if after, _ := b24test.Int(b24test.Map(params, "filter"), ">ID"); after > 200 {
			return nil, b24test.Errorf(400, "ERROR_CORE", "boom")
		}
		return idPage(all, params), nil
	})
	n := 0
	var last error
	batches := p.Requests("batch")
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "partly.list"}, b24.ListSpec{}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	// IDs are 3i+5: pages end at 152 and 302, so the third page (cursor 302,
	// the batch's second command) fails after 100 rows.
	if !errors.Is(last, b24.ErrCore) || n != 100 {
		t.Errorf("after %d rows: err = %v", n, last)
	}
	if n := p.Requests("batch") - batches; n != 2 { // the probe and one chain
		t.Errorf("batch requests = %d, want 2", n)
	}
	// Rows without the id field.
	p.Answer("noid.list", []map[string]any{{"NAME": "x"}})
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "noid.list"}, b24.ListSpec{}) {
		if err == nil || !strings.Contains(err.Error(), "IDField") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestExportRefusesUnorderedRowsAndREST3(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("unordered.list", []map[string]any{{"ID": "5"}, {"ID": "3"}, {"ID": "8"}})
	c, _ := newClient(t, p)
	var last error
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "unordered.list"}, b24.ListSpec{}) {
		if err != nil {
			last = err
		}
	}
	if last == nil || !strings.Contains(last.Error(), "not ordered by ID") {
		t.Errorf("err = %v", last)
	}
}

// TestListStopsOnPagesWithoutNewRows is the probe of issue 9: every page is
// empty while next creeps forward by one, which once made 2,001 requests.
func TestListStopsOnPagesWithoutNewRows(t *testing.T) {
	for name, page := range map[string]func(start int) b24test.Result{
		"empty pages, next+1": func(start int) b24test.Result {
			return b24test.Result{Value: []map[string]any{}, Total: 2000, Next: start + 1, HasNext: start+1 < 2000}
		},
		"the same page again": func(start int) b24test.Result {
			return b24test.Result{Value: makeRows(50), Total: 2000, Next: start + 50, HasNext: start+50 < 2000}
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := b24test.NewPortal(t)
			p.Handle("stalled.list", func(params map[string]any) (any, error) {
				start, _ := strconv.Atoi(b24test.Str(params, "start"))
				return page(start), nil
			})
			c, _ := newClient(t, p)
			var last error
			rows := 0
			for _, err := range b24.List[row](context.Background(), c, b24.Request{Method: "stalled.list"}, b24.ListSpec{}) {
				if err != nil {
					last = err
					break
				}
				rows++
				if rows > 10000 {
					break
				}
			}
			t.Logf("%d requests, %d rows, err %v", p.Requests("stalled.list"), rows, last)
			if last == nil || !strings.Contains(last.Error(), "no new rows") {
				t.Errorf("err = %v, want a \"no new rows\" error", last)
			}
			if n := p.Requests("stalled.list"); n > 2 {
				t.Errorf("%d requests, want at most 2", n)
			}
		})
	}
}

// Export ignores next: an empty page ends it, whatever next says, and a full
// page must move the id cursor (TestExportStopsWhenCursorDoesNotAdvance).
func TestExportEndsOnEmptyPageThatPromisesMore(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("stalled.list", func(params map[string]any) (any, error) {
		return b24test.Result{Value: []map[string]any{}, Total: 2000, Next: 1, HasNext: true}, nil
	})
	c, _ := newClient(t, p)
	for _, err := range b24.Export[row](context.Background(), c, b24.Request{Method: "stalled.list"}, b24.ListSpec{}) {
		t.Fatalf("yielded %v", err)
	}
	if n := p.Requests("stalled.list") + p.Requests("batch"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// idPage serves a page of rows the way an id-filtered list does: >ID, <=ID,
// >=ID and <ID bounds, order by ID ASC or DESC, 50 rows.
func idPage(rows []map[string]any, params map[string]any) []map[string]any {
	f := b24test.Map(params, "filter")
	desc := strings.EqualFold(b24test.Str(b24test.Map(params, "order"), "ID"), "DESC")
	in := func(id int64) bool {
		for op, ok := range map[string]func(a, b int64) bool{
			">ID": func(a, b int64) bool { return a > b }, ">=ID": func(a, b int64) bool { return a >= b },
			"<ID": func(a, b int64) bool { return a < b }, "<=ID": func(a, b int64) bool { return a <= b },
		} {
			if v, has := b24test.Int(f, op); has && !ok(id, v) {
				return false
			}
		}
		return true
	}
	var page []map[string]any
	for i := range rows {
		r := rows[i]
		if desc {
			r = rows[len(rows)-1-i]
		}
		if id, _ := b24test.Int(r, "ID"); in(id) && len(page) < 50 {
			page = append(page, r)
		}
	}
	return page
}
