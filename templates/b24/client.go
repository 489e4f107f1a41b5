package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls a Bitrix24 portal through an incoming webhook. It is safe for
// concurrent use; all calls share one rate-limit bucket and one set of
// per-method OPERATION_TIME_LIMIT holds.
//
// The webhook secret is a credential: String, GoString, Format, LogValue and
// every error the client returns show the URL with the secret replaced by ***.
type Client struct {
	base     string // https://host/rest/<user>/<secret>/
	baseV3   string // https://host/rest/api/<user>/<secret>/
	redacted string // https://host/rest/<user>/***/
	red      redactor

	hc        *http.Client
	log       *slog.Logger
	userAgent string
	uaHeader  []string
	bucket    *bucket // nil: no client-side rate limit
	gates     *gates
	opLimit   time.Duration // WithOperatingLimit; 0: no pacing
	retry     RetryPolicy
	maxBody   int64
	// callTimeout bounds a call with its retries (0: no bound).
	callTimeout time.Duration
	hook        func(Attempt)

	strictDecoding bool      // WithStrictDecoding (decode.go)
	insecureHTTP   bool      // WithInsecureHTTP
	inflight       *keyLocks // REST 3.0 idempotency keys in flight (v3_idempotency.go)

	// share links the client to the stores a fleet shares (limit_shared.go);
	// nil without WithSharedBucket and WithSharedHolds.
	share *sharing

	// app signs calls with an OAuth access token (app.go); nil for a
	// webhook client, whose URL carries its secret.
	app *appAuth

	optErr error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests through hc (timeouts, proxies, transport).
// The client keeps a copy of hc with its own CheckRedirect, which follows no
// redirect: the webhook secret is in every request's path, and a redirect
// would carry it (and a write's body) to wherever the answer points.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc == nil {
			c.optErr = errors.New("b24: WithHTTPClient(nil)")
			return
		}
		c.hc = hc
	}
}

// WithLogger logs retries, limit waits and (at debug level) every call.
// Log records never hold the webhook secret. Without it, retries are still
// logged, at warning level, through slog.Default(); pass
// slog.New(slog.DiscardHandler) to silence them.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRateLimit sets the client-side leaky bucket: up to burst requests at
// once, then perSecond a second. Match it to the portal's plan.
func WithRateLimit(burst int, perSecond float64) Option {
	return func(c *Client) {
		if burst < 1 || !(perSecond > 0) {
			c.optErr = fmt.Errorf("b24: WithRateLimit(%d, %v): want burst >= 1 and perSecond > 0", burst, perSecond)
			return
		}
		c.bucket = newBucket(burst, perSecond)
	}
}

// WithEnterpriseLimits sets the bucket of Enterprise plans: 250 burst, 5/s.
func WithEnterpriseLimits() Option { return WithRateLimit(EnterpriseBurst, EnterprisePerSecond) }

// WithoutRateLimit turns the client-side bucket off (the portal still
// enforces its own; QUERY_LIMIT_EXCEEDED is then retried with backoff).
func WithoutRateLimit() Option { return func(c *Client) { c.bucket = nil } }

// WithRetry replaces the retry policy; zero fields keep their defaults,
// except MaxRetries (use WithMaxRetries(0) to turn retrying off).
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) {
		if p.MaxRetries < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxOperationWait < 0 || p.OperationDelay < 0 {
			c.optErr = errors.New("b24: WithRetry: negative field")
			return
		}
		d := DefaultRetryPolicy
		if p.BaseDelay == 0 {
			p.BaseDelay = d.BaseDelay
		}
		if p.MaxDelay == 0 {
			p.MaxDelay = d.MaxDelay
		}
		if p.MaxOperationWait == 0 {
			p.MaxOperationWait = d.MaxOperationWait
		}
		if p.OperationDelay == 0 {
			p.OperationDelay = d.OperationDelay
		}
		c.retry = p
	}
}

// WithMaxRetries sets how many times a failed call may be retried.
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n < 0 {
			c.optErr = fmt.Errorf("b24: WithMaxRetries(%d): want >= 0", n)
			return
		}
		c.retry.MaxRetries = n
	}
}

