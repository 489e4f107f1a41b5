package b24test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// REST 3.0 on the fake portal (api-reference/rest-v3.md): requests under
// /rest/api/<user>/<secret>/<method>, JSON bodies only, the unified envelope
// and error shape ({"error": {"code", "message", "validation"}}), the
// batch method with a JSON array at the root, and the idempotency store: a
// successful write sent with an Idempotency-Key is stored, and a repeat with
// the same key and the same body is answered from the store with
// Idempotent-Replayed: true without running the method; the same key with
// another body gets 422 IDEMPOTENCYKEYREUSEDEXCEPTION, a key that is not 1
// to 255 printable ASCII characters 400 INVALIDIDEMPOTENCYKEYEXCEPTION.
// Handlers are shared with REST 2 (Handle answers both); a handler reads
// Call.Version through Fallback when it must tell them apart.

const v3Exception = "BITRIX_REST_V3_EXCEPTION_"

// v3State is the portal's REST 3.0 state.
type v3State struct {
	mu       sync.Mutex
	store    map[string]storedAnswer // by method + key
	inflight map[string]int          // requests being served, by method + key
	overlaps int                     // requests that arrived while one with their key was in flight
}

type storedAnswer struct {
	bodyHash [32]byte
	answer   []byte
}

// KeyOverlaps counts REST 3.0 requests that arrived while another request
// with the same method and Idempotency-Key was still being served: what a
// client must never do, since the docs warn both may run.
func (p *Portal) KeyOverlaps() int {
	p.v3.mu.Lock()
	defer p.v3.mu.Unlock()
	return p.v3.overlaps
}

// StoredAnswers counts the answers in the idempotency store.
func (p *Portal) StoredAnswers() int {
	p.v3.mu.Lock()
	defer p.v3.mu.Unlock()
	return len(p.v3.store)
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// serveV3 answers one request under /rest/api/.
func (p *Portal) serveV3(w http.ResponseWriter, r *http.Request, method string, started time.Time) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	call := Call{Method: method, Version: 3}
	if err != nil {
		p.record(call)
		writeError(w, 3, &b24.APIError{Status: 400, Code: v3Exception + "INVALIDJSONEXCEPTION", Description: "reading the body: " + err.Error()})
		return
	}
	_, hasKey := r.Header["Idempotency-Key"]
	key := r.Header.Get("Idempotency-Key")
	call.IdempotencyKey = key
	batch := strings.EqualFold(method, "batch")
	var params map[string]any
	var calls []v3BatchCall
	body = bytes.TrimSpace(body)
	switch {
	case len(body) > 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		err = fmt.Errorf("the body must be JSON with Content-Type: application/json")
	case batch:
		err = decodeNumbers(body, &calls)
	case len(body) > 0:
		err = decodeNumbers(body, &params)
	}
	if params == nil {
		params = map[string]any{}
	}
	call.Params = params
	if err != nil {
		p.record(call)
		writeError(w, 3, &b24.APIError{Status: 400, Code: v3Exception + "INVALIDJSONEXCEPTION", Description: "Invalid JSON: " + err.Error()})
		return
	}
	if hasKey && !validIdempotencyKey(key) {
		p.record(call)
		writeError(w, 3, &b24.APIError{Status: 400, Code: v3Exception + "INVALIDIDEMPOTENCYKEYEXCEPTION",
			Description: "The Idempotency-Key must be 1 to 255 printable ASCII characters"})
		return
	}
	if p.bucket != nil && !p.bucket.take() {
		call.Limited = true
		p.record(call)
		writeError(w, 3, &b24.APIError{Status: 503, Code: "QUERY_LIMIT_EXCEEDED", Description: "Too many requests"})
		return
	}
	scope := strings.ToLower(method) + "\x00" + key
	if key != "" {
		p.v3.mu.Lock()
		if p.v3.inflight == nil {
			p.v3.inflight = map[string]int{}
		}
		if p.v3.inflight[scope] > 0 {
			p.v3.overlaps++
		}
		p.v3.inflight[scope]++
		p.v3.mu.Unlock()
		defer func() {
			p.v3.mu.Lock()
			p.v3.inflight[scope]--
			p.v3.mu.Unlock()
		}()
	}
	f, faulted := p.nextFault(method, func(Fault) bool { return true })
	if faulted {
		call.Fault = f.Kind
	}
	idx := p.record(call)
	if faulted && f.beforeRun() {
		p.writeFault(w, r, 3, f, nil)
		return
	}
	if faulted && f.Kind == FaultSlow {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		case <-p.closing:
		}
	}
	hash := sha256.Sum256(body)
	if key != "" {
		p.v3.mu.Lock()
		st, ok := p.v3.store[scope]
		p.v3.mu.Unlock()
		if ok {
			if st.bodyHash != hash {
				writeError(w, 3, &b24.APIError{Status: 422, Code: v3Exception + "IDEMPOTENCYKEYREUSEDEXCEPTION",
					Description: "The idempotency key was already used with a different request body"})
				return
			}
			p.mu.Lock()
			p.calls[idx].Replayed = true
			p.mu.Unlock()
			w.Header().Set("Idempotency-Key", key)
			w.Header().Set("Idempotent-Replayed", "true")
			p.writeV3Answer(w, r, f, faulted, st.answer)
			return
		}
	}

	var env map[string]any
	if batch {
		p.markRan(idx)
		env = map[string]any{"result": p.runBatchV3(calls)}
	} else {
		res, apiErr, ran := p.run(method, 3, params)
		if ran {
			p.markRan(idx)
		}
		if apiErr != nil {
			writeError(w, 3, apiErr)
			return
		}
		env = map[string]any{"result": res.Value}
	}
	env["time"] = p.callTiming(method, started)
	answer, err := json.Marshal(env)
	if err != nil {
		writeError(w, 3, &b24.APIError{Status: 500, Code: "INTERNAL_SERVER_ERROR", Description: "encoding the answer: " + err.Error()})
		return
	}
	if key != "" {
		// Stored on success, before the answer goes out: a write whose
		// answer is lost on the way is in the store, as on the portal.
		p.v3.mu.Lock()
		if p.v3.store == nil {
			p.v3.store = map[string]storedAnswer{}
		}
		p.v3.store[scope] = storedAnswer{bodyHash: hash, answer: answer}
		p.v3.mu.Unlock()
		w.Header().Set("Idempotency-Key", key)
	}
	p.writeV3Answer(w, r, f, faulted, answer)
}

