package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// REST 3.0 lists (api-reference/rest-v3.md): "pagination": {"page", "limit"
// (at most 1000), "offset"} in, {"result": {"items": [...]}} out, no total
// and no next. List and Export dispatch here for requests with Version 3.

// MaxListLimit is the largest REST 3.0 pagination limit the docs give
// (tasks.task.list); some lists allow less (ListSpec.PageSize).
const MaxListLimit = 1000

// v3Pagination is the pagination object of a request.
type v3Pagination struct {
	Page   int `json:"page,omitempty"`
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
}

func v3ItemsKey(ls ListSpec) string {
	if ls.ItemsKey == "" {
		return "items"
	}
	return ls.ItemsKey
}

// readPagination reads the caller's pagination (numbers or numeric strings).
func readPagination(raw json.RawMessage) v3Pagination {
	var m map[string]json.RawMessage
	if envEmpty(raw) || json.Unmarshal(raw, &m) != nil {
		return v3Pagination{}
	}
	var p v3Pagination
	p.Page, _ = envInt(m["page"])
	p.Limit, _ = envInt(m["limit"])
	p.Offset, _ = envInt(m["offset"])
	return p
}

// listV3 reads a REST 3.0 list by id (exportV3) when the method filters by
// id (ls.ByID) and the order is empty or {id: ASC}, since an offset loses one
// row per row deleted behind it; a caller's offset or page is then honoured
// by its page alone, and the rest is read by id from that page's last row.
// Otherwise it pages by offset: it asks for limit rows (the caller's, else
// ls.PageSize, else MaxListLimit) from the
// caller's starting point (pagination.offset, or (page-1)*limit), then moves
// the offset by the rows it got. Paging by offset rather than by page number
// keeps it exact when the portal serves fewer rows than asked: a page number
// would skip the difference. It stops at an empty page, at one shorter than
// the longest seen, or at one shorter than the limit when the docs give the
// method's largest page (ls.PageSize) and the limit is within it; it stops
// with an error when a page repeats the one before
// (the method ignores pagination) instead of looping.
//
// The offset walk of a ByID method (another order, from the start) is
// checked by id as REST 2's is (list_verify.go): the highest id is read
// before it, and the ids walked by id after it; a row at or below that id
// present at the end and not served ends the walk with ErrListIncomplete.
// A row served twice is then skipped (rows moved down). A ByID method in
// another order from an offset is refused (errStartUnchecked). For a method
// without an id filter, a row served twice ends the walk with
// ErrListIncomplete (the pages shifted, so a row may have been missed);
// REST 3.0 lists carry no total to watch.
func listV3(ctx context.Context, c Caller, req Request, ls ListSpec, yield func(json.RawMessage, error) bool) {
	params, err := paramsObject(req.Method, req.Params)
	if err != nil {
		yield(nil, err)
		return
	}
	pg := readPagination(params["pagination"])
	idField := ls.IDField
	if idField == "" {
		idField = "id"
	}
	fromStart := pg.Offset <= 0 && pg.Page <= 1
	if ls.ByID && orderByID(params["order"], idField, true) {
		// Walked by id: an offset moves back one row per row deleted
		// behind it and would skip a row; the id cursor cannot.
		if !fromStart {
			listV3FromOffset(ctx, c, req, ls, params, pg, idField, yield)
			return
		}
		exportV3(ctx, c, req, ls, yield)
		return
	}
	if ls.ByID && !fromStart {
		yield(nil, errStartUnchecked(req.Method, "pagination", idField))
		return
	}
	var startMax int64
	anyRow := false
	if ls.ByID {
		if startMax, anyRow, err = maxIDV3(ctx, c, req, ls, params, idField); err != nil {
			yield(nil, err)
			return
		}
	}
	seen := map[int64]struct{}{}
	noIDs := false
	complete := v3OffsetPages(ctx, c, req, ls, params, pg, func(offset int, rows []json.RawMessage) bool {
		for _, row := range rows {
			if !noIDs {
				id, err := rowID(row, idField)
				if err != nil {
					noIDs, seen = true, nil // a row without an id: nothing to check by
				} else if _, dup := seen[id]; dup {
					if ls.ByID {
						continue // moved down by a row added above it: yielded already
					}
					yield(nil, fmt.Errorf("b24: %s (REST 3.0): %s=%d came a second time at offset %d: rows were added, deleted or moved under the offset paging, so a row may have been missed; stopping: %w", req.Method, idField, id, offset, ErrListIncomplete))
					return false
				} else {
					seen[id] = struct{}{}
				}
			}
			if !yield(row, nil) {
				return false
			}
		}
		return true
	}, yield)
	if !complete || !ls.ByID || !anyRow || noIDs {
		return
	}
	var missed []int64
	failed := false
	exportV3(ctx, c, v3IDRequest(req, params, idField), ls, func(row json.RawMessage, err error) bool {
		if err == nil {
			var id int64
			if id, err = rowID(row, idField); err == nil {
				if _, ok := seen[id]; !ok && id <= startMax {
					missed = append(missed, id)
				}
				return true
			}
		}
		yield(nil, fmt.Errorf("b24: %s (REST 3.0): checking by %s that the walk missed no row: %w", req.Method, idField, err))
		failed = true
		return false
	})
	if !failed && len(missed) > 0 {
		slices.Sort(missed)
		yield(nil, missedError(req.Method+" (REST 3.0)", idField, missed))
	}
}

