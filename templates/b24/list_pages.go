package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"strings"
)

// listRows is List without the decoding: the rows of a start/next list, in
// the order the portal sends them.
//
// The first page is one plain request; its "total" tells which start
// offsets remain, and those go 50 per batch request (a 5,000-row list takes
// 3 requests instead of 100). The next batch is requested while the rows of
// the one in hand are yielded. A list whose first page has no total, or
// whose pages stop agreeing with it (rows added or removed while it is
// read), continues page by page from where the agreement ended; from then
// on a row whose id was already yielded is not yielded again, and a total
// that shrank by n steps back n rows, so rows that moved up are not missed.
// A row served a second time while the total held means another row was
// not served (the method ignores order, or rows moved): that stops the list
// with an error instead of a silent loss.
//
// It is not inlined: its closure would be compiled again into every List
// instantiation of every package.
//
//go:noinline
func listRows(ctx context.Context, c Caller, req Request, ls ListSpec) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		if req.Version == 3 {
			listV3(ctx, c, req, ls, yield) // v3_list.go
			return
		}
		params, err := paramsObject(req.Method, req.Params)
		if err != nil {
			yield(nil, err)
			return
		}
		start := 0
		if s, ok := envInt(params["start"]); ok && s > 0 {
			start = s
		}
		if ls.ByID && orderByID(params["order"], ls.idField(), false) {
			// Walked by id: deletes, adds and moves cannot shift a row
			// past the cursor, and a portal ignoring order is refused.
			// A start offset is honoured by its page alone; the walk goes
			// on by id from that page's last row.
			ex, err := newExporter(req, ls)
			if err != nil {
				yield(nil, err)
				return
			}
			if start > 0 {
				lp := &listPager{c: c, req: req, ls: ls, params: params}
				first, err := lp.page(ctx, start)
				if err == nil {
					err = lp.stalled(first)
				}
				if err != nil {
					yield(nil, err)
					return
				}
				if !ex.emit(exportPage{rows: first.rows}, yield) || !first.resp.HasNext || len(first.rows) == 0 {
					return
				}
			}
			ex.walk(ctx, c, yield)
			return
		}
		if ls.ByID && start > 0 {
			yield(nil, errStartUnchecked(req.Method, "start", ls.idField()))
			return
		}
		lp := &listPager{c: c, req: req, ls: ls, params: params}
		if ls.ByID {
			// Another order pages by offset, which churn can shift: the
			// walk is checked by id at its end (list_verify.go).
			startMax, any, err := maxID(ctx, c, req, ls, params)
			if err != nil {
				yield(nil, err)
				return
			}
			complete := true
			lp.walkOffsets(ctx, start, func(row json.RawMessage, err error) bool {
				if err != nil {
					complete = false
				}
				if !yield(row, err) {
					complete = false
					return false
				}
				return true
			})
			if !complete || !any || lp.noIDs {
				return
			}
			missed, err := missedIDs(ctx, c, req, ls, params, startMax, lp.seen)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(missed) > 0 {
				yield(nil, missedError(req.Method, ls.idField(), missed))
			}
			return
		}
		// Unchecked: the method cannot filter by id. What can be seen ends
		// the walk: a total that changes, or a row that comes twice.
		lp.strict = true
		lp.walkOffsets(ctx, start, yield)
	}
}