// writeV3Answer writes a success body, unless a fault that strikes after
// the run mangles it.
func (p *Portal) writeV3Answer(w http.ResponseWriter, r *http.Request, f Fault, faulted bool, answer []byte) {
	if faulted && !f.beforeRun() && f.Kind != FaultSlow {
		p.writeFault(w, r, 3, f, answer)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(answer)
}

func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// v3BatchCall is one element of a REST 3.0 batch body.
type v3BatchCall struct {
	Method string         `json:"method"`
	Query  map[string]any `json:"query"`
}

var v3RefRE = regexp.MustCompile(`^\$result\[(\d+)\]((?:\[[^\]]*\])*)$`)

// runBatchV3 runs the calls in order. A parameter value that is a whole
// reference string "$result[i][a][b]" takes the JSON value at that path of
// the result of call i (structure kept: a number stays a number, a list a
// list); a call whose reference does not resolve, or that fails, has
// {"error": {...}} in its place. More than 50 calls: the extra ones fail.
func (p *Portal) runBatchV3(calls []v3BatchCall) []any {
	results := make([]any, len(calls))
	failed := make([]bool, len(calls))
	for i, c := range calls {
		fail := func(e *b24.APIError) {
			failed[i] = true
			obj := map[string]any{"code": e.Code, "message": e.Description}
			if len(e.Validation) > 0 {
				obj["validation"] = e.Validation
			}
			results[i] = map[string]any{"error": obj}
		}
		call := Call{Method: c.Method, Version: 3, Params: c.Query, BatchKey: strconv.Itoa(i)}
		if i >= maxBatch {
			p.record(call)
			fail(&b24.APIError{Code: "ERROR_BATCH_LENGTH_EXCEEDED", Description: "Max batch length exceeded"})
			continue
		}
		q, err := substituteV3(c.Query, results, failed, i)
		if err != nil {
			p.record(call)
			fail(&b24.APIError{Code: v3Exception + "VALIDATION_REQUESTVALIDATIONEXCEPTION", Description: err.Error()})
			continue
		}
		params, _ := q.(map[string]any)
		if params == nil {
			params = map[string]any{}
		}
		call.Params = params
		if f, ok := p.nextFault(c.Method, Fault.inBatch); ok {
			call.Fault = f.Kind
			p.record(call)
			code, desc := f.code()
			fail(&b24.APIError{Code: code, Description: desc})
			continue
		}
		idx := p.record(call)
		res, apiErr, ran := p.run(c.Method, 3, params)
		if ran {
			p.markRan(idx)
		}
		if apiErr != nil {
			fail(apiErr)
			continue
		}
		v, err := generic(res.Value)
		if err != nil {
			fail(&b24.APIError{Code: "INTERNAL_SERVER_ERROR", Description: err.Error()})
			continue
		}
		results[i] = v
	}
	return results
}

// substituteV3 replaces whole-reference strings in v with earlier results.
func substituteV3(v any, results []any, failed []bool, at int) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, err := substituteV3(x, results, failed, at)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := substituteV3(x, results, failed, at)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case string:
		m := v3RefRE.FindStringSubmatch(t)
		if m == nil {
			return t, nil
		}
		n, _ := strconv.Atoi(m[1])
		if n >= at {
			return nil, fmt.Errorf("reference %s to a call that does not come earlier", t)
		}
		if failed[n] {
			return nil, fmt.Errorf("reference %s to a call that failed", t)
		}
		cur := results[n]
		if path := strings.TrimSuffix(strings.TrimPrefix(m[2], "["), "]"); path != "" {
			for _, seg := range strings.Split(path, "][") {
				switch c := cur.(type) {
				case map[string]any:
					x, ok := c[seg]
					if !ok {
						return nil, fmt.Errorf("reference %s: no %q in the result", t, seg)
					}
					cur = x
				case []any:
					k, err := strconv.Atoi(seg)
					if err != nil || k < 0 || k >= len(c) {
						return nil, fmt.Errorf("reference %s: %q is not an index", t, seg)
					}
					cur = c[k]
				default:
					return nil, fmt.Errorf("reference %s: %q goes into a scalar", t, seg)
				}
			}
		}
		return cur, nil
	}
	return v, nil
}