// WithMaxResponseBytes bounds the size of one response body (default 256 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) {
		if n < 1 {
			c.optErr = fmt.Errorf("b24: WithMaxResponseBytes(%d): want >= 1", n)
			return
		}
		c.maxBody = n
	}
}

// WithInsecureHTTP lets NewWebhookClient take an http:// webhook URL whose
// host is not loopback. Without it such a URL is refused: the webhook
// secret is a segment of every request's path, so over plain HTTP it
// travels in clear to everyone on the way, with every call's data. Use it
// only for a portal on a network you trust; http:// to localhost,
// 127.0.0.0/8 or ::1 (a fake portal in tests) needs no option.
func WithInsecureHTTP() Option { return func(c *Client) { c.insecureHTTP = true } }

// isLoopback tells whether host (a URL's host, with or without a port) is
// this machine.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const defaultUserAgent = "b24gen-go/1"

// NewWebhookClient returns a client for an incoming webhook URL as the portal
// shows it: https://your.bitrix24.com/rest/1/secret/ (the trailing slash is
// optional). A method name pasted after the secret ("crm.deal.get",
// "profile.json", ".json"), a query string and a fragment are stripped.
// Anything else is refused with an error that does not hold the secret.
func NewWebhookClient(webhookURL string, opts ...Option) (*Client, error) {
	w, err := parseWebhookURL(webhookURL)
	if err != nil {
		return nil, err
	}
	c, err := newClient(&Client{
		base:     w.prefix + "rest/" + w.user + "/" + w.secret + "/",
		baseV3:   w.prefix + "rest/api/" + w.user + "/" + w.secret + "/",
		redacted: w.prefix + "rest/" + w.user + "/" + redactedSecret + "/",
		red:      redactor{secret: w.secret},
	}, opts)
	if err != nil {
		return nil, err
	}
	if c.share != nil {
		c.share.portal, c.share.identity = strings.ToLower(w.host), "webhook "+w.user
	}
	if w.scheme == "http" && !isLoopback(w.host) && !c.insecureHTTP {
		return nil, fmt.Errorf("b24: webhook URL %s is http://, which would send the webhook secret in clear: use https://, or pass b24.WithInsecureHTTP() for a portal on a trusted network", c.redacted)
	}
	return c, nil
}

// newClient fills in the defaults of c, applies opts and finishes it; the
// webhook and the application clients share it.
func newClient(c *Client, opts []Option) (*Client, error) {
	c.hc = &http.Client{Timeout: 2 * time.Minute}
	c.userAgent = defaultUserAgent
	c.bucket = newBucket(DefaultBurst, DefaultPerSecond)
	c.gates = newGates()
	c.opLimit = DefaultOperatingLimit
	c.inflight = &keyLocks{}
	c.retry = DefaultRetryPolicy
	c.maxBody = 256 << 20
	c.callTimeout = DefaultCallTimeout
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if c.optErr == nil {
		c.optErr = c.sharedOK()
	}
	if c.optErr != nil {
		return nil, c.optErr
	}
	c.uaHeader = []string{c.userAgent}
	hc := *c.hc // the user's client keeps its own policy for its other uses
	hc.CheckRedirect = refuseRedirect
	c.hc = &hc
	return c, nil
}

// webhook is a parsed webhook URL.
type webhook struct {
	prefix string // "https://host/" plus any path before "rest/"
	scheme string // "https" or "http"
	host   string
	user   string
	secret string
}