// walkOffsets is the offset walk of listRows from start.
func (lp *listPager) walkOffsets(ctx context.Context, start int, yield func(json.RawMessage, error) bool) {
	req := lp.req
	{
		// Prefetched batches run under their own context, ended when they
		// are no longer wanted.
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()

		first, err := lp.page(ctx, start)
		if err != nil {
			yield(nil, err)
			return
		}
		if err := lp.stalled(first); err != nil {
			yield(nil, err)
			return
		}
		if !lp.emit(first, yield) || !first.resp.HasNext {
			return
		}
		step := first.resp.Next - start
		if step <= 0 {
			yield(nil, fmt.Errorf("b24: %s: next=%d does not move past start=%d; stopping instead of looping", req.Method, first.resp.Next, start))
			return
		}
		if first.resp.Total <= 0 || len(first.rows) != step {
			lp.debug(ctx, "the first page gives no usable total; paging one request per page",
				slog.Int("total", first.resp.Total), slog.Int("next", first.resp.Next), slog.Int("rows", len(first.rows)))
			second, err := lp.page(ctx, first.resp.Next)
			if err != nil {
				yield(nil, err)
				return
			}
			lp.onePerRequest(ctx, second, yield)
			return
		}
		total := first.resp.Total
		var offsets []int
		for o := first.resp.Next; o < total; o += step {
			offsets = append(offsets, o)
		}
		// Batches of offsets, each requested while the one before is yielded.
		var next <-chan pagedBatch
		fetch := func(i int) {
			if i < len(offsets) {
				next = lp.fetchBatch(fctx, offsets[i:min(i+MaxBatchCommands, len(offsets))])
			} else {
				next = nil
			}
		}
		fetch(0)
		for i := 0; next != nil; i += MaxBatchCommands {
			b := <-next
			fetch(i + MaxBatchCommands)
			if b.err != nil {
				yield(nil, b.err)
				return
			}
			for j, pg := range b.pages {
				if pg.err != nil {
					yield(nil, pg.err)
					return
				}
				o := offsets[i+j]
				want := min(step, total-o)
				if pg.resp.Total != total && lp.strict {
					yield(nil, lp.errTotalChanged(pg, total))
					return
				}
				if pg.resp.Total != total || len(pg.rows) != want {
					// The list changed under us: the pages prefetched after
					// this one are at offsets that no longer hold.
					lp.debug(ctx, "the list changed while it was read; paging one request per page from here",
						slog.Int("start", o), slog.Int("total_first", total), slog.Int("total_now", pg.resp.Total),
						slog.Int("rows", len(pg.rows)), slog.Int("rows_expected", want))
					lp.changed = true
					cancel() // the batch in flight, if any, is not needed
					lp.onePerRequest(ctx, pg, yield)
					return
				}
				if err := lp.stalled(pg); err != nil {
					yield(nil, err)
					return
				}
				if !lp.emit(pg, yield) {
					return
				}
			}
		}
	}
}

// orderByID reports an order that is empty or by the id field alone
// (ascending only, when ascOnly).
func orderByID(raw json.RawMessage, idField string, ascOnly bool) bool {
	if envEmpty(raw) {
		return true
	}
	var order map[string]string
	if json.Unmarshal(raw, &order) != nil {
		return false
	}
	for k, v := range order {
		if !strings.EqualFold(k, idField) || ascOnly && strings.EqualFold(strings.TrimSpace(v), "DESC") {
			return false
		}
	}
	return true
}

// stalled reports a page that brings no new rows: empty while promising
// more, or with ids and byte for byte the page before (the method ignores
// start). Either would page on for as long as the portal moves next.
func (lp *listPager) stalled(pg listPage) error {
	if len(pg.rows) == 0 && pg.resp.HasNext {
		return fmt.Errorf("b24: %s: the page at start=%d brought no new rows (empty page, next=%d, total=%d); stopping instead of looping", lp.req.Method, pg.start, pg.resp.Next, pg.resp.Total)
	}
	h := pageHash(pg.resp.Result)
	if h == lp.prevPage && len(pg.rows) > 0 && !lp.noIDs {
		return fmt.Errorf("b24: %s: the page at start=%d brought no new rows (the same rows as the page before); stopping instead of looping", lp.req.Method, pg.start)
	}
	lp.prevPage = h
	return nil
}

// listPager holds the state of one listRows.
type listPager struct {
	c      Caller
	req    Request
	ls     ListSpec
	params map[string]json.RawMessage // the request's params; "start" is set per page

	prevPage uint64 // hash of the page checked last (pageHash), 0 before the first

	strict  bool               // the walk is not checked by id: a change in the total is an error
	changed bool               // the list changed while being read: rows are deduplicated by id
	seen    map[int64]struct{} // ids yielded, kept while they may be needed for that
	noIDs   bool               // a row had no id: deduplication is impossible
	total   int                // the total of the last page read
}

// listPage is one page of a list with the offset it was asked for.
type listPage struct {
	start int
	resp  *Response
	rows  []json.RawMessage
	err   error
}

type pagedBatch struct {
	pages []listPage
	err   error // the batch request itself failed
}

func (lp *listPager) request(start int) Request {
	p := make(map[string]json.RawMessage, len(lp.params)+1)
	for k, v := range lp.params {
		p[k] = v
	}
	p["start"] = json.RawMessage(strconv.Itoa(start))
	r := lp.req
	r.Params = p
	r.Idempotent = true // a list is a read
	return r
}

// page requests one page by itself.
func (lp *listPager) page(ctx context.Context, start int) (listPage, error) {
	r := lp.request(start)
	resp, err := lp.c.Call(ctx, &r)
	if err != nil {
		return listPage{}, err
	}
	pg := lp.split(start, resp)
	return pg, pg.err
}

