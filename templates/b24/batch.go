package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxBatchCommands is the portal's limit of commands in one batch request.
const MaxBatchCommands = 50

// Command is one typed call to put in a Batch; T is its result type. It has
// no methods: a method of a generic type is compiled again for every result
// type of every package, and the generated packages have hundreds.
type Command[T any] struct {
	Request Request
	_       [0]func() // not comparable: no equality function per result type either
}

// ParamRef puts a batch reference at a parameter's wire path; see WithRef.
type ParamRef struct {
	path []string // "fields.CONTACT_ID" split at the dots
	ref  string   // "$result[contact]"
}

// WithRef, passed to Add, sets the command's parameter at param (its wire
// path, dots between levels: "fields.CONTACT_ID", "id") to ref, a reference
// to an earlier command's result from Handle.Ref. It is how a typed
// parameter (an Int, an int64, an Opt) takes a value the batch produces,
// since its Go type cannot hold the "$result[…]" text; the reference
// replaces whatever the parameter holds, and is substituted by the portal,
// or by Run when the command it names ran in an earlier chunk.
//
//	contact := b24.Add(b, "contact", crm.ContactAddCommand(p))
//	b24.Add(b, "deal", crm.DealAddCommand(d), b24.WithRef("fields.CONTACT_ID", contact.Ref("")))
func WithRef(param string, ref string) ParamRef {
	return ParamRef{path: strings.Split(param, "."), ref: ref}
}

// NewCommand wraps req as a batch command whose result decodes into T.
func NewCommand[T any](req Request) Command[T] { return Command[T]{Request: req} }

// BatchOption configures a Batch.
type BatchOption func(*Batch)

// WithHalt stops the batch at the first failed command; the commands after
// it report ErrNotRun.
func WithHalt(v bool) BatchOption { return func(b *Batch) { b.halt = v } }

// Batch collects commands and runs them through the "batch" method, up to 50
// per HTTP request, in the order they were added.
//
// Later commands may use earlier results through Handle.Ref
// ("$result[key][ID]"); the portal substitutes them within one request. When a
// batch holds more than 50 commands it is sent in chunks, and a reference to a
// command of an earlier chunk is resolved by the client from that command's
// result (a scalar or a whole object/list), so chains keep working across
// chunks.
//
// A batch whose commands are all idempotent is retried like a read after an
// ambiguous failure; a batch holding any write never is. Commands that were
// not run are told apart (ErrNotRun) from commands that ran and failed.
type Batch struct {
	halt    bool
	entries []*batchEntry
	byKey   map[string]*batchEntry
	err     error // first problem met by Add, reported by Run
	ran     bool
	// paced: the caller admitted the commands to the operating-time budget
	// already (a walk that sized its batch to it, limit_operating.go).
	paced bool
	// reruns numbers the requests that send commands again after
	// OPERATION_TIME_LIMIT, as chunks after the last.
	reruns int
}

type batchEntry struct {
	key   string
	req   Request
	refs  []ParamRef
	chunk int       // index of the chunk it was sent in
	resp  *Response // set when the command ran and succeeded
	err   error     // set when it failed or did not run
}

