package b24test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// Secret is the webhook secret of every fake portal. Tests assert it never
// shows up in errors or logs.
const Secret = "b24testS3cr3tXq7"

// UserID is the webhook's user.
const UserID = "1"

// HandlerFunc answers one method. params are the request's parameters:
// from a JSON body, numbers arrive as json.Number; from a batch command or a
// form body, every leaf is a string. Use Int and Str to read either.
//
// Return the result value (anything encoding/json can encode), a Result to
// set total/next, or an error: a *b24.APIError is answered as the portal
// would (its Status, default 400), any other error as 500 INTERNAL_SERVER_ERROR.
type HandlerFunc func(params map[string]any) (any, error)

// Result lets a handler set the envelope's total and next.
type Result struct {
	Value   any
	Total   int
	Next    int
	HasNext bool
}

// Call is one method call the portal received.
type Call struct {
	Method   string // as sent, ".json" stripped
	Version  int    // 2, or 3 for /rest/api/
	Params   map[string]any
	BatchKey string    // the command's key when it ran inside a batch
	Fault    FaultKind // the fault injected into this call, if any
	Limited  bool      // refused by the portal's rate-limit bucket
	Ran      bool      // the handler ran (the call had its effect)

	IdempotencyKey string // REST 3.0: the Idempotency-Key header, if sent
	Replayed       bool   // REST 3.0: answered from the idempotency store, not run
}

// Portal is a fake Bitrix24 portal on a loopback httptest server.
type Portal struct {
	srv       *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	handlers map[string]HandlerFunc // by lower-case method
	// fallback answers methods without a handler; version is 2, or 3 for /rest/api/.
	fallback  func(method string, version int, params map[string]any) (any, error)
	faults    map[string][]Fault // by lower-case method
	calls     []Call
	limited   int
	operating map[string]operating // by lower-case method

	bucket *leakyBucket

	checks     checkLevel // requests checked against the documented parameters
	clientOpts []b24.Option

	exec  sync.Mutex    // handlers run one at a time, so they need no locking
	cost  time.Duration // WithServerCost: the time each executed command takes
	meter *opMeter      // WithOperatingLimit (operating.go)

	oauth *AuthServer // RegisterApp: the authorization server and the application's tokens

	v3 v3State // REST 3.0: the idempotency store (v3.go)

	state    *state       // WithState: the records of the entity families (state.go)
	listener net.Listener // WithListener: serve here instead of a new loopback port
}

// PortalOption configures a Portal.
type PortalOption func(*Portal)

// WithRateLimit makes the portal enforce a leaky bucket as Bitrix24 does:
// each HTTP request adds one, the counter drains perSecond a second, and a
// request that would take it past burst is answered 503 QUERY_LIMIT_EXCEEDED.
// A batch counts as one request. Off by default.
func WithRateLimit(burst int, perSecond float64) PortalOption {
	return func(p *Portal) { p.bucket = &leakyBucket{burst: float64(burst), rate: perSecond} }
}

// WithServerCost makes every executed method command take d, as the server
// work of a real portal does: a batch of 50 commands takes 50·d. The wait
// happens outside the handler lock, so concurrent requests overlap as they
// do on a portal; it is what makes request counts and concurrency show in
// benchmarks against this portal.
func WithServerCost(d time.Duration) PortalOption { return func(p *Portal) { p.cost = d } }

// WithStandardLimits enforces the cloud default: 50 burst, 2 a second.
func WithStandardLimits() PortalOption { return WithRateLimit(b24.DefaultBurst, b24.DefaultPerSecond) }

// NewPortal starts a portal that is closed when the test ends.
func NewPortal(tb testing.TB, opts ...PortalOption) *Portal {
	tb.Helper()
	p := Start(opts...)
	tb.Cleanup(p.Close)
	return p
}

// Start starts a portal outside a test (examples, demos); call Close when done.
func Start(opts ...PortalOption) *Portal {
	p := &Portal{
		closing:   make(chan struct{}),
		handlers:  map[string]HandlerFunc{},
		faults:    map[string][]Fault{},
		operating: map[string]operating{},
	}
	for _, o := range opts {
		o(p)
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	if p.listener != nil {
		p.srv.Listener.Close()
		p.srv.Listener = p.listener
	}
	p.srv.Start()
	return p
}

// Close stops the portal, cutting slow answers short. It is safe to call twice.
func (p *Portal) Close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
}

