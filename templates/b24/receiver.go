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
	"net"
	"net/http"
	"os"
	"reflect"
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
// event struct; the error names the event. When v is a pointer to a struct
// with an "auth" field of type EventAuth, that field is set to e.Auth, the
// verified block, whatever look-alike keys the payload holds.
func (e *Event) Decode(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("b24: event %s: %w", e.Name, err)
	}
	setVerifiedAuth(v, e.Auth)
	return nil
}

// Redacted returns the payload as JSON with every credential masked: the
// value of any key that names a credential (isSecretKey: "token",
// "secret", "password", "apiKey", "private_key", "Authorization", … in any
// case or spelling, at any depth, whatever the value's shape) becomes
// "[redacted]", and so does any string equal to one of the auth block's
// tokens. Keys come out sorted. It is the view to log; Payload itself holds
// the tokens.
func (e *Event) Redacted() json.RawMessage {
	if len(bytes.TrimSpace(e.Payload)) == 0 {
		return json.RawMessage("null")
	}
	dec := json.NewDecoder(bytes.NewReader(e.Payload))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return json.RawMessage(`"[payload withheld: not valid JSON]"`)
	}
	known := map[string]bool{}
	for _, s := range []string{e.Auth.ApplicationToken, e.Auth.AccessToken, e.Auth.RefreshToken} {
		if s != "" {
			known[s] = true
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(maskSecrets(v, known)) != nil {
		return json.RawMessage(`"[payload withheld]"`) // not reached: v came from JSON
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

const redactedText = "[redacted]"

// Key names that hold credentials, lower-cased with everything but letters
// and digits removed ("x-api-key" → "xapikey"): secretParts anywhere in the
// name, secretNames as the whole name (short or common words that would
// mask ordinary fields as parts: "AUTHOR_ID", "PASSPORT").
var (
	secretParts = []string{"token", "secret", "password", "passwd", "apikey", "accesskey", "privatekey",
		"signingkey", "credential", "authorization", "cookie", "sessid", "sessionid", "signature"}
	secretNames = map[string]bool{"auth": true, "authid": true, "authkey": true, "authcode": true, "pwd": true,
		"pass": true, "key": true, "sig": true, "sign": true, "hash": true, "pin": true, "bearer": true}
)

// isSecretKey: keys whose values are credentials, in any spelling.
func isSecretKey(k string) bool {
	n := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			n = append(n, c)
		case 'A' <= c && c <= 'Z':
			n = append(n, c+'a'-'A')
		}
	}
	if secretNames[string(n)] {
		return true
	}
	for _, p := range secretParts {
		if bytes.Contains(n, []byte(p)) {
			return true
		}
	}
	return false
}

func maskSecrets(v any, known map[string]bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			_, isMap := x.(map[string]any)
			// The delivery's own "auth" block is an object: its keys are
			// masked one by one, so the portal's domain stays readable.
			if isSecretKey(k) && !(isMap && strings.EqualFold(k, authKey)) {
				t[k] = redactedText
			} else {
				t[k] = maskSecrets(x, known)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = maskSecrets(x, known)
		}
	case string:
		if known[t] {
			return redactedText
		}
	}
	return v
}

// String describes the event with its payload in the Redacted view.
func (e Event) String() string {
	return fmt.Sprintf("Event{Name:%s HandlerID:%s Time:%s Payload:%s Auth:%s}",
		e.Name, e.HandlerID, e.Time.Format(time.RFC3339), e.Redacted(), e.Auth.String())
}

// Format makes every fmt verb print String, so printing an event for
// debugging cannot leak the tokens in its payload.
func (e Event) Format(f fmt.State, _ rune) { io.WriteString(f, e.String()) }

