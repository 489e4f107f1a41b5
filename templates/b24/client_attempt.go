package b24

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultCallTimeout is the budget of one call, retries and waits included,
// unless WithCallTimeout says otherwise. Two minutes is the per-attempt
// timeout net/http users commonly pick and the one this client's own
// *http.Client uses: a portal that has not answered a method in two minutes
// will not answer a retry sooner, and an interactive caller should hear
// about it then, not after six attempts (12 minutes). Jobs that want to sit
// out a long OPERATION_TIME_LIMIT hold (up to RetryPolicy.MaxOperationWait,
// 10 minutes by default) raise it or pass WithCallTimeout(0).
const DefaultCallTimeout = 2 * time.Minute

// WithCallTimeout bounds each call as a whole: every attempt, the backoff
// between them, the wait for the rate-limit bucket and for an
// OPERATION_TIME_LIMIT hold. When it runs out the call fails with a
// *CallError saying so, which matches context.DeadlineExceeded. The caller's
// context may end the call sooner. 0 removes the bound (the context and the
// *http.Client's own Timeout remain); the default is DefaultCallTimeout.
func WithCallTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d < 0 {
			c.optErr = fmt.Errorf("b24: WithCallTimeout(%v): want >= 0", d)
			return
		}
		c.callTimeout = d
	}
}

// Attempt describes one HTTP request of a call, for WithAttemptHook.
type Attempt struct {
	Method     string        // "crm.deal.get", or "batch"
	URL        string        // the request URL with the webhook secret replaced by ***
	Retry      int           // 0 for the first attempt of a call, 1 for its first retry, …
	Idempotent bool          // whether the call may be retried after an ambiguous failure
	Start      time.Time     // when the request was sent (after any rate-limit wait)
	Duration   time.Duration // until the answer was read and decoded, or the attempt failed
	Status     int           // HTTP status; 0 when no response arrived
	Bytes      int           // size of the response body read
	// Err is nil on success, else the attempt's error: an *APIError or a
	// *TransportError, free of the secret like every error of the client.
	Err error
}

// WithAttemptHook calls hook after every HTTP attempt of every call, on the
// calling goroutine (keep it quick), with the method, the redacted URL, the
// retry number, the duration, the HTTP status and the error. It is the place
// for tracing, metrics and request logs.
//
// A logging or tracing http.RoundTripper is the wrong place: the webhook
// secret is a segment of the URL path of every request
// (/rest/<user>/<secret>/<method>), so a transport wrapper sees it and, with
// it, whatever records req.URL (span names, access logs, error reports)
// publishes the credential. The hook receives the same facts with the
// secret already masked, and also knows what a transport cannot: which
// retry this is and whether the call was idempotent.
func WithAttemptHook(hook func(Attempt)) Option {
	return func(c *Client) { c.hook = hook }
}

// CallError is a call the client gave up on after more than one attempt, or
// whose budget (WithCallTimeout) ran out. Err is the last attempt's error;
// errors.Is and errors.As see through to it (errors.Is(err,
// ErrQueryLimitExceeded), errors.As(err, &transportErr)), and a spent budget
// also matches context.DeadlineExceeded.
type CallError struct {
	Method   string
	Attempts int           // HTTP requests sent
	Elapsed  time.Duration // from the start of the call
	// Budget is the call budget when it is what ended the call, else 0.
	Budget time.Duration
	Err    error

	noTime bool // the budget would have run out before the next attempt
	// refused is the portal's last refusal (QUERY_LIMIT_EXCEEDED) when the
	// budget ended an attempt or a wait after it: the cut attempt's own
	// error says only "deadline exceeded", and the refusal is why the call
	// took that long, so errors.Is(err, ErrQueryLimitExceeded) still holds.
	refused error
}

