package b24_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// keptSpool is a MemorySpool that keeps every body put.
type keptSpool struct {
	*b24.MemorySpool
	mu     sync.Mutex
	bodies []string
}

func (s *keptSpool) Put(ctx context.Context, id string, body []byte) error {
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	return s.MemorySpool.Put(ctx, id, body)
}

// Install mode with a spool: the install and the uninstall change the store
// when they are received; the handlers run in a worker (here a second
// Receiver on the same App, as another process would be), with the portal's
// client in their context and no token in the stored deliveries.
func TestAppSpoolInstallMode(t *testing.T) {
	p := b24test.NewPortal(t)
	auth := p.RegisterApp(testClientID, testClientSecret)
	p.Answer("user.current", map[string]any{"ID": "1"})
	store := b24.NewMemoryTokenStore()
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL()), b24.WithTokenStore(store),
		b24.WithAppLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	spool := &keptSpool{MemorySpool: b24.NewMemorySpool(time.Minute)}
	recv := b24.NewReceiver("", b24.WithApp(app), b24.WithSpool(spool), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	worker := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	var installs, deals, uninstalls atomic.Int32
	worker.Handle("ONAPPINSTALL", func(ctx context.Context, e *b24.Event) error {
		if e.Auth.RefreshToken != "" || e.Auth.AccessToken != "" || e.Auth.MemberID != auth.MemberID() {
			t.Errorf("spooled ONAPPINSTALL auth: %v", e.Auth)
		}
		installs.Add(1)
		return nil
	})
	worker.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		c, ok := b24.ClientFromContext(ctx)
		if !ok {
			return errors.New("no portal client in the spooled handler's context")
		}
		deals.Add(1)
		return c.CallMethod(ctx, "user.current", nil, nil)
	})
	worker.Handle("ONAPPUNINSTALL", func(ctx context.Context, e *b24.Event) error {
		if _, ok := b24.ClientFromContext(ctx); ok {
			t.Error("a client for an uninstalled portal")
		}
		uninstalls.Add(1)
		return nil
	})
	ctx := context.Background()
	run := func() {
		t.Helper()
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- worker.WorkSpool(wctx, spool) }()
		deadline := time.Now().Add(10 * time.Second)
		for spool.Len() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
		if spool.Len() != 0 {
			t.Fatalf("%d deliveries left in the spool", spool.Len())
		}
	}

	if code, _ := auth.DeliverInstall(ctx, recv); code != http.StatusOK {
		t.Fatalf("ONAPPINSTALL: %d", code)
	}
	if st, err := store.Load(ctx, auth.MemberID()); err != nil || st.ApplicationToken != auth.ApplicationToken() {
		t.Fatalf("the install was not stored when received: %v", err)
	}
	if code, _ := p.Deliver(ctx, recv, auth.Event("ONCRMDEALADD", map[string]any{"FIELDS": map[string]any{"ID": 1}})); code != http.StatusOK {
		t.Fatalf("event: %d", code)
	}
	forged := auth.Event("ONCRMDEALADD", nil)
	forged["auth"].(map[string]any)["application_token"] = "ffffffffffffffffffffffffffffffff"
	if code, _ := p.Deliver(ctx, recv, forged); code != http.StatusUnauthorized {
		t.Fatalf("wrong application token: %d, want 401", code)
	}
	if spool.Len() != 2 || installs.Load()+deals.Load() != 0 {
		t.Fatalf("spool holds %d, handled %d: want 2 stored, none handled yet", spool.Len(), installs.Load()+deals.Load())
	}
	run()
	if installs.Load() != 1 || deals.Load() != 1 || p.Ran("user.current") != 1 {
		t.Fatalf("installs %d, deals %d, portal calls %d", installs.Load(), deals.Load(), p.Ran("user.current"))
	}
	if code, _ := p.Deliver(ctx, recv, auth.UninstallEvent()); code != http.StatusOK {
		t.Fatalf("ONAPPUNINSTALL: %d", code)
	}
	if _, err := store.Load(ctx, auth.MemberID()); !errors.Is(err, b24.ErrNoToken) {
		t.Fatalf("tokens still stored after the uninstall was received: %v", err)
	}
	run()
	if uninstalls.Load() != 1 {
		t.Fatal("the ONAPPUNINSTALL handler did not run")
	}
	spool.mu.Lock()
	defer spool.mu.Unlock()
	for _, body := range spool.bodies {
		for _, tok := range auth.Issued() {
			for _, s := range []string{tok.AccessToken, tok.RefreshToken, tok.ApplicationToken} {
				if strings.Contains(body, s) {
					t.Fatalf("a token reached the spool: %s", body)
				}
			}
		}
	}
}
