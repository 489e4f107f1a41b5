package b24_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// hangingServer accepts every request and never answers it (until the
// client gives up or the test ends); it counts the requests.
func hangingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv, &n
}

// TestCallBudgetBoundsRetries: a read against a portal that never answers,
// with context.Background(), ends when the call budget runs out, however
// many retries the policy allows, and the error says so with the count.
func TestCallBudgetBoundsRetries(t *testing.T) {
	srv, requests := hangingServer(t)
	const budget = time.Second
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/"+b24test.Secret+"/",
		b24.WithHTTPClient(&http.Client{Timeout: 40 * time.Millisecond}), // per attempt
		b24.WithRetry(b24.RetryPolicy{MaxRetries: 1000, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
		b24.WithoutRateLimit(), b24.WithCallTimeout(budget))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.CallMethod(context.Background(), "crm.deal.get", map[string]int{"id": 1}, nil, b24.WithIdempotent(true))
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the call took %v with a budget of %v", took, budget)
	}
	var ce *b24.CallError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want a *CallError", err, err)
	}
	// The last attempt may be cut by the budget before the server counts it.
	if n := int(requests.Load()); ce.Budget != budget || ce.Attempts < 2 || n > ce.Attempts || n < ce.Attempts-1 {
		t.Errorf("budget %v, attempts %d, requests %d", ce.Budget, ce.Attempts, requests.Load())
	}
	want := fmt.Sprintf("call budget of %v (WithCallTimeout)", budget)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("after %d attempt(s)", ce.Attempts)) {
		t.Errorf("error %q does not say %q and the attempts", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not match context.DeadlineExceeded: %v", err)
	}
	var te *b24.TransportError
	if !errors.As(err, &te) {
		t.Errorf("the last attempt's *TransportError is not reachable: %v", err)
	}
	assertErrClean(t, err)

	// A write is sent once: the budget never makes it retried.
	requests.Store(0)
	err = c.CallMethod(context.Background(), "crm.deal.add", nil, nil)
	if n := requests.Load(); n != 1 || err == nil {
		t.Errorf("write: %d requests, err %v", n, err)
	}
}

// deadlineRecorder answers every request and records its context's deadline.
type deadlineRecorder struct {
	mu       sync.Mutex
	deadline time.Time
	has      bool
}

