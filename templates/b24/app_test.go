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
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

const (
	testClientID     = "local.65f0a1b2c3d4e5.12345678"
	testClientSecret = "LJSl0lNB76B5YY6u0YVQ3AW0DrVADcRTwVr4y99PXU1BWQyb"
)

// appFixture is a portal with the application installed (its tokens in
// the store) and an App pointed at the portal's authorization server.
type appFixture struct {
	portal *b24test.Portal
	auth   *b24test.AuthServer
	store  *recordingStore
	app    *b24.App
	tok    b24.Token
	logs   *logBuf // client_test.go: safe for the renewal's goroutine
}

func newAppFixture(t *testing.T, opts ...b24.AppOption) *appFixture {
	t.Helper()
	f := &appFixture{portal: b24test.NewPortal(t), store: newRecordingStore(), logs: &logBuf{}}
	f.auth = f.portal.RegisterApp(testClientID, testClientSecret)
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := []b24.AppOption{
		b24.WithAuthServer(f.auth.URL()), b24.WithTokenStore(f.store), b24.WithAppLogger(log),
		b24.WithClientOptions(b24.WithoutRateLimit(), b24.WithLogger(log),
			b24.WithRetry(b24.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond})),
	}
	app, err := b24.NewApp(testClientID, testClientSecret, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.app = app
	f.tok = f.auth.Issue()
	if err := f.store.Save(context.Background(), f.tok); err != nil { // an installed portal, as a restart finds it
		t.Fatal(err)
	}
	f.portal.Answer("user.current", map[string]any{"ID": "1", "NAME": "Anna"})
	return f
}

