package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/events"
)

const formType = "application/x-www-form-urlencoded"

// dealUpdate is an ONCRMDEALUPDATE delivery as the portal sends it, with
// the given application token.
func dealUpdate(token string, dealID int) string {
	return b24.EncodeForm(map[string]any{
		"event":            "ONCRMDEALUPDATE",
		"event_handler_id": "201",
		"data":             map[string]any{"FIELDS": map[string]any{"ID": fmt.Sprint(dealID)}},
		"ts":               "1736405807",
		"auth": map[string]any{
			"access_token":      "s6p6eclrvim6da22ft9ch94ekreb52lv",
			"expires_in":        "3600",
			"scope":             "crm",
			"domain":            "some-domain.bitrix24.com",
			"server_endpoint":   "https://oauth.bitrix.info/rest/",
			"status":            "F",
			"client_endpoint":   "https://some-domain.bitrix24.com/rest/",
			"member_id":         "a223c6b3710f85df22e9377d6c4f7553",
			"refresh_token":     "4s386p3q0tr8dy89xvmt96234v3dljg8",
			"application_token": token,
		},
	})
}

// noSecrets fails if a log holds the application token or the OAuth tokens
// of the delivery.
func noSecrets(t *testing.T, log string) {
	t.Helper()
	for _, s := range []string{testToken, "wr0ngT0kenValue99", "s6p6eclrvim6da22ft9ch94ekreb52lv", "4s386p3q0tr8dy89xvmt96234v3dljg8"} {
		if strings.Contains(log, s) {
			t.Errorf("a log line holds a token (%s…):\n%s", s[:4], log)
		}
	}
}

func TestReceiverDecodesTypedDelivery(t *testing.T) {
	var logs strings.Builder
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	var got *events.OnCrmDealUpdate
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error {
		got = e
		return nil
	})
	if code := post(r, formType, dealUpdate(testToken, 759)); code != http.StatusOK {
		t.Fatalf("status %d, want 200; log:\n%s", code, logs.String())
	}
	if got == nil {
		t.Fatal("the typed handler was not called")
	}
	if got.Data.Fields.ID != 759 || got.EventHandlerID != 201 || got.Event != "ONCRMDEALUPDATE" {
		t.Errorf("decoded ID %d, handler %d, event %q; want 759, 201, ONCRMDEALUPDATE", got.Data.Fields.ID, got.EventHandlerID, got.Event)
	}
	if got.Ts.Unix() != 1736405807 {
		t.Errorf("ts decoded as %v, want Unix 1736405807", got.Ts)
	}
	if got.Auth.Domain != "some-domain.bitrix24.com" || got.Auth.ExpiresIn != 3600 || got.Auth.ApplicationToken != testToken {
		t.Errorf("auth decoded as %v", got.Auth)
	}
	if got.EventName() != events.NameOnCrmDealUpdate || events.NameOnCrmDealUpdate != "ONCRMDEALUPDATE" {
		t.Errorf("EventName() = %q, NameOnCrmDealUpdate = %q", got.EventName(), events.NameOnCrmDealUpdate)
	}
	if s := fmt.Sprintf("%v %+v", got.Auth, got); strings.Contains(s, "s6p6eclrvim6da22ft9ch94ekreb52lv") || strings.Contains(s, testToken) {
		t.Errorf("printing the event shows a token: %s", s)
	}
	noSecrets(t, logs.String())
}