// ListOptionsV3 says how ServeListV3 lays out a REST 3.0 list's answers.
type ListOptionsV3 struct {
	IDField string // "id" by default
	// MaxLimit is the most rows a page holds whatever the limit asked
	// (1000 by default, the documented maximum); set it lower to play a
	// portal that caps pages tighter.
	MaxLimit int
}

// ServeListV3 answers method from rows (any slice encoding/json turns into
// an array of objects) the way REST 3.0 lists page:
//
//   - pagination {page, limit, offset}: limit rows (50 by default, at most
//     MaxLimit; 0 or a non-number is 400 INVALIDPAGINATIONEXCEPTION) from
//     offset, or from (page-1)*limit when no offset is given.
//   - filter: a list of [field, op, value] and [field, value] conditions,
//     all of which must hold, and {"logic": "or", "conditions": [...]}
//     groups; op is =, !=, >, >=, <, <=, in or between (anything else is 400
//     UNKNOWNFILTEROPERATOREXCEPTION). Values compare as numbers, dates or
//     text, as in ServeList.
//   - order: {field: "ASC"|"DESC"}, keys in order; by id otherwise.
//   - select: the fields to return (the id always); all fields when absent.
//
// The answer is {"items": [...]}, with no total and no next.
func (p *Portal) ServeListV3(method string, rows any, lo ListOptionsV3) {
	if lo.IDField == "" {
		lo.IDField = "id"
	}
	if lo.MaxLimit <= 0 {
		lo.MaxLimit = 1000
	}
	raw, err := json.Marshal(rows)
	if err != nil {
		panic(fmt.Sprintf("b24test: ServeListV3(%s): %v", method, err))
	}
	var all []map[string]any
	if err := decodeNumbers(raw, &all); err != nil {
		panic(fmt.Sprintf("b24test: ServeListV3(%s): rows are not a list of objects: %v", method, err))
	}
	p.Handle(method, func(params map[string]any) (any, error) { return listV3(all, params, lo) })
}

