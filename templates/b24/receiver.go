package b24

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxBodyBytes bounds a delivery's body. Real deliveries are a few
// kilobytes; the bound keeps a hostile client from costing memory.
const DefaultMaxBodyBytes = 1 << 20

// Event is one outgoing-webhook delivery from Bitrix24.
type Event struct {
	Name      string          // upper-case, as the portal sends it: "ONCRMDEALUPDATE"
	HandlerID string          // "event_handler_id": the binding that fired
	Time      time.Time       // "ts": when the portal raised the event (zero when absent)
	Data      json.RawMessage // "data": the event's own payload, as JSON
	Payload   json.RawMessage // the whole delivery as JSON; form deliveries are converted, their values staying strings
	Auth      EventAuth       // the "auth" block
}

// Decode decodes the whole delivery (Payload) into v, typically a generated
// event struct; the error names the event.
func (e *Event) Decode(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("b24: event %s: %w", e.Name, err)
	}
	return nil
}

// String describes the event without its payload, which holds the tokens.
func (e Event) String() string {
	return fmt.Sprintf("Event{Name:%s HandlerID:%s Time:%s Payload:%d bytes Auth:%s}",
		e.Name, e.HandlerID, e.Time.Format(time.RFC3339), len(e.Payload), e.Auth.String())
}

// Format makes every fmt verb print String, so printing an event for
// debugging cannot leak the tokens in its payload.
func (e Event) Format(f fmt.State, _ rune) { io.WriteString(f, e.String()) }

// LogValue keeps the payload and the tokens out of slog records.
func (e Event) LogValue() slog.Value { return slog.StringValue(e.String()) }

// EventAuth is the "auth" block of a delivery. The tokens are credentials:
// EventAuth prints and logs them as "[redacted]".
//
// Bitrix24 sends the OAuth fields (AccessToken, RefreshToken, ExpiresIn…) only
// when the event can be tied to a user; always check before using them.
type EventAuth struct {
	AccessToken      string // OAuth 2.0 access token of the user who caused the event
	RefreshToken     string
	Expires          Time   // "expires": when AccessToken expires
	ExpiresIn        Int    // "expires_in": seconds AccessToken stays valid
	Scope            string // scopes of the application
	Domain           string // portal address, "some-domain.bitrix24.com"
	ServerEndpoint   string // OAuth server, "https://oauth.bitrix.info/rest/"
	ClientEndpoint   string // REST address of the portal, "https://some-domain.bitrix24.com/rest/"
	MemberID         string // portal identifier
	UserID           Int    // "user_id": the user who caused the event, when known
	Status           string // application status: L local, F free, D demo, T trial, P paid
	ApplicationToken string // proves the delivery comes from the portal; checked by Receiver
}

// eventAuthWire is EventAuth as it arrives: every value may be a string or a number.
type eventAuthWire struct {
	AccessToken      String `json:"access_token"`
	RefreshToken     String `json:"refresh_token"`
	Expires          Time   `json:"expires"`
	ExpiresIn        Int    `json:"expires_in"`
	Scope            String `json:"scope"`
	Domain           String `json:"domain"`
	ServerEndpoint   String `json:"server_endpoint"`
	ClientEndpoint   String `json:"client_endpoint"`
	MemberID         String `json:"member_id"`
	UserID           Int    `json:"user_id"`
	Status           String `json:"status"`
	ApplicationToken String `json:"application_token"`
}

// UnmarshalJSON reads the auth block; the empty forms give a zero EventAuth.
func (a *EventAuth) UnmarshalJSON(b []byte) error {
	var w eventAuthWire
	if err := DecodeObject(b, &w, nil); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	*a = EventAuth{
		AccessToken: string(w.AccessToken), RefreshToken: string(w.RefreshToken),
		Expires: w.Expires, ExpiresIn: w.ExpiresIn, Scope: string(w.Scope), Domain: string(w.Domain),
		ServerEndpoint: string(w.ServerEndpoint), ClientEndpoint: string(w.ClientEndpoint),
		MemberID: string(w.MemberID), UserID: w.UserID, Status: string(w.Status),
		ApplicationToken: string(w.ApplicationToken),
	}
	return nil
}

// MarshalJSON writes the auth block in the portal's key names, tokens included
// (the caller asked for them); only text output redacts.
func (a EventAuth) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventAuthWire{
		AccessToken: String(a.AccessToken), RefreshToken: String(a.RefreshToken),
		Expires: a.Expires, ExpiresIn: a.ExpiresIn, Scope: String(a.Scope), Domain: String(a.Domain),
		ServerEndpoint: String(a.ServerEndpoint), ClientEndpoint: String(a.ClientEndpoint),
		MemberID: String(a.MemberID), UserID: a.UserID, Status: String(a.Status),
		ApplicationToken: String(a.ApplicationToken),
	})
}