func (f *appFixture) client(t *testing.T) *b24.Client {
	t.Helper()
	c, err := f.app.Client(context.Background(), f.auth.MemberID())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recordingStore is a MemoryTokenStore that counts saves and can fail them.
type recordingStore struct {
	*b24.MemoryTokenStore
	saves   atomic.Int32
	failing atomic.Bool
}

func newRecordingStore() *recordingStore {
	return &recordingStore{MemoryTokenStore: b24.NewMemoryTokenStore()}
}

func (s *recordingStore) Save(ctx context.Context, t b24.Token) error {
	if s.failing.Load() {
		return errors.New("disk full")
	}
	s.saves.Add(1)
	return s.MemoryTokenStore.Save(ctx, t)
}

func TestAppClientSignsWithAccessToken(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	var u map[string]any
	if err := c.CallMethod(context.Background(), "user.current", nil, &u); err != nil {
		t.Fatal(err)
	}
	if u["NAME"] != "Anna" {
		t.Fatalf("got %v", u)
	}
	calls := f.portal.Calls()
	if _, ok := calls[len(calls)-1].Params["auth"]; ok {
		t.Error("the portal kept the auth parameter in the method's params")
	}
	// REST 3.0 goes to /rest/api/<method>, signed the same way.
	if _, err := c.Call(context.Background(), &b24.Request{Method: "user.current", Version: 3}); err != nil {
		t.Fatalf("REST 3.0 call: %v", err)
	}
	if calls := f.portal.Calls(); calls[len(calls)-1].Version != 3 {
		t.Error("the REST 3.0 call did not reach /rest/api/")
	}
	// The same client each time: one bucket, one set of holds per portal.
	if c2 := f.client(t); c2 != c {
		t.Error("App.Client made a second client for the same portal")
	}
	if s := fmt.Sprint(c); strings.Contains(s, f.tok.AccessToken) {
		t.Errorf("client prints its token: %s", s)
	}
}

func TestAppClientCallsWithWrongTokenFail(t *testing.T) {
	f := newAppFixture(t)
	tok := f.tok
	tok.AccessToken = "0123456789abcdef0123456789abcdef"
	c, err := f.app.ClientForToken(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.CallMethod(context.Background(), "user.current", nil, nil)
	if !errors.Is(err, b24.ErrInvalidToken) {
		t.Fatalf("want invalid_token, got %v", err)
	}
	if f.auth.Renewals() != 0 {
		t.Error("invalid_token caused a renewal; only expired_token should")
	}
}

func TestAppRenewalSingleFlight(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	f.auth.ExpireAll()
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.CallMethod(context.Background(), "user.current", nil, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := f.auth.Renewals(); n != 1 {
		t.Fatalf("100 calls through an expired token made %d renewals, want 1", n)
	}
	stored, _ := f.store.Load(context.Background(), f.auth.MemberID())
	if stored.RefreshToken == f.tok.RefreshToken || stored.AccessToken == f.tok.AccessToken {
		t.Error("the renewed pair was not stored")
	}
	if stored.ApplicationToken != f.tok.ApplicationToken {
		t.Error("the renewal lost the application token")
	}
}

func TestAppRenewsAheadOfExpiry(t *testing.T) {
	f := newAppFixture(t)
	tok := f.tok
	tok.Expires = time.Now().Add(10 * time.Second) // within the minute of margin
	if err := f.store.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if f.auth.Renewals() != 1 {
		t.Fatalf("renewals = %d, want 1 before the token expired", f.auth.Renewals())
	}
	stored, _ := f.store.Load(context.Background(), f.auth.MemberID())
	if last := f.auth.Issued(); stored.AccessToken != last[len(last)-1].AccessToken {
		t.Error("the call did not go out with the renewed token")
	}
}

// The new pair is in the store before the portal sees its access token and
// before the authorization server sees its refresh token.
func TestAppTokenStoredBeforeFirstUse(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	var mu sync.Mutex
	var problems []string
	f.auth.OnTokenUse(func(kind, token string) {
		st, err := f.store.Load(context.Background(), f.auth.MemberID())
		ok := err == nil && (kind == "access" && st.AccessToken == token || kind == "refresh" && st.RefreshToken == token)
		if !ok {
			mu.Lock()
			problems = append(problems, kind+" token used before it was stored")
			mu.Unlock()
		}
	})
	for range 3 {
		f.auth.ExpireAll()
		if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.auth.Renewals() != 3 {
		t.Fatalf("renewals = %d, want 3", f.auth.Renewals())
	}
	if len(problems) > 0 {
		t.Fatal(problems)
	}
}

func TestAppStoreFailureFailsTheCall(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	f.auth.ExpireAll()
	f.store.failing.Store(true)
	err := c.CallMethod(context.Background(), "user.current", nil, nil)
	var se *b24.StoreError
	if !errors.As(err, &se) || se.Op != "save" {
		t.Fatalf("want a *StoreError for save, got %v", err)
	}
	ran := f.portal.Ran("user.current")
	// Still failing: the renewed token is not used, and not renewed again
	// (its refresh token was rotated: the old one is gone).
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); !errors.As(err, &se) {
		t.Fatalf("second call: want a *StoreError, got %v", err)
	}
	if f.portal.Ran("user.current") != ran {
		t.Error("a call ran with a token that is not stored")
	}
	if f.auth.Renewals() != 1 {
		t.Errorf("renewals = %d, want 1: the unsaved pair is kept, not renewed again", f.auth.Renewals())
	}
	// The store recovers: the kept pair is saved, then used.
	f.store.failing.Store(false)
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.Load(context.Background(), f.auth.MemberID())
	if stored.RefreshToken == f.tok.RefreshToken {
		t.Error("the renewed refresh token was lost")
	}
	if f.auth.Renewals() != 1 {
		t.Errorf("renewals = %d, want 1", f.auth.Renewals())
	}
}

func TestAppFailedRenewalNotRepeated(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	f.auth.ExpireAll()
	f.auth.RevokeAll()
	for i := range 5 {
		err := c.CallMethod(context.Background(), "user.current", nil, nil)
		if !errors.Is(err, b24.ErrInvalidGrant) {
			t.Fatalf("call %d: want invalid_grant, got %v", i, err)
		}
		var te *b24.TokenError
		if !errors.As(err, &te) || te.Repeated != (i > 0) {
			t.Fatalf("call %d: want a *TokenError with Repeated=%v, got %#v", i, i > 0, err)
		}
	}
	if n := f.portal.Requests("oauth/token"); n != 1 {
		t.Fatalf("the authorization server was asked %d times for one refused refresh token", n)
	}
	if n := f.portal.Requests("user.current"); n != 1 {
		t.Fatalf("the portal was asked %d times with an access token it had called expired", n)
	}
	// A new install replaces the dead token.
	if err := f.app.Install(context.Background(), f.auth.Issue()); err != nil {
		t.Fatal(err)
	}
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAppUnreachableAuthServerHeld(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	f.auth.ExpireAll()
	f.portal.Fail("oauth/token", b24test.HTMLPage(502))
	for range 3 {
		err := c.CallMethod(context.Background(), "user.current", nil, nil)
		var te *b24.TokenError
		if !errors.As(err, &te) {
			t.Fatalf("want a *TokenError, got %v", err)
		}
	}
	if n := f.portal.Requests("oauth/token"); n != 1 {
		t.Fatalf("asked the authorization server %d times within the hold", n)
	}
	if n := f.portal.Requests("user.current"); n != 1 {
		t.Fatalf("asked the portal %d times with an expired token within the hold", n)
	}
}

// Another process sharing the store renewed first: our refresh token is
// spent, and the store's newer pair is taken instead of failing.
func TestAppAdoptsTokenRenewedElsewhere(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	other, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(f.auth.URL()), b24.WithTokenStore(f.store),
		b24.WithClientOptions(b24.WithoutRateLimit()))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := other.Client(context.Background(), f.auth.MemberID())
	if err != nil {
		t.Fatal(err)
	}
	f.auth.ExpireAll()
	if err := oc.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatalf("the first process did not take the pair the second stored: %v", err)
	}
	if f.auth.Renewals() != 1 {
		t.Errorf("renewals = %d, want 1", f.auth.Renewals())
	}
}

// The whole lifecycle through the install-mode receiver: ONAPPINSTALL is
// validated and stored, an event is routed to the portal's client, and
// ONAPPUNINSTALL removes the tokens.
func TestAppInstallCallUninstall(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	store := b24.NewMemoryTokenStore()
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store))
	if err != nil {
		t.Fatal(err)
	}
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	var installed, handled atomic.Int32
	var handedRefresh string
	r.Handle("ONAPPINSTALL", func(ctx context.Context, e *b24.Event) error {
		installed.Add(1)
		handedRefresh = e.Auth.RefreshToken
		return nil
	})
	r.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		c, ok := b24.ClientFromContext(ctx)
		if !ok {
			return errors.New("no portal client in the handler's context")
		}
		handled.Add(1)
		return c.CallMethod(ctx, "user.current", nil, nil)
	})
	ctx := context.Background()
	if code, _ := p.Deliver(ctx, r, auth.Event("ONCRMDEALADD", map[string]any{"FIELDS": map[string]any{"ID": 1}})); code != http.StatusUnauthorized {
		t.Fatalf("event before install: %d, want 401", code)
	}
	if code, _ := auth.DeliverInstall(ctx, r); code != http.StatusOK {
		t.Fatalf("ONAPPINSTALL: %d", code)
	}
	st, err := store.Load(ctx, auth.MemberID())
	if err != nil || st.ApplicationToken != auth.ApplicationToken() || st.RefreshToken == "" {
		t.Fatalf("install stored %v, %v", st, err)
	}
	if installed.Load() != 1 {
		t.Error("the ONAPPINSTALL handler did not run")
	}
	if handedRefresh != st.RefreshToken {
		t.Error("the ONAPPINSTALL handler got the delivered refresh token, spent by the install check, not the stored one")
	}
	if code, _ := p.Deliver(ctx, r, auth.Event("ONCRMDEALADD", map[string]any{"FIELDS": map[string]any{"ID": 1}})); code != http.StatusOK {
		t.Fatalf("event after install: %d", code)
	}
	if handled.Load() != 1 || p.Ran("user.current") != 1 {
		t.Fatal("the event's handler did not call the portal through its client")
	}
	forged := auth.Event("ONCRMDEALADD", nil)
	forged["auth"].(map[string]any)["application_token"] = "ffffffffffffffffffffffffffffffff"
	if code, _ := p.Deliver(ctx, r, forged); code != http.StatusUnauthorized {
		t.Fatalf("wrong application token: %d, want 401", code)
	}
	if code, _ := p.Deliver(ctx, r, auth.UninstallEvent()); code != http.StatusOK {
		t.Fatalf("ONAPPUNINSTALL: %d", code)
	}
	if _, err := store.Load(ctx, auth.MemberID()); !errors.Is(err, b24.ErrNoToken) {
		t.Fatalf("tokens still stored after uninstall: %v", err)
	}
	if _, err := app.Client(ctx, auth.MemberID()); !errors.Is(err, b24.ErrNoToken) {
		t.Fatalf("client after uninstall: %v", err)
	}
	if code, _ := p.Deliver(ctx, r, auth.Event("ONCRMDEALADD", nil)); code != http.StatusUnauthorized {
		t.Fatalf("event after uninstall: %d, want 401", code)
	}
}

