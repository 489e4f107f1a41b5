package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"strconv"
)

// ListSpec says where a list method's rows are and what their id field is.
type ListSpec struct {
	ItemsKey string // key under "result" holding the rows ("items", "tasks"); "" when result is the array
	IDField  string // "ID" or "id", for Export's >ID filter and order; "ID" when empty
	// PageSize is the number of rows the method returns per page (50 when 0).
	// Export takes a shorter page for the last one, so it must not be larger
	// than what the method really returns.
	PageSize int
}

func (ls ListSpec) idField() string {
	if ls.IDField == "" {
		return "ID"
	}
	return ls.IDField
}

func (ls ListSpec) pageSize() int {
	if ls.PageSize <= 0 {
		return 50
	}
	return ls.PageSize
}

// List pages through start/next, one request per page, yielding rows in the
// order the portal sends them. It stops with an error when "next" does not
// move forward, instead of looping. Calls are marked idempotent (a list is a
// read). Breaking out of the loop stops the requests. A REST 3.0 request
// (Version 3) pages with "pagination" instead (v3_list.go).
func List[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, o := range opts {
			o(&req)
		}
		if req.Version == 3 {
			listV3(ctx, c, req, ls, yield) // v3_list.go
			return
		}
		params, err := paramsObject(req.Method, req.Params)
		if err != nil {
			yield(zero, err)
			return
		}
		start := 0
		if s, ok := envInt(params["start"]); ok && s > 0 {
			start = s
		}
		var prevPage uint64 // hash of the previous page's result, 0 before the first
		for {
			params["start"] = json.RawMessage(strconv.Itoa(start))
			r := req
			r.Params = params
			r.Idempotent = true
			resp, err := c.Call(ctx, &r)
			if err != nil {
				yield(zero, err)
				return
			}
			rows, err := splitRows(resp.Result, ls.ItemsKey)
			if err != nil {
				yield(zero, &DecodeError{Method: req.Method, Err: err})
				return
			}
			// A page that promises more but brings nothing new would page on
			// as long as the portal moves next (issue 9: 2,001 requests).
			if resp.HasNext && len(rows) == 0 {
				yield(zero, fmt.Errorf("b24: %s: the page at start=%d brought no new rows (empty page, next=%d, total=%d); stopping instead of looping", req.Method, start, resp.Next, resp.Total))
				return
			}
			h := pageHash(resp.Result)
			if h == prevPage && len(rows) > 0 {
				if _, err := rowID(rows[0], ls.idField()); err == nil {
					// Rows with ids, byte for byte the previous page: the
					// method ignores start.
					yield(zero, fmt.Errorf("b24: %s: the page at start=%d brought no new rows (the same rows as the page before); stopping instead of looping", req.Method, start))
					return
				}
			}
			prevPage = h
			for _, row := range rows {
				var v T
				if err := json.Unmarshal(row, &v); err != nil {
					yield(zero, &DecodeError{Method: req.Method, Err: err})
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			if !resp.HasNext {
				return
			}
			if resp.Next <= start {
				yield(zero, fmt.Errorf("b24: %s: next=%d does not move past start=%d; stopping instead of looping", req.Method, resp.Next, start))
				return
			}
			start = resp.Next
		}
	}
}

// pageHash fingerprints a page's result (never 0, the "no page yet" value).
func pageHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64() | 1
}

