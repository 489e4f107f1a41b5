package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"strconv"
	"sync"
)

// DefaultExportConcurrency is how many chained batches an Export keeps in
// flight at once, on disjoint id ranges. Four is polite to a portal (it is
// four requests of a 50-request bucket, each pausing in the method's
// operating-time budget as any call does) and already takes an export under
// the time one chain of batches needs.
const DefaultExportConcurrency = 4

// WithExportConcurrency sets how many id ranges an Export reads at once (1
// reads them one after another, as a single chain). Other calls ignore it.
func WithExportConcurrency(n int) CallOption {
	return func(r *Request) { r.exportConcurrency = max(n, 1) }
}

// DefaultExportReadAhead is how many bytes of rows an Export holds for id
// ranges ahead of the one being yielded; a range reader past it waits
// until the consumer catches up. The range being yielded never waits.
const DefaultExportReadAhead = 64 << 20

// exportRows is Export without the decoding.
//
// One batch request probes both ends of the id range the filter allows: the
// first page in the export's order, and the first page in the opposite
// order, whose first row is where the export ends. A list of one page ends
// there. The ids between are cut into at most DefaultExportConcurrency
// ranges of equal span, fewer when the two probe pages' density says the
// rows fill fewer chained batches, and the ranges are read at once, each as
// chained batches whose pages filter ">id" the last row of the page before
// (or "<id" for a descending export) and stay within the range.
//
// A chain skips any gap in the ids at no cost, so each range costs its rows
// / 2,500 requests plus at most one partly filled: an export takes at most
// 1 + ⌈rows/2,500⌉ + ranges requests whatever the ids look like (cutting by
// density instead costs a request per empty stretch: 120 rows in two
// clusters 10,000,000 ids apart took 4,002). Rows are yielded in id order;
// the ranges ahead of the consumer are held up to DefaultExportReadAhead
// bytes.
//
// It is not inlined: its closure would be compiled again into every List
// instantiation of every package.
//
//go:noinline
func exportRows(ctx context.Context, c Caller, req Request, ls ListSpec) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		if req.Version == 3 {
			exportV3(ctx, c, req, ls, yield) // v3_list.go
			return
		}
		ex, err := newExporter(req, ls)
		if err != nil {
			yield(nil, err)
			return
		}
		ex.walk(ctx, c, yield)
	}
}

// walk runs the export and yields its rows.
func (ex *exporter) walk(ctx context.Context, c Caller, yield func(json.RawMessage, error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	first, far, err := ex.probe(ctx, c)
	if first.rows == nil && first.err == nil && err != nil {
		yield(nil, err)
		return
	}
	if !ex.emit(first, yield) || len(first.rows) < ex.pageSize {
		return
	}
	if err != nil { // the far end is unknown: the first page is all that is sure
		yield(nil, err)
		return
	}
	if ex.lastID >= far {
		return
	}
	segs := ex.segments(ex.lastID, far, ex.density(first))
	s := newSegmentRun(ctx, ex, c, len(segs))
	defer func() {
		cancel()
		s.wg.Wait() // no request of this export outlives it
	}()
	for i, seg := range segs {
		s.start(i, seg)
	}
	for i := range segs {
		for {
			pg, ok := s.next(i)
			if !ok {
				break
			}
			if !ex.emit(pg, yield) {
				return
			}
		}
	}
}

// segment is a range of ids (from, to] in the export's order, in ascending
// coordinates (see exporter.coord).
type segment struct{ from, to int64 }

// segmentRun reads the segments of one export at once and hands their pages
// to the consumer in segment order.
type segmentRun struct {
	ex  *exporter
	c   Caller
	ctx context.Context
	wg  sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	queues  [][]exportPage // pages read and not yet taken, per segment
	done    []bool         // the segment's reader has finished
	head    int            // the segment being yielded: its reader never waits
	held    int            // bytes of rows in queues
	maxHeld int            // read-ahead limit in bytes
}

func newSegmentRun(ctx context.Context, ex *exporter, c Caller, n int) *segmentRun {
	s := &segmentRun{ex: ex, c: c, ctx: ctx, queues: make([][]exportPage, n), done: make([]bool, n), maxHeld: DefaultExportReadAhead}
	s.cond = sync.NewCond(&s.mu)
	// A reader or the consumer waiting on cond wakes when the export ends.
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	return s
}

func (s *segmentRun) start(i int, seg segment) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.done[i] = true
			s.cond.Broadcast()
			s.mu.Unlock()
		}()
		s.ex.readSegment(s.ctx, s.c, seg, func(pg exportPage) bool { return s.put(i, pg) })
	}()
}

// put queues a page of segment i, waiting while the read-ahead is full
// unless i is the segment being yielded; false when the export is over.
func (s *segmentRun) put(i int, pg exportPage) bool {
	n := pageBytes(pg)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i != s.head && s.held+n > s.maxHeld && s.ctx.Err() == nil {
		s.cond.Wait()
	}
	if s.ctx.Err() != nil {
		return false
	}
	s.queues[i] = append(s.queues[i], pg)
	s.held += n
	s.cond.Broadcast()
	return true
}