// parseWebhookURL checks and normalizes a webhook URL. Its errors never quote
// the URL: it holds the secret.
func parseWebhookURL(raw string) (webhook, error) {
	const shape = "want https://<portal>/rest/<user id>/<secret>/"
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return webhook{}, errors.New("b24: empty webhook URL; " + shape)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error's text quotes the whole URL
		}
		return webhook{}, fmt.Errorf("b24: webhook URL does not parse (%v); %s", err, shape)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return webhook{}, fmt.Errorf("b24: webhook URL scheme %q; %s", u.Scheme, shape)
	}
	if u.Host == "" {
		return webhook{}, errors.New("b24: webhook URL has no host; " + shape)
	}
	if u.User != nil {
		return webhook{}, errors.New("b24: webhook URL must not hold a user name or password; " + shape)
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	at := -1
	for i, s := range segs {
		if s == "rest" {
			at = i
			break
		}
	}
	if at < 0 {
		return webhook{}, errors.New("b24: webhook URL path has no /rest/ segment; " + shape)
	}
	rest := segs[at+1:]
	if len(rest) > 0 && rest[0] == "api" { // a REST 3.0 URL: the same webhook
		rest = rest[1:]
	}
	if len(rest) < 2 {
		return webhook{}, errors.New("b24: webhook URL lacks the user id or the secret after /rest/; " + shape)
	}
	user, secret, tail := rest[0], rest[1], rest[2:]
	if !isDigits(user) {
		return webhook{}, fmt.Errorf("b24: webhook URL user id %q is not a number; %s", user, shape)
	}
	if !isKeyText(secret) {
		// Do not quote it: it is (most likely) the secret.
		return webhook{}, errors.New("b24: webhook URL secret (the segment after the user id) holds characters a webhook secret never has; " + shape)
	}
	switch {
	case len(tail) == 0:
	case len(tail) == 1 && isMethodSuffix(tail[0]):
		// A method pasted from the portal's example, "crm.deal.get.json": strip it.
	default:
		return webhook{}, fmt.Errorf("b24: webhook URL has %d unexpected path segment(s) after the secret; %s", len(tail), shape)
	}
	prefix := u.Scheme + "://" + u.Host + "/"
	if at > 0 {
		prefix += strings.Join(segs[:at], "/") + "/"
	}
	return webhook{prefix: prefix, scheme: u.Scheme, host: u.Host, user: user, secret: secret}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isKeyText accepts the alphabet of webhook secrets and batch keys: letters,
// digits, _ and -, at least one.
func isKeyText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isMethodSuffix accepts "crm.deal.get", "crm.deal.get.json", ".json", "profile".
func isMethodSuffix(s string) bool {
	s = strings.TrimSuffix(s, ".json")
	return s == "" || checkMethod(s) == nil
}

// checkMethod refuses method names that would change the URL's meaning.
func checkMethod(m string) error {
	if m == "" {
		return errors.New("b24: empty method name")
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return fmt.Errorf("b24: method name %q: only letters, digits and . _ - : are allowed", m)
		}
	}
	return nil
}

// URL returns the webhook URL with the secret replaced by ***.
func (c *Client) URL() string { return c.redacted }

// String shows the portal and user, never the secret.
func (c Client) String() string { return "b24.Client(" + c.redacted + ")" }

// GoString is String for %#v.
func (c Client) GoString() string { return "&b24.Client{URL: " + strconv.Quote(c.redacted) + "}" }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q) print the redacted form.
func (c Client) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'q':
		io.WriteString(f, strconv.Quote(c.String()))
	default:
		io.WriteString(f, c.String())
	}
}

// LogValue makes slog print the redacted form.
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// CallMethod calls any method by name, documented or not, and decodes its
// result into out (a pointer; nil skips decoding). The call is not retried
// after ambiguous failures unless WithIdempotent(true) is passed, or it is a
// REST 3.0 call (WithVersion(3)), which carries an Idempotency-Key.
func (c *Client) CallMethod(ctx context.Context, method string, params any, out any, opts ...CallOption) error {
	return Invoke(ctx, c, Request{Method: method, Params: params}, out, opts...)
}

