package b24_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// One passing failure of the authorization server (503
// temporarily_unavailable, a 500) is not a refusal of the refresh token:
// renewal comes back once the server does, without a new install.
func TestAppTransientAuthErrorDoesNotDisableRenewal(t *testing.T) {
	for _, fault := range []b24test.Fault{
		b24test.APIFailure(503, "temporarily_unavailable", "The server is temporarily unavailable"),
		b24test.APIFailure(500, "server_error", "Internal error"),
	} {
		t.Run(fault.Code, func(t *testing.T) {
			f := newAppFixture(t)
			c := f.client(t)
			f.auth.ExpireAll()
			f.portal.Fail("oauth/token", fault)
			err := c.CallMethod(context.Background(), "user.current", nil, nil)
			var te *b24.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("want a *TokenError while the server fails, got %v", err)
			}
			deadline := time.Now().Add(8 * time.Second)
			for {
				err = c.CallMethod(context.Background(), "user.current", nil, nil)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("renewal still failing after the authorization server recovered: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if n := f.auth.Renewals(); n != 1 {
				t.Errorf("renewals = %d, want 1", n)
			}
			if n := f.portal.Requests("oauth/token"); n != 2 {
				t.Errorf("asked the authorization server %d times, want 2 (the failure, then the renewal after the hold)", n)
			}
		})
	}
}

// slowStore is a TokenStore whose Save blocks, ignoring its context, until
// released.
type slowStore struct {
	*b24.MemoryTokenStore
	block   atomic.Bool
	inSave  atomic.Int32
	release chan struct{}
}

func (s *slowStore) Save(ctx context.Context, t b24.Token) error {
	if s.block.Load() {
		s.inSave.Add(1)
		defer s.inSave.Add(-1)
		<-s.release
	}
	return s.MemoryTokenStore.Save(ctx, t)
}

// A Save that hangs delays only callers whose deadlines allow it: calls
// with a short deadline return by it while the renewed pair is still being
// saved, and the pair is used once stored.
func TestAppSlowStoreHonoursDeadlines(t *testing.T) {
	store := &slowStore{MemoryTokenStore: b24.NewMemoryTokenStore(), release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(store.release) }) }
	t.Cleanup(release)
	f := newAppFixture(t, b24.WithTokenStore(store))
	if err := store.MemoryTokenStore.Save(context.Background(), f.tok); err != nil { // installed, as a restart finds it
		t.Fatal(err)
	}
	c := f.client(t)
	f.auth.ExpireAll()
	store.block.Store(true)

	const callers = 20
	errs := make(chan error, callers)
	for range callers {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			errs <- c.CallMethod(ctx, "user.current", nil, nil)
		}()
	}
	guard := time.NewTimer(10 * time.Second)
	defer guard.Stop()
	for i := range callers {
		select {
		case err := <-errs:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("caller %d: want the deadline's error, got %v", i, err)
			}
		case <-guard.C:
			release()
			t.Fatalf("%d of %d callers with a 200ms deadline were still waiting 10s later, held by a Save in progress", callers-i, callers)
		}
	}
	if store.inSave.Load() == 0 {
		t.Fatal("the Save was not in progress while the callers returned")
	}
	if n := f.portal.Ran("user.current"); n != 0 {
		t.Errorf("%d calls ran with a token not stored yet", n)
	}
	release()
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.auth.Renewals(); n != 1 {
		t.Errorf("renewals = %d, want 1", n)
	}
	stored, _ := store.Load(context.Background(), f.auth.MemberID())
	if last := f.auth.Issued(); stored.RefreshToken != last[len(last)-1].RefreshToken {
		t.Error("the renewed pair is not the stored one")
	}
}

// The store fails during the first install: the install check has spent
// the delivered refresh token, and Bitrix24 does not deliver again. The
// renewed pair is kept and saved once the store takes it, so the portal is
// not lost.
func TestAppFirstInstallSurvivesFailingStore(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	store := newRecordingStore()
	store.failing.Store(true)
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store))
	if err != nil {
		t.Fatal(err)
	}
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	ctx := context.Background()
	if code, _ := auth.DeliverInstall(ctx, r); code == http.StatusOK {
		t.Fatal("ONAPPINSTALL answered 200 though its tokens were not stored")
	}
	store.failing.Store(false)
	// Saved in the background, with no call asking for it.
	deadline := time.Now().Add(8 * time.Second)
	var stored b24.Token
	for {
		if stored, err = store.Load(ctx, auth.MemberID()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kept pair never reached the store: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	issued := auth.Issued()
	if stored.RefreshToken != issued[len(issued)-1].RefreshToken || stored.ApplicationToken != auth.ApplicationToken() {
		t.Fatal("the store holds another pair than the one the install check renewed")
	}
	c, err := app.Client(ctx, auth.MemberID())
	if err != nil {
		t.Fatalf("the portal is lost: %v", err)
	}
	if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.Deliver(ctx, r, auth.Event("ONCRMDEALADD", map[string]any{"FIELDS": map[string]any{"ID": 1}})); code != http.StatusOK {
		t.Fatalf("an event after the install: %d", code)
	}
}

// The kept pair is used only once stored: while the store still fails,
// calls fail with its error and reach neither the portal nor the
// authorization server.
func TestAppKeptInstallNotUsedBeforeStored(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	store := newRecordingStore()
	store.failing.Store(true)
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store))
	if err != nil {
		t.Fatal(err)
	}
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	ctx := context.Background()
	auth.DeliverInstall(ctx, r)
	c, err := app.Client(ctx, auth.MemberID())
	if err != nil {
		t.Fatalf("the portal is lost: %v", err)
	}
	err = c.CallMethod(ctx, "user.current", nil, nil)
	var se *b24.StoreError
	if !errors.As(err, &se) || se.Op != "save" {
		t.Fatalf("want the store's save error, got %v", err)
	}
	if p.Ran("user.current") != 0 || auth.Renewals() != 1 {
		t.Errorf("ran %d, renewals %d: an unsaved pair was used", p.Ran("user.current"), auth.Renewals())
	}
	store.failing.Store(false)
	if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// Issue 22: many processes (Apps) share one portal's tokens through a