// NewBatch returns an empty batch.
func NewBatch(opts ...BatchOption) *Batch {
	b := &Batch{byKey: map[string]*batchEntry{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Len is the number of commands added.
func (b *Batch) Len() int { return len(b.entries) }

// Handle gives a command's typed result after Batch.Run.
type Handle[T any] struct {
	b *Batch
	e *batchEntry
}

// Add appends cmd under key ("" picks "c<n>"), with refs (WithRef) setting
// parameters to earlier results. Keys are letters, digits, _ and -, not all
// digits (PHP would turn them into list indexes). A bad or duplicate key or
// a bad method name is reported by Run; a REST 3.0 command is refused at
// once (Batch.Err, and its handle's Result), and Run returns that error too.
func Add[T any](b *Batch, key string, cmd Command[T], refs ...ParamRef) *Handle[T] {
	if key == "" {
		key = "c" + strconv.Itoa(len(b.entries))
		for b.byKey[key] != nil {
			key += "_"
		}
	}
	e := &batchEntry{key: key, req: cmd.Request, refs: refs}
	switch {
	case badRef(refs) != "":
		b.fail(fmt.Errorf("b24: batch: key %q: %s", key, badRef(refs)))
	case b.ran:
		b.fail(fmt.Errorf("b24: batch: Add(%q) after Run", key))
	case !validBatchKey(key):
		b.fail(fmt.Errorf("b24: batch: key %q: want letters, digits, _ or -, not all digits, at most 64 bytes", key))
	case b.byKey[key] != nil:
		b.fail(fmt.Errorf("b24: batch: duplicate key %q", key))
	case cmd.Request.Version == 3:
		// Refused here, not at Run: its handle and b.Err say so at once.
		e.err = fmt.Errorf("b24: batch: key %q: %s is a REST 3.0 method; a REST 2 batch cannot hold it (use b24.NewBatchV3 and b24.AddV3)", key, cmd.Request.Method)
		b.fail(e.err)
	default:
		if err := checkMethod(cmd.Request.Method); err != nil {
			b.fail(fmt.Errorf("b24: batch: key %q: %w", key, err))
		} else if strings.EqualFold(cmd.Request.Method, "batch") {
			b.fail(fmt.Errorf("b24: batch: key %q: a batch cannot hold a batch", key))
		}
	}
	b.entries = append(b.entries, e)
	if b.byKey[key] == nil {
		b.byKey[key] = e
	}
	return &Handle[T]{b: b, e: e}
}

// Err is the first problem Add met (nil when none), which Run also returns.
func (b *Batch) Err() error { return b.err }

func (b *Batch) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func validBatchKey(k string) bool {
	return len(k) <= 64 && !isDigits(k) && isKeyText(k)
}

// Key is the command's key in the batch.
func (h *Handle[T]) Key() string { return h.e.key }

// Ref returns a reference to this command's result for a later command's
// parameters: Ref("ID") is "$result[key][ID]"; dots separate levels, so
// Ref("items.0.id") is "$result[key][items][0][id]"; Ref("") is the whole result.
func (h *Handle[T]) Ref(path string) string {
	var b strings.Builder
	b.WriteString("$result[")
	b.WriteString(h.e.key)
	b.WriteByte(']')
	if path != "" {
		for _, seg := range strings.Split(path, ".") {
			b.WriteByte('[')
			b.WriteString(seg)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Result returns the command's decoded result, or why there is none: an
// *APIError (it ran and failed), an error matching ErrNotRun, a
// *TransportError (the batch request's outcome is unknown) or a *DecodeError.
func (h *Handle[T]) Result() (T, error) {
	var v T
	resp, err := h.Response()
	if err != nil {
		return v, err
	}
	if err := decodeResponse(context.Background(), resp, h.e.req.Method, h.e.key, &v); err != nil {
		return v, err
	}
	return v, nil
}

// Response returns the command's raw result with its total, next and time.
func (h *Handle[T]) Response() (*Response, error) {
	switch {
	case h.e.err != nil:
		return nil, h.e.err
	case !h.b.ran:
		return nil, fmt.Errorf("b24: batch command %s: %w (Run has not been called)", h.e.key, ErrNotRun)
	case h.e.resp == nil:
		return nil, fmt.Errorf("b24: batch command %s: %w", h.e.key, ErrNotRun)
	}
	return h.e.resp, nil
}

// Run sends the commands, 50 per request, in the order added. It returns nil
// when every command succeeded and a *BatchError otherwise (results of the
// commands that succeeded are available either way). Run can be called once.
func (b *Batch) Run(ctx context.Context, c Caller) error {
	if b.ran {
		return errors.New("b24: batch: Run called twice")
	}
	if b.err != nil {
		return b.err
	}
	if c == nil {
		return errors.New("b24: batch: nil Caller")
	}
	b.ran = true
	for i, e := range b.entries {
		e.chunk = i / MaxBatchCommands
	}
	var callErr error
	stopped := false
	for start := 0; start < len(b.entries); start += MaxBatchCommands {
		part := b.entries[start:min(start+MaxBatchCommands, len(b.entries))]
		if stopped {
			for _, e := range part {
				e.err = fmt.Errorf("b24: batch command %s: %w (an earlier chunk failed)", e.key, ErrNotRun)
			}
			continue
		}
		err := b.runChunk(ctx, c, part, !b.paced)
		if err == nil {
			err = b.rerunRefused(ctx, c, part)
		}
		switch {
		case err != nil:
			callErr = err
			stopped = true
		case b.halt && anyFailed(part):
			stopped = true
		}
	}
	return b.report(callErr)
}

func anyFailed(es []*batchEntry) bool {
	for _, e := range es {
		if e.err != nil {
			return true
		}
	}
	return false
}

// report builds the *BatchError for Run, or nil.
func (b *Batch) report(callErr error) error {
	be := &BatchError{Failed: map[string]error{}, Call: callErr}
	for _, e := range b.entries {
		switch {
		case e.err == nil:
		case errors.Is(e.err, ErrNotRun):
			be.NotRun = append(be.NotRun, e.key)
		default:
			be.Failed[e.key] = e.err
			be.Keys = append(be.Keys, e.key)
		}
	}
	if callErr == nil && len(be.Keys) == 0 && len(be.NotRun) == 0 {
		return nil
	}
	return be
}

// batchCmd is one "key": "method?query" pair; cmdList marshals them as a JSON
// object in the order given, which is the order the portal runs them in.
type batchCmd struct{ key, cmd string }
type cmdList []batchCmd

func (l cmdList) MarshalJSON() ([]byte, error) {
	return orderedObject(len(l), func(i int) (string, string) { return l[i].key, l[i].cmd }), nil
}

type batchParams struct {
	Halt int     `json:"halt"`
	Cmd  cmdList `json:"cmd"`
}

// batchResult is the layout of the batch method's result.
type batchResult struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"result_error"`
	Total  json.RawMessage `json:"result_total"`
	Next   json.RawMessage `json:"result_next"`
	Time   json.RawMessage `json:"result_time"`
}

// runChunk sends up to 50 commands as one request and files each outcome. It
// returns an error only when the request itself failed.
func (b *Batch) runChunk(ctx context.Context, c Caller, part []*batchEntry, admit bool) error {
	cmds := make(cmdList, 0, len(part))
	methods := make([]string, 0, len(part))
	idem := true
	for _, e := range part {
		q, err := b.commandQuery(e)
		if err != nil {
			e.err = fmt.Errorf("b24: batch command %s: %w: %w", e.key, ErrNotRun, err)
			continue
		}
		cmd := e.req.Method
		if q != "" {
			cmd += "?" + q
		}
		cmds = append(cmds, batchCmd{key: e.key, cmd: cmd})
		methods = append(methods, e.req.Method)
		idem = idem && e.req.Idempotent
	}
	if len(cmds) == 0 {
		return nil
	}
	cl, _ := c.(*Client)
	if cl != nil && admit {
		tickets, err := cl.admitCommands(ctx, methods)
		if err != nil {
			for _, e := range part {
				if e.err == nil {
					e.err = fmt.Errorf("b24: batch command %s: %w: %w", e.key, ErrNotRun, err)
				}
			}
			return err
		}
		defer func() {
			for _, t := range tickets {
				t.done()
			}
		}()
	}
	halt := 0
	if b.halt {
		halt = 1
	}
	resp, err := c.Call(ctx, &Request{Method: "batch", Params: batchParams{Halt: halt, Cmd: cmds}, Idempotent: idem})
	if err != nil {
		for _, e := range part {
			if e.err != nil {
				continue
			}
			var te *TransportError
			if errors.As(err, &te) {
				e.err = err // outcome unknown: the commands may have run
			} else {
				// The portal refused the whole request (an *APIError), or it
				// was never sent (the context ended while waiting for the
				// rate limit): nothing in it ran.
				e.err = fmt.Errorf("b24: batch command %s: %w: %w", e.key, ErrNotRun, err)
			}
		}
		return err
	}
	var br batchResult
	if err := json.Unmarshal(resp.Result, &br); err != nil {
		err = &DecodeError{Method: "batch", Err: err}
		for _, e := range part {
			if e.err == nil {
				e.err = err
			}
		}
		return err
	}
	var red redactor
	if cl != nil {
		red = cl.red
	}
	results, errs := objectMembers(br.Result), objectMembers(br.Error)
	totals, nexts, times := objectMembers(br.Total), objectMembers(br.Next), objectMembers(br.Time)
	for _, e := range part {
		if e.err != nil {
			continue
		}
		if raw, ok := errs[e.key]; ok && !envNothing(raw) {
			ae := commandError(e.req.Method, raw)
			red.cleanAPIError(ae)
			e.err = ae
			continue
		}
		raw, ok := results[e.key]
		if !ok {
			e.err = fmt.Errorf("b24: batch command %s: %w", e.key, ErrNotRun)
			continue
		}
		r := &Response{Result: raw, client: resp.client}
		r.Total, _ = envInt(totals[e.key])
		r.Next, r.HasNext = envInt(nexts[e.key])
		if t, ok := times[e.key]; ok {
			var tm Timing
			if json.Unmarshal(t, &tm) == nil {
				r.Time = &tm
				if cl != nil {
					cl.gates.observe(e.req.Method, &tm)
				}
			}
		}
		e.resp = r
	}
	return nil
}

// envNothing reports a result_error entry that holds no error: null or absent.
func envNothing(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// commandError reads one result_error entry, in every shape portals send:
// {"error": "CODE", "error_description": "…"} (the code may be empty, the
// text then says what failed), {"error": {"code", "message", "validation"}}
// and the REST 3.0 {"code", "message"}; a plain string is a code when it
// looks like one, else the description. Anything else keeps its JSON text as
// the description, so nothing the portal said is lost.
func commandError(method string, raw json.RawMessage) *APIError {
	raw = bytes.TrimSpace(raw)
	e := &APIError{Method: method}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			break
		}
		if _, ok := m["error"]; ok {
			env := envelope{Error: m["error"], ErrorDescription: m["error_description"]}
			if ae := env.apiError(method, 0); ae != nil {
				return ae
			}
			return e // {"error": ""} alone: an error, with nothing said
		}
		if _, ok := m["code"]; ok {
			var r restError
			if json.Unmarshal(raw, &r) == nil {
				e.Code, e.Description, e.Validation = envString(r.Code), r.Message, r.Validation
				return e
			}
		}
		if msg, ok := m["message"]; ok {
			e.Description = envString(msg)
			return e
		}
		if d, ok := m["error_description"]; ok {
			e.Description = envString(d)
			return e
		}
	case '"':
		s := strings.TrimSpace(envString(raw))
		if isCodeLike(s) {
			e.Code = s
		} else {
			e.Description = s
		}
		return e
	}
	e.Description = cutValue(raw)
	return e
}

// isCodeLike reports text shaped like an error code: ACCESS_DENIED,
// insufficient_scope (letters, digits and _, no spaces).
func isCodeLike(s string) bool {
	if s == "" || !strings.Contains(s, "_") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// objectMembers reads a JSON object into its members; PHP's empty array []
// (and any other non-object) reads as none.
func objectMembers(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// commandQuery renders a command's params as the PHP-style query string of a
// batch command. References to commands of earlier chunks are resolved here,
// because the portal only sees the current chunk.
func (b *Batch) commandQuery(e *batchEntry) (string, error) {
	if e.req.Params == nil && len(e.refs) == 0 {
		return "", nil
	}
	raw, err := json.Marshal(e.req.Params)
	if err != nil {
		return "", fmt.Errorf("encoding the parameters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return "", fmt.Errorf("encoding the parameters: %w", err)
	}
	switch tree.(type) {
	case nil:
		if len(e.refs) == 0 {
			return "", nil
		}
		tree = map[string]any{}
	case map[string]any:
	default:
		return "", fmt.Errorf("parameters must encode as a JSON object, not %s", raw[:min(len(raw), 20)])
	}
	for _, r := range e.refs {
		if err := setParam(tree, r.path, r.ref); err != nil {
			return "", err
		}
	}
	tree = b.resolveEarlier(tree, e.chunk)
	return MarshalForm(tree)
}

// badRef describes the first WithRef that cannot work, or "".
func badRef(refs []ParamRef) string {
	for _, r := range refs {
		for _, seg := range r.path {
			if seg == "" {
				return fmt.Sprintf("WithRef(%q): empty segment in the parameter path", strings.Join(r.path, "."))
			}
		}
		if m := batchRefRE.FindStringSubmatch(r.ref); m == nil || m[0] != r.ref {
			return fmt.Sprintf("WithRef(%q, %q): not a batch reference (use Handle.Ref)", strings.Join(r.path, "."), r.ref)
		}
	}
	return ""
}

// setParam sets the parameter at path in the encoded params tree to v,
// making the objects on the way; a list on the way takes a numeric index.
func setParam(tree any, path []string, v any) error {
	cur := tree
	for i, seg := range path {
		last := i == len(path)-1
		switch t := cur.(type) {
		case map[string]any:
			if last {
				t[seg] = v
				return nil
			}
			next, ok := t[seg].(map[string]any)
			if l, isList := t[seg].([]any); isList {
				cur = l
				continue
			}
			if !ok {
				next = map[string]any{}
				t[seg] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(t) {
				return fmt.Errorf("WithRef(%q): %q is not an index of the list there", strings.Join(path, "."), seg)
			}
			if last {
				t[n] = v
				return nil
			}
			if _, ok := t[n].(map[string]any); !ok {
				if _, ok := t[n].([]any); !ok {
					t[n] = map[string]any{}
				}
			}
			cur = t[n]
		}
	}
	return nil
}

var batchRefRE = regexp.MustCompile(`\$result\[([^\]]+)\]((?:\[[^\]]*\])*)`)

// resolveEarlier replaces references to commands of earlier chunks with their
// values: a string that is one whole reference takes the value itself, a
// reference inside text takes the value's text.
func (b *Batch) resolveEarlier(v any, chunk int) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = b.resolveEarlier(x, chunk)
		}
	case []any:
		for i, x := range t {
			t[i] = b.resolveEarlier(x, chunk)
		}
	case string:
		if !strings.Contains(t, "$result[") {
			return t
		}
		if m := batchRefRE.FindStringSubmatch(t); m != nil && m[0] == t {
			if val, ok := b.lookup(m, chunk); ok {
				return val
			}
			return t
		}
		return batchRefRE.ReplaceAllStringFunc(t, func(ref string) string {
			val, ok := b.lookup(batchRefRE.FindStringSubmatch(ref), chunk)
			if !ok {
				return ref
			}
			switch x := val.(type) {
			case string:
				return x
			case json.Number:
				return string(x)
			case bool:
				if x {
					return "1"
				}
				return ""
			case nil:
				return ""
			}
			return ref
		})
	}
	return v
}

// lookup resolves m = [whole, key, "[a][b]…"] against a command of an earlier
// chunk that succeeded; ok is false for anything else (left to the portal).
func (b *Batch) lookup(m []string, chunk int) (any, bool) {
	e := b.byKey[m[1]]
	if e == nil || e.chunk >= chunk || e.resp == nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(e.resp.Result))
	dec.UseNumber()
	var cur any
	if dec.Decode(&cur) != nil {
		return nil, false
	}
	path := strings.TrimSuffix(strings.TrimPrefix(m[2], "["), "]")
	if path == "" {
		return cur, true
	}
	for _, seg := range strings.Split(path, "][") {
		switch t := cur.(type) {
		case map[string]any:
			x, ok := t[seg]
			if !ok {
				return nil, false
			}
			cur = x
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			cur = t[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