func (lp *listPager) split(start int, resp *Response) listPage {
	rows, err := pageRows(lp.req.Method, resp.Result, lp.ls.ItemsKey)
	if err != nil {
		return listPage{start: start, err: err}
	}
	return listPage{start: start, resp: resp, rows: rows}
}

// fetchBatch requests the pages at offsets in one batch, in the background.
func (lp *listPager) fetchBatch(ctx context.Context, offsets []int) <-chan pagedBatch {
	out := make(chan pagedBatch, 1)
	go func() {
		resps, errs, err := batchPages(ctx, lp.c, len(offsets), func(i int, _ *Handle[json.RawMessage]) Request { return lp.request(offsets[i]) })
		if err != nil {
			out <- pagedBatch{err: err}
			return
		}
		pages := make([]listPage, len(offsets))
		for i, resp := range resps {
			if errs[i] != nil {
				pages[i] = listPage{start: offsets[i], err: errs[i]}
				continue
			}
			pages[i] = lp.split(offsets[i], resp)
		}
		out <- pagedBatch{pages: pages}
	}()
	return out
}

// emit yields a page's rows; false means stop (the consumer stopped).
func (lp *listPager) emit(pg listPage, yield func(json.RawMessage, error) bool) bool {
	lp.total = pg.resp.Total
	for _, row := range pg.rows {
		if !lp.noIDs {
			id, err := rowID(row, lp.ls.idField())
			if err != nil {
				lp.noIDs, lp.seen = true, nil // deduplication is impossible
			} else {
				if _, dup := lp.seen[id]; dup {
					if !lp.changed {
						// The total held, so a row served twice means
						// another was not served: the pages disagree.
						yield(nil, fmt.Errorf("b24: %s: %s=%d came a second time at start=%d while the total stayed %d: the pages do not agree (the method ignores order, or rows moved), so a row was missed; stopping (Export reads by id): %w", lp.req.Method, lp.ls.idField(), id, pg.start, lp.total, ErrListIncomplete))
						return false
					}
					continue // moved down by a row added above it: yielded already
				}
				if lp.seen == nil {
					lp.seen = map[int64]struct{}{}
				}
				lp.seen[id] = struct{}{}
			}
		}
		if !yield(row, nil) {
			return false
		}
	}
	return true
}

// onePerRequest yields pg (a page not yielded yet) and then pages one
// request at a time, following
// "next". A page whose total shrank by n is not yielded: the rows that moved
// up by n into offsets already read would be missed, so the n offsets before
// it are read again (rows already yielded are skipped by id).
func (lp *listPager) onePerRequest(ctx context.Context, pg listPage, yield func(json.RawMessage, error) bool) {
	for {
		next, more := pg.resp.Next, pg.resp.HasNext
		if lp.total > 0 && pg.resp.Total != lp.total {
			if lp.strict {
				yield(nil, lp.errTotalChanged(pg, lp.total))
				return
			}
			lp.changed = true // from now on rows are deduplicated by id
		}
		if shrunk := lp.total - pg.resp.Total; shrunk > 0 && lp.total > 0 && !lp.noIDs && pg.start > 0 {
			lp.total = pg.resp.Total
			next, more = max(pg.start-shrunk, 0), true
			lp.prevPage = 0 // the page read again may be the one before, byte for byte
		} else {
			if err := lp.stalled(pg); err != nil {
				yield(nil, err)
				return
			}
			if !lp.emit(pg, yield) {
				return
			}
			if !more {
				return
			}
			if next <= pg.start {
				yield(nil, fmt.Errorf("b24: %s: next=%d does not move past start=%d; stopping instead of looping", lp.req.Method, next, pg.start))
				return
			}
		}
		var err error
		if pg, err = lp.page(ctx, next); err != nil {
			yield(nil, err)
			return
		}
	}
}

// errTotalChanged reports an unchecked offset walk whose total changed.
func (lp *listPager) errTotalChanged(pg listPage, was int) error {
	return fmt.Errorf("b24: %s: the total changed from %d to %d at start=%d: rows were added or deleted while the list was paged by offset, which shifts rows past the pages, and this walk cannot be checked by id; stopping: %w", lp.req.Method, was, pg.resp.Total, pg.start, ErrListIncomplete)
}

// debug logs at debug level through the client's logger, when c is a *Client.
func (lp *listPager) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	cl, ok := lp.c.(*Client)
	if !ok || cl.log == nil || !cl.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs = append([]slog.Attr{slog.String("method", lp.req.Method)}, attrs...)
	cl.log.LogAttrs(ctx, slog.LevelDebug, "b24: list: "+msg, attrs...)
}
