package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// fastRetry keeps retry sleeps short so the tests stay quick.
var fastRetry = b24.RetryPolicy{MaxRetries: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxOperationWait: 5 * time.Second, OperationDelay: 20 * time.Millisecond}

// logBuf collects slog output (shared by a test and the client's goroutines).
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newClient returns a client for p with fast retries, no client bucket and a
// debug logger whose output the test can check for the secret.
func newClient(t *testing.T, p *b24test.Portal, opts ...b24.Option) (*b24.Client, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	base := []b24.Option{
		b24.WithRetry(fastRetry),
		b24.WithoutRateLimit(),
		b24.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	c, err := b24.NewWebhookClient(p.WebhookURL(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertNoSecret(t, "log output", logs.String()) })
	return c, logs
}

// assertNoSecret fails when the fake portal's secret shows in s.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, b24test.Secret) {
		t.Errorf("%s holds the webhook secret: %s", what, s)
	}
}

// assertErrClean checks every way a user might print err.
func assertErrClean(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assertNoSecret(t, "error printed with "+f, fmt.Sprintf(f, err))
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		assertNoSecret(t, "wrapped error", e.Error())
	}
}

func TestNewWebhookClientAcceptsPortalForms(t *testing.T) {
	const want = "https://example.bitrix24.com/rest/7/***/"
	for _, in := range []string{
		"https://example.bitrix24.com/rest/7/abc123def/",
		"https://example.bitrix24.com/rest/7/abc123def",
		"  https://example.bitrix24.com/rest/7/abc123def/  ",
		"https://example.bitrix24.com/rest/7/abc123def/crm.deal.get",
		"https://example.bitrix24.com/rest/7/abc123def/crm.deal.get.json",
		"https://example.bitrix24.com/rest/7/abc123def/profile.json?auth=x#frag",
		"https://example.bitrix24.com/rest/7/abc123def/.json",
		"https://example.bitrix24.com/rest/api/7/abc123def/",
	} {
		c, err := b24.NewWebhookClient(in)
		if err != nil {
			t.Errorf("NewWebhookClient(%q): %v", in, err)
			continue
		}
		if c.URL() != want {
			t.Errorf("NewWebhookClient(%q).URL() = %q, want %q", in, c.URL(), want)
		}
	}
}

func TestNewWebhookClientRefusesWithoutLeakingSecret(t *testing.T) {
	const secret = "s3cretW3bhook"
	for _, in := range []string{
		"",
		"ftp://example.bitrix24.com/rest/7/" + secret + "/",
		"https:///rest/7/" + secret + "/",
		"https://example.bitrix24.com/7/" + secret + "/",
		"https://example.bitrix24.com/rest/" + secret + "/",
		"https://example.bitrix24.com/rest/x7/" + secret + "/",
		"https://example.bitrix24.com/rest/7/" + secret + "/crm.deal.get/extra",
		"https://example.bitrix24.com/rest/7/" + secret + "%00zz/",
		"https://user:" + secret + "@example.bitrix24.com/rest/7/" + secret + "/",
		"https://exa mple.com/rest/7/" + secret + "/",
		"https://example.bitrix24.com/rest/7/" + secret + "/crm deal",
	} {
		_, err := b24.NewWebhookClient(in)
		if err == nil {
			t.Errorf("NewWebhookClient(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("NewWebhookClient(%q) error holds the secret: %v", in, err)
		}
		if !strings.Contains(err.Error(), "b24:") {
			t.Errorf("error %q does not say where it comes from", err)
		}
	}
}

func TestNewWebhookClientRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]b24.Option{
		"rate burst":  b24.WithRateLimit(0, 2),
		"rate speed":  b24.WithRateLimit(5, 0),
		"http client": b24.WithHTTPClient(nil),
		"retries":     b24.WithMaxRetries(-1),
		"body":        b24.WithMaxResponseBytes(0),
	} {
		if _, err := b24.NewWebhookClient("https://x.bitrix24.com/rest/1/abc/", o); err == nil {
			t.Errorf("%s: bad option accepted", name)
		}
	}
}