// listV3 answers one REST 3.0 list call from all, as ServeListV3 says.
func listV3(all []map[string]any, params map[string]any, lo ListOptionsV3) (any, error) {
	limit, offset := int64(50), int64(-1)
	var page int64 = 1
	if pg, ok := params["pagination"].(map[string]any); ok {
		for k, dst := range map[string]*int64{"limit": &limit, "offset": &offset, "page": &page} {
			if _, present := pg[k]; !present {
				continue
			}
			n, ok := Int(pg, k)
			if !ok || n < 0 || k == "limit" && n == 0 || k == "page" && n == 0 {
				return nil, Errorf(400, v3Exception+"INVALIDPAGINATIONEXCEPTION", "pagination.%s must be a positive number", k)
			}
			*dst = n
		}
	}
	limit = min(limit, int64(lo.MaxLimit))
	if offset < 0 {
		offset = (page - 1) * limit
	}
	var conds []any
	if f, ok := params["filter"]; ok && f != nil {
		list, ok := f.([]any)
		if !ok {
			return nil, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "filter must be a list of conditions")
		}
		conds = list
	}
	var sel []map[string]any
	for _, row := range all {
		hit, err := matchV3(row, conds)
		if err != nil {
			return nil, err
		}
		if hit {
			sel = append(sel, row)
		}
	}
	keys := v3OrderKeys(params["order"], lo.IDField)
	sort.SliceStable(sel, func(a, b int) bool {
		for _, k := range keys {
			x, _ := lookupParam(sel[a], k.field)
			y, _ := lookupParam(sel[b], k.field)
			if c := compareValues(scalarText(x), scalarText(y)); c != 0 {
				return (c < 0) != k.desc
			}
		}
		return false
	})
	from, to := min(offset, int64(len(sel))), min(offset+limit, int64(len(sel)))
	items := make([]map[string]any, 0, to-from)
	fields, _ := params["select"].([]any)
	for _, row := range sel[from:to] {
		items = append(items, selectV3(row, fields, lo.IDField))
	}
	return map[string]any{"items": items}, nil
}

type v3OrderKey struct {
	field string
	desc  bool
}

func v3OrderKeys(order any, idField string) []v3OrderKey {
	m, ok := order.(map[string]any)
	if !ok || len(m) == 0 {
		return []v3OrderKey{{field: idField}}
	}
	// The handler sees a map, which has lost the keys' order: several keys
	// apply in name order.
	var keys []v3OrderKey
	for _, k := range sortedKeys(m) {
		keys = append(keys, v3OrderKey{field: k, desc: strings.EqualFold(scalarText(m[k]), "DESC")})
	}
	return keys
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// selectV3 keeps the selected fields of row, and its id. A dotted name
// ("responsible.name") selects a field of a related object: the answer
// holds the object with the fields selected of it, as tasks.task.get's
// page shows.
func selectV3(row map[string]any, fields []any, idField string) map[string]any {
	if len(fields) == 0 {
		return row
	}
	out := map[string]any{idField: row[idField]}
	for _, f := range fields {
		selectPath(out, row, strings.Split(scalarText(f), "."))
	}
	return out
}

// selectPath copies the value at path from src into dst, creating the
// objects on the way; a list of related objects has the rest of the path
// selected of each.
func selectPath(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	switch t := v.(type) {
	case map[string]any:
		sub, _ := dst[path[0]].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			dst[path[0]] = sub
		}
		selectPath(sub, t, path[1:])
	case []any:
		subs, _ := dst[path[0]].([]any)
		if len(subs) != len(t) {
			subs = make([]any, len(t))
			dst[path[0]] = subs
		}
		for i, el := range t {
			m, ok := el.(map[string]any)
			if !ok {
				continue
			}
			sub, _ := subs[i].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				subs[i] = sub
			}
			selectPath(sub, m, path[1:])
		}
	}
}