func TestAppReceiverRefusesUnknownMemberAndForgedInstall(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	store := b24.NewMemoryTokenStore()
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store))
	var logs bytes.Buffer
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ran := false
	r.HandleFallback(func(context.Context, *b24.Event) error { ran = true; return nil })
	ctx := context.Background()

	unknown := auth.Event("ONCRMDEALADD", nil)
	unknown["auth"].(map[string]any)["member_id"] = "00000000000000000000000000000000"
	if code, _ := p.Deliver(ctx, r, unknown); code != http.StatusUnauthorized {
		t.Fatalf("unknown member_id: %d, want 401", code)
	}
	// A forged install: tokens the authorization server never issued.
	forged := auth.InstallEvent()
	a := forged["auth"].(map[string]any)
	a["refresh_token"], a["access_token"] = "deadbeefdeadbeefdeadbeefdeadbeef", "feedfacefeedfacefeedfacefeedface"
	if code, _ := p.Deliver(ctx, r, forged); code != http.StatusUnauthorized {
		t.Fatalf("forged ONAPPINSTALL: %d, want 401", code)
	}
	if _, err := store.Load(ctx, auth.MemberID()); !errors.Is(err, b24.ErrNoToken) {
		t.Fatal("a forged install was stored")
	}
	// An install claiming another portal's member_id with real tokens.
	other := auth.InstallEvent()
	other["auth"].(map[string]any)["member_id"] = "11111111111111111111111111111111"
	if code, _ := p.Deliver(ctx, r, other); code != http.StatusUnauthorized {
		t.Fatalf("install for another member_id: %d, want 401", code)
	}
	if ran {
		t.Error("a refused delivery reached a handler")
	}
	for _, s := range []string{"deadbeefdeadbeef", "feedfacefeedface", testClientSecret, auth.ApplicationToken()} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("log holds a credential: %s", logs.String())
		}
	}
}

