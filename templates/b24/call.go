package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Caller is what generated code calls; *Client implements it, tests may fake it.
type Caller interface {
	Call(ctx context.Context, req *Request) (*Response, error)
}

// Request is one REST call.
type Request struct {
	Method     string // "crm.deal.get"
	Params     any    // JSON-encoded as the POST body; nil sends {}
	Version    int    // 0 or 2: /rest/<user>/<secret>/<method>; 3: /rest/api/<user>/<secret>/<method>
	Idempotent bool   // safe to retry after an ambiguous failure (reads)
	// IdempotencyKey is sent as the Idempotency-Key header of a REST 3.0
	// call (v3_idempotency.go). Empty on a REST 3.0 write: the client picks
	// one. Ignored by REST 2.
	IdempotencyKey string

	// onResponse is WithResponseHook's: a pointer, so Request stays comparable.
	onResponse *func(*Response)

	exportConcurrency int // Export: id ranges read at once (WithExportConcurrency)
}

// Response is the decoded envelope of a successful call.
type Response struct {
	Result  json.RawMessage
	Total   int     // "total", 0 when absent
	Next    int     // "next", 0 when absent
	HasNext bool    // "next" present
	Time    *Timing // "time", nil when absent
	// Replayed is true when a REST 3.0 write was answered from the portal's
	// idempotency store (Idempotent-Replayed: true): the method did not run
	// again, this is the answer of the call that first used the key.
	Replayed bool
	// IdempotencyKey is the key a REST 3.0 write was sent with, "" otherwise.
	IdempotencyKey string

	client *Client // the client that made the call: its decode settings (logger, strict)
}

// Timing is the envelope's "time" block.
type Timing struct {
	Start      float64 `json:"start"`
	Finish     float64 `json:"finish"`
	Duration   float64 `json:"duration"`
	Processing float64 `json:"processing"`
	// Operating is the method's accumulated execution time (seconds) in the
	// portal's ten-minute window; OperatingResetAt is when the oldest minute
	// of it drops out (unix seconds on the wire).
	Operating        float64   `json:"operating"`
	OperatingResetAt time.Time `json:"-"`
	DateStart        string    `json:"date_start,omitempty"`
	DateFinish       string    `json:"date_finish,omitempty"`
}