// Call sends req, waiting for the rate limit and retrying as RetryPolicy
// describes, within the call budget (WithCallTimeout), and returns the
// decoded envelope. Errors are *APIError (the portal answered with an
// error), *TransportError (outcome unknown, or a redirect), or the context's
// error; a call that took more than one attempt, or whose budget ran out,
// wraps its last error in a *CallError (errors.As and errors.Is see through
// it). Response.Result is a sub-slice of the response body.
func (c *Client) Call(ctx context.Context, req *Request) (*Response, error) {
	if c == nil {
		return nil, errors.New("b24: Call on a nil *Client")
	}
	if req == nil {
		return nil, errNilRequest
	}
	if err := checkMethod(req.Method); err != nil {
		return nil, err
	}
	req, err := v3Key(req)
	if err != nil {
		return nil, err
	}
	body, err := encodeParams(req.Params)
	if err != nil {
		return nil, fmt.Errorf("b24: %s: encoding the parameters: %w", req.Method, err)
	}
	target := c.base + req.Method
	if req.Version == 3 {
		target = c.baseV3 + req.Method
	}
	st := callState{c: c, method: req.Method, parent: ctx, start: time.Now()}
	if c.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.callTimeout, errBudgetSpent)
		defer cancel()
	}
	unlock, err := c.inflight.lock(ctx, req.Method, req.IdempotencyKey)
	if err != nil {
		return nil, st.fail(ctx, err, true)
	}
	defer unlock()
	pol := c.retry
	renewed := false
	// An application signs in the body, so a keyed REST 3.0 write resends
	// its first attempt's exact body (its token included) on every retry: a
	// renewal in between must not change the body the portal keyed its
	// stored answer to. Only expired_token makes it sign again.
	keyed := req.Version == 3 && req.IdempotencyKey != ""
	var pin *pinnedAttempt
	mayHaveRun, resignedAfterRun := false, false
	// refusals counts the QUERY_LIMIT_EXCEEDED answers: they are not retries
	// in MaxRetries' sense (the call did not run, and the portal's bucket
	// always drains), so n-refusals is what MaxRetries bounds.
	refusals := 0
	for n := 0; ; n++ {
		var tk *opTicket
		if !strings.EqualFold(req.Method, "batch") { // a batch admits its commands (batch.go)
			if _, tk, err = c.admit(ctx, req.Method, 1, false); err != nil {
				return nil, st.fail(ctx, err, true)
			}
		}
		if err := c.waitTurn(ctx, req.Method); err != nil {
			tk.done()
			return nil, st.fail(ctx, err, true)
		}
		sent, signed := target, body
		var tok Token
		if c.app != nil {
			if pin != nil {
				tok, sent, signed = pin.tok, pin.url, pin.body
			} else if tok, sent, signed, err = c.app.sign(ctx, req, body); err != nil {
				tk.done()
				return nil, st.fail(ctx, err, false) // the token could not be had or stored: nothing was sent
			} else if keyed {
				pin = &pinnedAttempt{tok: tok, url: sent, body: signed}
			}
		}
		st.attempts++
		resp, err := c.attempt(ctx, req, sent, signed, n)
		if err == nil && resp.Time != nil {
			c.gates.observe(req.Method, resp.Time)
		}
		tk.done()
		if err != nil && c.app != nil {
			err = c.app.scrub(err)
			if !renewed && isExpiredToken(err) {
				// expired_token: the call did not run. Renew (once a call)
				// and send it again; that is not a retry.
				renewed = true
				if rerr := c.app.renew(ctx, tok); rerr != nil {
					return nil, st.fail(ctx, rerr, false)
				}
				pin = nil
				resignedAfterRun = mayHaveRun
				n--
				continue
			}
			if resignedAfterRun && errors.Is(err, ErrIdempotencyKeyReused) {
				// The only other body under this key is an earlier attempt
				// of this very call: the portal stored its answer, so the
				// write ran. Say so; a new key would run it again.
				return nil, st.fail(ctx, &writeRanError{method: req.Method, key: req.IdempotencyKey}, false)
			}
		}
		if err == nil {
			resp.client = c // decode settings for Invoke and batch handles
			return resp, nil
		}
		kind := classify(err)
		if ctx.Err() != nil || pol.MaxRetries == 0 || (kind != failNotRun && n-refusals >= pol.MaxRetries) {
			return nil, st.fail(ctx, err, false)
		}
		var delay time.Duration
		switch kind {
		case failFinal:
			return nil, st.fail(ctx, err, false)
		case failAmbiguous:
			mayHaveRun = true
			if !retrySafe(req) || !retrySafeAfter(req, err) {
				return nil, st.fail(ctx, err, false)
			}
			delay = backoff(pol.BaseDelay, pol.MaxDelay, n+1-refusals)
		case failNotRun:
			// The request did not run and the portal's bucket drains: wait
			// for it as long as the call's budget and context allow.
			refusals++
			st.refused = err
			if c.bucket != nil {
				// The portal's counter is full: mark ours (and the shared
				// one) full too, so the next slot comes one interval from
				// now. That wait is the first backoff; repeated refusals
				// (another client drains the same bucket) back off on top of
				// it, up to 16 intervals.
				c.fillBucket(ctx)
				if refusals > 1 {
					iv := c.bucket.interval()
					delay = backoff(iv, min(pol.MaxDelay, 16*iv), refusals-1)
				}
			} else {
				delay = backoff(pol.BaseDelay, pol.MaxDelay, refusals)
			}
		case failOperation:
			until := c.operationHold(req.Method, err.(*APIError), n+1-refusals)
			if time.Until(until) > pol.MaxOperationWait {
				return nil, st.fail(ctx, err, false)
			}
			c.hold(ctx, req.Method, until)
			delay = time.Until(until)
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(delay).After(dl) {
			return nil, st.fail(ctx, err, true) // the retry could not start in time
		}
		// A retry is said even without WithLogger (through slog.Default), so a
		// mistyped host or a down portal is not a silent wait; the error text
		// is the redacted one.
		lg := c.log
		if lg == nil {
			lg = slog.Default()
		}
		// retry is "1 of 5" (WithMaxRetries sets the 5), so a reader sees how
		// long the client will keep going; delay is the wait before it.
		retry := fmt.Sprintf("%d of %d", n+1-refusals, pol.MaxRetries)
		if kind == failNotRun {
			// Not counted: the call goes on while its budget lasts.
			retry = fmt.Sprintf("refusal %d, waiting for the rate limit to drain", refusals)
		}
		lg.LogAttrs(ctx, slog.LevelWarn, "b24: retrying",
			slog.String("method", req.Method), slog.String("retry", retry),
			slog.Duration("delay", delay), slog.String("error", err.Error()))
		if kind != failOperation { // the gate does the waiting for 429
			if sleep(ctx, delay) != nil {
				return nil, st.fail(ctx, err, false) // fail keeps the context's error matchable
			}
		}
	}
}