// next takes the next page of segment i, waiting for its reader; false when
// the segment has no more pages (or the export is over).
func (s *segmentRun) next(i int) (exportPage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head != i {
		s.head = i
		s.cond.Broadcast() // its reader may be waiting on the read-ahead
	}
	for len(s.queues[i]) == 0 && !s.done[i] && s.ctx.Err() == nil {
		s.cond.Wait()
	}
	if len(s.queues[i]) == 0 {
		return exportPage{}, false
	}
	pg := s.queues[i][0]
	s.queues[i][0] = exportPage{}
	s.queues[i] = s.queues[i][1:]
	s.held -= pageBytes(pg)
	s.cond.Broadcast()
	return pg, true
}

func pageBytes(pg exportPage) int {
	n := 0
	for _, r := range pg.rows {
		n += len(r)
	}
	return n
}

// readSegment reads seg by chained batches until a short page, or until the
// cursor reaches the segment's end, passing every page it reads to put
// (false: stop). A page with an error is passed and ends the segment.
func (ex *exporter) readSegment(ctx context.Context, c Caller, seg segment, put func(exportPage) bool) {
	cursor := seg.from
	for cursor < seg.to {
		pages, err := ex.chain(ctx, c, cursor, seg.to, ex.chainLength(seg.to-cursor))
		if err != nil {
			put(exportPage{err: err})
			return
		}
		for _, pg := range pages {
			if !put(pg) || pg.err != nil || len(pg.rows) < ex.pageSize {
				return
			}
		}
		id, err := rowID(pages[len(pages)-1].rows[ex.pageSize-1], ex.idField)
		if err != nil {
			return // reported by emit when it reaches the page
		}
		if next := ex.coord(id); next > cursor {
			cursor = next
		} else {
			return // emit reports the stalled cursor
		}
	}
}

// chain requests n pages from cursor to end (an inclusive bound) as one
// batch, each page filtering past the last row of the page before. It
// returns the pages up to and including the first short one.
//
// A *Client sizes the chain to the method's operating-time budget first
// (limit_operating.go): as the budget runs low the chains get shorter, and
// when it is spent they wait for it to come back instead of meeting the 429.
func (ex *exporter) chain(ctx context.Context, c Caller, cursor, end int64, n int) ([]exportPage, error) {
	paced := false
	if cl, ok := c.(*Client); ok {
		k, tk, err := cl.admit(ctx, ex.req.Method, n, true)
		if err != nil {
			return nil, err
		}
		defer tk.done()
		n, paced = k, tk != nil
	}
	resps, errs, err := batchPagesPaced(ctx, c, n, paced, func(_ int, prev *Handle[json.RawMessage]) Request {
		ref := strconv.FormatInt(ex.wire(cursor), 10)
		if prev != nil {
			ref = ex.lastRowRef(prev)
		}
		return ex.request(ex.params(ref, end, true))
	})
	if err != nil {
		return nil, err // the request itself failed: nothing to read
	}
	pages := make([]exportPage, 0, n)
	for i, resp := range resps {
		// Pages after a short one filter on a reference to a row that is
		// not there; they are not read.
		if errs[i] != nil {
			return append(pages, exportPage{err: errs[i]}), nil
		}
		pg := ex.page(resp.Result)
		pages = append(pages, pg)
		if pg.err != nil || len(pg.rows) < ex.pageSize {
			break
		}
	}
	return pages, nil
}

// probe reads the first page from the cursor and the first page of the
// opposite order, in one batch; far is where the export ends (in ascending
// coordinates), or the cursor when nothing lies beyond the first page. An
// error with a first page is about the far end only.
func (ex *exporter) probe(ctx context.Context, c Caller) (exportPage, int64, error) {
	cursor := ""
	if ex.hasCursor {
		cursor = strconv.FormatInt(ex.wire(ex.lastID), 10)
	}
	resps, errs, err := batchPages(ctx, c, 2, func(i int, _ *Handle[json.RawMessage]) Request {
		r := ex.request(ex.params(cursor, 0, false))
		if i == 1 { // the far end: the first page of the opposite order
			r.Params.(map[string]any)["order"] = map[string]string{ex.idField: ex.direction(true)}
		}
		return r
	})
	if err != nil {
		return exportPage{}, 0, err
	}
	if errs[0] != nil {
		return exportPage{}, 0, errs[0]
	}
	resp := resps[0]
	pg := ex.page(resp.Result)
	if pg.err != nil || len(pg.rows) < ex.pageSize {
		return pg, ex.lastID, nil
	}
	if errs[1] != nil {
		return pg, 0, errs[1]
	}
	resp = resps[1]
	lp := ex.page(resp.Result)
	if lp.err != nil {
		return pg, 0, lp.err
	}
	if len(lp.rows) == 0 {
		return pg, ex.lastID, nil // emptied between the two commands
	}
	for i := 1; i < len(lp.rows); i++ {
		a, err1 := rowID(lp.rows[i-1], ex.idField)
		b, err2 := rowID(lp.rows[i], ex.idField)
		if err1 == nil && err2 == nil && ex.coord(b) >= ex.coord(a) {
			// The far end is unknown, and so is whether the pages are in id order.
			return pg, 0, ex.errUnordered(true, b, a)
		}
	}
	id, err := rowID(lp.rows[0], ex.idField)
	if err != nil {
		return pg, 0, &DecodeError{Method: ex.req.Method, Err: err}
	}
	ex.farPage = lp.rows
	return pg, ex.coord(id), nil
}