// v3OffsetPages pages a REST 3.0 list by offset (see listV3), handing each
// page's rows to rows (false: stop) and errors to yield. It reports whether
// it reached the end of the list.
func v3OffsetPages(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage, pg v3Pagination, rows func(offset int, rows []json.RawMessage) bool, yield func(json.RawMessage, error) bool) bool {
	limit, offset := v3PageWindow(pg, ls)
	known := ls.PageSize > 0 && limit <= ls.PageSize // a shorter page is the last one
	longest := 0
	var prevPage uint64
	for {
		page, h, err := v3Page(ctx, c, req, ls, params, v3Pagination{Limit: limit, Offset: offset})
		if err != nil {
			yield(nil, err)
			return false
		}
		if len(page) == 0 {
			return true
		}
		if h == prevPage {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): the page at offset %d brought the same rows as the page before: the method ignores pagination; stopping instead of looping", req.Method, offset))
			return false
		}
		prevPage = h
		if !rows(offset, page) {
			return false
		}
		longest = max(longest, len(page))
		if len(page) < longest || known && len(page) < limit {
			return true
		}
		offset += len(page)
	}
}

// v3PageWindow is the page size and first offset of a walk from the
// caller's pagination: its limit, else the method's page size, else the
// largest page the docs allow (a walk of many pages costs a request per
// page, and the portal may serve fewer: the offset then moves by what it
// served); a page number counts in pages of that size.
func v3PageWindow(pg v3Pagination, ls ListSpec) (limit, offset int) {
	limit = pg.Limit
	if limit <= 0 {
		limit = ls.PageSize
	}
	if limit <= 0 {
		limit = MaxListLimit
	}
	limit = min(limit, MaxListLimit)
	offset = max(pg.Offset, 0)
	if pg.Offset == 0 && pg.Page > 1 {
		offset = (pg.Page - 1) * limit
	}
	return limit, offset
}

// v3Page requests one page of a REST 3.0 list by offset and returns its rows
// and the hash of its result.
func v3Page(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage, pg v3Pagination) ([]json.RawMessage, uint64, error) {
	params["pagination"] = mustJSON(pg)
	r := req
	r.Params = params
	r.Idempotent = true
	resp, err := c.Call(ctx, &r)
	if err != nil {
		return nil, 0, err
	}
	rows, err := pageRows(req.Method, resp.Result, v3ItemsKey(ls))
	if err != nil {
		return nil, 0, err
	}
	return rows, pageHash(resp.Result), nil
}

// listV3FromOffset reads the caller's page by offset and the rest by id
// from its last row, for a list ordered by id.
func listV3FromOffset(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage, pg v3Pagination, idField string, yield func(json.RawMessage, error) bool) {
	limit, offset := v3PageWindow(pg, ls)
	rows, _, err := v3Page(ctx, c, req, ls, params, v3Pagination{Limit: limit, Offset: offset})
	if err != nil {
		yield(nil, err)
		return
	}
	last := int64(math.MinInt64)
	for _, row := range rows {
		id, err := rowID(row, idField)
		if err != nil {
			yield(nil, &DecodeError{Method: req.Method, Err: err})
			return
		}
		if id <= last {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): rows are not ordered by %s (%d after %d): the method ignores order; stopping", req.Method, idField, id, last))
			return
		}
		last = id
		if !yield(row, nil) {
			return
		}
	}
	if len(rows) == 0 {
		return
	}
	// The rest, by id: the caller's conditions and ["id", ">", last].
	var conds []json.RawMessage
	if raw, ok := params["filter"]; ok && !envEmpty(raw) {
		if err := json.Unmarshal(raw, &conds); err != nil {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): filter must be a list of conditions: %w", req.Method, err))
			return
		}
	}
	p := make(map[string]json.RawMessage, len(params)+1)
	for k, v := range params {
		if k != "pagination" {
			p[k] = v
		}
	}
	p["filter"] = mustJSON(append(conds, mustJSON([]any{idField, ">", last})))
	r := req
	r.Params = p
	exportV3(ctx, c, r, ls, yield)
}

