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
// id (ls.ByID), the order is empty or {id: ASC} and no offset or page is
// given, since an offset loses one row per row deleted behind it. Otherwise
// it pages by offset: it asks for limit rows from the
// caller's starting point (pagination.offset, or (page-1)*limit), then moves
// the offset by the rows it got. Paging by offset rather than by page number
// keeps it exact when the portal serves fewer rows than asked: a page number
// would skip the difference. It stops at an empty page, at one shorter than
// the longest seen, or at one shorter than the limit when the docs give the
// method's largest page (ls.PageSize) and the limit is within it; it stops
// with an error when a page repeats the one before
// (the method ignores pagination) instead of looping.
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
	if ls.ByID && pg.Offset <= 0 && pg.Page <= 1 && orderByID(params["order"], idField, true) {
		// Walked by id: an offset moves back one row per row deleted
		// behind it and would skip a row; the id cursor cannot.
		exportV3(ctx, c, req, ls, yield)
		return
	}
	limit := pg.Limit
	if limit <= 0 {
		limit = ls.PageSize
	}
	if limit <= 0 {
		limit = 50 // the documented default
	}
	limit = min(limit, MaxListLimit)
	known := ls.PageSize > 0 && limit <= ls.PageSize // a shorter page is the last one
	offset := max(pg.Offset, 0)
	if pg.Offset == 0 && pg.Page > 1 {
		offset = (pg.Page - 1) * limit
	}
	longest := 0
	var prevPage uint64
	for {
		params["pagination"] = mustJSON(v3Pagination{Limit: limit, Offset: offset})
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
		if len(rows) == 0 {
			return
		}
		h := pageHash(resp.Result)
		if h == prevPage {
			yield(nil, fmt.Errorf("b24: %s (REST 3.0): the page at offset %d brought the same rows as the page before: the method ignores pagination; stopping instead of looping", req.Method, offset))
			return
		}
		prevPage = h
		for _, row := range rows {
			if !yield(row, nil) {
				return
			}
		}
		longest = max(longest, len(rows))
		if len(rows) < longest || known && len(rows) < limit {
			return
		}
		offset += len(rows)
	}
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