func (e *CallError) Error() string {
	last := ""
	if e.Err != nil {
		// The last error already says "b24: <method>: ": say it once.
		last = strings.TrimPrefix(strings.TrimPrefix(e.Err.Error(), "b24: "), e.Method+": ")
	}
	if e.refused != nil && e.refused != e.Err {
		last += "; the attempts before it were refused: " + strings.TrimPrefix(strings.TrimPrefix(e.refused.Error(), "b24: "), e.Method+": ")
	}
	elapsed := e.Elapsed.Round(time.Millisecond)
	switch {
	case e.Budget > 0 && e.noTime:
		return fmt.Sprintf("b24: %s: call budget of %v (WithCallTimeout) leaves no time for another attempt after %d attempt(s) in %v: %s", e.Method, e.Budget, e.Attempts, elapsed, last)
	case e.Budget > 0:
		return fmt.Sprintf("b24: %s: call budget of %v (WithCallTimeout) ran out after %d attempt(s) in %v: %s", e.Method, e.Budget, e.Attempts, elapsed, last)
	}
	return fmt.Sprintf("b24: %s: gave up after %d attempts in %v: %s", e.Method, e.Attempts, elapsed, last)
}

func (e *CallError) Unwrap() []error {
	if e.Budget > 0 {
		if e.refused != nil && e.refused != e.Err {
			return []error{e.Err, e.refused, context.DeadlineExceeded}
		}
		return []error{e.Err, context.DeadlineExceeded}
	}
	return []error{e.Err}
}

// errBudgetSpent is the cause of a call context ended by WithCallTimeout.
var errBudgetSpent = errors.New("b24: call budget spent")

// callState follows one call through its attempts.
type callState struct {
	c        *Client
	method   string
	parent   context.Context // the caller's context, before the budget
	start    time.Time
	attempts int
	refused  error // the last QUERY_LIMIT_EXCEEDED refusal, if any
}

// fail decides how a call's last error is returned: wrapped in a *CallError
// when the budget ended the call (noTime: the next attempt could not have
// started within it) or when it took more than one attempt, as is otherwise.
func (s *callState) fail(ctx context.Context, err error, noTime bool) error {
	budget := false
	if s.c.callTimeout > 0 {
		if ctx.Err() != nil {
			budget = context.Cause(ctx) == errBudgetSpent
		} else if noTime {
			dl, ok := s.parent.Deadline()
			budget = !ok || dl.After(s.start.Add(s.c.callTimeout))
		}
	}
	if !budget && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// The caller's context ended between attempts: keep its error
		// matchable (errors.Is(err, context.Canceled)) beside the last one.
		err = fmt.Errorf("b24: %s: %w before the next attempt; the last one failed with: %w", s.method, ctx.Err(), err)
	}
	if !budget && s.attempts <= 1 {
		return err
	}
	e := &CallError{Method: s.method, Attempts: s.attempts, Elapsed: time.Since(s.start), Err: err}
	if budget {
		e.Budget, e.noTime, e.refused = s.c.callTimeout, ctx.Err() == nil, s.refused
	}
	if s.c.log != nil {
		s.c.log.LogAttrs(s.parent, slog.LevelWarn, "b24: giving up",
			slog.String("method", s.method), slog.Int("attempts", s.attempts), slog.String("error", e.Error()))
	}
	return e
}

// refuseRedirect is the CheckRedirect of every client's *http.Client, the
// user's own included (WithHTTPClient's client is copied): no redirect is
// followed, whatever its status or target.
//
// Following one safely would mean checking scheme and host (the secret is in
// the path and net/http would carry it anywhere: another host, https to
// http) and re-sending only reads (net/http re-sends a POST body on 307/308,
// and turns 301/302/303 into a bodiless GET, which runs a method without its
// parameters and can report success). Even a same-host 307 for a read gains
// nothing: a portal's REST endpoint does not redirect, so a redirect means
// the webhook URL is stale (http for https, an old domain) and is better
// fixed than paid for on every call. The 3xx is reported at once instead.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError reports a 3xx: where it pointed (secret masked, query
// dropped), and that nothing was sent there.
func (c *Client) redirectError(method string, hresp *http.Response) error {
	to := "no Location"
	if loc, err := hresp.Location(); err == nil {
		// The path usually repeats the webhook's, secret included.
		to = c.red.clean(strings.ToLower(loc.Scheme) + "://" + loc.Host + loc.EscapedPath())
	}
	return &TransportError{Method: method, Status: hresp.StatusCode, final: true,
		Msg: fmt.Sprintf("HTTP %d %s: a redirect to %s; not followed, the request was sent only to the webhook URL's host: check the webhook URL's scheme and host",
			hresp.StatusCode, http.StatusText(hresp.StatusCode), to)}
}