// Each portal has its own bucket: one portal's exhausted limit does not
// slow another's calls.
func TestAppPortalsKeepSeparateLimits(t *testing.T) {
	ctx := context.Background()
	store := b24.NewMemoryTokenStore()
	// Two portals share one authorization server address in real life; here
	// each portal plays its own, so the App is made per server, sharing
	// nothing but the store.
	pa, pb := b24test.NewPortal(t), b24test.NewPortal(t)
	aa, ab := pa.RegisterApp(testClientID, testClientSecret), pb.RegisterApp(testClientID, testClientSecret)
	for _, p := range []*b24test.Portal{pa, pb} {
		p.Answer("user.current", map[string]any{"ID": "1"})
	}
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithTokenStore(store),
		b24.WithClientOptions(b24.WithRateLimit(2, 0.5)))
	for _, a := range []*b24test.AuthServer{aa, ab} {
		if err := store.Save(ctx, a.Issue()); err != nil {
			t.Fatal(err)
		}
	}
	ca, _ := app.Client(ctx, aa.MemberID())
	cb, _ := app.Client(ctx, ab.MemberID())
	for range 2 { // portal A's bucket is now full
		if err := ca.CallMethod(ctx, "user.current", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := ca.CallMethod(short, "user.current", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("portal A's third call should wait for its bucket past the deadline, got %v", err)
	}
	// Portal B's bucket is untouched.
	for range 2 {
		if err := cb.CallMethod(short, "user.current", nil, nil); err != nil {
			t.Fatalf("portal B was limited by portal A's calls: %v", err)
		}
	}
	// OPERATION_TIME_LIMIT holds are per portal too: A's 429 holds the
	// method on A (past the short deadline), B calls it at once.
	pa.Fail("crm.deal.list", b24test.OperationLimit(time.Now().Add(3*time.Second)))
	pa.Answer("crm.deal.list", []any{})
	pb.Answer("crm.deal.list", []any{})
	// Clients with no bucket, so only the holds are at play.
	app2, _ := b24.NewApp(testClientID, testClientSecret, b24.WithTokenStore(store), b24.WithClientOptions(b24.WithoutRateLimit()))
	ca, _ = app2.Client(ctx, aa.MemberID())
	cb, _ = app2.Client(ctx, ab.MemberID())
	short2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if err := ca.CallMethod(short2, "crm.deal.list", nil, nil); !errors.Is(err, b24.ErrOperationTimeLimit) {
		t.Fatalf("want OPERATION_TIME_LIMIT from portal A, got %v", err)
	}
	if err := ca.CallMethod(short2, "crm.deal.list", nil, nil); !errors.Is(err, b24.ErrOperationTimeLimit) || pa.Requests("crm.deal.list") != 1 {
		t.Fatalf("portal A's hold did not keep its next call home: %v, %d requests", err, pa.Requests("crm.deal.list"))
	}
	if err := cb.CallMethod(short2, "crm.deal.list", nil, nil); err != nil {
		t.Fatalf("portal A's hold stopped portal B: %v", err)
	}
}

// Thousands of portals: clients at rest hold no goroutine.
func TestAppManyPortalsNoGoroutines(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	ctx := context.Background()
	store := b24.NewMemoryTokenStore()
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store))
	base := auth.Issue()
	const n = 3000
	before := runtime.NumGoroutine()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := range n {
		tk := base
		tk.MemberID = fmt.Sprintf("%032d", i)
		if err := store.Save(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Client(ctx, tk.MemberID); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	runtime.KeepAlive(app)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("%d portal clients left %d goroutines running (before: %d)", n, after, before)
	}
	t.Logf("%d portals: %d bytes each on the heap (store included)", n, (int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/n)
}

func TestAppExchangeAndAuthorizeURL(t *testing.T) {
	f := newAppFixture(t)
	u, err := f.app.AuthorizeURL("portal.bitrix24.com", "xyz")
	if err != nil || u != "https://portal.bitrix24.com/oauth/authorize/?client_id="+url.QueryEscape(testClientID)+"&state=xyz" {
		t.Fatalf("AuthorizeURL = %q, %v", u, err)
	}
	for _, bad := range []string{"", "ftp://portal.bitrix24.com", "https://user:pw@portal.bitrix24.com"} {
		if _, err := f.app.AuthorizeURL(bad, ""); err == nil {
			t.Errorf("portal address %q was accepted", bad)
		}
	}
	// The fixture's portal is installed: one user's authorization does not
	// replace the installation's tokens.
	if _, err := f.app.Exchange(context.Background(), f.auth.Code()); !errors.Is(err, b24.ErrInstallConflict) {
		t.Fatalf("exchange over a live installation: %v, want ErrInstallConflict", err)
	}
	fresh, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(f.auth.URL()))
	tok, err := fresh.Exchange(context.Background(), f.auth.Code())
	if err != nil {
		t.Fatal(err)
	}
	if tok.MemberID != f.auth.MemberID() || tok.ClientEndpoint != f.auth.ClientEndpoint() || tok.Expires.IsZero() {
		t.Fatalf("exchange gave %v", tok)
	}
	if _, err := f.app.Exchange(context.Background(), "0000000000000000"); !errors.Is(err, b24.ErrInvalidGrant) {
		t.Fatalf("a bad code: %v", err)
	}
	bad, _ := b24.NewApp(testClientID, "wrong-secret-value", b24.WithAuthServer(f.auth.URL()))
	if _, err := bad.Exchange(context.Background(), f.auth.Code()); !errors.Is(err, b24.ErrInvalidClient) {
		t.Fatalf("wrong keys: %v", err)
	}
}