func (d *deadlineRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.deadline, d.has = r.Context().Deadline()
	d.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"result":1}`)), ContentLength: -1, Request: r}, nil
}

// TestCallBudgetByDefault: with context.Background() and no option, each
// request still carries the default budget as its deadline; a shorter
// deadline of the caller's wins, and WithCallTimeout(0) removes the bound.
func TestCallBudgetByDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []b24.Option
		ctx  time.Duration // caller's timeout, 0 for none
		want time.Duration // 0: no deadline
	}{
		{"default", nil, 0, b24.DefaultCallTimeout},
		{"caller's shorter deadline", nil, time.Minute, time.Minute},
		{"WithCallTimeout", []b24.Option{b24.WithCallTimeout(7 * time.Second)}, 0, 7 * time.Second},
		{"WithCallTimeout(0)", []b24.Option{b24.WithCallTimeout(0)}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &deadlineRecorder{}
			c, err := b24.NewWebhookClient("https://x.bitrix24.com/rest/1/abc/", append([]b24.Option{b24.WithHTTPClient(&http.Client{Transport: rec})}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			start := time.Now()
			if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 {
				if rec.has {
					t.Errorf("request has a deadline %v from now, want none", rec.deadline.Sub(start))
				}
				return
			}
			if !rec.has {
				t.Fatalf("request has no deadline, want %v", tc.want)
			}
			if got := rec.deadline.Sub(start); (got - tc.want).Abs() > 5*time.Second {
				t.Errorf("deadline %v from now, want about %v", got, tc.want)
			}
		})
	}
	if _, err := b24.NewWebhookClient("https://x.bitrix24.com/rest/1/abc/", b24.WithCallTimeout(-time.Second)); err == nil {
		t.Error("negative call timeout accepted")
	}
}

// dnsFailing is an *http.Client whose every dial fails like a DNS lookup.
func dnsFailing(dials *atomic.Int32, e *net.DNSError) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, e
	}}}
}

// TestNoSuchHostFailsFast: NXDOMAIN is a mistyped webhook URL: no retry
// mends it, so a read fails after one attempt and says what to check. A
// temporary DNS failure is retried, and the final error counts the attempts.
func TestNoSuchHostFailsFast(t *testing.T) {
	logs := &logBuf{}
	var dials atomic.Int32
	nx := &net.DNSError{Err: "no such host", Name: "portal.invalid", IsNotFound: true}
	c, err := b24.NewWebhookClient("https://portal.invalid/rest/1/"+b24test.Secret+"/",
		b24.WithHTTPClient(dnsFailing(&dials, nx)), b24.WithRetry(fastRetry), b24.WithoutRateLimit(),
		b24.WithLogger(newTextLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CallMethod(context.Background(), "user.current", nil, nil, b24.WithIdempotent(true))
	var te *b24.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "host does not exist") || !strings.Contains(err.Error(), "portal.invalid") {
		t.Errorf("err = %v, want a *TransportError saying the host does not exist", err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials for a host that does not exist, want 1", n)
	}
	assertErrClean(t, err)

	dials.Store(0)
	tmp := &net.DNSError{Err: "server misbehaving", Name: "portal.invalid", IsTemporary: true}
	c, err = b24.NewWebhookClient("https://portal.invalid/rest/1/"+b24test.Secret+"/",
		b24.WithHTTPClient(dnsFailing(&dials, tmp)), b24.WithRetry(fastRetry), b24.WithoutRateLimit(),
		b24.WithLogger(newTextLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CallMethod(context.Background(), "user.current", nil, nil, b24.WithIdempotent(true))
	want := 1 + fastRetry.MaxRetries
	var ce *b24.CallError
	if !errors.As(err, &ce) || ce.Attempts != want || !strings.Contains(err.Error(), fmt.Sprintf("gave up after %d attempts", want)) {
		t.Errorf("err = %v, want a *CallError after %d attempts", err, want)
	}
	if n := dials.Load(); int(n) != want {
		t.Errorf("%d dials, want %d", n, want)
	}
	if !errors.As(err, &te) {
		t.Errorf("the last *TransportError is not reachable: %v", err)
	}
	assertErrClean(t, err)
	out := logs.String()
	if got := strings.Count(out, "level=WARN msg=\"b24: retrying\""); got != fastRetry.MaxRetries {
		t.Errorf("%d retries logged at WARN, want %d:\n%s", got, fastRetry.MaxRetries, out)
	}
	if !strings.Contains(out, "b24: giving up") {
		t.Errorf("giving up not logged:\n%s", out)
	}
	// Each retry says how many the client will make: "1 of 3", not a bare count.
	if want := fmt.Sprintf(`retry="1 of %d"`, fastRetry.MaxRetries); !strings.Contains(out, want) {
		t.Errorf("the retry log does not say %s:\n%s", want, out)
	}
	assertNoSecret(t, "log", out)
}

// TestAttemptHookSeesEveryAttemptWithoutSecret: the hook receives each
// attempt's method, redacted URL, retry number, status and error.
func TestAttemptHookSeesEveryAttemptWithoutSecret(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", map[string]string{"ID": "1"})
	var (
		mu       sync.Mutex
		attempts []b24.Attempt
	)
	c, _ := newClient(t, p, b24.WithAttemptHook(func(a b24.Attempt) {
		mu.Lock()
		attempts = append(attempts, a)
		mu.Unlock()
	}))
	p.Fail("crm.deal.get", b24test.QueryLimitStorm(2))
	if err := c.CallMethod(context.Background(), "crm.deal.get", map[string]int{"id": 1}, nil, b24.WithIdempotent(true)); err != nil {
		t.Fatal(err)
	}
	p.Fail("crm.deal.get", b24test.ConnectionReset())
	if err := c.CallMethod(context.Background(), "crm.deal.get", nil, nil); err == nil {
		t.Fatal("a write-like call survived a connection reset")
	}
	if len(attempts) != 4 {
		t.Fatalf("%d attempts seen, want 4: %+v", len(attempts), attempts)
	}
	for i, want := range []struct {
		retry, status int
		failed        bool
	}{{0, 503, true}, {1, 503, true}, {2, 200, false}, {0, 0, true}} {
		a := attempts[i]
		if a.Method != "crm.deal.get" || a.Retry != want.retry || a.Status != want.status || (a.Err != nil) != want.failed ||
			!strings.HasSuffix(a.URL, "/rest/1/***/crm.deal.get") || a.Duration <= 0 || a.Start.IsZero() {
			t.Errorf("attempt %d = %+v, want retry %d, status %d, failed %v", i, a, want.retry, want.status, want.failed)
		}
		if a.Err != nil {
			assertErrClean(t, a.Err)
		}
		for _, f := range []string{"%v", "%+v", "%#v"} {
			assertNoSecret(t, "attempt printed with "+f, fmt.Sprintf(f, a))
		}
	}
	if !errors.Is(attempts[0].Err, b24.ErrQueryLimitExceeded) || attempts[2].Bytes == 0 {
		t.Errorf("first error %v, bytes of the answer %d", attempts[0].Err, attempts[2].Bytes)
	}
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestCanceledDuringBackoffStaysMatchable: a caller who cancels while the
// client waits to retry gets an error matching context.Canceled and the
// last attempt's error, with the attempts counted.
func TestCanceledDuringBackoffStaysMatchable(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", 1)
	p.Fail("crm.deal.get", b24test.QueryLimitStorm(100))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	attempts := 0
	c, _ := newClient(t, p, b24.WithRetry(b24.RetryPolicy{MaxRetries: 5, BaseDelay: 200 * time.Millisecond, MaxDelay: time.Hour}), b24.WithCallTimeout(0),
		b24.WithAttemptHook(func(a b24.Attempt) {
			if attempts++; attempts == 2 {
				cancel() // the call now waits (0.2-0.4 s) to retry
			}
		}))
	err := c.CallMethod(ctx, "crm.deal.get", nil, nil)
	var ce *b24.CallError
	if !errors.Is(err, context.Canceled) || !errors.Is(err, b24.ErrQueryLimitExceeded) || !errors.As(err, &ce) || ce.Attempts != 2 || ce.Budget != 0 {
		t.Errorf("err = %v, want a *CallError of 2 attempts matching context.Canceled and QUERY_LIMIT_EXCEEDED", err)
	}
}

// TestRetriesAreLoggedWithoutALogger: a client built without WithLogger
// still says, through slog.Default at warning level, that it is retrying, so
// a portal that does not answer is not a silent wait; the line holds no
// secret.
func TestRetriesAreLoggedWithoutALogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	p := b24test.NewPortal(t)
	p.Answer("user.current", map[string]any{"ID": "1"})
	p.Fail("user.current", b24test.QueryLimitStorm(2))
	c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithRetry(b24.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CallMethod(context.Background(), "user.current", nil, nil, b24.WithIdempotent(true)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "b24: retrying"); n != 2 {
		t.Errorf("%d retry lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "level=WARN") || strings.Contains(out, b24test.Secret) {
		t.Errorf("retry lines: %s", out)
	}
}