// waitTurn waits for the method's OPERATION_TIME_LIMIT hold and for a slot in
// the bucket, failing at once when the context deadline would pass first.
func (c *Client) waitTurn(ctx context.Context, method string) error {
	if t := c.sharedHold(ctx, method); t.After(time.Now()) {
		c.gates.block(method, t) // another process holds it
	}
	if until := c.gates.until(method); !until.IsZero() {
		if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
			return &APIError{Code: "OPERATION_TIME_LIMIT", Status: http.StatusTooManyRequests, Method: method,
				Description: "the method is held until " + until.Format(time.RFC3339) + ", after the context deadline"}
		}
		if err := sleep(ctx, time.Until(until)); err != nil {
			return fmt.Errorf("b24: %s: waiting for OPERATION_TIME_LIMIT to reset: %w", method, err)
		}
	}
	if c.bucket == nil {
		return nil
	}
	return c.waitBucket(ctx, method)
}

// operationHold decides until when a method that got OPERATION_TIME_LIMIT is
// held: the reset time in the 429 itself, else the last one a success
// reported (as the docs advise), else a growing backoff.
func (c *Client) operationHold(method string, e *APIError, n int) time.Time {
	now := time.Now()
	if e.resetAt.After(now) {
		return e.resetAt
	}
	if t, ok := c.gates.lastReset(method, now); ok {
		return t
	}
	return now.Add(backoff(c.retry.OperationDelay, c.retry.MaxOperationWait, n))
}