func TestClientPrintsWithoutSecret(t *testing.T) {
	p := b24test.NewPortal(t)
	c, logs := newClient(t, p)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assertNoSecret(t, f+" of *Client", fmt.Sprintf(f, c))
		assertNoSecret(t, f+" of Client", fmt.Sprintf(f, *c))
	}
	assertNoSecret(t, "String", c.String())
	slog.New(slog.NewTextHandler(logs, nil)).Info("client", "c", c, "cv", *c)
	slog.New(slog.NewJSONHandler(logs, nil)).Info("client", "c", c)
	if !strings.Contains(logs.String(), "/rest/1/***/") {
		t.Errorf("log does not show the redacted URL: %s", logs.String())
	}
}

func TestCallDecodesEnvelope(t *testing.T) {
	p := b24test.NewPortal(t)
	reset := time.Unix(1778747792, 0)
	p.Handle("crm.deal.list", func(params map[string]any) (any, error) {
		if got := b24test.Str(b24test.Map(params, "filter"), "STAGE_ID"); got != "WON" {
			return nil, b24test.Errorf(400, "ERROR_ARGUMENT", "filter STAGE_ID = %q", got)
		}
		return b24test.Result{Value: []map[string]any{{"ID": "1"}}, Total: 120, Next: 50, HasNext: true}, nil
	})
	c, _ := newClient(t, p)
	resp, err := c.Call(context.Background(), &b24.Request{Method: "crm.deal.list", Params: map[string]any{"filter": map[string]string{"STAGE_ID": "WON"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != 120 || resp.Next != 50 || !resp.HasNext {
		t.Errorf("total/next = %d/%d/%v, want 120/50/true", resp.Total, resp.Next, resp.HasNext)
	}
	if string(resp.Result) != `[{"ID":"1"}]` {
		t.Errorf("result = %s", resp.Result)
	}
	if resp.Time == nil || resp.Time.Start == 0 || resp.Time.DateStart == "" {
		t.Errorf("time not decoded: %+v", resp.Time)
	}

	// The time block as the limits page shows it.
	var tm b24.Timing
	if err := json.Unmarshal([]byte(`{"start":1778747192.910734,"finish":1778747193.530359,"duration":0.6196250915527344,"processing":"0.03","date_start":"2026-05-14T10:26:32+02:00","operating_reset_at":1778747792,"operating":3.3076241016387939}`), &tm); err != nil {
		t.Fatal(err)
	}
	if !tm.OperatingResetAt.Equal(reset) || tm.Operating < 3.3 || tm.Processing != 0.03 {
		t.Errorf("timing = %+v", tm)
	}
	back, _ := json.Marshal(tm)
	if !strings.Contains(string(back), `"operating_reset_at":1778747792`) {
		t.Errorf("timing encodes as %s", back)
	}
}

func TestCallMethodAndInvoke(t *testing.T) {
	p := b24test.NewPortal(t)
	p.AnswerRaw("user.current", json.RawMessage(`{"ID":"1","NAME":"John"}`))
	c, _ := newClient(t, p)
	var u struct{ ID, NAME string }
	if err := c.CallMethod(context.Background(), "user.current", nil, &u); err != nil {
		t.Fatal(err)
	}
	if u.ID != "1" || u.NAME != "John" {
		t.Errorf("user = %+v", u)
	}
	var wrong []int
	strict, _ := newClient(t, p, b24.WithStrictDecoding()) // tolerant by default: only strict refuses a result that does not fit
	err := strict.CallMethod(context.Background(), "user.current", nil, &wrong)
	var de *b24.DecodeError
	if !errors.As(err, &de) || de.Method != "user.current" || !strings.Contains(err.Error(), "user.current") {
		t.Errorf("decode error = %v, want one naming user.current", err)
	}
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Errorf("nil out: %v", err)
	}
	if err := c.CallMethod(context.Background(), "crm.deal.get/../../x", nil, nil); err == nil {
		t.Error("method with a slash accepted")
	}
	if err := c.CallMethod(context.Background(), "x", make(chan int), nil); err == nil || !strings.Contains(err.Error(), "encoding the parameters") {
		t.Errorf("unencodable params: %v", err)
	}
	if calls := p.Calls(); len(calls) != 3 || calls[0].Version != 2 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestAPIErrorsAndSentinels(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Handle("crm.deal.get", func(map[string]any) (any, error) {
		return nil, b24test.Errorf(400, "ERROR_NOT_FOUND", "Not found")
	})
	p.Handle("crm.deal.add", func(map[string]any) (any, error) {
		return nil, b24test.Errorf(403, "INSUFFICIENT_SCOPE", "The request requires higher privileges")
	})
	p.Handle("tasks.task.access.get", func(map[string]any) (any, error) {
		return nil, &b24.APIError{Status: 400, Code: "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
			Description: "Error during request object validation", Validation: []b24.ValidationError{{Field: "id", Message: "Required field `id` is missing"}}}
	})
	c, _ := newClient(t, p)
	ctx := context.Background()

	err := c.CallMethod(ctx, "crm.deal.get", map[string]int{"id": 5}, nil)
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Code != "ERROR_NOT_FOUND" || ae.Status != 400 || ae.Method != "crm.deal.get" || ae.Description != "Not found" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, b24.ErrNotFound) || errors.Is(err, b24.ErrAccessDenied) {
		t.Errorf("errors.Is by alias failed for %v", err)
	}
	assertErrClean(t, err)

	err = c.CallMethod(ctx, "crm.deal.add", nil, nil)
	if !errors.Is(err, b24.ErrInsufficientScope) {
		t.Errorf("case-insensitive match failed for %v", err)
	}
	if !errors.Is(err, &b24.APIError{Code: "insufficient_SCOPE"}) {
		t.Errorf("errors.Is with an ad-hoc code failed")
	}
	if p.Ran("crm.deal.add") != 1 {
		t.Errorf("an API error was retried: ran %d times", p.Ran("crm.deal.add"))
	}

	err = c.CallMethod(ctx, "tasks.task.access.get", nil, nil, b24.WithVersion(3))
	if !errors.As(err, &ae) || len(ae.Validation) != 1 || ae.Validation[0].Field != "id" || !strings.Contains(err.Error(), "Required field `id`") {
		t.Fatalf("REST 3.0 error = %v", err)
	}
	if calls := p.Calls(); calls[len(calls)-1].Version != 3 {
		t.Errorf("REST 3.0 call not sent to /rest/api/: %+v", calls[len(calls)-1])
	}

	err = c.CallMethod(ctx, "no.such.method", nil, nil)
	if !errors.Is(err, b24.ErrMethodNotFound) {
		t.Errorf("unknown method: %v", err)
	}

	bad, _ := b24.NewWebhookClient(p.URL() + "/rest/1/wrongsecret/")
	err = bad.CallMethod(ctx, "user.current", nil, nil)
	if !errors.Is(err, b24.ErrInvalidToken) || strings.Contains(err.Error(), "wrongsecret") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestNonJSONBodiesAreClearErrors(t *testing.T) {
	for _, tc := range []struct {
		fault b24test.Fault
		want  []string
	}{
		{b24test.HTMLPage(502), []string{"HTTP 502", "not JSON", "text/html", "Bad Gateway"}},
		{b24test.TruncatedBody(), []string{"HTTP 200", "truncated or malformed JSON", "application/json"}},
		{b24test.CutBody(), []string{"reading the response body"}},
		{b24test.ConnectionReset(), []string{"POST http://", "/rest/1/***/crm.deal.update"}},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			p := b24test.NewPortal(t)
			p.Answer("crm.deal.update", true)
			p.Fail("crm.deal.update", tc.fault)
			c, _ := newClient(t, p)
			err := c.CallMethod(context.Background(), "crm.deal.update", map[string]any{"id": 1, "fields": map[string]string{"TITLE": "x"}}, nil)
			var te *b24.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want *TransportError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			assertErrClean(t, err)
			if n := p.Ran("crm.deal.update"); n != 1 {
				t.Errorf("write ran %d times, want exactly 1 (no retry after an ambiguous failure)", n)
			}
		})
	}
}

// TestNoDuplicateWriteUnderAnyFault runs a write against every fault and
// checks it never ran twice, while a read under the same fault is retried
// to success.
func TestNoDuplicateWriteUnderAnyFault(t *testing.T) {
	faults := []b24test.Fault{
		b24test.QueryLimitStorm(3),
		b24test.OperationLimit(time.Now().Add(30 * time.Millisecond)),
		b24test.ConnectionReset(),
		b24test.CutBody(),
		b24test.TruncatedBody(),
		b24test.HTMLPage(502),
		b24test.HTMLPage(504).Repeat(2),
		b24test.APIFailure(500, "INTERNAL_SERVER_ERROR", "Internal server error"),
		b24test.SlowAnswer(5 * time.Millisecond),
	}
	for _, f := range faults {
		t.Run(f.Kind.String(), func(t *testing.T) {
			p := b24test.NewPortal(t)
			p.Answer("crm.deal.add", 42)
			p.Answer("crm.deal.get", map[string]string{"ID": "42"})
			c, _ := newClient(t, p)
			ctx := context.Background()

			p.Fail("crm.deal.add", f)
			var id int
			err := c.CallMethod(ctx, "crm.deal.add", map[string]any{"fields": map[string]string{"TITLE": "x"}}, &id)
			assertErrClean(t, err)
			if n := p.Ran("crm.deal.add"); n > 1 {
				t.Fatalf("write ran %d times under %s", n, f.Kind)
			}
			if err == nil && (id != 42 || p.Ran("crm.deal.add") != 1) {
				t.Errorf("write reported success but ran %d times, id %d", p.Ran("crm.deal.add"), id)
			}

			p.Fail("crm.deal.get", f)
			var deal map[string]string
			if err := c.CallMethod(ctx, "crm.deal.get", map[string]int{"id": 42}, &deal, b24.WithIdempotent(true)); err != nil {
				t.Errorf("read under %s not retried to success: %v", f.Kind, err)
			}
		})
	}
}

func TestQueryLimitRetriedThenReported(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.add", 7)
	c, logs := newClient(t, p)
	p.Fail("crm.deal.add", b24test.QueryLimitStorm(3))
	var id int
	if err := c.CallMethod(context.Background(), "crm.deal.add", nil, &id); err != nil || id != 7 {
		t.Fatalf("after a 3-call storm: id %d, err %v", id, err)
	}
	if n := p.Requests("crm.deal.add"); n != 4 {
		t.Errorf("requests = %d, want 4", n)
	}
	if !strings.Contains(logs.String(), "QUERY_LIMIT_EXCEEDED") {
		t.Errorf("retries not logged: %s", logs.String())
	}

	// Refusals are not retries in MaxRetries' sense: the request did not
	// run and the bucket drains, so the call waits for as long as its budget
	// lasts, and then says the budget ran out during QUERY_LIMIT_EXCEEDED.
	p.Fail("crm.deal.add", b24test.QueryLimitStorm(1_000_000))
	c, _ = newClient(t, p, b24.WithCallTimeout(300*time.Millisecond))
	err := c.CallMethod(context.Background(), "crm.deal.add", nil, nil)
	if !errors.Is(err, b24.ErrQueryLimitExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("endless storm: %v", err)
	}
	var ae *b24.APIError
	if errors.As(err, &ae); ae.Status != http.StatusServiceUnavailable {
		t.Errorf("status = %d", ae.Status)
	}
	var ce *b24.CallError
	// The budget may cut the last attempt before it reaches the portal (on
	// a loaded machine): it is counted as sent, the portal never saw it.
	if got := p.Requests("crm.deal.add") - 4; got <= 1+fastRetry.MaxRetries || !errors.As(err, &ce) || ce.Attempts != got && ce.Attempts != got+1 {
		t.Errorf("storm requests = %d (err %v), want more than the %d MaxRetries allows, all counted", got, err, 1+fastRetry.MaxRetries)
	}

	// WithMaxRetries(0) still turns every retry off, refusals included.
	c, _ = newClient(t, p, b24.WithMaxRetries(0))
	before := p.Requests("crm.deal.add")
	if err := c.CallMethod(context.Background(), "crm.deal.add", nil, nil); !errors.Is(err, b24.ErrQueryLimitExceeded) || p.Requests("crm.deal.add") != before+1 {
		t.Errorf("without retries: %v after %d requests", err, p.Requests("crm.deal.add")-before)
	}
}

// TestBudgetCutAfterRefusalsSaysRefused: when the call budget ends an
// attempt in flight after the portal refused the earlier ones, the error
// still says the portal refused them (errors.Is QUERY_LIMIT_EXCEEDED, the
// 503 reachable through errors.As), not only "deadline exceeded". A loaded
// machine cut the last attempt of an endless storm this way in CI.
func TestBudgetCutAfterRefusalsSaysRefused(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.add", 7)
	p.Fail("crm.deal.add", b24test.QueryLimitStorm(2))
	p.Fail("crm.deal.add", b24test.SlowAnswer(2*time.Second))
	c, _ := newClient(t, p, b24.WithCallTimeout(300*time.Millisecond))
	err := c.CallMethod(context.Background(), "crm.deal.add", nil, nil)
	if !errors.Is(err, b24.ErrQueryLimitExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("budget cut after refusals: %v", err)
	}
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Errorf("the refusal is not reachable through errors.As: %v", err)
	}
	if !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "QUERY_LIMIT_EXCEEDED") {
		t.Errorf("the message does not say the earlier attempts were refused: %v", err)
	}
	var ce *b24.CallError
	if !errors.As(err, &ce) || ce.Attempts != 3 {
		t.Errorf("attempts: %v", err)
	}
}