// UnmarshalJSON reads operating_reset_at as unix seconds (fractions allowed)
// and tolerates numbers sent as strings.
func (t *Timing) UnmarshalJSON(b []byte) error {
	var raw struct {
		Start            json.RawMessage `json:"start"`
		Finish           json.RawMessage `json:"finish"`
		Duration         json.RawMessage `json:"duration"`
		Processing       json.RawMessage `json:"processing"`
		Operating        json.RawMessage `json:"operating"`
		OperatingResetAt json.RawMessage `json:"operating_reset_at"`
		DateStart        string          `json:"date_start"`
		DateFinish       string          `json:"date_finish"`
	}
	if envEmpty(b) {
		*t = Timing{}
		return nil
	}
	// The portal's own form (numbers, plain strings) without encoding/json;
	// escaped or odd texts take the path below.
	if fast, ok := timingOf(b); ok && fast != nil {
		*t = *fast
		return nil
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	*t = Timing{
		Start:      envFloat(raw.Start),
		Finish:     envFloat(raw.Finish),
		Duration:   envFloat(raw.Duration),
		Processing: envFloat(raw.Processing),
		Operating:  envFloat(raw.Operating),
		DateStart:  raw.DateStart,
		DateFinish: raw.DateFinish,
	}
	t.OperatingResetAt = unixTime(envFloat(raw.OperatingResetAt))
	return nil
}

// unixTime reads unix seconds (with a fraction); 0 is the zero time.
func unixTime(s float64) time.Time {
	if !(s > 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// MarshalJSON writes operating_reset_at back as unix seconds.
func (t Timing) MarshalJSON() ([]byte, error) {
	type plain Timing
	var reset any
	if !t.OperatingResetAt.IsZero() {
		reset = float64(t.OperatingResetAt.UnixNano()) / 1e9
	}
	return json.Marshal(struct {
		plain
		OperatingResetAt any `json:"operating_reset_at,omitempty"`
	}{plain(t), reset})
}

// CallOption adjusts a Request before it is sent.
type CallOption func(*Request)

// WithIdempotent marks the call safe (or not) to retry after an ambiguous
// failure. Generated reads are idempotent; writes are not.
func WithIdempotent(v bool) CallOption { return func(r *Request) { r.Idempotent = v } }

// WithVersion sends the call to the REST 3.0 endpoint (3) or the classic one (2).
func WithVersion(v int) CallOption { return func(r *Request) { r.Version = v } }

// Invoke applies opts to req, calls c and decodes Response.Result into out
// (a pointer; nil skips decoding). The decode error names the method.
func Invoke(ctx context.Context, c Caller, req Request, out any, opts ...CallOption) error {
	if c == nil {
		return fmt.Errorf("b24: %s: nil Caller", req.Method)
	}
	for _, o := range opts {
		o(&req)
	}
	resp, err := c.Call(ctx, &req)
	if err != nil {
		return err
	}
	if req.onResponse != nil {
		(*req.onResponse)(resp)
	}
	// Tolerant unless strict: a value that does not fit its field is kept
	// raw and logged, and the call's result is still returned (decode.go).
	return decodeResponse(ctx, resp, req.Method, "", out)
}

// DecodeError is a result that arrived but does not fit the Go type it was
// decoded into: the call ran. Outside strict decoding (WithStrictDecoding) it
// is returned only for results that are not JSON or an out that is not a
// pointer; under it, for the first value that does not fit its field.
type DecodeError struct {
	Method string
	Key    string // batch command key, if any
	Path   string // JSON path of the value inside the result ("items[2].OPPORTUNITY"), if known
	Value  string // the value as received, cut to a readable length, if known
	More   int    // how many more values did not fit
	Err    error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("b24: ")
	b.WriteString(e.Method)
	if e.Key != "" {
		b.WriteString(" (batch command ")
		b.WriteString(e.Key)
		b.WriteString(")")
	}
	b.WriteString(": decoding the result: ")
	if e.Path != "" || e.Value != "" {
		b.WriteString("result")
		if e.Path != "" && e.Path[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(e.Path)
		if e.Value != "" {
			b.WriteString(" = ")
			b.WriteString(e.Value)
		}
		b.WriteString(": ")
	}
	fmt.Fprint(&b, e.Err)
	if e.More > 0 {
		fmt.Fprintf(&b, " (and %d more values that do not fit)", e.More)
	}
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

var nullJSON = json.RawMessage("null")

// envelope is the JSON every method answers with.
type envelope struct {
	Result           json.RawMessage `json:"result"`
	Total            json.RawMessage `json:"total"`
	Next             json.RawMessage `json:"next"`
	Time             *Timing         `json:"time"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
}

// restError is the REST 3.0 error object.
type restError struct {
	Code       json.RawMessage   `json:"code"`
	Message    string            `json:"message"`
	Validation []ValidationError `json:"validation"`
}

// apiError turns an envelope's error member into an *APIError, or nil when
// the envelope carries no error.
func (env *envelope) apiError(method string, status int) *APIError {
	if envEmpty(env.Error) {
		return env.emptyCodeError(method, status)
	}
	e := &APIError{Method: method, Status: status}
	if env.Error[0] == '{' {
		var r restError
		if json.Unmarshal(env.Error, &r) == nil {
			e.Code = envString(r.Code)
			e.Description = r.Message
			e.Validation = r.Validation
		}
	} else {
		e.Code = envString(env.Error)
		e.Description = envString(env.ErrorDescription)
	}
	return e
}

// emptyCodeError reads an error answered with an empty code and its text in
// error_description ({"error":"","error_description":"Not found"}, HTTP 400),
// as about 211 pages document: an *APIError with Code "" that errors.Is
// matches by its description (DescriptionCode). A 2xx answer with a result
// and an empty "error" is a success.
func (env *envelope) emptyCodeError(method string, status int) *APIError {
	if e := bytes.TrimSpace(env.Error); len(e) == 0 || string(e) == "null" {
		return nil // no "error" member
	}
	desc := envString(env.ErrorDescription)
	ok := status >= 200 && status < 300 || status == 0
	if ok && (desc == "" || len(env.Result) > 0) {
		return nil
	}
	return &APIError{Method: method, Status: status, Description: desc}
}

// envEmpty reports the values PHP sends for "nothing": null, "", false, [], {}.
func envEmpty(b []byte) bool {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "", "null", `""`, "false", "[]", "{}":
		return true
	}
	return false
}

// envString reads a JSON string or number as text.
func envString(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
		return ""
	}
	return string(b)
}

// envInt reads a JSON number or numeric string; ok is false when absent.
func envInt(b json.RawMessage) (int, bool) {
	s := envString(b)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, false
		}
		n = int64(f)
	}
	return int(n), true
}

func envFloat(b json.RawMessage) float64 {
	s := envString(b)
	if s == "" {
		return 0
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// errNilRequest guards Call against a nil *Request.
var errNilRequest = errors.New("b24: nil Request")