// attempt makes one HTTP round trip and decodes the envelope; retry is its
// number within the call (0 for the first), for the attempt hook.
func (c *Client) attempt(ctx context.Context, req *Request, target string, body []byte, retry int) (resp *Response, err error) {
	var (
		status int
		read   int
		start  = time.Now()
	)
	if c.hook != nil {
		defer func() {
			c.hook(Attempt{Method: req.Method, URL: c.red.clean(target), Retry: retry, Idempotent: retrySafe(req),
				Start: start, Duration: time.Since(start), Status: status, Bytes: read, Err: err})
		}()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, &TransportError{Method: req.Method, Msg: "building the request: " + c.red.clean(unwrapURLError(err).Error())}
	}
	// One map with shared value slices: net/http only reads them.
	hreq.Header = http.Header{"Content-Type": jsonContentType, "User-Agent": c.uaHeader}
	if req.Version == 3 && req.IdempotencyKey != "" {
		hreq.Header["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	if c.log != nil && c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "b24: call", slog.String("method", req.Method), slog.Int("bytes", len(body)))
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		cause := unwrapURLError(err)
		te := &TransportError{Method: req.Method, Msg: "POST " + c.red.clean(target) + ": " + c.red.clean(cause.Error()), Err: c.red.wrap(cause)}
		var dns *net.DNSError
		if errors.As(cause, &dns) && dns.IsNotFound && !dns.IsTemporary {
			// The name does not exist: a mistyped webhook URL, which no
			// retry mends. Nothing was sent.
			te.final = true
			te.Msg += " (the webhook URL's host does not exist: check its spelling)"
		}
		return nil, te
	}
	status = hresp.StatusCode
	if status >= 300 && status < 400 { // refuseRedirect did not follow it
		io.Copy(io.Discard, io.LimitReader(hresp.Body, 64<<10))
		hresp.Body.Close()
		return nil, c.redirectError(req.Method, hresp)
	}
	buf, err := readBody(hresp, c.maxBody)
	hresp.Body.Close()
	read = len(buf)
	if _, ok := err.(errBodyTooLarge); ok {
		return nil, &TransportError{Method: req.Method, Status: status, final: true,
			Msg: fmt.Sprintf("HTTP %d: response body larger than %d bytes", status, c.maxBody)}
	}
	if err != nil {
		return nil, &TransportError{Method: req.Method, Status: status,
			Msg: fmt.Sprintf("HTTP %d: reading the response body: %s", status, c.red.clean(err.Error())), Err: c.red.wrap(err)}
	}
	env, err := decodeEnvelope(buf)
	if err != nil {
		return nil, c.badBody(req.Method, hresp, buf, err)
	}
	if apiErr := env.apiError(req.Method, status); apiErr != nil {
		c.red.cleanAPIError(apiErr) // a portal may echo the request path
		if env.Time != nil {
			apiErr.resetAt = env.Time.OperatingResetAt
		}
		return nil, apiErr
	}
	if status < 200 || status > 299 {
		return nil, &TransportError{Method: req.Method, Status: status, final: status < 500,
			Msg: fmt.Sprintf("HTTP %d %s without an error code in the body", status, http.StatusText(status))}
	}
	resp = &Response{Result: env.Result, Time: env.Time}
	if req.Version == 3 {
		resp.IdempotencyKey = req.IdempotencyKey
		resp.Replayed = strings.EqualFold(strings.TrimSpace(hresp.Header.Get("Idempotent-Replayed")), "true")
	}
	resp.Total, _ = envInt(env.Total)
	resp.Next, resp.HasNext = envInt(env.Next)
	return resp, nil
}

// badBody describes a body that is not the portal's JSON envelope: a proxy's
// HTML page, a truncated answer. The first bytes are shown, secret removed.
func (c *Client) badBody(method string, hresp *http.Response, body []byte, err error) error {
	ct := hresp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	what := "a body that is not JSON"
	switch t := bytes.TrimSpace(body); {
	case len(t) == 0:
		what = "an empty body"
	case t[0] == '{':
		what = "truncated or malformed JSON"
	}
	return &TransportError{Method: method, Status: hresp.StatusCode,
		Msg: fmt.Sprintf("HTTP %d answered %s (%s, %d bytes: %s): %s",
			hresp.StatusCode, what, c.red.clean(ct), len(body), c.red.snippet(body), c.red.clean(err.Error())),
		Err: err}
}

// unwrapURLError drops net/http's *url.Error wrapper, whose text holds the
// full URL and so the secret.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

var (
	emptyObject     = []byte("{}")
	jsonContentType = []string{"application/json"}
)

// encodeParams renders the POST body; nil params send {}.
func encodeParams(p any) ([]byte, error) {
	if p == nil {
		return emptyObject, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return emptyObject, nil
	}
	return b, nil
}