func TestParseAppPage(t *testing.T) {
	form := url.Values{
		"AUTH_ID": {"ahodg4h37n89vo17gbkgq0x1l825nnb5"}, "AUTH_EXPIRES": {"3600"}, "REFRESH_ID": {"2lg086mxijlpvwh0h7r4nl19udm4try5"},
		"SERVER_ENDPOINT": {"https://oauth.bitrix.info/rest/"}, "APPLICATION_TOKEN": {"ec1b2074a9d3f5c81b6e40d27a95cf38"},
		"APPLICATION_SCOPE": {"crm,entity,im,task"}, "member_id": {"a223c6b3710f85df22e9377d6c4f7553"}, "status": {"F"},
		"PLACEMENT": {"CRM_DEAL_DETAIL_TAB"}, "PLACEMENT_OPTIONS": {`{"ID":"759"}`},
	}
	req := httptest.NewRequest(http.MethodPost, "/app/?DOMAIN=portal.bitrix24.com&PROTOCOL=1&LANG=en&APP_SID=dd8c", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	page, err := b24.ParseAppPage(req)
	if err != nil {
		t.Fatal(err)
	}
	if page.Domain != "portal.bitrix24.com" || page.Placement != "CRM_DEAL_DETAIL_TAB" || string(page.PlacementOptions) != `{"ID":"759"}` ||
		page.Token.ClientEndpoint != "https://portal.bitrix24.com/rest/" || page.Token.RefreshToken != "2lg086mxijlpvwh0h7r4nl19udm4try5" ||
		page.Token.MemberID != "a223c6b3710f85df22e9377d6c4f7553" || page.Token.Expires.IsZero() || page.Lang != "en" {
		t.Fatalf("page = %+v / %#v", page, page.Token)
	}
	for _, s := range []string{fmt.Sprint(page), fmt.Sprintf("%+v %#v", *page, page.Token)} {
		if strings.Contains(s, "ahodg4h37n89") || strings.Contains(s, "2lg086mx") || strings.Contains(s, "ec1b2074") {
			t.Errorf("page prints a token: %s", s)
		}
	}
	empty := httptest.NewRequest(http.MethodPost, "/app/", nil)
	if _, err := b24.ParseAppPage(empty); err == nil {
		t.Error("a request without AUTH_ID was accepted")
	}
}

// offlineQueue serves event.offline.get (clear=0) and event.offline.clear
// on a portal.
type offlineQueue struct {
	mu       sync.Mutex
	events   []map[string]any
	reserved map[string]bool // ID -> reserved
	cleared  []string
}

func serveOffline(p *b24test.Portal, n int) *offlineQueue {
	q := &offlineQueue{reserved: map[string]bool{}}
	for i := 1; i <= n; i++ {
		q.events = append(q.events, map[string]any{"ID": fmt.Sprint(i), "TIMESTAMP_X": "2024-07-18T12:32:31+02:00",
			"EVENT_NAME": "ONCRMLEADADD", "EVENT_DATA": map[string]any{"FIELDS": map[string]any{"ID": i}}, "EVENT_ADDITIONAL": false, "MESSAGE_ID": fmt.Sprint(i)})
	}
	p.Handle("event.offline.get", func(params map[string]any) (any, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		limit, ok := b24test.Int(params, "limit")
		if !ok {
			limit = 50
		}
		var out []map[string]any
		for _, e := range q.events {
			if !q.reserved[e["ID"].(string)] && len(out) < int(limit) {
				q.reserved[e["ID"].(string)] = true
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			return map[string]any{"process_id": nil, "events": []any{}}, nil
		}
		return map[string]any{"process_id": "p1", "events": out}, nil
	})
	p.Handle("event.offline.clear", func(params map[string]any) (any, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		ids, _ := params["id"].([]any)
		keep := q.events[:0]
		drop := map[string]bool{}
		for _, id := range ids {
			drop[fmt.Sprint(id)] = true
			q.cleared = append(q.cleared, fmt.Sprint(id))
		}
		for _, e := range q.events {
			if !drop[e["ID"].(string)] {
				keep = append(keep, e)
			}
		}
		q.events = keep
		return true, nil
	})
	return q
}

func TestOfflineEventsClearedOnlyAfterHandler(t *testing.T) {
	f := newAppFixture(t)
	c := f.client(t)
	q := serveOffline(f.portal, 5)
	var seen []int64
	failAt := int64(3)
	for ev, err := range b24.OfflineEvents(context.Background(), c, b24.OfflineOptions{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if int64(ev.ID) == failAt {
			break // the handler failed: this one must stay
		}
		seen = append(seen, int64(ev.ID))
	}
	if fmt.Sprint(seen) != "[1 2]" || fmt.Sprint(q.cleared) != "[1 2]" {
		t.Fatalf("handled %v, cleared %v; want [1 2] both", seen, q.cleared)
	}
	if len(q.events) != 3 {
		t.Fatalf("%d events left in the queue, want 3 (the failed one and those after it)", len(q.events))
	}
	// HandleOffline marks the failed record erroneous instead.
	q3 := serveOffline(f.portal, 4)
	var marked []any
	f.portal.Handle("event.offline.error", func(params map[string]any) (any, error) {
		marked, _ = params["message_id"].([]any)
		return true, nil
	})
	boom := errors.New("handler failed")
	err := b24.HandleOffline(context.Background(), c, b24.OfflineOptions{}, func(_ context.Context, ev b24.OfflineEvent) error {
		if ev.ID == 2 {
			return boom
		}
		return nil
	})
	var oe *b24.OfflineError
	if !errors.As(err, &oe) || !errors.Is(err, boom) || oe.Event.ID != 2 {
		t.Fatalf("HandleOffline: %v", err)
	}
	if fmt.Sprint(q3.cleared) != "[1]" || fmt.Sprint(marked) != "[2]" || len(q3.events) != 3 {
		t.Fatalf("cleared %v, marked %v, %d left; want [1], [2], 3", q3.cleared, marked, len(q3.events))
	}
	// A run that succeeds clears everything, fetch by fetch.
	q2 := serveOffline(f.portal, 7)
	n := 0
	for _, err := range b24.OfflineEvents(context.Background(), c, b24.OfflineOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 7 || len(q2.events) != 0 {
		t.Fatalf("handled %d, %d left", n, len(q2.events))
	}
}

// Every failure path of renewal, with a logger at debug level and an
// attempt hook: no credential in any error's text (all verbs), any log
// line, or a panic's value.
func TestAppCredentialsNeverLeak(t *testing.T) {
	type path struct {
		name  string
		setup func(f *appFixture)
		// server replaces the authorization server with one answering so.
		server http.HandlerFunc
	}
	paths := []path{
		{name: "invalid_grant", setup: func(f *appFixture) { f.auth.RevokeAll() }},
		{name: "server echoes the tokens", setup: func(f *appFixture) {
			f.portal.Fail("oauth/token", b24test.APIFailure(400, "invalid_grant", "bad refresh_token "+f.tok.RefreshToken+" for "+testClientSecret+" / "+f.tok.AccessToken))
		}},
		{name: "payment required", setup: func(f *appFixture) {
			f.portal.Fail("oauth/token", b24test.APIFailure(402, "PAYMENT_REQUIRED", "Payment required"))
		}},
		{name: "html page", setup: func(f *appFixture) { f.portal.Fail("oauth/token", b24test.HTMLPage(502)) }},
		{name: "truncated", setup: func(f *appFixture) { f.portal.Fail("oauth/token", b24test.TruncatedBody()) }},
		{name: "connection reset", setup: func(f *appFixture) { f.portal.Fail("oauth/token", b24test.ConnectionReset().Repeat(5)) }},
		{name: "cut body", setup: func(f *appFixture) { f.portal.Fail("oauth/token", b24test.CutBody()) }},
		{name: "slow past the deadline", setup: func(f *appFixture) { f.portal.Fail("oauth/token", b24test.SlowAnswer(2*time.Second)) }},
		{name: "store fails", setup: func(f *appFixture) { f.store.failing.Store(true) }},
		{"wrong secret", nil, nil},
		{"server unreachable", nil, nil},
		{"redirect echoing the query", nil, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/oauth/token/?"+r.URL.RawQuery, http.StatusFound)
		}},
		{"answer without tokens", nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"member_id":"x","note":"` + r.URL.RawQuery + `"}`))
		}},
		{"answer for another portal", nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"%s","refresh_token":"%s","member_id":"%s"}`, r.URL.Query().Get("refresh_token"), r.URL.Query().Get("client_secret"), r.URL.Query().Get("refresh_token"))
		}},
	}
	for _, pth := range paths {
		t.Run(pth.name, func(t *testing.T) {
			var extra []b24.AppOption
			var hookErrs []string
			var hmu sync.Mutex
			hook := b24.WithAttemptHook(func(a b24.Attempt) {
				hmu.Lock()
				defer hmu.Unlock()
				hookErrs = append(hookErrs, a.URL, fmt.Sprint(a.Err))
			})
			extra = append(extra, b24.WithClientOptions(hook))
			f := newAppFixture(t, extra...)
			app := f.app
			switch pth.name {
			case "wrong secret":
				app, _ = b24.NewApp(testClientID, testClientSecret+"x", b24.WithAuthServer(f.auth.URL()), b24.WithTokenStore(f.store),
					b24.WithAppLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
					b24.WithClientOptions(hook, b24.WithoutRateLimit()))
			case "server unreachable":
				dead := httptest.NewServer(http.NotFoundHandler())
				addr := dead.URL
				dead.Close()
				app, _ = b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(addr+"/"), b24.WithTokenStore(f.store),
					b24.WithAppLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
					b24.WithClientOptions(hook, b24.WithoutRateLimit()))
			default:
				if pth.server != nil {
					srv := httptest.NewServer(pth.server)
					defer srv.Close()
					app, _ = b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(srv.URL), b24.WithTokenStore(f.store),
						b24.WithAppLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
						b24.WithClientOptions(hook, b24.WithoutRateLimit()))
				} else {
					pth.setup(f)
				}
			}
			c, err := app.Client(context.Background(), f.auth.MemberID())
			if err != nil {
				t.Fatal(err)
			}
			f.auth.ExpireAll()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var texts []string
			var callErr error
			func() {
				defer func() {
					if p := recover(); p != nil {
						texts = append(texts, fmt.Sprint(p))
						t.Errorf("panic: %v", p)
					}
				}()
				callErr = c.CallMethod(ctx, "user.current", nil, nil)
			}()
			if callErr == nil {
				t.Fatal("the call succeeded; the failure path was not taken")
			}
			// A second call takes the "not asked again" path.
			err2 := c.CallMethod(ctx, "user.current", nil, nil)
			for _, e := range []error{callErr, err2} {
				if e == nil {
					continue
				}
				texts = append(texts, e.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", e, e, e, e, e))
				for u := errors.Unwrap(e); u != nil; u = errors.Unwrap(u) {
					texts = append(texts, u.Error())
				}
			}
			texts = append(texts, f.logs.String(), fmt.Sprint(app), fmt.Sprint(c))
			hmu.Lock()
			texts = append(texts, hookErrs...)
			hmu.Unlock()
			secrets := []string{testClientSecret}
			for _, tk := range f.auth.Issued() {
				secrets = append(secrets, tk.AccessToken, tk.RefreshToken, tk.ApplicationToken)
			}
			for _, s := range texts {
				for _, x := range secrets {
					if x != "" && strings.Contains(s, x) {
						t.Errorf("credential in output: %s", s)
					}
				}
			}
		})
	}
}

