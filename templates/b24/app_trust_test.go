package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// trustApp is an App on a fresh portal, with a receiver in install mode
// whose log is kept.
type trustApp struct {
	portal *b24test.Portal
	auth   *b24test.AuthServer
	store  *b24.MemoryTokenStore
	app    *b24.App
	r      *b24.Receiver
	logs   *logBuf
}

func newTrustApp(t *testing.T) *trustApp {
	t.Helper()
	x := &trustApp{portal: b24test.NewPortal(t), store: b24.NewMemoryTokenStore(), logs: &logBuf{}}
	x.auth = x.portal.RegisterApp(testClientID, testClientSecret)
	log := slog.New(slog.NewTextHandler(x.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(x.auth.URL()), b24.WithTokenStore(x.store),
		b24.WithAppLogger(log), b24.WithClientOptions(b24.WithoutRateLimit(), b24.WithLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	x.app = app
	x.r = b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(log))
	return x
}

// leaked lists the tokens the authorization server ever issued that s holds.
func (x *trustApp) leaked(s string) []string {
	var out []string
	for _, tk := range x.auth.Issued() {
		for _, sec := range []string{tk.AccessToken, tk.RefreshToken, tk.ApplicationToken} {
			if sec != "" && strings.Contains(s, sec) {
				out = append(out, sec[:6]+"…")
			}
		}
	}
	return out
}

// Install mode: an OnAppInstall handler's error, a fallback's panic, both
// quoting the tokens the handler was given (the live pair the install
// stored, not the delivered one), never reach the log.
func TestInstallModeLogsNoLiveToken(t *testing.T) {
	x := newTrustApp(t)
	x.r.Handle("ONAPPINSTALL", func(_ context.Context, e *b24.Event) error {
		return fmt.Errorf("saving %s / %s / %s failed", e.Auth.AccessToken, e.Auth.RefreshToken, e.Auth.ApplicationToken)
	})
	x.r.HandleFallback(func(ctx context.Context, e *b24.Event) error {
		st, _ := x.store.Load(ctx, e.Auth.MemberID)
		panic("boom with " + st.AccessToken + " " + st.RefreshToken + " " + e.Auth.ApplicationToken)
	})
	ctx := context.Background()
	if code, _ := x.auth.DeliverInstall(ctx, x.r); code != http.StatusInternalServerError {
		t.Fatalf("ONAPPINSTALL with a failing handler: %d, want 500", code)
	}
	if _, err := x.store.Load(ctx, x.auth.MemberID()); err != nil {
		t.Fatalf("the install was not stored: %v", err)
	}
	if code, _ := x.portal.Deliver(ctx, x.r, x.auth.Event("ONCRMDEALADD", nil)); code != http.StatusInternalServerError {
		t.Fatalf("panicking fallback: %d, want 500", code)
	}
	logs := x.logs.String()
	if !strings.Contains(logs, "saving") || !strings.Contains(logs, "boom") {
		t.Fatalf("the handler failures were not logged:\n%s", logs)
	}
	if l := x.leaked(logs); len(l) > 0 {
		t.Fatalf("the log holds live tokens %v:\n%s", l, logs)
	}
}

// Event.Redacted masks credentials under the names integrations give them,
// not only *token*, *secret* and *password*.
func TestEventRedactedCredentialNames(t *testing.T) {
	secrets := map[string]string{
		"apiKey": "k1-4f9c2a7e", "API_KEY": "k2-8d3b1e6f", "x-api-key": "k3-0a9e7c5d", "accessKey": "k4-6b2d8f1a",
		"private_key": "k5-3e7a9c0b", "passwd": "k6-9f1c3e5a", "pwd": "k7-2b4d6f8a", "credentials": "k8-7e5c3a1f",
		"Authorization": "k9-1a3c5e7b", "auth": "ka-5d7f9b2c", "AUTH_ID": "kb-8c6a4e2d", "sessid": "kc-4e6a8c0f",
		"signature": "kd-0f2d4b6e", "Cookie": "ke-6c8e0a2b",
	}
	fields := map[string]any{"ID": "759", "TITLE": "Deal", "AUTHOR_ID": "3", "KEYWORDS": "sale"}
	for k, v := range secrets {
		fields[k] = v
	}
	payload, _ := json.Marshal(map[string]any{"event": "ONCRMDEALUPDATE", "data": map[string]any{"FIELDS": fields}})
	ev := &b24.Event{Name: "ONCRMDEALUPDATE", Payload: payload}
	red := string(ev.Redacted())
	for k, v := range secrets {
		if strings.Contains(red, v) {
			t.Errorf("data[FIELDS][%s] survives redaction: %s", k, red)
		}
	}
	for _, keep := range []string{`"759"`, `"Deal"`, `"AUTHOR_ID":"3"`, `"KEYWORDS":"sale"`} {
		if !strings.Contains(red, keep) {
			t.Errorf("%s was masked too: %s", keep, red)
		}
	}
}

// pagePost is an application page's POST as anyone can send it.
func pagePost(domain, protocol string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/app/?DOMAIN="+domain+"&PROTOCOL="+protocol, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// The README's recipe, ParseAppPage then Install, stores only what the
// authorization server confirms: a page naming another host installs the
// genuine portal's endpoint, a page with tokens the server never issued
// installs nothing, and an installed portal is not replaced by a user's
// pair with a chosen application token.
func TestInstallFromPageTrustsOnlyTheAuthServer(t *testing.T) {
	ctx := context.Background()
	x := newTrustApp(t)
	user := x.auth.Issue() // what any user opening the page receives
	page := func(access, refresh, appToken string) *b24.AppPage {
		p, err := b24.ParseAppPage(pagePost("evil.example", "0", url.Values{"AUTH_ID": {access}, "REFRESH_ID": {refresh},
			"member_id": {x.auth.MemberID()}, "APPLICATION_TOKEN": {appToken}}))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// First install from a page that names another host.
	if err := x.app.Install(ctx, page(user.AccessToken, user.RefreshToken, x.auth.ApplicationToken()).Token); err != nil {
		t.Fatal(err)
	}
	st, err := x.store.Load(ctx, x.auth.MemberID())
	if err != nil || st.ClientEndpoint != x.auth.ClientEndpoint() || strings.Contains(st.Domain, "evil") {
		t.Fatalf("stored %v, %v; want the portal's own endpoint %s", st, err, x.auth.ClientEndpoint())
	}
	// Tokens the server never issued: refused, nothing changes.
	if err := x.app.Install(ctx, page("feedfacefeedfacefeedfacefeedface", "deadbeefdeadbeefdeadbeefdeadbeef", "ffffffffffffffffffffffffffffffff").Token); err == nil {
		t.Fatal("a page with forged tokens was installed")
	}
	// A user's genuine pair with a chosen application token: refused.
	other := x.auth.Issue()
	if err := x.app.Install(ctx, page(other.AccessToken, other.RefreshToken, "ffffffffffffffffffffffffffffffff").Token); !errors.Is(err, b24.ErrInstallConflict) {
		t.Fatalf("a user's pair replaced the installation: %v, want ErrInstallConflict", err)
	}
	now, _ := x.store.Load(ctx, x.auth.MemberID())
	if now.ApplicationToken != x.auth.ApplicationToken() || now.ClientEndpoint != x.auth.ClientEndpoint() {
		t.Fatalf("the installation changed: %v", now)
	}
	if code, _ := x.portal.Deliver(ctx, x.r, x.auth.Event("ONCRMDEALADD", nil)); code != http.StatusOK {
		t.Fatalf("a genuine event after the forgeries: %d", code)
	}
	// After the installation's tokens are revoked (uninstalled, its
	// ONAPPUNINSTALL lost), a reinstall goes through.
	x.auth.RevokeAll()
	fresh := x.auth.Issue()
	if err := x.app.Install(ctx, page(fresh.AccessToken, fresh.RefreshToken, "0123456789abcdef0123456789abcdef").Token); err != nil {
		t.Fatalf("reinstall after revocation: %v", err)
	}
}

// Any user of a portal holds a pair the authorization server renews: a
// forged ONAPPINSTALL carrying it and a chosen application token does not
// replace the installation, and the portal's events keep being accepted.
func TestForgedInstallWithUserToken(t *testing.T) {
	ctx := context.Background()
	x := newTrustApp(t)
	if code, _ := x.auth.DeliverInstall(ctx, x.r); code != http.StatusOK {
		t.Fatalf("genuine ONAPPINSTALL: %d", code)
	}
	before, _ := x.store.Load(ctx, x.auth.MemberID())
	forged := x.auth.InstallEvent() // a pair the server issued, as to any user
	forged["auth"].(map[string]any)["application_token"] = "ffffffffffffffffffffffffffffffff"
	if code, _ := x.portal.Deliver(ctx, x.r, forged); code != http.StatusUnauthorized {
		t.Fatalf("forged ONAPPINSTALL with a user's pair: %d, want 401", code)
	}
	after, _ := x.store.Load(ctx, x.auth.MemberID())
	if after.ApplicationToken != before.ApplicationToken {
		t.Fatal("the forged install replaced the application token")
	}
	if code, _ := x.portal.Deliver(ctx, x.r, x.auth.Event("ONCRMDEALADD", nil)); code != http.StatusOK {
		t.Fatalf("a genuine event after the forgery: %d, want 200", code)
	}
	// The portal's own second install (same application token) is accepted.
	if code, _ := x.auth.DeliverInstall(ctx, x.r); code != http.StatusOK {
		t.Fatalf("the portal's repeated ONAPPINSTALL: %d", code)
	}
}

// forgedInstallForm is a 1 MB ONAPPINSTALL of ~10,000 keys 32 levels deep
// with tokens the server never issued.
func forgedInstallForm(memberID string) []byte {
	var b bytes.Buffer
	b.WriteString("event=ONAPPINSTALL&auth%5Bmember_id%5D=" + memberID +
		"&auth%5Bapplication_token%5D=ffffffffffffffffffffffffffffffff&auth%5Brefresh_token%5D=deadbeefdeadbeefdeadbeefdeadbeef&auth%5Baccess_token%5D=feedfacefeedfacefeedfacefeedface")
	deep := strings.Repeat("%5Bx%5D", 32)
	for i := 0; b.Len() < 990_000 && i < 9_998; i++ {
		fmt.Fprintf(&b, "&data%%5Bk%d%%5D%s=%d", i, deep, i)
	}
	return b.Bytes()
}

// A forged ONAPPINSTALL costs at most 4× its body before it is refused.
func TestForgedInstallCostIsBounded(t *testing.T) {
	x := newTrustApp(t)
	x.r.HandleFallback(func(context.Context, *b24.Event) error { t.Error("handler called"); return nil })
	for _, tc := range []struct {
		name, ctype string
		body        []byte
	}{
		{"form", "application/x-www-form-urlencoded", forgedInstallForm(x.auth.MemberID())},
		{"json", "application/json", forgedInstallJSON(x.auth.MemberID())},
	} {
		t.Run(tc.name, func(t *testing.T) { forgedInstallCost(t, x.r, tc.ctype, tc.body) })
	}
}

// forgedInstallJSON is the JSON twin of forgedInstallForm.
func forgedInstallJSON(memberID string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"event":"ONAPPINSTALL","auth":{"member_id":"` + memberID + `","application_token":"ffffffffffffffffffffffffffffffff","refresh_token":"deadbeefdeadbeefdeadbeefdeadbeef"},"data":{`)
	deep := strings.Repeat(`{"x":`, 32) + "1" + strings.Repeat("}", 32)
	for i := 0; b.Len() < 990_000 && i < 9_998; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%s`, i, deep)
	}
	b.WriteString("}}")
	return b.Bytes()
}

func forgedInstallCost(t *testing.T, h http.Handler, ctype string, body []byte) {
	serve := func() int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	serve() // warm up
	const runs = 4
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range runs {
		if code := serve(); code != http.StatusUnauthorized {
			t.Fatalf("forged install: %d, want 401", code)
		}
	}
	runtime.ReadMemStats(&m1)
	per := (m1.TotalAlloc - m0.TotalAlloc) / runs
	t.Logf("forged ONAPPINSTALL of %d bytes: %d bytes allocated per request (%.2f× the body)", len(body), per, float64(per)/float64(len(body)))
	if per > 4*uint64(len(body)) {
		t.Fatalf("a forged install allocated %d bytes for a %d byte body, want at most 4×", per, len(body))
	}
}

// Forged installs whose check hangs: the checks are bounded in number and
// end with the requests that caused them; none is left running.
func TestForgedInstallsHoldNoGoroutines(t *testing.T) {
	x := newTrustApp(t)
	var inFlight, peak atomicMax
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.add(1)
		defer inFlight.add(-1)
		peak.max(inFlight.get())
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer slow.Close()
	// The bound is on the checks the App has outstanding: counted from the
	// moment a check's request leaves until its round trip has returned and
	// its body is closed. The server's own count (logged, not asserted) runs
	// later than that: a handler sees its request cancelled only when the
	// server notices the closed connection, after the App has already
	// released the slot, so under load it can see more than 8 at once while
	// the App never has more than 8 out.
	var outbound, outPeak atomicMax
	hc := &http.Client{Transport: countingTransport{base: http.DefaultTransport, in: &outbound, peak: &outPeak}}
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(slow.URL), b24.WithAuthHTTPClient(hc))
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	body := "event=ONAPPINSTALL&auth%5Bmember_id%5D=" + x.auth.MemberID() + "&auth%5Bapplication_token%5D=ffffffffffffffffffffffffffffffff&auth%5Brefresh_token%5D=deadbeefdeadbeefdeadbeefdeadbeef"
	runtime.GC()
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond) // the forger hangs up
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	n := runtime.NumGoroutine()
	for ; n > base+10 && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("200 forged installs: %d goroutines before, %d after; at most %d checks out of the App at once (%d seen at once by the authorization server)", base, n, outPeak.get(), peak.get())
	if n > base+10 {
		t.Errorf("%d goroutines left after 200 forged installs (%d before)", n, base)
	}
	if outPeak.get() == 0 {
		t.Fatal("no install check reached the authorization server")
	}
	if outPeak.get() > 8 {
		t.Errorf("%d install checks were out at once, want at most 8", outPeak.get())
	}
}

// countingTransport counts the round trips in flight, each until it has
// returned and its body is closed, and keeps the peak.
type countingTransport struct {
	base     http.RoundTripper
	in, peak *atomicMax
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.peak.max(c.in.addGet(1))
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		c.in.add(-1)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, done: func() { c.in.add(-1) }}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

type atomicMax struct {
	mu sync.Mutex
	n  int
}

func (a *atomicMax) add(d int) { a.mu.Lock(); a.n += d; a.mu.Unlock() }
func (a *atomicMax) get() int  { a.mu.Lock(); defer a.mu.Unlock(); return a.n }
func (a *atomicMax) addGet(d int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n += d
	return a.n
}
func (a *atomicMax) max(v int) {
	a.mu.Lock()
	if v > a.n {
		a.n = v
	}
	a.mu.Unlock()
}