// TestReceiverStatuses runs each kind of bad delivery through the typed
// receiver: the status the portal gets, no handler called, no token logged.
func TestReceiverStatuses(t *testing.T) {
	big := dealUpdate(testToken, 1) + "&data[FIELDS][PAD]=" + strings.Repeat("x", 4096)
	jsonBody := `{"event":"ONCRMDEALUPDATE","data":{"FIELDS":{"ID":"42"}},"ts":"1736405807","auth":{"application_token":"` + testToken + `","domain":"d.bitrix24.com"}}`
	cases := []struct {
		name, ctype, body string
		status            int
		typed, fallback   int // handler calls expected
	}{
		{"right token", formType, dealUpdate(testToken, 7), http.StatusOK, 1, 0},
		{"wrong token", formType, dealUpdate("wr0ngT0kenValue99", 7), http.StatusUnauthorized, 0, 0},
		{"missing token", formType, strings.Replace(dealUpdate(testToken, 7), "auth%5Bapplication_token%5D="+testToken, "auth%5Bx%5D=1", 1), http.StatusUnauthorized, 0, 0},
		{"no auth at all", formType, "event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=7", http.StatusUnauthorized, 0, 0},
		{"oversized", formType, big, http.StatusRequestEntityTooLarge, 0, 0},
		{"malformed brackets", formType, "event=ONCRMDEALUPDATE&data%5BFIELDS%5BID%5D=7&auth%5Bapplication_token%5D=" + testToken, http.StatusBadRequest, 0, 0},
		{"JSON body", "application/json", jsonBody, http.StatusOK, 1, 0},
		{"unknown event", formType, strings.Replace(dealUpdate(testToken, 7), "ONCRMDEALUPDATE", "ONSOMETHINGNEW", 1), http.StatusOK, 0, 1},
		// Tolerant decoding: a value that does not fit its field never loses
		// the event; it stays raw in Extra (TestReceiverKeepsMisfitRaw).
		{"payload that does not fit its type", formType, strings.Replace(dealUpdate(testToken, 7), "%5BID%5D=7", "%5BID%5D=seven", 1), http.StatusOK, 1, 0},
		{"two tokens", formType, dealUpdate(testToken, 7) + "&auth%5Bapplication_token%5D=" + testToken, http.StatusBadRequest, 0, 0},
		{"second auth block in JSON", "application/json", strings.TrimSuffix(jsonBody, "}") + `,"AUTH":{"application_token":"other"}}`, http.StatusBadRequest, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs strings.Builder
			r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)), b24.WithMaxBodyBytes(2048))
			var typed, fallback int
			var fallbackEvent *b24.Event
			r.OnCrmDealUpdate(func(context.Context, *events.OnCrmDealUpdate) error { typed++; return nil })
			r.Fallback(func(_ context.Context, e *b24.Event) error { fallback++; fallbackEvent = e; return nil })
			if code := post(r, c.ctype, c.body); code != c.status {
				t.Errorf("status %d, want %d; log:\n%s", code, c.status, logs.String())
			}
			if typed != c.typed || fallback != c.fallback {
				t.Errorf("typed handler called %d times, fallback %d; want %d and %d", typed, fallback, c.typed, c.fallback)
			}
			if fallbackEvent != nil && (fallbackEvent.Name != "ONSOMETHINGNEW" || !strings.Contains(string(fallbackEvent.Payload), `"ID":"7"`)) {
				t.Errorf("fallback got %s with payload %s; want the whole raw delivery", fallbackEvent.Name, fallbackEvent.Payload)
			}
			if c.status != http.StatusOK && !strings.Contains(logs.String(), "level=") {
				t.Errorf("a %d answer left no log line", c.status)
			}
			noSecrets(t, logs.String())
		})
	}
}

func TestReceiverHandlerError(t *testing.T) {
	var logs strings.Builder
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error {
		// A careless handler quotes the token in its error.
		return errors.New("cannot sync deal with token " + e.Auth.ApplicationToken + " and " + e.Auth.AccessToken)
	})
	if code := post(r, formType, dealUpdate(testToken, 5)); code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", code)
	}
	if !strings.Contains(logs.String(), "ONCRMDEALUPDATE") || !strings.Contains(logs.String(), "cannot sync deal") {
		t.Errorf("the failure is not logged with its event and error:\n%s", logs.String())
	}
	noSecrets(t, logs.String())

	// A panicking handler is a 500 too, not a crashed server.
	logs.Reset()
	r.OnCrmDealUpdate(func(context.Context, *events.OnCrmDealUpdate) error { panic("boom") })
	if code := post(r, formType, dealUpdate(testToken, 5)); code != http.StatusInternalServerError {
		t.Errorf("panicking handler: status %d, want 500", code)
	}
	noSecrets(t, logs.String())

	// nil removes the registration: the delivery goes to the fallback.
	var fell atomic.Bool
	r.OnCrmDealUpdate(nil)
	r.Fallback(func(context.Context, *b24.Event) error { fell.Store(true); return nil })
	if code := post(r, formType, dealUpdate(testToken, 5)); code != http.StatusOK || !fell.Load() {
		t.Errorf("after OnCrmDealUpdate(nil): status %d, fallback called %v; want 200 and true", code, fell.Load())
	}
}