// The cost of signing with a token source, against the same call through
// the webhook (BenchmarkWebhookCallSameServer in spirit).
func BenchmarkAppClientCall(b *testing.B) {
	p := b24test.NewPortal(b)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	store := b24.NewMemoryTokenStore()
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store), b24.WithClientOptions(b24.WithoutRateLimit()))
	tok := auth.Issue()
	store.Save(context.Background(), tok)
	ac, _ := app.Client(context.Background(), tok.MemberID)
	wc, _ := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit())
	for _, bc := range []struct {
		name string
		c    *b24.Client
	}{{"app", ac}, {"webhook", wc}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.c.CallMethod(context.Background(), "user.current", map[string]any{"x": 1}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// One receiver serves every portal: each delivery is checked against its
// own portal's application token and handled with that portal's client.
func TestAppEventsRoutedPerPortal(t *testing.T) {
	ctx := context.Background()
	pa, pb := b24test.NewPortal(t), b24test.NewPortal(t)
	aa, ab := pa.RegisterApp(testClientID, testClientSecret), pb.RegisterApp(testClientID, testClientSecret)
	store := b24.NewMemoryTokenStore()
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithTokenStore(store))
	for _, x := range []struct {
		p *b24test.Portal
		a *b24test.AuthServer
	}{{pa, aa}, {pb, ab}} {
		x.p.Answer("user.current", map[string]any{"ID": "1"})
		if err := store.Save(ctx, x.a.Issue()); err != nil {
			t.Fatal(err)
		}
	}
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	r.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		c, _ := b24.ClientFromContext(ctx)
		return c.CallMethod(ctx, "user.current", nil, nil)
	})
	for range 2 {
		if code, _ := pa.Deliver(ctx, r, aa.Event("ONCRMDEALADD", nil)); code != 200 {
			t.Fatalf("portal A's event: %d", code)
		}
	}
	if code, _ := pb.Deliver(ctx, r, ab.Event("ONCRMDEALADD", nil)); code != 200 {
		t.Fatalf("portal B's event: %d", code)
	}
	if pa.Ran("user.current") != 2 || pb.Ran("user.current") != 1 {
		t.Fatalf("calls reached A %d and B %d times, want 2 and 1", pa.Ran("user.current"), pb.Ran("user.current"))
	}
	// A JSON delivery is routed the same way.
	body, _ := json.Marshal(ab.Event("ONCRMDEALADD", nil))
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 200 || pb.Ran("user.current") != 2 {
		t.Fatalf("JSON delivery: %d, portal B ran %d", rec.Code, pb.Ran("user.current"))
	}
	// Portal A's member_id with portal B's application token: refused.
	mixed := aa.Event("ONCRMDEALADD", nil)
	mixed["auth"].(map[string]any)["application_token"] = ab.ApplicationToken()
	if code, _ := pa.Deliver(ctx, r, mixed); code != http.StatusUnauthorized {
		t.Fatalf("another portal's token: %d, want 401", code)
	}
}