// Export reads every row by ID the way the docs recommend for large volumes:
// start=-1 (no total counted), filter >ID the last id seen, order by ID
// ascending. The first page is one request; after that, 50 pages are chained
// in one batch request through $result references (about 2,500 rows per
// HTTP request). While the rows of one batch are being yielded, the next
// batch is already on its way (its cursor is the last id of the batch in
// hand), so a consumer's work overlaps the wait for the rate limit.
//
// The request's own filter is kept (a >ID bound in it is where the export
// starts); its order is replaced. Rows must have a numeric id field
// (ls.IDField). Export stops with an error when a full page does not move the
// id forward, and skips rows at or below the last id seen, so a page served
// twice never yields a row twice. A row deleted or added during the export
// may be missed or included, as with any cursor. A REST 3.0 request
// (Version 3) is read by id one page of up to 1,000 rows at a time, with the
// same guards (v3_list.go).
func Export[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, o := range opts {
			o(&req)
		}
		if req.Version == 3 {
			exportV3(ctx, c, req, ls, yield) // v3_list.go
			return
		}
		ex, err := newExporter(req, ls)
		if err != nil {
			yield(zero, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()

		// One plain request first: a small list costs one cheap call.
		r := ex.request(ex.params(strconv.FormatInt(ex.lastID, 10)))
		resp, err := c.Call(ctx, &r)
		if err != nil {
			yield(zero, err)
			return
		}
		pages := []exportPage{ex.page(resp.Result)}
		for {
			// Start the next batch before yielding the rows in hand.
			var next <-chan exportBatch
			if cursor, ok := ex.continuation(pages); ok {
				next = ex.fetch(ctx, c, cursor)
			}
			for _, pg := range pages {
				if !emitPage(ex, pg, yield) {
					if next != nil {
						cancel()
						<-next // let the request in flight end before returning
					}
					return
				}
			}
			if next == nil {
				return // unreachable in practice: a page ended the export above
			}
			b := <-next
			if b.err != nil {
				yield(zero, b.err)
				return
			}
			pages = b.pages
		}
	}
}

// exportPage is one page of an export: its rows, split once when the page
// arrives, or why it has none.
type exportPage struct {
	rows []json.RawMessage
	err  error
}

// page splits a page's result into rows; a result that holds none in the
// expected place becomes the page's error.
func (ex *exporter) page(result json.RawMessage) exportPage {
	rows, err := splitRows(result, ex.ls.ItemsKey)
	if err != nil {
		return exportPage{err: &DecodeError{Method: ex.req.Method, Err: err}}
	}
	return exportPage{rows: rows}
}

// exportBatch is the outcome of one chained batch.
type exportBatch struct {
	pages []exportPage
	err   error // the batch request itself failed
}

// emitPage yields a page's new rows; it returns false when the export is
// over (a short page, an error, or the consumer stopped).
func emitPage[T any](ex *exporter, pg exportPage, yield func(T, error) bool) bool {
	var zero T
	if pg.err != nil {
		yield(zero, pg.err)
		return false
	}
	rows := pg.rows
	advanced := false
	prev := int64(math.MinInt64)
	for _, row := range rows {
		id, err := rowID(row, ex.idField)
		if err != nil {
			yield(zero, &DecodeError{Method: ex.req.Method, Err: err})
			return false
		}
		if id <= prev {
			// Skipping it would lose rows silently: the cursor assumes order.
			yield(zero, fmt.Errorf("b24: %s: rows are not ordered by %s (%d after %d): the method ignores order, so Export cannot page it; use List", ex.req.Method, ex.idField, id, prev))
			return false
		}
		prev = id
		if id <= ex.lastID {
			continue // a row already yielded (a page served twice)
		}
		var v T
		if err := json.Unmarshal(row, &v); err != nil {
			yield(zero, &DecodeError{Method: ex.req.Method, Err: err})
			return false
		}
		ex.lastID, advanced = id, true
		if !yield(v, nil) {
			return false
		}
	}
	if len(rows) < ex.pageSize {
		return false
	}
	if !advanced {
		yield(zero, fmt.Errorf("b24: %s: export cursor did not move past %s=%d; stopping instead of looping", ex.req.Method, ex.idField, ex.lastID))
		return false
	}
	return true
}

// continuation tells whether more rows may follow pages (every page full and
// fine) and from which id: the last row of the last page. Problems are left
// for emitPage to report.
func (ex *exporter) continuation(pages []exportPage) (int64, bool) {
	// Every page must be full for the chain to have been meaningful.
	for _, pg := range pages {
		if pg.err != nil || len(pg.rows) < ex.pageSize {
			return 0, false
		}
	}
	rows := pages[len(pages)-1].rows
	id, err := rowID(rows[len(rows)-1], ex.idField)
	if err != nil {
		return 0, false
	}
	return id, true
}

// fetch runs one chained batch of 50 pages from cursor in the background.
func (ex *exporter) fetch(ctx context.Context, c Caller, cursor int64) <-chan exportBatch {
	out := make(chan exportBatch, 1)
	go func() {
		b := NewBatch()
		handles := make([]*Handle[json.RawMessage], MaxBatchCommands)
		for i := range handles {
			ref := strconv.FormatInt(cursor, 10)
			if i > 0 {
				ref = ex.lastRowRef(handles[i-1])
			}
			handles[i] = Add(b, "p"+strconv.Itoa(i), NewCommand[json.RawMessage](ex.request(ex.params(ref))))
		}
		err := b.Run(ctx, c)
		var be *BatchError
		if err != nil && (!errors.As(err, &be) || be.Call != nil) {
			out <- exportBatch{err: err} // the request itself failed: nothing to read
			return
		}
		pages := make([]exportPage, len(handles))
		for i, h := range handles {
			// Pages after the last one may fail on an empty reference;
			// emitPage stops at the short page before reaching them.
			resp, err := h.Response()
			if err != nil {
				pages[i].err = err
			} else {
				pages[i] = ex.page(resp.Result)
			}
		}
		out <- exportBatch{pages: pages}
	}()
	return out
}

// exporter holds the state of one Export.
type exporter struct {
	req      Request
	ls       ListSpec
	idField  string
	pageSize int
	base     map[string]json.RawMessage // the request's params without filter/order/start
	filter   map[string]json.RawMessage // the request's filter without the >ID bound
	lastID   int64
}

func newExporter(req Request, ls ListSpec) (*exporter, error) {
	base, err := paramsObject(req.Method, req.Params)
	if err != nil {
		return nil, err
	}
	ex := &exporter{req: req, ls: ls, idField: ls.idField(), pageSize: ls.pageSize(), base: base, filter: map[string]json.RawMessage{}}
	if raw, ok := base["filter"]; ok && !envEmpty(raw) {
		if err := json.Unmarshal(raw, &ex.filter); err != nil {
			return nil, fmt.Errorf("b24: %s: export: filter must be an object: %w", req.Method, err)
		}
	}
	for _, k := range []string{">" + ex.idField, ">=" + ex.idField} {
		if raw, ok := ex.filter[k]; ok {
			n, ok := envInt(raw)
			if !ok {
				return nil, fmt.Errorf("b24: %s: export: filter %s is not a number", req.Method, k)
			}
			if k[1] == '=' {
				n-- // >=N is >N-1
			}
			ex.lastID = int64(n)
			delete(ex.filter, k)
		}
	}
	delete(base, "filter")
	delete(base, "order")
	delete(base, "start")
	return ex, nil
}

// params builds one page's params with the cursor (a number or a reference).
func (ex *exporter) params(cursor string) map[string]any {
	filter := make(map[string]any, len(ex.filter)+1)
	for k, v := range ex.filter {
		filter[k] = v
	}
	filter[">"+ex.idField] = cursor
	p := make(map[string]any, len(ex.base)+3)
	for k, v := range ex.base {
		p[k] = v
	}
	p["filter"] = filter
	p["order"] = map[string]string{ex.idField: "ASC"}
	p["start"] = -1
	return p
}

func (ex *exporter) request(params map[string]any) Request {
	r := ex.req
	r.Params = params
	r.Idempotent = true // every page is a read
	return r
}

// lastRowRef points at the id of the last row of the previous page.
func (ex *exporter) lastRowRef(h *Handle[json.RawMessage]) string {
	path := strconv.Itoa(ex.pageSize-1) + "." + ex.idField
	if ex.ls.ItemsKey != "" {
		path = ex.ls.ItemsKey + "." + path
	}
	return h.Ref(path)
}

// paramsObject turns a request's params into an editable JSON object.
func paramsObject(method string, p any) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if p == nil {
		return out, nil
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("b24: %s: encoding the parameters: %w", method, err)
	}
	if string(raw) == "null" {
		return out, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("b24: %s: list parameters must encode as a JSON object: %w", method, err)
	}
	return out, nil
}