// TestReceiverConcurrent delivers many events at once while handlers are
// registered; run with -race.
func TestReceiverConcurrent(t *testing.T) {
	var logs strings.Builder
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	var mu sync.Mutex
	seen := map[int64]bool{}
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error {
		mu.Lock()
		seen[int64(e.Data.Fields.ID)] = true
		mu.Unlock()
		return nil
	})
	const n = 200
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range n {
		wg.Go(func() {
			token := testToken
			if i%10 == 9 {
				token = "wr0ngT0kenValue99"
			}
			code := post(r, formType, dealUpdate(token, i+1))
			if (token == testToken) != (code == http.StatusOK) {
				bad.Add(1)
			}
		})
		if i == n/2 {
			// Registering while deliveries run must be safe.
			wg.Go(func() { r.OnCrmDealAdd(func(context.Context, *events.OnCrmDealAdd) error { return nil }) })
		}
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d deliveries got the wrong status", bad.Load())
	}
	if len(seen) != n-n/10 {
		t.Errorf("%d distinct deals handled, want %d", len(seen), n-n/10)
	}
	noSecrets(t, logs.String())
}

// A value that does not fit its field does not lose the event: the field is
// zero and the value stays raw in Extra, as everywhere in the runtime.
func TestReceiverKeepsMisfitRaw(t *testing.T) {
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(new(strings.Builder))))
	var got *events.OnCrmDealUpdate
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error { got = e; return nil })
	body := strings.Replace(dealUpdate(testToken, 7), "%5BID%5D=7", "%5BID%5D=seven", 1)
	if code := post(r, formType, body); code != http.StatusOK || got == nil {
		t.Fatalf("status %d, handler called %v", code, got != nil)
	}
	if got.Data.Fields.ID != 0 || string(got.Data.Fields.Extra["ID"]) != `"seven"` {
		t.Errorf("ID %d, Extra %v; want 0 and the raw \"seven\"", got.Data.Fields.ID, got.Data.Fields.Extra)
	}
	if got.Auth.ApplicationToken != testToken || got.Auth.Domain != "some-domain.bitrix24.com" {
		t.Errorf("auth %v", got.Auth)
	}
}

// The typed handler's Auth is the block whose token was checked, in a JSON
// body spelled with another case too.
func TestReceiverTypedAuthIsVerified(t *testing.T) {
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(new(strings.Builder))))
	var got *events.OnCrmDealUpdate
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error { got = e; return nil })
	body := `{"event":"ONCRMDEALUPDATE","data":{"FIELDS":{"ID":"42"}},"AUTH":{"application_token":"` + testToken + `","domain":"d.bitrix24.com"}}`
	if code := post(r, "application/json", body); code != http.StatusOK || got == nil {
		t.Fatalf("status %d", code)
	}
	if got.Auth.ApplicationToken != testToken || got.Auth.Domain != "d.bitrix24.com" || got.Data.Fields.ID != 42 {
		t.Errorf("decoded %v %d", got.Auth, got.Data.Fields.ID)
	}
}

// A token too short to be masked is a configuration error, reported by Err
// and answered 500; the empty token keeps refusing every delivery.
func TestReceiverShortTokenAndServer(t *testing.T) {
	r := events.NewReceiver("abc", b24.WithReceiverLogger(newLogger(new(strings.Builder))))
	if r.Err() == nil || strings.Contains(r.Err().Error(), "abc") {
		t.Errorf("Err() = %v", r.Err())
	}
	if code := post(r, formType, dealUpdate("abc", 1)); code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", code)
	}
	if events.NewReceiver(testToken).Err() != nil {
		t.Error("a good token reported as an error")
	}
	srv := b24.NewEventServer(":0", events.NewReceiver(testToken))
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.IdleTimeout == 0 || srv.WriteTimeout == 0 {
		t.Errorf("NewEventServer without timeouts: %+v", srv)
	}
}