// density estimates rows per id from the two probe pages.
func (ex *exporter) density(first exportPage) float64 {
	span := func(rows []json.RawMessage) (int64, int) {
		if len(rows) < 2 {
			return 0, 0
		}
		a, err1 := rowID(rows[0], ex.idField)
		b, err2 := rowID(rows[len(rows)-1], ex.idField)
		if err1 != nil || err2 != nil {
			return 0, 0
		}
		return max(a-b, b-a) + 1, len(rows)
	}
	s1, n1 := span(first.rows)
	s2, n2 := span(ex.farPage)
	if s1+s2 <= 0 {
		return 1
	}
	return min(float64(n1+n2)/float64(s1+s2), 1)
}

// segments cuts (from, to] into at most concurrency ranges of equal span:
// as many as the rows the density estimates fill chained batches, so that
// a small export is not split into requests that each bring a few rows.
// Their number, not the ids, bounds the requests beyond one per 2,500 rows.
func (ex *exporter) segments(from, to int64, density float64) []segment {
	estimated := density * float64(to-from)
	n := int64(math.Ceil(estimated / float64(ex.pageSize*MaxBatchCommands)))
	n = max(min(n, int64(ex.concurrency()), to-from), 1)
	span := (to - from) / n
	segs := make([]segment, 0, n)
	lo := from
	for k := int64(1); k < n; k++ {
		segs = append(segs, segment{from: lo, to: lo + span})
		lo += span
	}
	return append(segs, segment{from: lo, to: to})
}

// chainLength is how many pages a chain over span ids asks for: as many as
// the estimated rows fill, never more than the ids can (ids are unique).
func (ex *exporter) chainLength(span int64) int {
	most := (span + int64(ex.pageSize) - 1) / int64(ex.pageSize)
	return int(max(min(most, MaxBatchCommands), 1))
}

func (ex *exporter) concurrency() int {
	if ex.req.exportConcurrency > 0 {
		return ex.req.exportConcurrency
	}
	return DefaultExportConcurrency
}

// coord maps an id to ascending coordinates: the id itself, or its negation
// for a descending export, so one cursor logic serves both orders.
func (ex *exporter) coord(id int64) int64 {
	if ex.desc {
		return -id
	}
	return id
}

// wire maps ascending coordinates back to an id.
func (ex *exporter) wire(x int64) int64 { return ex.coord(x) }

// direction is the order's word: the export's, or the opposite one.
func (ex *exporter) direction(opposite bool) string {
	if ex.desc != opposite {
		return "DESC"
	}
	return "ASC"
}

// errUnordered reports id after prev on a page that should be in the
// export's order (or, opposite, in the reverse one).
func (ex *exporter) errUnordered(opposite bool, id, prev int64) error {
	return fmt.Errorf("b24: %s: rows are not ordered by %s %s (%d after %d): the method ignores order, so Export cannot page it; use List", ex.req.Method, ex.idField, ex.direction(opposite), id, prev)
}

// emit yields a page's new rows; it returns false when the export is over
// (an error, or the consumer stopped). Rows must come in the export's id
// order; rows at or before the last one yielded are skipped, so a page
// served twice never yields a row twice.
func (ex *exporter) emit(pg exportPage, yield func(json.RawMessage, error) bool) bool {
	if pg.err != nil {
		yield(nil, pg.err)
		return false
	}
	prev := int64(math.MinInt64)
	advanced := false
	for _, row := range pg.rows {
		id, err := rowID(row, ex.idField)
		if err != nil {
			yield(nil, &DecodeError{Method: ex.req.Method, Err: err})
			return false
		}
		x := ex.coord(id)
		if x <= prev {
			// Skipping it would lose rows silently: the cursor assumes order.
			yield(nil, ex.errUnordered(false, id, ex.wire(prev)))
			return false
		}
		prev = x
		if ex.hasCursor && x <= ex.lastID {
			continue
		}
		ex.lastID, ex.hasCursor, advanced = x, true, true
		if !yield(row, nil) {
			return false
		}
	}
	if len(pg.rows) == ex.pageSize && !advanced {
		yield(nil, fmt.Errorf("b24: %s: export cursor did not move past %s=%d; stopping instead of looping", ex.req.Method, ex.idField, ex.wire(ex.lastID)))
		return false
	}
	return true
}