// Many portals, one authorization server, one receiver: each portal's
// ONAPPINSTALL is validated and stored, its events use its client, and
// uninstalling one leaves the others working.
func TestAppManyPortalsLifecycle(t *testing.T) {
	ctx := context.Background()
	first := b24test.NewPortal(t)
	servers := []*b24test.AuthServer{first.RegisterApp(testClientID, testClientSecret)}
	portals := []*b24test.Portal{first}
	for range 3 {
		p := b24test.NewPortal(t)
		portals = append(portals, p)
		servers = append(servers, servers[0].Join(p))
	}
	app, _ := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(servers[0].URL()))
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	r.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		c, _ := b24.ClientFromContext(ctx)
		return c.CallMethod(ctx, "user.current", nil, nil)
	})
	for i, p := range portals {
		p.Answer("user.current", map[string]any{"ID": "1"})
		if code, _ := servers[i].DeliverInstall(ctx, r); code != 200 {
			t.Fatalf("portal %d: ONAPPINSTALL answered %d", i, code)
		}
	}
	for i, p := range portals {
		if code, _ := p.Deliver(ctx, r, servers[i].Event("ONCRMDEALADD", nil)); code != 200 {
			t.Fatalf("portal %d: event answered %d", i, code)
		}
		if p.Ran("user.current") != 1 {
			t.Fatalf("portal %d: its event's call went elsewhere", i)
		}
	}
	if code, _ := portals[1].Deliver(ctx, r, servers[1].UninstallEvent()); code != 200 {
		t.Fatalf("ONAPPUNINSTALL answered %d", code)
	}
	if code, _ := portals[1].Deliver(ctx, r, servers[1].Event("ONCRMDEALADD", nil)); code != http.StatusUnauthorized {
		t.Fatalf("event of the uninstalled portal answered %d", code)
	}
	for _, i := range []int{0, 2, 3} {
		servers[i].ExpireAll() // the survivors still renew
		if code, _ := portals[i].Deliver(ctx, r, servers[i].Event("ONCRMDEALADD", nil)); code != 200 {
			t.Fatalf("portal %d after another's uninstall: %d", i, code)
		}
	}
	if n := servers[0].Renewals(); n != 4+3 {
		t.Fatalf("renewals = %d, want 4 install checks + 3 expiries", n)
	}
}