// matchV3 applies a REST 3.0 filter (AND of its elements) to a row.
func matchV3(row map[string]any, conds []any) (bool, error) {
	for _, c := range conds {
		ok, err := matchV3One(row, c)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchV3One(row map[string]any, c any) (bool, error) {
	switch t := c.(type) {
	case map[string]any:
		if !strings.EqualFold(scalarText(t["logic"]), "or") {
			return false, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "a filter group needs \"logic\": \"or\"")
		}
		list, _ := t["conditions"].([]any)
		for _, x := range list {
			ok, err := matchV3One(row, x)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	case []any:
		if len(t) < 2 || len(t) > 3 {
			return false, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "a filter condition is [field, operator, value] or [field, value]")
		}
		field := scalarText(t[0])
		op, want := "=", t[len(t)-1]
		if len(t) == 3 {
			op = strings.ToLower(scalarText(t[1]))
		} else if _, isList := want.([]any); isList {
			op = "in"
		}
		switch op {
		case "=", ">", ">=", "<", "<=":
			return fieldCond{op: op, field: field, want: want}.match(row), nil
		case "!=":
			return fieldCond{op: "!", field: field, want: want}.match(row), nil
		case "in":
			return fieldCond{op: "@", field: field, want: want}.match(row), nil
		case "between":
			r, ok := want.([]any)
			if !ok || len(r) != 2 {
				return false, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "between takes [from, to]")
			}
			return fieldCond{op: ">=", field: field, want: r[0]}.match(row) && fieldCond{op: "<=", field: field, want: r[1]}.match(row), nil
		}
		return false, Errorf(400, v3Exception+"UNKNOWNFILTEROPERATOREXCEPTION", "Unknown filter operator `%s`", op)
	}
	return false, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "a filter element is a condition or a group")
}

// v3DocumentedPage pages a documented REST 3.0 list answer ({"items": [...]})
// as ServeListV3 would, so that iterators over documented answers end:
// pagination offset/limit (or page), the top-level conditions of filter on
// id, and an order by id. Other conditions are ignored, as for REST 2: the
// documented rows are samples, not data. ok is false for answers without a
// list of items.
func v3DocumentedPage(result json.RawMessage, params map[string]any) (v any, ok bool, err error) {
	var wrapper map[string]any
	if decodeNumbers(result, &wrapper) != nil {
		return nil, false, nil
	}
	items, isList := wrapper["items"].([]any)
	if !isList {
		return nil, false, nil
	}
	var idConds []any
	if list, _ := params["filter"].([]any); list != nil {
		for _, c := range list {
			if t, _ := c.([]any); len(t) >= 2 && scalarText(t[0]) == "id" {
				idConds = append(idConds, c)
			}
		}
	}
	var rows []map[string]any
	for _, it := range items {
		row, isObj := it.(map[string]any)
		if !isObj {
			return nil, false, nil
		}
		hit, err := matchV3(row, idConds)
		if err != nil {
			return nil, true, err
		}
		if hit {
			rows = append(rows, row)
		}
	}
	if m, _ := params["order"].(map[string]any); m != nil {
		if dir, has := m["id"]; has {
			desc := strings.EqualFold(scalarText(dir), "DESC")
			sort.SliceStable(rows, func(a, b int) bool {
				c := compareValues(scalarText(rows[a]["id"]), scalarText(rows[b]["id"]))
				return c != 0 && (c < 0) != desc
			})
		}
	}
	limit, offset, page := int64(50), int64(-1), int64(1)
	if pg, _ := params["pagination"].(map[string]any); pg != nil {
		if n, ok := Int(pg, "limit"); ok && n > 0 {
			limit = n
		}
		if n, ok := Int(pg, "offset"); ok && n >= 0 {
			offset = n
		}
		if n, ok := Int(pg, "page"); ok && n > 0 {
			page = n
		}
	}
	if offset < 0 {
		offset = (page - 1) * limit
	}
	from, to := min(offset, int64(len(rows))), min(offset+limit, int64(len(rows)))
	out := make(map[string]any, len(wrapper))
	for k, x := range wrapper {
		out[k] = x
	}
	out["items"] = append([]map[string]any{}, rows[from:to]...)
	return out, true, nil
}