// LogValue logs the event with its payload in the Redacted view.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", e.Name),
		slog.String("handler_id", e.HandlerID),
		slog.Time("time", e.Time),
		slog.String("payload", string(e.Redacted())),
		slog.Any("auth", e.Auth),
	)
}

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
// JSON), finds the application token without decoding the body, checks it in
// constant time, and only then decodes the delivery and calls the handler
// registered for the event. An unauthenticated request costs about its body
// size in memory, whatever its shape.
//
// A delivery must carry exactly one auth block with exactly one
// application_token (in JSON, keys are matched case-insensitively, as
// encoding/json matches them); a second one is refused with 400, so the
// Auth a handler sees is always the block whose token was checked.
//
// Answers: 200 handled (or no handler and no fallback: logged, since the
// portal does not redeliver there is nothing better to say); 400 malformed;
// 401 wrong or missing token; 405 not a POST; 408 body not received in time;
// 413 body too large; 500 the handler failed or panicked, the payload does
// not fit the handler's type, or the receiver is misconfigured (see Err).
// With WithSpool the handlers run in workers instead (WorkSpool, Dispatch),
// and the answer is 200 once the delivery is stored, 503 when the spool
// failed. Registration and dispatch are safe for concurrent use.
//
// Serve it with timeouts (NewEventServer): a receiver behind a bare
// http.ListenAndServe lets a slow client hold a connection for ever.
type Receiver struct {
	token       []byte
	cfgErr      error
	cfgOnce     sync.Once
	log         *slog.Logger
	maxBody     int64
	timeout     time.Duration
	readTimeout time.Duration

	mu       sync.RWMutex
	handlers map[string]eventHandler
	fallback func(context.Context, *Event) error

	app *App // WithApp: each portal's stored application token (app_install.go)

	spool Spool // WithSpool: deliveries are put there and handled by workers (receiver_spool.go)
}

