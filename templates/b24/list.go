package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"strconv"
	"strings"
)

// ListSpec says where a list method's rows are and what their id field is.
type ListSpec struct {
	ItemsKey string // key under "result" holding the rows ("items", "tasks"); "" when result is the array
	IDField  string // "ID" or "id", for Export's >ID filter and order; "ID" when empty
	// PageSize is the number of rows the method returns per page (50 when 0).
	// Export takes a shorter page for the last one, so it must not be larger
	// than what the method really returns.
	PageSize int
	// ByID says the method takes filter and order on IDField (its Export
	// exists). List then reads by id, as Export does, when the request's
	// order is empty or by the id field (a start is honoured by its page,
	// the rest read by id): offsets shift when rows are deleted or added
	// during the walk, ids do not. In another order the offset walk is
	// checked by id at its end, and a start in that order is refused.
	// Without ByID an offset walk ends with ErrListIncomplete when a row
	// comes twice or the total changes (list_verify.go).
	ByID bool
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

// List pages through start/next, yielding rows in the order the portal
// sends them. The first page is one request; the pages after it go 50 per
// batch request, found from the first page's total (a 5,000-row list is 3
// requests), and fall back to one request per page when there is no total
// or the list changes while it is read (see listRows). It stops with an
// error when "next" does not move forward, instead of looping. Calls are
// marked idempotent (a list is a read). Breaking out of the loop stops the
// requests.
// A REST 3.0 request (Version 3) pages with "pagination" instead
// (v3_list.go).
func List[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	for _, o := range opts {
		o(&req)
	}
	return decodeRows[T](req.Method, listRows(ctx, c, req, ls))
}

// decodeRows decodes each row into T. It is the only generic part of List
// and Export and is kept to a few lines, since a package instantiates it for
// every row type it lists: the paging (listRows, exportRows) and the loop
// over rows (eachRow) are compiled once, in this package.
func decodeRows[T any](method string, rows iter.Seq2[json.RawMessage, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var v, zero T
		eachRow(method, rows, &v, func(err error) bool {
			more := yield(v, err)
			v = zero // the next row decodes into a clean value
			return more
		})
	}
}

// eachRow decodes every row into dst (a pointer) and calls emit with the
// outcome, until emit returns false or after the first error.
func eachRow(method string, rows iter.Seq2[json.RawMessage, error], dst any, emit func(error) bool) {
	for row, err := range rows {
		if err == nil {
			if err = json.Unmarshal(row, dst); err != nil {
				err = &DecodeError{Method: method, Err: err}
			}
		}
		if !emit(err) || err != nil {
			return
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
// start=-1 (no total counted), filter >ID the last id seen, order by ID. Its
// pages are chained 50 per batch request through $result references (about
// 2,500 rows per HTTP request), and up to DefaultExportConcurrency chains run
// at once on disjoint id ranges (WithExportConcurrency changes it); rows are
// still yielded in id order, and a consumer's work overlaps the requests.
//
// The request's own filter is kept (a >ID or >=ID bound in it is where the
// export starts). An order of {ID: "DESC"} exports in descending id order
// (a <ID or <=ID bound is then where it starts); any other order is refused,
// since the cursor needs id order. Rows must have a numeric id field
// (ls.IDField). Export stops with an error when a full page does not move
// the id forward, and skips rows at or before the last id seen, so a page
// served twice never yields a row twice. The range is fixed when the export
// starts: a row added beyond its far end, or deleted before it is read, is
// not yielded. A REST 3.0 request (Version 3) is read by id one page of up
// to 1,000 rows at a time, with the same guards (v3_list.go).
func Export[T any](ctx context.Context, c Caller, req Request, ls ListSpec, opts ...CallOption) iter.Seq2[T, error] {
	for _, o := range opts {
		o(&req)
	}
	return decodeRows[T](req.Method, exportRows(ctx, c, req, ls))
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
	rows, err := pageRows(ex.req.Method, result, ex.ls.ItemsKey)
	return exportPage{rows: rows, err: err}
}

// exporter holds the state of one Export.
type exporter struct {
	req      Request
	ls       ListSpec
	idField  string
	pageSize int
	base     map[string]json.RawMessage // the request's params without filter/order/start
	filter   map[string]json.RawMessage // the request's filter without the starting bound
	desc     bool                       // order {ID: DESC}
	// lastID is the last id yielded, or the starting bound, in ascending
	// coordinates (see coord); hasCursor is false while there is none (a
	// descending export from the top).
	lastID    int64
	hasCursor bool
	farPage   []json.RawMessage // the probe's page from the far end
}

func newExporter(req Request, ls ListSpec) (*exporter, error) {
	base, err := paramsObject(req.Method, req.Params)
	if err != nil {
		return nil, err
	}
	ex := &exporter{req: req, ls: ls, idField: ls.idField(), pageSize: ls.pageSize(), base: base, filter: map[string]json.RawMessage{}}
	if raw, ok := base["order"]; ok && !envEmpty(raw) {
		var order map[string]string
		if err := json.Unmarshal(raw, &order); err != nil {
			return nil, fmt.Errorf("b24: %s: export: order must be an object of field: ASC|DESC: %w", req.Method, err)
		}
		for k, v := range order {
			if !strings.EqualFold(k, ex.idField) {
				return nil, fmt.Errorf("b24: %s: export: order by %s: Export reads in %s order only (ASC or DESC); use the …All iterator (List) for another order", req.Method, k, ex.idField)
			}
			ex.desc = strings.EqualFold(strings.TrimSpace(v), "DESC")
		}
	}
	if raw, ok := base["filter"]; ok && !envEmpty(raw) {
		if err := json.Unmarshal(raw, &ex.filter); err != nil {
			return nil, fmt.Errorf("b24: %s: export: filter must be an object: %w", req.Method, err)
		}
	}
	// The bound on the side the export starts from becomes its cursor.
	bounds := []string{">" + ex.idField, ">=" + ex.idField}
	if ex.desc {
		bounds = []string{"<" + ex.idField, "<=" + ex.idField}
	} else {
		ex.hasCursor = true // ids are positive: >0 reads them all
	}
	for _, k := range bounds {
		if raw, ok := ex.filter[k]; ok {
			n, ok := envInt(raw)
			if !ok {
				return nil, fmt.Errorf("b24: %s: export: filter %s is not a number", req.Method, k)
			}
			switch k[:len(k)-len(ex.idField)] {
			case ">=":
				n-- // >=N is >N-1
			case "<=":
				n++ // <=N is <N+1
			}
			ex.lastID, ex.hasCursor = ex.coord(int64(n)), true
			delete(ex.filter, k)
		}
	}
	delete(base, "filter")
	delete(base, "order")
	delete(base, "start")
	return ex, nil
}

// params builds one page's params: the cursor (a number or a reference;
// none when empty) and, when bounded, the inclusive end of the segment (in
// ascending coordinates).
func (ex *exporter) params(cursor string, end int64, bounded bool) map[string]any {
	filter := make(map[string]any, len(ex.filter)+2)
	for k, v := range ex.filter {
		filter[k] = v
	}
	after, upTo := ">", "<="
	if ex.desc {
		after, upTo = "<", ">="
	}
	if cursor != "" {
		filter[after+ex.idField] = cursor
	}
	if bounded {
		filter[upTo+ex.idField] = ex.wire(end)
	}
	p := make(map[string]any, len(ex.base)+3)
	for k, v := range ex.base {
		p[k] = v
	}
	p["filter"] = filter
	p["order"] = map[string]string{ex.idField: ex.direction(false)}
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

// batchPages runs n list pages as one batch request; page builds command i
// from the handle of command i-1 (nil for the first), so a page can filter
// on a reference into the one before. It returns each command's response
// or error, or only err when the request itself failed (nothing to read).
// List, Export's probe and its chains share it.
func batchPages(ctx context.Context, c Caller, n int, page func(i int, prev *Handle[json.RawMessage]) Request) ([]*Response, []error, error) {
	return batchPagesPaced(ctx, c, n, false, page)
}

// batchPagesPaced is batchPages for pages the caller admitted to the
// method's operating-time budget already (paced).
func batchPagesPaced(ctx context.Context, c Caller, n int, paced bool, page func(i int, prev *Handle[json.RawMessage]) Request) ([]*Response, []error, error) {
	b := NewBatch()
	b.paced = paced
	handles := make([]*Handle[json.RawMessage], n)
	var prev *Handle[json.RawMessage]
	for i := range handles {
		handles[i] = Add(b, "p"+strconv.Itoa(i), NewCommand[json.RawMessage](page(i, prev)))
		prev = handles[i]
	}
	err := b.Run(ctx, c)
	var be *BatchError
	if err != nil && (!errors.As(err, &be) || be.Call != nil) {
		return nil, nil, err
	}
	resps, errs := make([]*Response, n), make([]error, n)
	for i, h := range handles {
		resps[i], errs[i] = h.Response()
	}
	return resps, errs, nil
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

// pageRows is splitRows for method's page; a result without rows where
// they should be is a *DecodeError.
func pageRows(method string, result json.RawMessage, itemsKey string) ([]json.RawMessage, error) {
	rows, err := splitRows(result, itemsKey)
	if err != nil {
		return nil, &DecodeError{Method: method, Err: err}
	}
	return rows, nil
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
		return splitArray(t)
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

// splitArray cuts a JSON array into its elements, each a slice of b (not a
// copy: a page's rows share its body, which is read once per page and not
// reused). A row that is not valid JSON fails its own decoding later.
func splitArray(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		if skipSpace(b, i+1) != len(b) {
			return nil, errTruncated
		}
		return []json.RawMessage{}, nil
	}
	var rows []json.RawMessage
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		rows = append(rows, json.RawMessage(b[i:end:end]))
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, errTruncated
		}
		if b[i] == ']' {
			break
		}
		if b[i] != ',' {
			return nil, errTruncated
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i+1) != len(b) {
		return nil, errTruncated
	}
	return rows, nil
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