// WebhookURL is the portal's incoming webhook, with Secret in it.
func (p *Portal) WebhookURL() string { return p.srv.URL + "/rest/" + UserID + "/" + Secret + "/" }

// URL is the portal's root.
func (p *Portal) URL() string { return p.srv.URL }

// Handle answers method with fn (replacing any earlier answer). Method names
// are matched case-insensitively, as the portal does.
func (p *Portal) Handle(method string, fn HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[strings.ToLower(method)] = fn
}

// Answer answers method with a fixed result.
func (p *Portal) Answer(method string, result any) {
	p.Handle(method, func(map[string]any) (any, error) { return result, nil })
}

// AnswerRaw answers method with a fixed result given as JSON, such as the
// example response a docs page shows.
func (p *Portal) AnswerRaw(method string, resultJSON json.RawMessage) {
	raw := append(json.RawMessage(nil), resultJSON...)
	p.Handle(method, func(map[string]any) (any, error) { return raw, nil })
}

// Fallback answers every method that has no handler. Without one, such
// methods get 404 ERROR_METHOD_NOT_FOUND.
func (p *Portal) Fallback(fn func(method string, params map[string]any) (any, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fallback = func(method string, _ int, params map[string]any) (any, error) { return fn(method, params) }
}

// Fail queues f for method: the next f.Times calls of it fail that way.
// Faults queue in order. Use "batch" to fail a whole batch request; a fault
// queued for a method that runs inside a batch strikes that command only if
// it is an API-level fault (query limit, operation limit, API error).
func (p *Portal) Fail(method string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(method)
	p.faults[k] = append(p.faults[k], f)
}

type operating struct {
	seconds float64
	resetAt time.Time
}

// SetOperating makes successful answers of method report time.operating
// (the method's accumulated execution time) and time.operating_reset_at, as
// the cloud portal does. A client uses the last reset time it saw to wait
// out a later 429 that carries none.
func (p *Portal) SetOperating(method string, seconds float64, resetAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.operating[strings.ToLower(method)] = operating{seconds, resetAt}
}

// Calls returns the calls received so far, batch commands included.
func (p *Portal) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Ran counts the calls of method whose handler actually ran.
func (p *Portal) Ran(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.Ran && strings.EqualFold(c.Method, method) {
			n++
		}
	}
	return n
}

// Requests counts HTTP requests for method (a batch is one "batch" request),
// including refused and faulted ones.
func (p *Portal) Requests(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.BatchKey == "" && strings.EqualFold(c.Method, method) {
			n++
		}
	}
	return n
}

// Limited counts requests the portal's bucket refused.
func (p *Portal) Limited() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limited
}

// nextFault takes one use of the first fault queued for method, if any
// (only faults accepted by keep).
func (p *Portal) nextFault(method string, keep func(Fault) bool) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(method)
	q := p.faults[k]
	if len(q) == 0 || !keep(q[0]) {
		return Fault{}, false
	}
	f := q[0]
	q[0].Times--
	if q[0].Times <= 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(p.faults, k)
	} else {
		p.faults[k] = q
	}
	return f, true
}

// record appends c and returns its index for markRan.
func (p *Portal) record(c Call) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	if c.Limited {
		p.limited++
	}
	return len(p.calls) - 1
}

func (p *Portal) markRan(i int) {
	p.mu.Lock()
	p.calls[i].Ran = true
	p.mu.Unlock()
}

func (p *Portal) handler(method string, version int) (HandlerFunc, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h, ok := p.handlers[strings.ToLower(method)]; ok {
		return h, true
	}
	if h, ok := p.stateHandler(method, version); ok {
		return h, true
	}
	if fb := p.fallback; fb != nil {
		return func(params map[string]any) (any, error) { return fb(method, version, params) }, true
	}
	return nil, false
}