// maxIDV3 reads the highest id the list's filter selects, and false for an
// empty list.
func maxIDV3(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage, idField string) (int64, bool, error) {
	r := v3IDRequest(req, params, idField)
	p := r.Params.(map[string]json.RawMessage)
	p["order"] = mustJSON(Order{Desc(idField)})
	p["pagination"] = mustJSON(v3Pagination{Limit: 1})
	rows, _, err := v3Page(ctx, c, r, ls, p, v3Pagination{Limit: 1})
	if err != nil {
		return 0, false, fmt.Errorf("b24: %s (REST 3.0): reading the highest %s before the walk: %w", req.Method, idField, err)
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	n, err := rowID(rows[0], idField)
	if err != nil {
		return 0, false, fmt.Errorf("b24: %s (REST 3.0): reading the highest %s before the walk: %w", req.Method, idField, err)
	}
	return n, true, nil
}

// v3IDRequest is the list's request (its filter and the rest) selecting the
// id alone, without the walk's order and pagination.
func v3IDRequest(req Request, params map[string]json.RawMessage, idField string) Request {
	p := make(map[string]json.RawMessage, len(params)+2)
	for k, v := range params {
		if k != "order" && k != "pagination" {
			p[k] = v
		}
	}
	p["select"] = mustJSON([]string{idField})
	r := req
	r.Params = p
	r.Idempotent = true
	return r
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called on types that always encode
	}
	return b
}

// exportV3 reads a REST 3.0 list by id: filter ["id", ">", last] added to
// the caller's conditions, order {"id": "ASC"}, limit 1000, one request per
// page. A condition ["id", ">", n] or ["id", ">=", n] at the top level of the
// caller's filter is where the export starts (it is replaced by the cursor).
// The cursor guard is REST 2 Export's: rows out of order stop the export (the
// method ignores order), rows at or below the cursor are skipped (a page
// served twice yields nothing twice), and a full page that does not move the
// cursor is an error, not a loop. Like listV3 it stops at an empty page or a
// page shorter than the longest seen, so a portal that serves fewer rows per
// page than asked loses nothing, or, when the docs give the largest page
// (ls.PageSize, then the limit), at a page shorter than that.
func exportV3(ctx context.Context, c Caller, req Request, ls ListSpec, yield func(json.RawMessage, error) bool) {
	params, err := paramsObject(req.Method, req.Params)
	if err != nil {
		yield(nil, err)
		return
	}
	idField := ls.IDField
	if idField == "" {
		idField = "id"
	}
	var conds []json.RawMessage
	if raw, ok := params["filter"]; ok && !envEmpty(raw) {
		if err := json.Unmarshal(raw, &conds); err != nil {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): export: filter must be a list of conditions: %w", req.Method, err))
			return
		}
	}
	lastID := int64(math.MinInt64)
	kept := conds[:0:0]
	for _, cnd := range conds {
		if n, ok := idBound(cnd, idField); ok {
			lastID = max(lastID, n)
			continue
		}
		kept = append(kept, cnd)
	}
	limit := MaxListLimit
	if ls.PageSize > 0 {
		limit = min(ls.PageSize, MaxListLimit)
	}
	delete(params, "pagination")
	params["order"] = mustJSON(Order{Asc(idField)})
	longest := 0
	for {
		filter := slices.Clip(kept) // the cursor never writes into kept
		if lastID != math.MinInt64 {
			filter = append(filter, mustJSON([]any{idField, ">", lastID}))
		}
		if len(filter) > 0 {
			params["filter"] = mustJSON(filter)
		} else {
			delete(params, "filter")
		}
		params["pagination"] = mustJSON(v3Pagination{Limit: limit})
		r := req
		r.Params = params
		r.Idempotent = true
		resp, err := c.Call(ctx, &r)
		if err != nil {
			yield(nil, err)
			return
		}
		rows, err := pageRows(req.Method, resp.Result, v3ItemsKey(ls))
		if err != nil {
			yield(nil, err)
			return
		}
		advanced := false
		prev := int64(math.MinInt64)
		for _, row := range rows {
			id, err := rowID(row, idField)
			if err != nil {
				yield(nil, &DecodeError{Method: req.Method, Err: err})
				return
			}
			if id <= prev {
				yield(nil, fmt.Errorf("b24: %s (REST 3.0): rows are not ordered by %s (%d after %d): the method ignores order, so Export cannot page it; use List", req.Method, idField, id, prev))
				return
			}
			prev = id
			if id <= lastID {
				continue
			}
			lastID, advanced = id, true
			if !yield(row, nil) {
				return
			}
		}
		longest = max(longest, len(rows))
		if len(rows) == 0 || len(rows) < longest || ls.PageSize > 0 && len(rows) < limit {
			return
		}
		if !advanced {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): export cursor did not move past %s=%d; stopping instead of looping", req.Method, idField, lastID))
			return
		}
	}
}

// idBound reads a top-level ["id", ">", n] or ["id", ">=", n] condition.
func idBound(cond json.RawMessage, idField string) (int64, bool) {
	var parts []json.RawMessage
	if json.Unmarshal(cond, &parts) != nil || len(parts) != 3 {
		return 0, false
	}
	var field, op string
	if json.Unmarshal(parts[0], &field) != nil || field != idField || json.Unmarshal(parts[1], &op) != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(envString(bytes.TrimSpace(parts[2])), 10, 64)
	if err != nil {
		return 0, false
	}
	switch op {
	case ">":
		return n, true
	case ">=":
		return n - 1, true
	}
	return 0, false
}
