package b24_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

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

var _ = errors.New