// serve is the portal's HTTP entry point: /rest/[api/]<user>/<secret>/<method>.
func (p *Portal) serve(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	path := strings.Trim(r.URL.Path, "/")
	segs := strings.Split(path, "/")
	version := 2
	if len(segs) > 1 && segs[0] == "rest" && segs[1] == "api" {
		version = 3
		segs = append(segs[:1], segs[2:]...)
	}
	if p.serveOAuth(w, r) { // the authorization server's endpoints (oauth.go)
		return
	}
	// An application's call: /rest/<method> with the access token in "auth".
	appCall := len(segs) == 2 && segs[0] == "rest" && p.app() != nil
	if !appCall && (len(segs) != 4 || segs[0] != "rest") {
		writeError(w, version, &b24.APIError{Status: 404, Code: "ERROR_METHOD_NOT_FOUND", Description: "Method not found!"})
		return
	}
	if !appCall && (segs[1] != UserID || segs[2] != Secret) {
		writeError(w, version, &b24.APIError{Status: 401, Code: "NO_AUTH_FOUND", Description: "Wrong authorization data"})
		return
	}
	method := strings.TrimSuffix(segs[len(segs)-1], ".json")
	if version == 3 {
		p.serveV3(w, r, method, started) // v3.go
		return
	}
	params, cmdOrder, err := readParams(r)
	call := Call{Method: method, Version: version, Params: params}
	if err != nil {
		p.record(call)
		writeError(w, version, &b24.APIError{Status: 400, Code: "INVALID_REQUEST", Description: err.Error()})
		return
	}
	if appCall {
		if e := p.app().authorize(params); e != nil {
			p.record(call)
			writeError(w, version, e)
			return
		}
	}
	if p.bucket != nil && !p.bucket.take() {
		call.Limited = true
		p.record(call)
		writeError(w, version, &b24.APIError{Status: 503, Code: "QUERY_LIMIT_EXCEEDED", Description: "Too many requests"})
		return
	}
	f, faulted := p.nextFault(method, func(Fault) bool { return true })
	if faulted {
		call.Fault = f.Kind
	}
	idx := p.record(call) // on arrival, so Requests counts calls still in flight
	if faulted && f.beforeRun() {
		p.writeFault(w, r, version, f, nil)
		return
	}
	if faulted && f.Kind == FaultSlow {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		case <-p.closing:
		}
	}

	var env map[string]any
	var apiErr *b24.APIError
	if strings.EqualFold(method, "batch") {
		p.markRan(idx)
		env = p.runBatch(params, cmdOrder)
	} else {
		var res Result
		var ran bool
		res, apiErr, ran = p.run(method, version, params)
		if ran {
			p.markRan(idx)
		}
		if apiErr == nil {
			env = map[string]any{"result": res.Value}
			if res.HasNext {
				env["next"] = res.Next
			}
			if res.Total != 0 || res.HasNext {
				env["total"] = res.Total
			}
		}
	}
	if apiErr != nil {
		writeError(w, version, apiErr)
		return
	}
	env["time"] = p.callTiming(method, started)
	body, err := json.Marshal(env)
	if err != nil {
		writeError(w, version, &b24.APIError{Status: 500, Code: "INTERNAL_SERVER_ERROR", Description: "encoding the answer: " + err.Error()})
		return
	}
	if faulted && !f.beforeRun() && f.Kind != FaultSlow {
		p.writeFault(w, r, version, f, body)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

// run calls the method's handler; ran is false when there was none.
func (p *Portal) run(method string, version int, params map[string]any) (res Result, apiErr *b24.APIError, ran bool) {
	h, ok := p.handler(method, version)
	if !ok {
		return Result{}, &b24.APIError{Status: 404, Code: "ERROR_METHOD_NOT_FOUND", Description: "Method not found!"}, false
	}
	// A wrong request is refused before anything runs, as on the portal.
	if e := p.checkRequest(method, version, params); e != nil {
		return Result{}, e, false
	}
	if p.meter != nil {
		if e := p.meter.admit(method, time.Now()); e != nil {
			return Result{}, e, false
		}
	}
	if p.cost > 0 {
		time.Sleep(p.cost)
	}
	p.exec.Lock()
	t0 := time.Now()
	v, err := callHandler(h, params)
	t1 := time.Now()
	p.exec.Unlock()
	if p.meter != nil {
		// The method's work is the server cost plus the handler's own time.
		// The sleep's overshoot on a loaded host and the wait for the
		// handler lock (another client's command) are not its work: counted,
		// they made the metered sums follow the test machine's load.
		p.meter.add(method, t1, (p.cost + t1.Sub(t0)).Seconds())
	}
	if err != nil {
		return Result{}, asAPIError(err), true
	}
	switch t := v.(type) {
	case Result:
		return t, nil, true
	case *Result:
		if t != nil {
			return *t, nil, true
		}
	}
	return Result{Value: v}, nil, true
}

// callHandler turns a handler's panic into an error, so one bad handler
// fails its call instead of the whole test binary.
func callHandler(h HandlerFunc, params map[string]any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("b24test: handler panicked: %v", r)
		}
	}()
	return h(params)
}

