package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
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
// read). Breaking out of the loop stops the requests.
func List[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, o := range opts {
			o(&req)
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

// Export reads every row by ID the way the docs recommend for large volumes:
// start=-1 (no total counted), filter >ID the last id seen, order by ID
// ascending. The first page is one request; after that, 50 pages are chained
// in one batch request through $result references (about 2,500 rows per
// HTTP request).
//
// The request's own filter is kept (a >ID bound in it is where the export
// starts); its order is replaced. Rows must have a numeric id field
// (ls.IDField). Export stops with an error when a full page does not move the
// id forward, and skips rows at or below the last id seen, so a page served
// twice never yields a row twice. A row deleted or added during the export
// may be missed or included, as with any cursor.
func Export[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, o := range opts {
			o(&req)
		}
		ex, err := newExporter(req, ls)
		if err != nil {
			yield(zero, err)
			return
		}
		// emit yields a page's new rows; it returns more=false when the export
		// is over (short page, error, or the consumer stopped).
		emit := func(result json.RawMessage) (more bool) {
			rows, err := splitRows(result, ls.ItemsKey)
			if err != nil {
				yield(zero, &DecodeError{Method: req.Method, Err: err})
				return false
			}
			advanced := false
			for _, row := range rows {
				id, err := rowID(row, ex.idField)
				if err != nil {
					yield(zero, &DecodeError{Method: req.Method, Err: err})
					return false
				}
				if id <= ex.lastID {
					continue // a row already yielded
				}
				var v T
				if err := json.Unmarshal(row, &v); err != nil {
					yield(zero, &DecodeError{Method: req.Method, Err: err})
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
				yield(zero, fmt.Errorf("b24: %s: export cursor did not move past %s=%d; stopping instead of looping", req.Method, ex.idField, ex.lastID))
				return false
			}
			return true
		}

		// One plain request first: a small list costs one cheap call.
		r := ex.request(ex.params(strconv.FormatInt(ex.lastID, 10)))
		resp, err := c.Call(ctx, &r)
		if err != nil {
			yield(zero, err)
			return
		}
		if !emit(resp.Result) {
			return
		}
		for {
			b := NewBatch()
			handles := make([]*Handle[json.RawMessage], MaxBatchCommands)
			for i := range handles {
				cursor := strconv.FormatInt(ex.lastID, 10)
				if i > 0 {
					cursor = ex.lastRowRef(handles[i-1])
				}
				handles[i] = Add(b, "p"+strconv.Itoa(i), NewCommand[json.RawMessage](ex.request(ex.params(cursor))))
			}
			runErr := b.Run(ctx, c)
			var be *BatchError
			if runErr != nil && (!errors.As(runErr, &be) || be.Call != nil) {
				yield(zero, runErr) // the request itself failed: nothing to read
				return
			}
			for _, h := range handles {
				resp, err := h.Response()
				if err != nil {
					// Pages after the last one may fail on an empty reference;
					// we only get here while every earlier page was full.
					yield(zero, err)
					return
				}
				if !emit(resp.Result) {
					return
				}
			}
		}
	}
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
	var m map[string]json.RawMessage
	if err := json.Unmarshal(row, &m); err != nil {
		return 0, fmt.Errorf("row is not an object: %w", err)
	}
	raw, ok := m[field]
	if !ok {
		return 0, fmt.Errorf("row has no %s field (set ListSpec.IDField)", field)
	}
	s := envString(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("row %s %q is not an integer", field, s)
	}
	return n, nil
}