// SharedTokenStore. Through each expiry exactly one renews; the others
// reload its pair. No refresh token reaches the authorization server twice
// and no call fails.
func TestAppSharedTokenStoreRenewsOncePerExpiry(t *testing.T) {
	const procs, callers, expiries = 8, 32, 5
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	var mu sync.Mutex
	sent := map[string]int{}
	auth.OnTokenUse(func(kind, token string) {
		if kind == "refresh" {
			mu.Lock()
			sent[token]++
			mu.Unlock()
		}
	})
	shared := b24.NewMemorySharedTokenStore()
	ctx := context.Background()
	clients := make([]*b24.Client, procs)
	for i := range clients {
		app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithSharedTokenStore(shared),
			b24.WithClientOptions(b24.WithoutRateLimit(), b24.WithLogger(slog.New(slog.DiscardHandler))))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := app.Install(ctx, auth.Issue()); err != nil {
				t.Fatal(err)
			}
		}
		if clients[i], err = app.Client(ctx, auth.MemberID()); err != nil {
			t.Fatal(err)
		}
	}
	installRenewals := auth.Renewals() // Install confirms the pair by renewing it once
	var failed atomic.Int32
	var firstErr atomic.Value
	for range expiries {
		auth.ExpireAll()
		var wg sync.WaitGroup
		for _, c := range clients {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 2 {
						if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
							failed.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						}
					}
				}()
			}
		}
		wg.Wait()
	}
	twice := 0
	for _, n := range sent {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d processes x %d callers through %d expiries: %d renewals, %d refresh tokens sent twice, %d failed calls",
		procs, callers, expiries, auth.Renewals()-installRenewals, twice, failed.Load())
	if n := failed.Load(); n != 0 {
		t.Errorf("%d calls failed, first: %v", n, firstErr.Load())
	}
	if n := auth.Renewals() - installRenewals; n != expiries {
		t.Errorf("renewals = %d, want %d", n, expiries)
	}
	if twice != 0 {
		t.Errorf("%d refresh tokens were sent twice", twice)
	}
}

// MemorySharedTokenStore keeps the contract the adapters implement:
// versions change on every write, a stale swap writes nothing, a lease has
// one holder at a time until released or expired.
func TestMemorySharedTokenStoreContract(t *testing.T) {
	s := b24.NewMemorySharedTokenStore()
	ctx := context.Background()
	if data, v, err := s.Load(ctx, "m"); data != nil || v != 0 || err != nil {
		t.Fatalf("empty load: %q %d %v", data, v, err)
	}
	v1, ok, err := s.Swap(ctx, "m", 0, []byte("a"))
	if !ok || err != nil || v1 == 0 {
		t.Fatalf("first swap: %d %v %v", v1, ok, err)
	}
	if _, ok, _ := s.Swap(ctx, "m", 0, []byte("b")); ok {
		t.Fatal("a swap against a stale version wrote")
	}
	v2, ok, _ := s.Swap(ctx, "m", v1, []byte("c"))
	if data, v, _ := s.Load(ctx, "m"); !ok || v != v2 || v2 == v1 || string(data) != "c" {
		t.Fatalf("load after swap: %q %d", data, v)
	}
	if ok, _ := s.Lease(ctx, "m", "p1", time.Minute); !ok {
		t.Fatal("free lease refused")
	}
	if ok, _ := s.Lease(ctx, "m", "p2", time.Minute); ok {
		t.Fatal("a second holder took a running lease")
	}
	s.Release(ctx, "m", "p2") // not the holder: nothing
	if ok, _ := s.Lease(ctx, "m", "p2", time.Minute); ok {
		t.Fatal("release by a non-holder ended the lease")
	}
	s.Release(ctx, "m", "p1")
	if ok, _ := s.Lease(ctx, "m", "p2", 10*time.Millisecond); !ok {
		t.Fatal("lease not free after release")
	}
	time.Sleep(20 * time.Millisecond)
	if ok, _ := s.Lease(ctx, "m", "p1", time.Minute); !ok {
		t.Fatal("lease not free after its ttl")
	}
	s.Delete(ctx, "m")
	if data, v, _ := s.Load(ctx, "m"); data != nil || v != 0 {
		t.Fatal("delete kept the data")
	}
	if v3, ok, _ := s.Swap(ctx, "m", 0, []byte("d")); !ok || v3 <= v2 {
		t.Fatalf("a version was reused after delete: %d <= %d", v3, v2)
	}
}