func asAPIError(err error) *b24.APIError {
	var e *b24.APIError
	if errors.As(err, &e) {
		c := *e
		if c.Status == 0 {
			c.Status = http.StatusBadRequest
		}
		return &c
	}
	return &b24.APIError{Status: 500, Code: "INTERNAL_SERVER_ERROR", Description: err.Error()}
}

// Errorf builds the *b24.APIError a handler returns to answer an API error.
func Errorf(status int, code, format string, args ...any) error {
	return &b24.APIError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func (p *Portal) writeFault(w http.ResponseWriter, r *http.Request, version int, f Fault, body []byte) {
	switch f.Kind {
	case FaultQueryLimit, FaultError:
		code, desc := f.code()
		writeError(w, version, &b24.APIError{Status: f.status(), Code: code, Description: desc})
	case FaultOperationLimit:
		code, desc := f.code()
		env := errorBody(version, &b24.APIError{Code: code, Description: desc})
		tm := timing(time.Now(), time.Now())
		if !f.ResetAt.IsZero() {
			tm["operating_reset_at"] = unixSeconds(f.ResetAt)
		}
		env["time"] = tm
		writeJSON(w, f.status(), env)
	case FaultConnReset:
		hijackClose(w)
	case FaultCutBody:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // net/http drops the connection quietly
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body[:len(body)/2])
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.status())
		fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<p>upstream failed for %s</p>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			f.status(), http.StatusText(f.status()), f.status(), http.StatusText(f.status()), r.URL.Path)
	}
}

// hijackClose drops the connection with a TCP reset and no answer.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST instead of FIN
	}
	conn.Close()
}

func errorBody(version int, e *b24.APIError) map[string]any {
	if version == 3 {
		obj := map[string]any{"code": e.Code, "message": e.Description}
		if len(e.Validation) > 0 {
			obj["validation"] = e.Validation
		}
		return map[string]any{"error": obj}
	}
	return map[string]any{"error": e.Code, "error_description": e.Description}
}

func writeError(w http.ResponseWriter, version int, e *b24.APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, errorBody(version, e))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// callTiming is the "time" block of a call of method that began at started,
// with the operating time SetOperating gave the method, if any.
func (p *Portal) callTiming(method string, started time.Time) map[string]any {
	tm := timing(started, time.Now())
	p.mu.Lock()
	defer p.mu.Unlock()
	if op, ok := p.operating[strings.ToLower(method)]; ok {
		tm["operating"] = op.seconds
		tm["operating_reset_at"] = unixSeconds(op.resetAt)
	} else if p.meter != nil {
		if sum, reset, ok := p.meter.report(method, time.Now()); ok {
			tm["operating"] = sum
			tm["operating_reset_at"] = unixSeconds(reset)
		}
	}
	return tm
}

// timing renders the envelope's "time" block.
func timing(start, finish time.Time) map[string]any {
	s, f := unixSeconds(start), unixSeconds(finish)
	return map[string]any{
		"start": s, "finish": f, "duration": f - s, "processing": f - s,
		"date_start": start.Format(time.RFC3339), "date_finish": finish.Format(time.RFC3339),
	}
}