// eventHandler is a registration: raw (gets the Event) or typed (decodes
// the delivery into its own type first).
type eventHandler struct {
	raw   func(context.Context, *Event) error
	typed func(d *delivery) (call func(context.Context) error, err error)
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

// DefaultBodyReadTimeout bounds the time a delivery's body may take to
// arrive; a real delivery takes milliseconds.
const DefaultBodyReadTimeout = 10 * time.Second

// WithBodyReadTimeout bounds the time the body of a delivery may take to
// arrive, counted from the start of ServeHTTP (default
// DefaultBodyReadTimeout); a slower body gets 408 and the connection is
// closed. d <= 0 removes the bound. It needs a ResponseWriter that supports
// http.ResponseController.SetReadDeadline, as net/http's own does; elsewhere
// only the server's ReadTimeout applies.
func WithBodyReadTimeout(d time.Duration) ReceiverOption {
	return func(r *Receiver) { r.readTimeout = max(d, 0) }
}

// minTokenLen is the shortest application token accepted: the portal's are
// 32 characters, and a shorter value is a configuration mistake that could
// not be masked in logs without blanking ordinary words.
const minTokenLen = 4

// NewReceiver returns a Receiver that accepts deliveries carrying
// applicationToken (shown by the portal for the outgoing webhook, or sent to
// the application at install). With an empty token every delivery is
// refused (401), unless WithApp puts the Receiver in install mode, where
// each portal's stored token is checked instead. A token shorter than 4
// characters is a configuration error: Err reports it, and the Receiver
// answers every request 500 and logs the error once.
func NewReceiver(applicationToken string, opts ...ReceiverOption) *Receiver {
	r := &Receiver{
		token:       []byte(applicationToken),
		log:         slog.Default(),
		maxBody:     DefaultMaxBodyBytes,
		readTimeout: DefaultBodyReadTimeout,
		handlers:    make(map[string]eventHandler),
	}
	if n := len(applicationToken); n > 0 && n < minTokenLen {
		// The message never quotes the value: it is a secret, however short.
		r.cfgErr = fmt.Errorf("b24: receiver: the application token has %d characters, fewer than %d: check the value given to NewReceiver", n, minTokenLen)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Err reports a configuration error found by NewReceiver (a token shorter
// than 4 characters), nil when the Receiver is usable. Check it at start-up;
// a misconfigured Receiver answers every delivery 500.
func (r *Receiver) Err() error { return r.cfgErr }

// NewEventServer returns an *http.Server for addr serving h (typically a
// Receiver) with timeouts, so that slow or idle clients cannot hold
// connections: 5 s to send the headers, 15 s for the whole request, 30 s to
// write the answer (handler time included), 60 s idle between requests,
// 64 KiB of headers. Adjust the fields before calling ListenAndServe or
// ListenAndServeTLS:
//
//	srv := b24.NewEventServer(":8080", r)
//	log.Fatal(srv.ListenAndServe())
func NewEventServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Handle registers h for the event name, matched case-insensitively
// ("OnCrmDealUpdate" and "ONCRMDEALUPDATE" are one event). A later Handle for
// the same name replaces h; a nil h removes the registration.
func (r *Receiver) Handle(event string, h func(context.Context, *Event) error) {
	if h == nil {
		r.register(event, eventHandler{})
		return
	}
	r.register(event, eventHandler{raw: h})
}

// HandleTyped registers h for the event name with each delivery decoded
// into a new T, a struct whose json tags name the delivery's keys (a
// generated event type). A form delivery is decoded straight into T in one
// pass; T's "auth" field of type EventAuth holds the verified auth block.
// A payload that does not fit T is answered 500 and logged. A later
// registration for the name replaces h; nil removes it.
func HandleTyped[T any](r *Receiver, event string, h func(context.Context, *T) error) {
	if h == nil {
		r.register(event, eventHandler{})
		return
	}
	r.register(event, eventHandler{typed: func(d *delivery) (func(context.Context) error, error) {
		v := new(T)
		if err := d.decodeTyped(v); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return h(ctx, v) }, nil
	}})
}

func (r *Receiver) register(event string, h eventHandler) {
	name := strings.ToUpper(strings.TrimSpace(event))
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.raw == nil && h.typed == nil {
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
	if r.cfgErr != nil {
		r.cfgOnce.Do(func() { r.log.ErrorContext(req.Context(), r.cfgErr.Error()+"; every delivery is answered 500") })
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if req.ContentLength > r.maxBody {
		abandonBody(w)
		r.reject(w, req, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the %d byte limit", req.ContentLength, r.maxBody), nil)
		return
	}
	body, status, msg, err := r.readBody(w, req)
	if status != 0 {
		r.reject(w, req, status, msg, err)
		return
	}
	// The token is found and checked before anything is decoded.
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	isJSON := mt == "application/json" || len(trimmed) > 0 && trimmed[0] == '{' // a form cannot start with "{"
	if isJSON {
		body = trimmed
	}
	loc, err := locateToken(isJSON, body)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", err)
		return
	}
	ctx := req.Context()
	d := &delivery{loc: loc, body: body, token: string(loc.token)}
	switch {
	case r.app != nil: // install mode (app_install.go): the token is the portal's
		var status int
		if ctx, status, msg, err = r.app.admit(ctx, d); status != 0 {
			r.reject(w, req, status, msg, err)
			return
		}
	case len(r.token) == 0:
		r.reject(w, req, http.StatusUnauthorized, "receiver has no application token configured", nil)
		return
	case len(loc.token) == 0:
		r.reject(w, req, http.StatusUnauthorized, "delivery carries no application token", nil)
		return
	case subtle.ConstantTimeCompare(loc.token, r.token) != 1:
		r.reject(w, req, http.StatusUnauthorized, "application token does not match", nil)
		return
	}
	name, err := d.name()
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", r.redact(err, d.secrets()...))
		return
	}
	if name == "" {
		r.reject(w, req, http.StatusBadRequest, "delivery has no event name", nil)
		return
	}
	if r.spool != nil {
		r.put(w, req, d, name)
		return
	}
	call, isFallback, fault := r.prepare(d, name)
	switch {
	case fault == nil:
	case fault.malformed:
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", r.redact(fault.err, d.secrets()...))
		return
	default:
		r.log.ErrorContext(req.Context(), "b24: event payload does not fit its type", "event", name,
			"remote", req.RemoteAddr, "error", r.redact(fault.err, d.secrets()...).Error())
		http.Error(w, "payload does not decode", http.StatusInternalServerError)
		return
	}
	if call == nil {
		r.log.InfoContext(req.Context(), "b24: no handler for event; delivery dropped", "event", name, "remote", req.RemoteAddr)
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := r.run(ctx, call); err != nil {
		r.log.ErrorContext(req.Context(), "b24: event handler failed", "event", name, "fallback", isFallback,
			"remote", req.RemoteAddr, "error", r.redact(err, d.secrets()...).Error())
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readBody reads the body within the size and time bounds; status is
// non-zero when it must be refused. The buffer is sized from Content-Length
// when known, so reading costs the body's size once.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) (body []byte, status int, msg string, err error) {
	if r.readTimeout > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(r.readTimeout)) == nil {
			defer func() {
				if status == 0 {
					// A deadline left behind would cancel the request's
					// context when it passes during the handler.
					rc.SetReadDeadline(time.Time{})
				}
			}()
		}
	}
	defer func() {
		if status != 0 {
			abandonBody(w)
		}
	}()
	src := http.MaxBytesReader(w, req.Body, r.maxBody)
	size := int64(4096)
	if req.ContentLength >= 0 {
		size = req.ContentLength + 1 // +1: room to see EOF without growing
	}
	body = make([]byte, 0, size)
	for {
		if len(body) == cap(body) {
			// Double by hand (append's growth would overshoot), never past
			// the bound: a body of unknown length costs at most about twice its size.
			grown := make([]byte, len(body), min(2*cap(body), int(r.maxBody)+1))
			copy(grown, body)
			body = grown
		}
		n, rerr := src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			return body, 0, "", nil
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the %d byte limit", r.maxBody), nil
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, http.StatusRequestTimeout, fmt.Sprintf("body not received within %s", r.readTimeout), nil
	}
	return nil, http.StatusBadRequest, "reading the body failed", err
}

// abandonBody makes every further read of a refused request's connection
// fail at once, and closes it after the answer. Without it net/http drains
// the unread rest of the body after the handler returns, with no deadline
// once readBody has replaced the server's: a client trickling its body
// would hold the connection as long as it likes.
func abandonBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
}

func (r *Receiver) handler(name string) (h eventHandler, isFallback bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.handlers[name]; ok {
		return h, false
	}
	return eventHandler{raw: r.fallback}, true
}

// decodeFault is a delivery that cannot reach its handler: malformed (400),
// or well-formed but not fitting the handler's type (500).
type decodeFault struct {
	malformed bool
	err       error
}

// prepare finds the handler for name and decodes d for it. call is nil when
// no handler and no fallback is registered (d has been validated then).
func (r *Receiver) prepare(d *delivery, name string) (call func(context.Context) error, isFallback bool, fault *decodeFault) {
	h, isFallback := r.handler(name)
	switch {
	case h.typed != nil:
		call, err := h.typed(d)
		if _, bad := errors.AsType[*malformedError](err); bad {
			return nil, isFallback, &decodeFault{malformed: true, err: err}
		}
		if err != nil {
			return nil, isFallback, &decodeFault{err: err}
		}
		return call, isFallback, nil
	case h.raw != nil:
		ev, err := d.event()
		if err != nil {
			return nil, isFallback, &decodeFault{malformed: true, err: err}
		}
		return func(ctx context.Context) error { return h.raw(ctx, ev) }, isFallback, nil
	}
	if err := d.validate(); err != nil {
		return nil, isFallback, &decodeFault{malformed: true, err: err}
	}
	return nil, isFallback, nil
}

// run calls f, turning a panic into an error so one bad event cannot take
// the server down.
func (r *Receiver) run(ctx context.Context, f func(context.Context) error) (err error) {
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
	return f(ctx)
}

func (r *Receiver) reject(w http.ResponseWriter, req *http.Request, status int, msg string, err error) {
	attrs := []any{"status", status, "remote", req.RemoteAddr}
	if err != nil {
		attrs = append(attrs, "error", r.redact(err).Error())
	}
	r.log.WarnContext(req.Context(), "b24: delivery rejected: "+msg, attrs...)
	if status == http.StatusRequestTimeout {
		w.Header().Set("Connection", "close") // the rest of the body is not worth waiting for
	}
	http.Error(w, http.StatusText(status), status)
}

// redact removes the receiver's token and the given secrets from err's text:
// a handler's error or panic may quote the event it was given. A secret too
// short to replace safely withholds the whole text instead.
func (r *Receiver) redact(err error, secrets ...string) error {
	msg := err.Error()
	clean := msg
	for _, s := range append(secrets, string(r.token)) {
		switch {
		case s == "":
		case len(s) < minTokenLen:
			if strings.Contains(clean, s) {
				return errors.New("[error text withheld: the delivery carries a credential too short to mask]")
			}
		default:
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// delivery is a body whose token has been checked.
type delivery struct {
	loc   *located
	body  []byte
	token string

	sbody string         // body as a string, made once
	tree  map[string]any // the decoded form (tree route); nil until needed
	env   *jsonEnvelope  // JSON bodies: the envelope, decoded once
	ev    *Event
	fresh *Token // install mode: the pair ONAPPINSTALL's check stored (app_install.go)
	// live, in install mode, lists the portal's credentials as the App
	// holds them now: a handler may quote a pair renewed since delivery.
	live func() []string
}

type jsonEnvelope struct {
	Event     String          `json:"event"`
	HandlerID String          `json:"event_handler_id"`
	TS        String          `json:"ts"`
	Data      json.RawMessage `json:"data"`
}

func (d *delivery) str() string {
	if d.sbody == "" && len(d.body) > 0 {
		d.sbody = string(d.body)
	}
	return d.sbody
}

func (d *delivery) envelope() (*jsonEnvelope, error) {
	if d.env == nil {
		env := &jsonEnvelope{}
		if err := DecodeObject(d.body, env, nil); err != nil {
			return nil, err
		}
		d.env = env
	}
	return d.env, nil
}

// name is the event's name, upper-cased: from the scan for forms (the last
// "event" pair, or none when a later pair made it a list or map, as the tree
// would say), from the envelope for JSON.
func (d *delivery) name() (string, error) {
	var name string
	if d.loc.json {
		env, err := d.envelope()
		if err != nil {
			return "", err
		}
		name = string(env.Event)
	} else if !d.loc.eventContainer && d.loc.eventRaw != nil {
		b, ok := appendUnescaped(nil, d.loc.eventRaw)
		if !ok {
			return "", &malformedError{errors.New("form: value of key \"event\": bad percent-escape")}
		}
		name = string(b)
	}
	return strings.ToUpper(strings.TrimSpace(name)), nil
}

// validate checks the syntax of a delivery nobody decodes.
func (d *delivery) validate() error {
	if d.loc.json {
		return nil // the envelope was decoded
	}
	return decodeFormInto(d.str(), reflect.Value{}, nil, nil)
}

// decodeTyped decodes the delivery into v, a pointer to a struct: forms in
// one pass when the type allows, else (and for JSON) through the payload's
// JSON. v's auth block is the verified one.
func (d *delivery) decodeTyped(v any) error {
	if !d.loc.json {
		rv := reflect.ValueOf(v).Elem()
		if plan := planFor(rv.Type()); plan != nil {
			var a EventAuth
			err := decodeFormInto(d.str(), rv, plan, &a)
			if err == nil {
				if plan.auth >= 0 {
					a.ApplicationToken = d.token
					d.freshAuth(&a)
					*rv.Field(plan.auth).Addr().Interface().(*EventAuth) = a // no boxing of a
				}
				return nil
			}
			if !errors.Is(err, errSlowRoute) {
				return err
			}
			rv.SetZero()
		}
	}
	ev, err := d.event()
	if err != nil {
		return &malformedError{err}
	}
	return ev.Decode(v)
}

// secrets lists the strings of a delivery's auth block that are
// credentials, for redaction: every value under a key naming a token or a
// secret, whatever its shape or length.
func (d *delivery) secrets() []string {
	out := []string{d.token}
	if d.fresh != nil {
		out = append(out, d.fresh.secrets()...)
	}
	if d.live != nil {
		out = append(out, d.live()...)
	}
	var auth any
	if d.loc.json {
		var m map[string]any
		if json.Unmarshal(d.loc.auth, &m) == nil {
			auth = m
		}
	} else if tree, err := d.formTree(); err == nil {
		auth = tree[authKey]
	}
	collectSecrets(auth, false, &out)
	return out
}

func collectSecrets(v any, secret bool, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			collectSecrets(x, secret || isSecretKey(k), out)
		}
	case []any:
		for _, x := range t {
			collectSecrets(x, secret, out)
		}
	case string:
		if secret && t != "" {
			*out = append(*out, t)
		}
	case float64, json.Number:
		if secret {
			*out = append(*out, fmt.Sprint(t))
		}
	}
}

func (d *delivery) formTree() (map[string]any, error) {
	if d.tree == nil {
		tree, err := DecodeForm(d.str())
		if err != nil {
			return nil, err
		}
		d.tree = tree
	}
	return d.tree, nil
}

// event decodes the delivery into an Event (the tree route for forms).
func (d *delivery) event() (*Event, error) {
	if d.ev != nil {
		return d.ev, nil
	}
	var name, handlerID, ts string
	ev := &Event{}
	if d.loc.json {
		env, err := d.envelope()
		if err != nil {
			return nil, err
		}
		name, handlerID, ts = string(env.Event), string(env.HandlerID), string(env.TS)
		ev.Data, ev.Payload = env.Data, d.body
		if len(d.loc.auth) > 0 {
			if err := json.Unmarshal(d.loc.auth, &ev.Auth); err != nil {
				return nil, err
			}
		}
	} else {
		tree, err := d.formTree()
		if err != nil {
			return nil, err
		}
		// Form values are all strings (or lists and maps, which are not names).
		name, _ = tree["event"].(string)
		handlerID, _ = tree["event_handler_id"].(string)
		ts, _ = tree["ts"].(string)
		ev.Payload, ev.Data, _ = formTreeJSON(tree)
		if auth, ok := tree[authKey].(map[string]any); ok {
			a, err := authFromForm(func(k string) (string, bool, bool) {
				v, ok := auth[k]
				s, isStr := v.(string)
				return s, isStr, ok
			})
			if err != nil {
				return nil, err
			}
			ev.Auth = a
		}
	}
	ev.Name = strings.ToUpper(strings.TrimSpace(name))
	ev.HandlerID = handlerID
	if t, ok := parseTime(ts); ok {
		ev.Time = t
	}
	// The scan refused look-alike keys; the handler sees the token that was
	// verified in any case.
	ev.Auth.ApplicationToken = d.token
	d.freshAuth(&ev.Auth)
	d.ev = ev
	return ev, nil
}

// authFromForm reads the auth block of a form delivery straight from its
// values (get returns a key's string, list or map): the same result as
// decoding its JSON, several times faster.
func authFromForm(get func(key string) (s string, isStr, ok bool)) (EventAuth, error) {
	str := func(k string) string { s, _, _ := get(k); return s }
	a := EventAuth{
		AccessToken: str("access_token"), RefreshToken: str("refresh_token"), Scope: str("scope"),
		Domain: str("domain"), ServerEndpoint: str("server_endpoint"), ClientEndpoint: str("client_endpoint"),
		MemberID: str("member_id"), Status: str("status"), ApplicationToken: str("application_token"),
	}
	for _, f := range []struct {
		key string
		dst *Int
	}{{"expires_in", &a.ExpiresIn}, {"user_id", &a.UserID}} {
		if s, isStr, ok := get(f.key); ok {
			n, ok := parseIntText(strings.TrimSpace(s))
			if !isStr || !ok && strings.TrimSpace(s) != "" {
				return EventAuth{}, fmt.Errorf("auth: key %q: %w", f.key, valueError("Int", formValueText(s, isStr), intWant))
			}
			*f.dst = Int(n)
		}
	}
	if s, isStr, ok := get("expires"); ok {
		t, ok := parseTime(s)
		if !isStr || !ok {
			return EventAuth{}, fmt.Errorf("auth: key %q: %w", "expires", valueError("Time", formValueText(s, isStr), timeWant))
		}
		a.Expires = Time{t}
	}
	return a, nil
}

// formValueText renders a form value for an error message.
func formValueText(s string, isStr bool) []byte {
	if isStr {
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
