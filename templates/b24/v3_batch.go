package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// REST 3.0 batch (api-reference/rest-v3.md, "Batch call"): POST
// /rest/api/…/batch with a JSON array at the root, one {"method", "query"}
// per call, query being the method's parameters as in a plain call; the
// answer's result is an array of the calls' results in the same order. The
// REST 2 form (cmd with "method?param=value" strings) is refused by REST 3.0,
// and REST 2 methods are not served under /rest/api/, so the two batches are
// separate types: a CommandV3 does not fit b24.Add, a Command does not fit
// AddV3, and b24.Add refuses a hand-built Command with Version 3 at once.
//
// References: the docs say data from earlier steps is substituted
// structurally, so that a later call can take an earlier call's value, or a
// whole array of its result, but they do not print the reference syntax.
// This client writes a reference as the JSON string "$result[<index>][a][b]"
// (the REST 2 spelling, with the call's position as its key) standing for a
// whole parameter value, and the fake portal (b24test) substitutes it with
// the JSON value found at that path, structure kept. Within one HTTP request
// that is the portal's work; across the chunks of a batch longer than 50 the
// client substitutes the values itself from the earlier results, so only the
// spelling inside one chunk rests on that reading of the docs.

// CommandV3 is one typed REST 3.0 call for a BatchV3; T is its result type.
// Generated REST 3.0 functions have a …Command that returns one.
// Like Command it has no methods and no equality, so that it costs no code
// per result type.
type CommandV3[T any] struct {
	Request Request
	_       [0]func()
}

// ParamRefV3 puts a REST 3.0 batch reference at a parameter; see WithRefV3.
type ParamRefV3 struct {
	path []string // "fields.parentId" split at the dots
	ref  RefV3
}

// NewCommandV3 wraps req as a REST 3.0 batch command whose result decodes
// into T. A Request with a Version other than 3 is refused by AddV3.
func NewCommandV3[T any](req Request) CommandV3[T] { return CommandV3[T]{Request: req} }

// WithRefV3, passed to AddV3, sets the command's parameter at param (its
// wire path, dots between levels: "fields.parentId", "id") to ref, an
// earlier command's result or part of it (HandleV3.Ref). The parameter takes
// the referenced JSON value as it is: a number, an object or a whole list.
//
//	parent := b24.AddV3(b, tasks.TaskAddV3Command(p))
//	b24.AddV3(b, tasks.TaskAddV3Command(child), b24.WithRefV3("fields.parentId", parent.Ref("item.id")))
func WithRefV3(param string, ref RefV3) ParamRefV3 {
	return ParamRefV3{path: strings.Split(param, "."), ref: ref}
}

// RefV3 points at an earlier REST 3.0 batch command's result, or at the
// value under a path in it.
type RefV3 struct {
	b    *BatchV3
	e    *v3Entry
	path []string
}

// String is the reference as sent inside the command's chunk.
func (r RefV3) String() string {
	if r.e == nil {
		return "<zero RefV3>"
	}
	return v3RefText(r.e.index%MaxBatchCommands, r.path)
}

// v3RefText spells a reference to the call at index (within its request).
func v3RefText(index int, path []string) string {
	var b strings.Builder
	b.WriteString("$result[")
	b.WriteString(strconv.Itoa(index))
	b.WriteByte(']')
	for _, seg := range path {
		b.WriteByte('[')
		b.WriteString(seg)
		b.WriteByte(']')
	}
	return b.String()
}

// BatchV3 collects REST 3.0 commands and runs them through the REST 3.0
// "batch" method, 50 per HTTP request, in the order added. REST 3.0 only:
// it takes CommandV3 values (see AddV3). A batch whose commands are all
// reads is retried like a read after an ambiguous failure; one holding a
// write never is (the docs do not say batch keeps an idempotency store).
type BatchV3 struct {
	entries []*v3Entry
	err     error
	ran     bool
}

type v3Entry struct {
	index int
	req   Request
	refs  []ParamRefV3
	resp  *Response
	err   error
}

// NewBatchV3 returns an empty REST 3.0 batch.
func NewBatchV3() *BatchV3 { return &BatchV3{} }

// Len is the number of commands added.
func (b *BatchV3) Len() int { return len(b.entries) }

// Err is the first problem AddV3 met (nil when none); Run returns it too.
func (b *BatchV3) Err() error { return b.err }

// HandleV3 gives a REST 3.0 batch command's typed result after Run.
type HandleV3[T any] struct {
	b *BatchV3
	e *v3Entry
}