// unixSeconds is t as the portal writes times: unix seconds with a fraction.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// readParams decodes the request's parameters from the query string and a
// JSON or form body. For a JSON body it also returns the order of the keys of
// "cmd", which a batch runs in.
func readParams(r *http.Request) (map[string]any, []string, error) {
	params := map[string]any{}
	if q := r.URL.RawQuery; q != "" {
		m, err := b24.DecodeForm(q)
		if err != nil {
			return nil, nil, fmt.Errorf("query string: %v", err)
		}
		params = m
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the body: %v", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return params, nil, nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		m, err := b24.DecodeForm(string(body))
		if err != nil {
			return nil, nil, err
		}
		for k, v := range m {
			params[k] = v
		}
		return params, formCmdOrder(string(body)), nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	for k, v := range m {
		params[k] = v
	}
	if _, ok := m["cmd"]; !ok {
		return params, nil, nil // not a batch: no order to read
	}
	return params, jsonCmdOrder(body), nil
}

// jsonCmdOrder returns the keys of the top-level "cmd" object in body order.
func jsonCmdOrder(body []byte) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	raw, ok := top["cmd"]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// formCmdOrder returns the keys of cmd[...] in the order a form body has them.
func formCmdOrder(body string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, pair := range strings.Split(body, "&") {
		k, _, _ := strings.Cut(pair, "=")
		k = strings.NewReplacer("%5B", "[", "%5D", "]", "%5b", "[", "%5d", "]").Replace(k)
		if rest, ok := strings.CutPrefix(k, "cmd["); ok {
			if i := strings.IndexByte(rest, ']'); i >= 0 && !seen[rest[:i]] {
				seen[rest[:i]] = true
				keys = append(keys, rest[:i])
			}
		}
	}
	return keys
}

// leakyBucket is the portal's request counter.
type leakyBucket struct {
	mu    sync.Mutex
	burst float64
	rate  float64
	level float64
	last  time.Time
}

func (b *leakyBucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if !b.last.IsZero() {
		b.level = math.Max(0, b.level-now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.level+1 > b.burst {
		return false
	}
	b.level++
	return true
}

// Int reads an integer parameter sent as a JSON number or a string; ok is
// false when it is absent or not a whole number.
func Int(params map[string]any, key string) (int64, bool) {
	v, ok := params[key]
	if !ok {
		return 0, false
	}
	return toInt(v)
}

func toInt(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(t), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return n, err == nil
	case float64:
		return int64(t), t == math.Trunc(t)
	case int:
		return int64(t), true
	case int64:
		return t, true
	}
	return 0, false
}

// Str reads a parameter as text, whatever form it arrived in.
func Str(params map[string]any, key string) string {
	v, ok := params[key]
	if !ok || v == nil {
		return ""
	}
	return scalarText(v)
}

func scalarText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		if t {
			return "1"
		}
		return ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// Map reads a nested object parameter (filter, order, fields).
func Map(params map[string]any, key string) map[string]any {
	m, _ := params[key].(map[string]any)
	return m
}

// generic round-trips v through JSON into maps, lists and json.Number, the
// shapes batch references walk.
func generic(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	err = dec.Decode(&out)
	return out, err
}

// Deliver posts an event payload to h as Bitrix24 does: form-encoded with PHP
// bracket keys. It returns the status the handler answered.
func (p *Portal) Deliver(ctx context.Context, h http.Handler, payload map[string]any) (int, error) {
	body, err := encodeEvent(payload)
	if err != nil {
		return 0, err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(body))
	setEventHeaders(req.Header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, nil
}

// DeliverURL posts an event payload to a receiver's URL the way Deliver does.
func (p *Portal) DeliverURL(ctx context.Context, url string, payload map[string]any) (int, error) {
	body, err := encodeEvent(payload)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	setEventHeaders(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// encodeEvent writes an event payload as the portal sends it: form-encoded
// with PHP bracket keys.
func encodeEvent(payload map[string]any) (string, error) {
	body, err := b24.MarshalForm(payload)
	if err != nil {
		return "", fmt.Errorf("b24test: encoding the event: %w", err)
	}
	return body, nil
}

// setEventHeaders sets the headers of the portal's event deliveries.
func setEventHeaders(h http.Header) {
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "Bitrix24 Webhook Engine")
}