// splitRows finds a page's rows: result itself or result[itemsKey], a JSON
// array or an object keyed by id (kept in body order); empty forms are no rows.
func splitRows(result json.RawMessage, itemsKey string) ([]json.RawMessage, error) {
	if itemsKey != "" {
		if envEmpty(result) {
			return nil, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(result, &obj); err != nil {
			return nil, fmt.Errorf("result is not an object holding %q: %w", itemsKey, err)
		}
		result = obj[itemsKey]
	}
	if envEmpty(result) {
		return nil, nil
	}
	t := bytes.TrimSpace(result)
	switch t[0] {
	case '[':
		var rows []json.RawMessage
		if err := json.Unmarshal(t, &rows); err != nil {
			return nil, err
		}
		return rows, nil
	case '{':
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.Token() // {
		var rows []json.RawMessage
		for dec.More() {
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			var row json.RawMessage
			if err := dec.Decode(&row); err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		return rows, nil
	}
	return nil, fmt.Errorf("rows are neither a list nor an object: %.40s", t)
}

// rowID reads a row's id, sent as a number or a numeric string.
func rowID(row json.RawMessage, field string) (int64, error) {
	raw, found, err := topLevelMember(row, field)
	if err != nil {
		return 0, fmt.Errorf("row is not an object: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("row has no %s field (set ListSpec.IDField)", field)
	}
	s := envString(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("row %s %q is not an integer", field, s)
	}
	return n, nil
}