// AddV3 appends cmd to a REST 3.0 batch. A command that is not REST 3.0, a
// bad method name, a nested batch or a reference to a later command (or to
// another batch) is refused at once: the handle's Result and b.Err report it,
// and Run sends nothing.
func AddV3[T any](b *BatchV3, cmd CommandV3[T], refs ...ParamRefV3) *HandleV3[T] {
	e := &v3Entry{index: len(b.entries), req: cmd.Request, refs: refs}
	fail := func(format string, args ...any) {
		e.err = fmt.Errorf("b24: REST 3.0 batch: command %d (%s): "+format, append([]any{e.index, cmd.Request.Method}, args...)...)
		if b.err == nil {
			b.err = e.err
		}
	}
	switch {
	case b.ran:
		fail("added after Run")
	case cmd.Request.Version != 3:
		fail("not a REST 3.0 command (Version %d); a REST 3.0 batch cannot hold it (use b24.NewBatch and b24.Add)", cmd.Request.Version)
	case isBatchMethod(cmd.Request.Method):
		fail("a batch cannot hold a batch")
	default:
		if err := checkMethod(cmd.Request.Method); err != nil {
			fail("%v", err)
		}
	}
	for _, r := range refs {
		switch {
		case r.ref.e == nil || r.ref.b != b:
			fail("WithRefV3(%q): a reference from another batch, or a zero RefV3", strings.Join(r.path, "."))
		case r.ref.e.index >= e.index:
			fail("WithRefV3(%q): refers to a command that does not come earlier", strings.Join(r.path, "."))
		}
		for _, seg := range r.path {
			if seg == "" {
				fail("WithRefV3(%q): empty segment in the parameter path", strings.Join(r.path, "."))
			}
		}
	}
	b.entries = append(b.entries, e)
	return &HandleV3[T]{b: b, e: e}
}

// Index is the command's position in the batch (0 for the first).
func (h *HandleV3[T]) Index() int { return h.e.index }

// Ref is a reference to this command's result for a later command's
// parameter (WithRefV3): Ref("item.id") is the id of the item a
// REST 3.0 add or get answers; dots separate levels, list elements take
// their index ("items.0.id"); Ref("") is the whole result.
func (h *HandleV3[T]) Ref(path string) RefV3 {
	r := RefV3{b: h.b, e: h.e}
	if path != "" {
		r.path = strings.Split(path, ".")
	}
	return r
}

// Result returns the command's decoded result, or why there is none: the
// refusal of AddV3, an *APIError, ErrNotRun, a *TransportError or a
// *DecodeError.
func (h *HandleV3[T]) Result() (T, error) {
	var v T
	resp, err := h.Response()
	if err != nil {
		return v, err
	}
	if err := decodeResponse(context.Background(), resp, h.e.req.Method, strconv.Itoa(h.e.index), &v); err != nil {
		return v, err
	}
	return v, nil
}

// Response returns the command's raw result.
func (h *HandleV3[T]) Response() (*Response, error) {
	switch {
	case h.e.err != nil:
		return nil, h.e.err
	case !h.b.ran:
		return nil, fmt.Errorf("b24: REST 3.0 batch command %d: %w (Run has not been called)", h.e.index, ErrNotRun)
	case h.e.resp == nil:
		return nil, fmt.Errorf("b24: REST 3.0 batch command %d: %w", h.e.index, ErrNotRun)
	}
	return h.e.resp, nil
}

// v3Call is one element of the REST 3.0 batch body.
type v3Call struct {
	Method string `json:"method"`
	Query  any    `json:"query"`
}

// Run sends the commands, 50 per request, in the order added. It returns nil
// when every command succeeded and a *BatchError (keys are the commands'
// indexes) otherwise. A failed request stops the batch: the commands of the
// later chunks did not run. Run can be called once.
func (b *BatchV3) Run(ctx context.Context, c Caller) error {
	switch {
	case b.ran:
		return errors.New("b24: REST 3.0 batch: Run called twice")
	case b.err != nil:
		return b.err
	case c == nil:
		return errors.New("b24: REST 3.0 batch: nil Caller")
	}
	b.ran = true
	var callErr error
	for start := 0; start < len(b.entries); start += MaxBatchCommands {
		part := b.entries[start:min(start+MaxBatchCommands, len(b.entries))]
		if callErr != nil {
			for _, e := range part {
				e.err = fmt.Errorf("b24: REST 3.0 batch command %d: %w (an earlier chunk failed)", e.index, ErrNotRun)
			}
			continue
		}
		callErr = b.runChunk(ctx, c, start, part)
	}
	return b.report(callErr)
}

