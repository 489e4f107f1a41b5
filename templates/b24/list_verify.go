package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// An offset walk in an order other than by id cannot stop a delete and an
// add above the page being read from shifting a row past it, and a row whose
// sort field changes can move across the cursor. For a method that filters
// and orders by id (ListSpec.ByID) the walk is therefore checked: before it,
// the highest id is read; after it, the ids are read again by id (Export's
// walk, selecting the id only: about one request per 2,500 rows). An id at
// or below the first highest that is present at the end and was not yielded
// was present for the whole walk (ids only grow) and was missed: the walk
// ends with an error naming it instead of a silent loss. Ids above it were
// added during the walk, which the guarantee does not cover.

// ErrListIncomplete is matched (errors.Is) by the error that ends a List
// walk whose rows may be incomplete: a row present for the whole walk was
// not served, a row came twice (the pages shifted or the method ignores
// order), or the total changed under an offset walk that cannot be checked
// by id. The rows yielded before it came once each; run the walk again, or
// read by id (Export, or order by the id) for a walk that cannot shift.
var ErrListIncomplete = errors.New("b24: the list changed during the walk: rows may be missing")

// maxID reads the highest id the list's filter selects, and false for an
// empty list.
func maxID(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage) (int64, bool, error) {
	id := ls.idField()
	p := idParams(params, id)
	p["order"] = json.RawMessage(`{` + strconv.Quote(id) + `:"DESC"}`)
	p["start"] = json.RawMessage(`-1`)
	r := req
	r.Params = p
	r.Idempotent = true
	resp, err := c.Call(ctx, &r)
	if err != nil {
		return 0, false, fmt.Errorf("b24: %s: reading the highest %s before the walk: %w", req.Method, id, err)
	}
	rows, err := pageRows(req.Method, resp.Result, ls.ItemsKey)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	n, err := rowID(rows[0], id)
	if err != nil {
		return 0, false, fmt.Errorf("b24: %s: reading the highest %s before the walk: %w", req.Method, id, err)
	}
	return n, true, nil
}

// idParams is the list's params (its filter and the rest) selecting the id
// alone, without the walk's own order and start.
func idParams(params map[string]json.RawMessage, id string) map[string]json.RawMessage {
	p := make(map[string]json.RawMessage, len(params)+2)
	for k, v := range params {
		if k != "order" && k != "start" {
			p[k] = v
		}
	}
	p["select"] = json.RawMessage(`[` + strconv.Quote(id) + `]`)
	return p
}

// missedIDs walks the list's ids by id and returns those at or below
// startMax that are not in yielded, in ascending order.
func missedIDs(ctx context.Context, c Caller, req Request, ls ListSpec, params map[string]json.RawMessage, startMax int64, yielded map[int64]struct{}) ([]int64, error) {
	id := ls.idField()
	p := idParams(params, id)
	r := req
	r.Params = p
	ex, err := newExporter(r, ls)
	if err != nil {
		return nil, err
	}
	var missed []int64
	var failed error
	ex.walk(ctx, c, func(row json.RawMessage, err error) bool {
		if err != nil {
			failed = err
			return false
		}
		n, err := rowID(row, id)
		if err != nil {
			failed = err
			return false
		}
		if _, ok := yielded[n]; !ok && n <= startMax {
			missed = append(missed, n)
		}
		return true
	})
	if failed != nil {
		return nil, fmt.Errorf("b24: %s: checking by %s that the walk missed no row: %w", req.Method, id, failed)
	}
	slices.Sort(missed)
	return missed, nil
}

// missedError says which rows an offset walk missed and what to do.
func missedError(method, id string, missed []int64) error {
	show := missed[:min(len(missed), 5)]
	return fmt.Errorf("b24: %s: %d row(s) present for the whole walk were not served (rows were deleted, added or moved under the offset paging), %s %v…: the list is incomplete; run it again, or order by %s (or use Export) for a walk that cannot be shifted: %w", method, len(missed), id, show, id, ErrListIncomplete)
}

// errStartUnchecked refuses a walk from a start offset (REST 2 "start",
// REST 3.0 "pagination") in an order other than by id, for a method that
// filters by id: the rows before the offset are not the walk's, so the check
// by id has nothing to hold the walk to, and churn shifts rows past it
// without a sign.
func errStartUnchecked(method, param, id string) error {
	return fmt.Errorf("b24: %s: a walk from %s in an order other than by %s cannot be checked: rows deleted, added or moved under it would be lost without a sign; start at the beginning (the walk is then checked by %s), order by %s (a start is then honoured and the rest read by %s), or read the page alone with the plain call", method, param, id, id, id, id)
}
