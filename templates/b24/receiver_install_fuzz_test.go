package b24_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// The installed portal of FuzzInstallMode, and the application token only it
// knows (not in the seeds).
const (
	fuzzMember   = "a223c6b3710f85df22e9377d6c4f7553"
	fuzzAppToken = "9c1e5b7a0d3f48e6a2b4c8d0e1f23456"
)

// savesStore is a MemoryTokenStore that records every Save.
type savesStore struct {
	*b24.MemoryTokenStore
	mu    sync.Mutex
	saved []b24.Token
}

func (s *savesStore) Save(ctx context.Context, t b24.Token) error {
	s.mu.Lock()
	s.saved = append(s.saved, t)
	s.mu.Unlock()
	return s.MemoryTokenStore.Save(ctx, t)
}

func (s *savesStore) takeSaved() []b24.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.saved
	s.saved = nil
	return out
}

// FuzzInstallMode: any body, as a form or JSON, delivered to a receiver in
// install mode (WithApp) whose store holds one installed portal, while the
// authorization server refuses the refresh token, fails passingly, answers
// garbage, or confirms every refresh token as the installed portal's (a
// user of that portal holds such a pair). A delivery never panics, answers a
// defined status, and nothing is stored or handled as an install unless the
// authorization server confirmed the pair and the body carried the stored
// application token the replacement rule asks for. The install handler
// never runs for a body that was not so confirmed.
func FuzzInstallMode(f *testing.F) {
	form := func(kv ...string) string {
		var b strings.Builder
		for i := 0; i+1 < len(kv); i += 2 {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(kv[i] + "=" + kv[i+1])
		}
		return b.String()
	}
	forged := form("event", "ONAPPINSTALL", "auth%5Bmember_id%5D", fuzzMember,
		"auth%5Bapplication_token%5D", "ffffffffffffffffffffffffffffffff",
		"auth%5Brefresh_token%5D", "deadbeefdeadbeefdeadbeefdeadbeef", "auth%5Baccess_token%5D", "cafe",
		"auth%5Bdomain%5D", "evil.example", "auth%5Bclient_endpoint%5D", "http%3A%2F%2Fevil.example%2Frest%2F")
	for mode := range 4 {
		f.Add(uint8(mode), false, forged)
		f.Add(uint8(mode), true, `{"event":"ONAPPINSTALL","auth":{"member_id":"`+fuzzMember+`","application_token":"ffffffffffffffffffffffffffffffff","refresh_token":"deadbeef","domain":"evil.example","client_endpoint":"http://evil.example/rest/"}}`)
	}
	f.Add(uint8(3), false, form("event", "ONAPPINSTALL", "auth%5Bmember_id%5D", "other", "auth%5Brefresh_token%5D", "x"))
	f.Add(uint8(3), false, form("event", "ONAPPUNINSTALL", "auth%5Bmember_id%5D", fuzzMember, "auth%5Bapplication_token%5D", "ffff"))
	f.Add(uint8(0), false, form("event", "ONCRMDEALUPDATE", "auth%5Bmember_id%5D", fuzzMember, "data%5BFIELDS%5D%5BID%5D", "1"))
	f.Add(uint8(3), true, `{"event":"onappinstall","auth":{"member_id":"`+fuzzMember+`","refresh_token":"r","application_token":""},"data":{"a":{"b":[1,2,{"c":"d"}]}}}`)

	var mode atomic.Int32
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch mode.Load() {
		case 0:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid grant"}`)
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"temporarily_unavailable"}`)
		case 2:
			fmt.Fprint(w, `{"access_token":`)
		default: // confirms any pair as the installed portal's
			fmt.Fprintf(w, `{"access_token":"a%d","refresh_token":"r%d","expires_in":3600,"member_id":%q,"client_endpoint":"https://installed.example/rest/","server_endpoint":"https://oauth.bitrix.info/rest/","domain":"oauth.bitrix.info","status":"L","scope":"crm"}`,
				time.Now().UnixNano(), time.Now().UnixNano(), fuzzMember)
		}
	}))
	f.Cleanup(auth.Close)
	store := &savesStore{MemoryTokenStore: b24.NewMemoryTokenStore()}
	installed := b24.Token{AccessToken: "stored-access", RefreshToken: "stored-refresh", Expires: time.Now().Add(time.Hour),
		MemberID: fuzzMember, Domain: "installed.example", ClientEndpoint: "https://installed.example/rest/",
		ServerEndpoint: "https://oauth.bitrix.info/rest/", ApplicationToken: fuzzAppToken}
	app, err := b24.NewApp(testClientID, testClientSecret, b24.WithAuthServer(auth.URL), b24.WithTokenStore(store),
		b24.WithAppLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	r := b24.NewReceiver("", b24.WithApp(app), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)), b24.WithMaxBodyBytes(64<<10))
	var handled atomic.Int32
	r.Handle("ONAPPINSTALL", func(context.Context, *b24.Event) error {
		handled.Add(1)
		return nil
	})
	r.HandleFallback(func(context.Context, *b24.Event) error { return nil })

	f.Fuzz(func(t *testing.T, m uint8, asJSON bool, body string) {
		m %= 4
		mode.Store(int32(m))
		ctx := context.Background()
		if err := store.MemoryTokenStore.Save(ctx, installed); err != nil {
			t.Fatal(err)
		}
		store.takeSaved()
		handled.Store(0)

		ct := "application/x-www-form-urlencoded"
		if asJSON {
			ct = "application/json"
		}
		req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 409, 413, 415, 500, 503:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		// What a genuine replacement needs: a confirmed pair and the stored
		// application token in the body. Without them the only save allowed
		// is the installed portal's own pair, renewed at the authorization
		// server when the replacement rule checks that it still works: its
		// application token and endpoint are the stored ones.
		carries := strings.Contains(body, fuzzAppToken)
		mayInstall := m == 3 && carries
		for _, s := range store.takeSaved() {
			if s.MemberID != fuzzMember || s.ClientEndpoint != installed.ClientEndpoint {
				t.Fatalf("mode %d: stored %s at %s from a forged body %q (status %d)", m, s.MemberID, s.ClientEndpoint, body, rec.Code)
			}
			if !mayInstall && s.ApplicationToken != fuzzAppToken {
				t.Fatalf("mode %d: a forged body %q replaced the application token (status %d)", m, body, rec.Code)
			}
		}
		if handled.Load() > 0 && !mayInstall {
			t.Fatalf("mode %d: the install handler ran for a forged body %q (status %d)", m, body, rec.Code)
		}
		if rec.Code == 200 && !carries {
			t.Fatalf("mode %d: a body without the portal's application token was accepted: %q", m, body)
		}
		st, err := store.Load(ctx, fuzzMember)
		if !carries && (err != nil || st.ApplicationToken != fuzzAppToken || st.ClientEndpoint != installed.ClientEndpoint) {
			t.Fatalf("mode %d: the installed portal changed (%v) after %q", m, err, body)
		}
	})
}