// String shows the non-secret fields; the tokens never appear.
func (a EventAuth) String() string {
	return fmt.Sprintf("EventAuth{Domain:%q MemberID:%q UserID:%d Scope:%q Status:%q ClientEndpoint:%q AccessToken:%s RefreshToken:%s ApplicationToken:%s}",
		a.Domain, a.MemberID, a.UserID, a.Scope, a.Status, a.ClientEndpoint,
		redactedMark(a.AccessToken), redactedMark(a.RefreshToken), redactedMark(a.ApplicationToken))
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String, so a token
// cannot leak through a debugging Printf.
func (a EventAuth) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

// LogValue keeps the tokens out of slog records.
func (a EventAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func redactedMark(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// Receiver is an http.Handler for Bitrix24 outgoing webhooks. It reads the
// delivery (form-encoded with PHP bracket keys, as the portal sends it, or
// JSON), checks the application token in constant time before anything is
// dispatched, and calls the handler registered for the event.
//
// Answers: 200 handled (or no handler and no fallback: logged, since the
// portal does not redeliver there is nothing better to say); 400 malformed;
// 401 wrong or missing token; 405 not a POST; 413 body too large; 500 the
// handler failed or panicked. Registration and dispatch are safe for
// concurrent use.
type Receiver struct {
	token   []byte
	log     *slog.Logger
	maxBody int64
	timeout time.Duration

	mu       sync.RWMutex
	handlers map[string]func(context.Context, *Event) error
	fallback func(context.Context, *Event) error
}

// ReceiverOption configures a Receiver.
type ReceiverOption func(*Receiver)

// WithReceiverLogger sets where the Receiver logs rejected deliveries and
// handler failures (default slog.Default()). No token is ever logged.
func WithReceiverLogger(l *slog.Logger) ReceiverOption {
	return func(r *Receiver) {
		if l != nil {
			r.log = l
		}
	}
}

// WithMaxBodyBytes bounds the body of a delivery (default DefaultMaxBodyBytes);
// larger ones get 413.
func WithMaxBodyBytes(n int64) ReceiverOption {
	return func(r *Receiver) {
		if n > 0 {
			r.maxBody = n
		}
	}
}

// WithHandlerTimeout bounds each handler call through its context. Bitrix24
// waits only a few seconds and never redelivers, so long work belongs in a
// queue; the default is no timeout beyond the request's own context.
func WithHandlerTimeout(d time.Duration) ReceiverOption {
	return func(r *Receiver) { r.timeout = d }
}

// NewReceiver returns a Receiver that accepts deliveries carrying
// applicationToken (shown by the portal for the outgoing webhook, or sent to
// the application at install). With an empty token every delivery is refused.
func NewReceiver(applicationToken string, opts ...ReceiverOption) *Receiver {
	r := &Receiver{
		token:    []byte(applicationToken),
		log:      slog.Default(),
		maxBody:  DefaultMaxBodyBytes,
		handlers: make(map[string]func(context.Context, *Event) error),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Handle registers h for the event name, matched case-insensitively
// ("OnCrmDealUpdate" and "ONCRMDEALUPDATE" are one event). A later Handle for
// the same name replaces h; a nil h removes the registration.
func (r *Receiver) Handle(event string, h func(context.Context, *Event) error) {
	name := strings.ToUpper(strings.TrimSpace(event))
	r.mu.Lock()
	defer r.mu.Unlock()
	if h == nil {
		delete(r.handlers, name)
		return
	}
	r.handlers[name] = h
}

// HandleFallback registers h for every event without a handler of its own,
// including events the docs do not list; nil removes it.
func (r *Receiver) HandleFallback(h func(context.Context, *Event) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallback = h
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		r.reject(w, req, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed", nil)
		return
	}
	if req.ContentLength > r.maxBody {
		r.reject(w, req, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the %d byte limit", req.ContentLength, r.maxBody), nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			r.reject(w, req, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the %d byte limit", r.maxBody), nil)
			return
		}
		r.reject(w, req, http.StatusBadRequest, "reading the body failed", err)
		return
	}
	d, err := parseDelivery(req.Header.Get("Content-Type"), body)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", err)
		return
	}
	// The token is checked before anything else is decoded or dispatched.
	if len(r.token) == 0 {
		r.reject(w, req, http.StatusUnauthorized, "receiver has no application token configured", nil)
		return
	}
	if d.token == "" {
		r.reject(w, req, http.StatusUnauthorized, "delivery carries no application token", nil)
		return
	}
	if subtle.ConstantTimeCompare([]byte(d.token), r.token) != 1 {
		r.reject(w, req, http.StatusUnauthorized, "application token does not match", nil)
		return
	}
	ev, err := d.event()
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", r.redact(err, d.secrets()...))
		return
	}
	if ev.Name == "" {
		r.reject(w, req, http.StatusBadRequest, "delivery has no event name", nil)
		return
	}
	h, isFallback := r.handler(ev.Name)
	if h == nil {
		r.log.InfoContext(req.Context(), "b24: no handler for event; delivery dropped", "event", ev.Name, "remote", req.RemoteAddr)
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := r.run(req.Context(), h, ev); err != nil {
		r.log.ErrorContext(req.Context(), "b24: event handler failed", "event", ev.Name, "fallback", isFallback,
			"remote", req.RemoteAddr, "error", r.redact(err, d.secrets()...).Error())
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *Receiver) handler(name string) (h func(context.Context, *Event) error, isFallback bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h := r.handlers[name]; h != nil {
		return h, false
	}
	return r.fallback, true
}

// run calls h, turning a panic into an error so one bad event cannot take the
// server down.
func (r *Receiver) run(ctx context.Context, h func(context.Context, *Event) error, ev *Event) (err error) {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, ev)
}

func (r *Receiver) reject(w http.ResponseWriter, req *http.Request, status int, msg string, err error) {
	attrs := []any{"status", status, "remote", req.RemoteAddr}
	if err != nil {
		attrs = append(attrs, "error", r.redact(err).Error())
	}
	r.log.WarnContext(req.Context(), "b24: delivery rejected: "+msg, attrs...)
	http.Error(w, http.StatusText(status), status)
}

// redact removes the receiver's token and the given secrets from err's text:
// a handler's error or panic may quote the event it was given.
func (r *Receiver) redact(err error, secrets ...string) error {
	msg := err.Error()
	clean := msg
	for _, s := range append(secrets, string(r.token)) {
		if len(s) >= 4 { // shorter strings would blank out ordinary words
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// delivery is a parsed body whose token has not been checked yet.
type delivery struct {
	token   string
	payload json.RawMessage // the whole body as JSON
	auth    json.RawMessage // the "auth" value within payload
	data    json.RawMessage // the "data" value within payload
	tree    map[string]any  // the decoded form; nil for JSON bodies
}

// parseDelivery reads a form or JSON body far enough to find the token.
func parseDelivery(contentType string, body []byte) (*delivery, error) {
	// A form body cannot start with "{", so the body decides when the header
	// is missing or wrong (proxies and test tools get it wrong).
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if mt == "application/json" || len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSONDelivery(trimmed)
	}
	tree, err := DecodeForm(string(body))
	if err != nil {
		return nil, err
	}
	d := &delivery{tree: tree}
	d.payload, d.data, d.auth = formTreeJSON(tree)
	if auth, ok := tree["auth"].(map[string]any); ok {
		d.token, _ = auth["application_token"].(string)
	}
	return d, nil
}

func parseJSONDelivery(body []byte) (*delivery, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("JSON body: %w", err)
	}
	d := &delivery{payload: body, auth: top["auth"]}
	var auth map[string]json.RawMessage
	if json.Unmarshal(d.auth, &auth) == nil { // auth may be absent, [] or garbage: then no token
		var tok String
		if json.Unmarshal(auth["application_token"], &tok) == nil {
			d.token = string(tok)
		}
	}
	return d, nil
}

// secrets lists the strings of a delivery's auth block that may be
// credentials, for redaction: every token-like value (letters and digits
// only, 8 or more), whatever its key, since a malformed block may hold a token
// under the wrong key.
func (d *delivery) secrets() []string {
	out := []string{d.token}
	var auth map[string]json.RawMessage
	if json.Unmarshal(d.auth, &auth) != nil {
		return out
	}
	for _, raw := range auth {
		var s String
		if json.Unmarshal(raw, &s) == nil && len(s) >= 8 && isTokenLike(string(s)) {
			out = append(out, string(s))
		}
	}
	return out
}

func isTokenLike(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// event decodes the envelope of a delivery whose token has been checked.
func (d *delivery) event() (*Event, error) {
	var name, handlerID, ts string
	if d.tree != nil {
		// Form values are all strings (or lists and maps, which are not names).
		name, _ = d.tree["event"].(string)
		handlerID, _ = d.tree["event_handler_id"].(string)
		ts, _ = d.tree["ts"].(string)
	} else {
		var env struct {
			Event     String          `json:"event"`
			HandlerID String          `json:"event_handler_id"`
			TS        String          `json:"ts"`
			Data      json.RawMessage `json:"data"`
		}
		if err := DecodeObject(d.payload, &env, nil); err != nil {
			return nil, err
		}
		name, handlerID, ts, d.data = string(env.Event), string(env.HandlerID), string(env.TS), env.Data
	}
	ev := &Event{
		Name:      strings.ToUpper(strings.TrimSpace(name)),
		HandlerID: handlerID,
		Data:      d.data,
		Payload:   d.payload,
	}
	if t, ok := parseTime(ts); ok {
		ev.Time = t
	}
	if auth, ok := d.tree["auth"].(map[string]any); ok {
		a, err := authFromForm(auth)
		if err != nil {
			return nil, err
		}
		ev.Auth = a
	} else if len(d.auth) > 0 {
		if err := json.Unmarshal(d.auth, &ev.Auth); err != nil {
			return nil, err
		}
	}
	// encoding/json matches keys case-insensitively; the handler must see the
	// token that was verified, not a look-alike key's value.
	ev.Auth.ApplicationToken = d.token
	return ev, nil
}

// authFromForm reads the auth block of a form delivery straight from its
// strings: the same result as decoding its JSON, several times faster.
func authFromForm(m map[string]any) (EventAuth, error) {
	str := func(k string) string { s, _ := m[k].(string); return s }
	a := EventAuth{
		AccessToken: str("access_token"), RefreshToken: str("refresh_token"), Scope: str("scope"),
		Domain: str("domain"), ServerEndpoint: str("server_endpoint"), ClientEndpoint: str("client_endpoint"),
		MemberID: str("member_id"), Status: str("status"), ApplicationToken: str("application_token"),
	}
	for _, f := range []struct {
		key string
		dst *Int
	}{{"expires_in", &a.ExpiresIn}, {"user_id", &a.UserID}} {
		if v, ok := m[f.key]; ok {
			s, isStr := v.(string)
			n, ok := parseIntText(strings.TrimSpace(s))
			if !isStr || !ok && strings.TrimSpace(s) != "" {
				return EventAuth{}, fmt.Errorf("auth: key %q: %w", f.key, valueError("Int", formValueText(v), intWant))
			}
			*f.dst = Int(n)
		}
	}
	if v, ok := m["expires"]; ok {
		s, isStr := v.(string)
		t, ok := parseTime(s)
		if !isStr || !ok {
			return EventAuth{}, fmt.Errorf("auth: key %q: %w", "expires", valueError("Time", formValueText(v), timeWant))
		}
		a.Expires = Time{t}
	}
	return a, nil
}

// formValueText renders a form value for an error message.
func formValueText(v any) []byte {
	if s, ok := v.(string); ok {
		return strconv.AppendQuote(nil, s)
	}
	return []byte("a list or object")
}

// formTreeJSON writes a decoded form as JSON, keys sorted as encoding/json
// sorts them, and returns the spans of the top-level "data" and "auth" values.
func formTreeJSON(tree map[string]any) (all, data, auth []byte) {
	var dataAt, authAt [2]int
	buf := make([]byte, 0, 1024)
	buf = append(buf, '{')
	for i, k := range sortedKeys(tree) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		start := len(buf)
		buf = appendFormJSON(buf, tree[k])
		switch k {
		case "data":
			dataAt = [2]int{start, len(buf)}
		case "auth":
			authAt = [2]int{start, len(buf)}
		}
	}
	buf = append(buf, '}')
	if dataAt[1] > 0 {
		data = buf[dataAt[0]:dataAt[1]:dataAt[1]]
	}
	if authAt[1] > 0 {
		auth = buf[authAt[0]:authAt[1]:authAt[1]]
	}
	return buf, data, auth
}

func appendFormJSON(buf []byte, v any) []byte {
	switch t := v.(type) {
	case string:
		return appendJSONString(buf, t)
	case []any:
		buf = append(buf, '[')
		for i, x := range t {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendFormJSON(buf, x)
		}
		return append(buf, ']')
	case map[string]any:
		buf = append(buf, '{')
		for i, k := range sortedKeys(t) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendFormJSON(buf, t[k])
		}
		return append(buf, '}')
	}
	return append(buf, "null"...) // not reached: DecodeForm yields only the three shapes above
}

// sortedKeys returns m's keys in byte order, the order encoding/json writes.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// appendJSONString quotes s as JSON, invalid UTF-8 becoming U+FFFD as with
// encoding/json; "<", ">" and "&" stay as they are.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c == '\b':
				buf = append(buf, '\\', 'b')
			case c == '\f':
				buf = append(buf, '\\', 'f')
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // as encoding/json: safe inside <script>
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