func TestQueryLimitRetryStopsAtDeadline(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("x.y", 1)
	c, _ := newClient(t, p, b24.WithRetry(b24.RetryPolicy{MaxRetries: 10, BaseDelay: time.Second, MaxDelay: time.Minute}))
	p.Fail("x.y", b24test.QueryLimitStorm(100))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.CallMethod(ctx, "x.y", nil, nil)
	if !errors.Is(err, b24.ErrQueryLimitExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 150*time.Millisecond {
		t.Errorf("the client slept %v although no retry could start before the deadline", time.Since(start))
	}
}

// TestOperationLimitHoldsTheMethod checks the hold by the order of events,
// not by how long things took: the hold is waited for through HeldUntil, is
// 90 s ahead while the other calls are checked (a held call with a
// shorter deadline fails at once, a free one succeeds), and ends when the
// hold's clock is moved past it.
func TestOperationLimitHoldsTheMethod(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.item.list", []int{})
	p.Answer("crm.deal.get", map[string]string{})
	pol := fastRetry
	pol.MaxOperationWait = time.Hour
	c, _ := newClient(t, p, b24.WithRetry(pol))
	ctx := context.Background()
	reset := time.Now().Add(90 * time.Second) // within the 2-minute call budget
	p.Fail("crm.item.list", b24test.OperationLimit(reset))

	// The first call gets the 429 and waits for the reset.
	ctxA, cancelA := context.WithCancel(ctx)
	defer cancelA()
	errA := make(chan error, 1)
	go func() { errA <- c.CallMethod(ctxA, "crm.item.list", nil, nil) }()
	var held time.Time
	for held.IsZero() {
		select {
		case err := <-errA:
			t.Fatalf("the held call returned before the hold was in place: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
		held = b24.HeldUntil(c, "crm.item.list")
	}
	if held.Before(reset.Add(-time.Second)) {
		t.Errorf("held until %v, want operating_reset_at %v", held, reset)
	}

	// Another method is not held: a one-minute deadline is enough for it.
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	if err := c.CallMethod(dctx, "crm.deal.get", nil, nil); err != nil {
		t.Fatalf("crm.deal.get during crm.item.list's hold: %v", err)
	}
	// The same method, with a deadline before the reset, fails at once and
	// never reaches the portal; method names match case-insensitively.
	if err := c.CallMethod(dctx, "CRM.ITEM.LIST", nil, nil); !errors.Is(err, b24.ErrOperationTimeLimit) || !strings.Contains(err.Error(), "held until") {
		t.Errorf("second call during the hold: %v", err)
	}
	if n := p.Requests("crm.item.list"); n != 1 {
		t.Errorf("crm.item.list requests during the hold = %d, want 1 (the 429)", n)
	}
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiting call after its context ended: %v, want context.Canceled", err)
	}

	// Past the reset the method is open again.
	b24.SetHoldClock(c, func() time.Time { return reset.Add(time.Second) })
	if !b24.HeldUntil(c, "crm.item.list").IsZero() {
		t.Error("the method is still held after operating_reset_at")
	}
	if err := c.CallMethod(dctx, "crm.item.list", nil, nil); err != nil {
		t.Fatalf("crm.item.list after the reset: %v", err)
	}
	if n := p.Requests("crm.item.list"); n != 2 {
		t.Errorf("crm.item.list requests = %d, want 2 (the 429, then one after the reset)", n)
	}
}

// TestOperationLimitWaitsForTheReset: a call that got OPERATION_TIME_LIMIT
// retries itself, and not before operating_reset_at (a lower bound only).
func TestOperationLimitWaitsForTheReset(t *testing.T) {
	p := b24test.NewPortal(t)
	var mu sync.Mutex
	var ran []time.Time
	p.Handle("crm.item.list", func(map[string]any) (any, error) {
		mu.Lock()
		ran = append(ran, time.Now())
		mu.Unlock()
		return []int{}, nil
	})
	c, _ := newClient(t, p)
	reset := time.Now().Add(100 * time.Millisecond)
	p.Fail("crm.item.list", b24test.OperationLimit(reset))
	if err := c.CallMethod(context.Background(), "crm.item.list", nil, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 1 || ran[0].Before(reset) {
		t.Errorf("the call ran at %v, want once, not before the reset at %v", ran, reset)
	}
}

func TestSlowAnswerRespectsContext(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", 1)
	p.Fail("crm.deal.get", b24test.SlowAnswer(2*time.Second))
	c, _ := newClient(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.CallMethod(ctx, "crm.deal.get", nil, nil, b24.WithIdempotent(true))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	assertErrClean(t, err)
	if n := p.Requests("crm.deal.get"); n != 1 {
		t.Errorf("requests = %d after the context ended, want 1", n)
	}
}

func TestNetworkErrorsAreRedacted(t *testing.T) {
	p := b24test.NewPortal(t)
	url := p.WebhookURL()
	// A portal that is gone: net/http's error quotes the whole URL.
	dead, err := b24.NewWebhookClient(strings.Replace(url, p.URL(), "http://127.0.0.1:1", 1), b24.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	err = dead.CallMethod(context.Background(), "user.current", nil, nil, b24.WithIdempotent(true))
	if err == nil {
		t.Fatal("call to a closed port succeeded")
	}
	assertErrClean(t, err)
	if !strings.Contains(err.Error(), "/rest/1/***/user.current") {
		t.Errorf("error does not show the redacted URL: %v", err)
	}
}

func TestPanicsDoNotShowSecret(t *testing.T) {
	p := b24test.NewPortal(t)
	c, _ := newClient(t, p)
	defer func() {
		if r := recover(); r != nil {
			assertNoSecret(t, "panic value", fmt.Sprint(r))
		}
	}()
	var nilCaller b24.Caller
	err := b24.Invoke(context.Background(), nilCaller, b24.Request{Method: "x"}, nil)
	if err == nil {
		t.Error("nil caller accepted")
	}
	if _, err := c.Call(context.Background(), nil); err == nil {
		t.Error("nil request accepted")
	}
}

// A 429 that carries no reset time is held until the operating_reset_at of
// the method's last successful answer, as the limits page advises.
func TestOperationLimitUsesLastSuccessfulReset(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.item.list", []int{})
	c, _ := newClient(t, p, b24.WithRetry(b24.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, OperationDelay: time.Minute}))
	ctx := context.Background()
	reset := time.Now().Add(200 * time.Millisecond)
	p.SetOperating("crm.item.list", 400.5, reset) // below the pacing limit: the 429 comes unannounced
	resp, err := c.Call(ctx, &b24.Request{Method: "crm.item.list"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Time.Operating != 400.5 || resp.Time.OperatingResetAt.Sub(reset).Abs() > time.Millisecond {
		t.Errorf("time = %+v", resp.Time)
	}
	p.Fail("crm.item.list", b24test.Fault{Kind: b24test.FaultOperationLimit}) // no reset time in it
	if err := c.CallMethod(ctx, "crm.item.list", nil, nil); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(reset) {
		t.Error("retried before the last known operating_reset_at")
	}
	if time.Since(reset) > 5*time.Second {
		t.Error("waited for the one-minute default instead of the known reset")
	}
}

// A 301 (http → https, say) is reported, not followed as a bodiless GET,
// and the Location header's copy of the secret is redacted.
func TestRedirectIsReportedWithoutSecret(t *testing.T) {
	var gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets++
		}
		http.Redirect(w, r, "https://elsewhere.example"+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer srv.Close()
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/"+b24test.Secret+"/", b24.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CallMethod(context.Background(), "crm.deal.add", map[string]int{"x": 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "redirect to") || !strings.Contains(err.Error(), "elsewhere.example/rest/1/***/") {
		t.Errorf("err = %v", err)
	}
	assertErrClean(t, err)
	if gets != 0 {
		t.Errorf("the redirect was followed with %d GET(s)", gets)
	}
}