func (b *BatchV3) runChunk(ctx context.Context, c Caller, start int, part []*v3Entry) error {
	calls := make([]v3Call, len(part))
	idem := true
	for i, e := range part {
		q, err := b.query(e, start)
		if err != nil {
			for _, e := range part {
				e.err = fmt.Errorf("b24: REST 3.0 batch command %d: %w (the batch could not be encoded: %v)", e.index, ErrNotRun, err)
			}
			return err
		}
		calls[i] = v3Call{Method: e.req.Method, Query: q}
		idem = idem && e.req.Idempotent
	}
	resp, err := c.Call(ctx, &Request{Method: "batch", Params: calls, Version: 3, Idempotent: idem})
	if err != nil {
		for _, e := range part {
			var ae *APIError
			if errors.As(err, &ae) {
				// The portal refused the request as a whole: nothing in it ran.
				e.err = fmt.Errorf("b24: REST 3.0 batch command %d: %w (the batch request was refused: %v)", e.index, ErrNotRun, err)
			} else {
				e.err = err // outcome unknown
			}
		}
		return err
	}
	var results []json.RawMessage
	if err := json.Unmarshal(resp.Result, &results); err != nil {
		derr := &DecodeError{Method: "batch", Err: fmt.Errorf("REST 3.0 batch result is not a list: %w", err)}
		for _, e := range part {
			e.err = derr
		}
		return derr
	}
	for i, e := range part {
		if i >= len(results) {
			e.err = fmt.Errorf("b24: REST 3.0 batch command %d: %w (the answer holds %d results)", e.index, ErrNotRun, len(results))
			continue
		}
		raw := bytes.TrimSpace(results[i])
		if m := objectMembers(raw); m != nil && !envNothing(m["error"]) {
			e.err = commandError(e.req.Method, raw)
			continue
		}
		e.resp = &Response{Result: raw, Time: resp.Time, client: resp.client}
	}
	return nil
}

// query encodes a command's params with its references: a reference into
// the same chunk is spelled for the portal, one into an earlier chunk is
// replaced by the value it points at.
func (b *BatchV3) query(e *v3Entry, start int) (any, error) {
	if len(e.refs) == 0 {
		if e.req.Params == nil {
			return struct{}{}, nil
		}
		return e.req.Params, nil
	}
	raw, err := encodeParams(e.req.Params)
	if err != nil {
		return nil, fmt.Errorf("command %d (%s): encoding the parameters: %w", e.index, e.req.Method, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	if _, ok := tree.(map[string]any); !ok {
		return nil, fmt.Errorf("command %d (%s): parameters with references must encode as a JSON object", e.index, e.req.Method)
	}
	for _, r := range e.refs {
		var v any
		if r.ref.e.index >= start {
			v = v3RefText(r.ref.e.index-start, r.ref.path)
		} else {
			got, err := r.ref.value()
			if err != nil {
				return nil, fmt.Errorf("command %d (%s): WithRefV3(%q): %w", e.index, e.req.Method, strings.Join(r.path, "."), err)
			}
			v = got
		}
		if err := setParam(tree, r.path, v); err != nil {
			return nil, fmt.Errorf("command %d (%s): %w", e.index, e.req.Method, err)
		}
	}
	return tree, nil
}

// value is the JSON value the reference points at in its command's result
// (a command of an earlier chunk, which has run).
func (r RefV3) value() (any, error) {
	if r.e.resp == nil {
		return nil, fmt.Errorf("command %d has no result (%v)", r.e.index, r.e.err)
	}
	dec := json.NewDecoder(bytes.NewReader(r.e.resp.Result))
	dec.UseNumber()
	var cur any
	if err := dec.Decode(&cur); err != nil {
		return nil, err
	}
	return walkPath(cur, r.path)
}

// walkPath follows path (object keys, list indexes) through a decoded value.
func walkPath(cur any, path []string) (any, error) {
	for _, seg := range path {
		switch t := cur.(type) {
		case map[string]any:
			x, ok := t[seg]
			if !ok {
				return nil, fmt.Errorf("no %q in the result", seg)
			}
			cur = x
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, fmt.Errorf("%q is not an index of the list (%d elements)", seg, len(t))
			}
			cur = t[i]
		default:
			return nil, fmt.Errorf("%q: the value there is not an object or a list", seg)
		}
	}
	return cur, nil
}

func (b *BatchV3) report(callErr error) error {
	be := &BatchError{Failed: map[string]error{}, Call: callErr}
	for _, e := range b.entries {
		switch {
		case e.err == nil:
		case errors.Is(e.err, ErrNotRun):
			be.NotRun = append(be.NotRun, strconv.Itoa(e.index))
		default:
			k := strconv.Itoa(e.index)
			be.Failed[k] = e.err
			be.Keys = append(be.Keys, k)
		}
	}
	if callErr == nil && len(be.Keys) == 0 && len(be.NotRun) == 0 {
		return nil
	}
	return be
}
