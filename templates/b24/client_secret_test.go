package b24_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// TestSecretNeverLeaks drives every error path the client has, with the fake
// portal's known secret in the webhook URL and a debug logger attached, and
// checks the secret in every printed form of every error and in the log.
func TestSecretNeverLeaks(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("m.write", 1)
	p.Answer("m.read", 1)
	p.Handle("m.fail", func(map[string]any) (any, error) {
		return nil, b24test.Errorf(400, "ERROR_CORE", "failed for /rest/1/%s/", b24test.Secret) // even a portal echoing it
	})
	c, logs := newClient(t, p)
	ctx := context.Background()
	faults := []b24test.Fault{
		b24test.QueryLimitStorm(50), b24test.OperationLimit(time.Now().Add(time.Hour)),
		b24test.APIFailure(500, "INTERNAL_SERVER_ERROR", "x"), b24test.ConnectionReset(), b24test.CutBody(),
		b24test.TruncatedBody(), b24test.HTMLPage(502), b24test.HTMLPage(404).Repeat(10),
	}
	var errs []error
	for _, f := range faults {
		for _, m := range []string{"m.write", "m.read"} {
			p.Fail(m, f)
			errs = append(errs, c.CallMethod(ctx, m, nil, nil, b24.WithIdempotent(m == "m.read")))
		}
		p.Fail("batch", f)
		b := b24.NewBatch()
		h := b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "m.write"}))
		errs = append(errs, b.Run(ctx, c))
		_, herr := h.Result()
		errs = append(errs, herr)
	}
	errs = append(errs,
		c.CallMethod(ctx, "m.fail", nil, nil),
		c.CallMethod(ctx, "no.such", nil, nil),
		c.CallMethod(ctx, "bad/method", nil, nil),
		c.CallMethod(ctx, "m.read", func() {}, nil),
	)
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	p.Fail("m.read", b24test.SlowAnswer(time.Second))
	errs = append(errs, c.CallMethod(tctx, "m.read", nil, nil))
	cancel()
	// A batch command whose error echoes the secret.
	b := b24.NewBatch()
	b24.Add(b, "", b24.NewCommand[int](b24.Request{Method: "m.fail"}))
	errs = append(errs, b.Run(ctx, c))
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
		assertErrClean(t, err) // nil for reads retried to success
	}
	if failed < len(faults)*2 {
		t.Errorf("only %d of %d paths failed: the check proves little", failed, len(errs))
	}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logs.String()} {
		assertNoSecret(t, "client or log", s)
	}
	if !strings.Contains(logs.String(), "b24: retrying") {
		t.Error("the retries were not logged, so the log check proves little")
	}
	// The error that echoed the secret from the portal is redacted too.
	if err := errs[len(faults)*4]; !strings.Contains(err.Error(), "ERROR_CORE") {
		t.Errorf("m.fail: %v", err)
	}
}

// TestSecretNeverLeaksFromNewPaths covers the paths of issue 9: redirect
// errors (to another host, to http, with the secret in the Location), the
// budget error, the retries-count error, the attempt hook's data and the
// log of retries and giving up.
func TestSecretNeverLeaksFromNewPaths(t *testing.T) {
	var hooked []b24.Attempt
	var mu sync.Mutex
	hook := b24.WithAttemptHook(func(a b24.Attempt) { mu.Lock(); hooked = append(hooked, a); mu.Unlock() })
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Secret in the path and in the query of the target.
		http.Redirect(w, r, "http://elsewhere.example"+r.URL.Path+"?auth="+b24test.Secret, http.StatusFound)
	}))
	defer redirect.Close()
	hang, _ := hangingServer(t)
	var errs []error
	for _, srv := range []*httptest.Server{redirect, hang} {
		logs := &logBuf{}
		c, err := b24.NewWebhookClient(srv.URL+"/rest/1/"+b24test.Secret+"/", b24.WithCallTimeout(100*time.Millisecond), hook,
			b24.WithHTTPClient(&http.Client{Timeout: 30 * time.Millisecond}), b24.WithLogger(newTextLogger(logs)),
			b24.WithRetry(fastRetry), b24.WithoutRateLimit())
		if err != nil {
			t.Fatal(err)
		}
		for _, idem := range []bool{false, true} {
			errs = append(errs, c.CallMethod(context.Background(), "crm.deal.add", map[string]int{"x": 1}, nil, b24.WithIdempotent(idem)))
		}
		assertNoSecret(t, "log", logs.String())
	}
	for i, err := range errs {
		if err == nil {
			t.Fatal("a call succeeded")
		}
		assertErrClean(t, err)
		want := []string{"redirect", "redirect", "Client.Timeout", "call budget"}[i]
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %d %q does not say %q: the path was not the one meant", i, err, want)
		}
		t.Log(err)
	}
	if len(hooked) < 4 {
		t.Errorf("%d attempts hooked", len(hooked))
	}
	for _, a := range hooked {
		assertNoSecret(t, "hooked attempt", fmt.Sprintf("%v %+v %#v", a, a, a))
		assertErrClean(t, a.Err)
	}
}
