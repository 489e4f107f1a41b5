package b24

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testAppToken     = "51856fefc120afa4b628cc82d3935cce"
	testAccessToken  = "s6p6eclrvim6da22ft9ch94ekreb52lv"
	testRefreshToken = "4s386p3q0tr8dy89xvmt96234v3dljg8"
)

// dealUpdateDoc is the ONCRMDEALUPDATE example of the docs, as the page draws it.
const dealUpdateDoc = `{
    "event": "ONCRMDEALUPDATE",
    "event_handler_id": "201",
    "data": {"FIELDS": {"ID": "759"}},
    "ts": "1736405807",
    "auth": {
        "access_token": "` + testAccessToken + `",
        "expires": "1736409407",
        "expires_in": "3600",
        "scope": "crm",
        "domain": "some-domain.bitrix24.com",
        "server_endpoint": "https://oauth.bitrix.info/rest/",
        "status": "F",
        "client_endpoint": "https://some-domain.bitrix24.com/rest/",
        "member_id": "a223c6b3710f85df22e9377d6c4f7553",
        "user_id": "1",
        "refresh_token": "` + testRefreshToken + `",
        "application_token": "` + testAppToken + `"
    }
}`

// formOf turns a JSON delivery into the form body the portal really sends.
func formOf(t testing.TB, js string) string {
	t.Helper()
	var tree map[string]any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		t.Fatal(err)
	}
	return EncodeForm(tree)
}

// syncBuffer collects log output from concurrent deliveries.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestReceiver(opts ...ReceiverOption) (*Receiver, *syncBuffer) {
	logs := &syncBuffer{}
	opts = append([]ReceiverOption{WithReceiverLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	return NewReceiver(testAppToken, opts...), logs
}

func deliver(h http.Handler, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const formType = "application/x-www-form-urlencoded"

func TestReceiverDispatchesFormAndJSON(t *testing.T) {
	for _, tc := range []struct{ name, ctype, body string }{
		{"form", formType, formOf(t, dealUpdateDoc)},
		{"json", "application/json", dealUpdateDoc},
		{"json without content type", "", dealUpdateDoc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestReceiver()
			var got *Event
			r.Handle("onCrmDealUpdate", func(ctx context.Context, e *Event) error { got = e; return nil })
			rec := deliver(r, tc.ctype, tc.body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got == nil {
				t.Fatal("handler not called")
			}
			if got.Name != "ONCRMDEALUPDATE" || got.HandlerID != "201" || !got.Time.Equal(time.Unix(1736405807, 0)) {
				t.Errorf("event = %q %q %v", got.Name, got.HandlerID, got.Time)
			}
			a := got.Auth
			if a.ApplicationToken != testAppToken || a.AccessToken != testAccessToken || a.RefreshToken != testRefreshToken ||
				a.ExpiresIn != 3600 || a.UserID != 1 || a.Domain != "some-domain.bitrix24.com" || a.Status != "F" ||
				a.MemberID != "a223c6b3710f85df22e9377d6c4f7553" || a.Scope != "crm" ||
				a.ClientEndpoint != "https://some-domain.bitrix24.com/rest/" || a.ServerEndpoint != "https://oauth.bitrix.info/rest/" ||
				!a.Expires.Equal(time.Unix(1736409407, 0)) {
				b, _ := a.MarshalJSON()
				t.Errorf("auth = %s", b)
			}
			var data struct {
				Fields struct {
					ID Int `json:"ID"`
				} `json:"FIELDS"`
			}
			if err := json.Unmarshal(got.Data, &data); err != nil || data.Fields.ID != 759 {
				t.Errorf("Data %s → %v, %v", got.Data, data, err)
			}
			// A typed event struct decodes from the payload, strings and all.
			var typed struct {
				Event string `json:"event"`
				TS    Int    `json:"ts"`
				Data  struct {
					Fields struct {
						ID Int `json:"ID"`
					} `json:"FIELDS"`
				} `json:"data"`
			}
			if err := got.Decode(&typed); err != nil || typed.Data.Fields.ID != 759 || typed.TS != 1736405807 {
				t.Errorf("Decode: %+v, %v", typed, err)
			}
		})
	}
}

func TestReceiverFormPayloadKeepsStringsAndLists(t *testing.T) {
	r, _ := newTestReceiver()
	var got *Event
	r.HandleFallback(func(ctx context.Context, e *Event) error { got = e; return nil })
	body := "event=ONTASKADD&data[FIELDS_AFTER][ID]=5&data[TAGS][]=a%26b&data[TAGS][]=%3Cc%3E&auth[application_token]=" + testAppToken
	if rec := deliver(r, formType, body); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	want := `{"auth":{"application_token":"` + testAppToken + `"},"data":{"FIELDS_AFTER":{"ID":"5"},"TAGS":["a&b","<c>"]},"event":"ONTASKADD"}`
	if string(got.Payload) != want {
		t.Errorf("Payload\n got %s\nwant %s", got.Payload, want)
	}
}

func TestReceiverRejects(t *testing.T) {
	valid := formOf(t, dealUpdateDoc)
	wrong := strings.ReplaceAll(valid, testAppToken, "0"+testAppToken[1:])
	tests := []struct {
		name   string
		method string
		ctype  string
		body   string
		opts   []ReceiverOption
		status int
		log    string
	}{
		{"wrong token", "POST", formType, wrong, nil, 401, "application token does not match"},
		{"wrong token json", "POST", "application/json", strings.ReplaceAll(dealUpdateDoc, testAppToken, "nope"), nil, 401, "does not match"},
		{"missing token", "POST", formType, "event=ONCRMDEALUPDATE&data[FIELDS][ID]=1", nil, 401, "carries no application token"},
		{"auth empty list", "POST", "application/json", `{"event":"ONCRMDEALUPDATE","auth":[]}`, nil, 401, "carries no application token"},
		{"token not a string", "POST", "application/json", `{"event":"X","auth":{"application_token":{"a":1}}}`, nil, 401, "carries no application token"},
		{"malformed brackets", "POST", formType, "event=X&data[FIELDS=1&auth[application_token]=" + testAppToken, nil, 400, `key \"data[FIELDS\"`},
		{"malformed json", "POST", "application/json", `{"event":`, nil, 400, "malformed delivery"},
		{"json not object", "POST", "application/json", `[1,2]`, nil, 400, "malformed delivery"},
		{"no event name", "POST", formType, "data[x]=1&auth[application_token]=" + testAppToken, nil, 400, "no event name"},
		{"bad expires_in", "POST", formType, "event=X&auth[expires_in]=soon&auth[application_token]=" + testAppToken, nil, 400, `key \"expires_in\"`},
		{"too large", "POST", formType, valid, []ReceiverOption{WithMaxBodyBytes(100)}, 413, "exceeds the 100 byte limit"},
		{"get", "GET", "", "", nil, 405, "method GET not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, logs := newTestReceiver(tc.opts...)
			called := false
			r.Handle("ONCRMDEALUPDATE", func(context.Context, *Event) error { called = true; return nil })
			r.HandleFallback(func(context.Context, *Event) error { called = true; return nil })
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if called {
				t.Error("handler called for a rejected delivery")
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %q does not contain %q", logs, tc.log)
			}
			if tc.status == 405 && rec.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestReceiverTooLargeWithoutContentLength(t *testing.T) {
	r, _ := newTestReceiver(WithMaxBodyBytes(64))
	req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(strings.Repeat("a=1&", 100))))
	req.ContentLength = -1 // chunked: only the reader's bound can catch it
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
}

func TestReceiverWithoutConfiguredTokenRefusesAll(t *testing.T) {
	r := NewReceiver("", WithReceiverLogger(slog.New(slog.DiscardHandler)))
	r.HandleFallback(func(context.Context, *Event) error { t.Error("handler called"); return nil })
	if rec := deliver(r, "application/json", `{"event":"X","auth":{"application_token":""}}`); rec.Code != 401 {
		t.Errorf("status %d, want 401", rec.Code)
	}
}

func TestReceiverUnknownEventAndFallback(t *testing.T) {
	r, logs := newTestReceiver()
	body := formOf(t, strings.Replace(dealUpdateDoc, "ONCRMDEALUPDATE", "ONSOMETHINGNEW", 1))
	if rec := deliver(r, formType, body); rec.Code != 200 {
		t.Errorf("no handler: status %d, want 200", rec.Code)
	}
	if !strings.Contains(logs.String(), "no handler for event") || !strings.Contains(logs.String(), "ONSOMETHINGNEW") {
		t.Errorf("log = %q", logs)
	}
	var got string
	r.HandleFallback(func(_ context.Context, e *Event) error { got = e.Name; return nil })
	if rec := deliver(r, formType, body); rec.Code != 200 || got != "ONSOMETHINGNEW" {
		t.Errorf("fallback: status %d, got %q", rec.Code, got)
	}
	// A specific handler beats the fallback; removing it restores the fallback.
	r.Handle("onSomethingNew", func(context.Context, *Event) error { got = "specific"; return nil })
	deliver(r, formType, body)
	if got != "specific" {
		t.Errorf("got %q, want the specific handler", got)
	}
	r.Handle("ONSOMETHINGNEW", nil)
	deliver(r, formType, body)
	if got != "ONSOMETHINGNEW" {
		t.Errorf("got %q after removal, want the fallback", got)
	}
}

func TestReceiverHandlerFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(context.Context, *Event) error
		log  string
	}{
		{"error", func(_ context.Context, e *Event) error {
			// A careless handler quoting the event: the tokens must still not reach the log.
			return fmt.Errorf("cannot refresh with %s / %s for %s", e.Auth.RefreshToken, e.Auth.AccessToken, e.Auth.ApplicationToken)
		}, "cannot refresh with [redacted] / [redacted] for [redacted]"},
		{"panic", func(_ context.Context, e *Event) error {
			panic("boom " + e.Auth.ApplicationToken)
		}, "panic: boom [redacted]"},
		{"nil map panic", func(context.Context, *Event) error {
			var m map[string]int
			m["x"] = 1
			return nil
		}, "assignment to entry in nil map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, logs := newTestReceiver()
			r.Handle("ONCRMDEALUPDATE", tc.h)
			rec := deliver(r, formType, formOf(t, dealUpdateDoc))
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", rec.Code)
			}
			if !strings.Contains(logs.String(), tc.log) || !strings.Contains(logs.String(), "event handler failed") {
				t.Errorf("log %q does not contain %q", logs, tc.log)
			}
			assertNoSecrets(t, logs.String()+rec.Body.String())
		})
	}
}

func TestReceiverHandlerTimeout(t *testing.T) {
	r, _ := newTestReceiver(WithHandlerTimeout(20 * time.Millisecond))
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, _ *Event) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		<-ctx.Done()
		return ctx.Err()
	})
	rec := deliver(r, formType, formOf(t, dealUpdateDoc))
	if rec.Code != 500 {
		t.Errorf("status %d, want 500 after the timeout", rec.Code)
	}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testAppToken, testAccessToken, testRefreshToken} {
		if strings.Contains(s, secret) {
			t.Errorf("a token appears in %q", s)
		}
	}
}

// Every path, logged at debug level: no token in any line.
func TestReceiverNeverLogsTokens(t *testing.T) {
	r, logs := newTestReceiver(WithMaxBodyBytes(2000))
	r.Handle("ONCRMDEALUPDATE", func(_ context.Context, e *Event) error { return errors.New(e.Auth.ApplicationToken) })
	valid := formOf(t, dealUpdateDoc)
	bodies := []string{
		valid,
		strings.ReplaceAll(valid, testAppToken, testAppToken+"x"),
		"auth[application_token]=" + testAppToken + "&auth[x=1",
		"auth[" + testAppToken + "=1",
		"auth[application_token]=" + testAppToken + "&ts=x&event=ONX&auth[expires_in]=" + testAccessToken,
		strings.Repeat("a", 3000) + testAppToken,
		dealUpdateDoc,
	}
	for _, b := range bodies {
		deliver(r, "", b)
	}
	if logs.String() == "" {
		t.Fatal("nothing logged")
	}
	assertNoSecrets(t, logs.String())
}

func TestEventAuthHidesTokens(t *testing.T) {
	var a EventAuth
	if err := json.Unmarshal([]byte(`{"application_token":"`+testAppToken+`","access_token":"`+testAccessToken+`","refresh_token":"`+testRefreshToken+`","domain":"d.bitrix24.com","user_id":3}`), &a); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "auth", a)
	ev := &Event{Name: "ONX", Auth: a, Payload: json.RawMessage(`{"auth":{"application_token":"` + testAppToken + `"}}`)}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "event", ev)
	out := fmt.Sprintf("%v %+v %#v %s", a, a, a, a) + a.String() + logs.String() + fmt.Sprintf("%v %+v %#v %s %v", ev, ev, ev, ev, *ev)
	assertNoSecrets(t, out)
	if !strings.Contains(out, "d.bitrix24.com") || !strings.Contains(out, "UserID:3") {
		t.Errorf("non-secret fields missing: %s", out)
	}
	// JSON keeps them: the caller decoded them on purpose.
	b, _ := json.Marshal(a)
	if !bytes.Contains(b, []byte(testAccessToken)) {
		t.Errorf("MarshalJSON lost the token: %s", b)
	}
	if err := json.Unmarshal([]byte(`[]`), &a); err != nil || a.Domain != "" {
		t.Errorf("empty auth: %v %v", a, err)
	}
}

func TestReceiverConcurrent(t *testing.T) {
	r, _ := newTestReceiver()
	var calls atomic.Int64
	h := func(context.Context, *Event) error { calls.Add(1); return nil }
	r.Handle("ONCRMDEALUPDATE", h)
	body := formOf(t, dealUpdateDoc)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // re-register while deliveries run
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Handle(fmt.Sprintf("ONOTHER%d", i%10), h)
			r.Handle("ONCRMDEALUPDATE", h)
			r.HandleFallback(h)
		}
	}()
	const workers, each = 8, 50
	var bad atomic.Int64
	var dw sync.WaitGroup
	for w := 0; w < workers; w++ {
		dw.Add(1)
		go func() {
			defer dw.Done()
			for i := 0; i < each; i++ {
				if deliver(r, formType, body).Code != 200 {
					bad.Add(1)
				}
			}
		}()
	}
	dw.Wait()
	close(stop)
	wg.Wait()
	if bad.Load() != 0 || calls.Load() != workers*each {
		t.Errorf("%d failed, %d calls, want 0 and %d", bad.Load(), calls.Load(), workers*each)
	}
}

// End to end through a real server, as the portal would post.
func TestReceiverOverHTTP(t *testing.T) {
	r, _ := newTestReceiver()
	got := make(chan string, 1)
	r.Handle("ONCRMDEALUPDATE", func(_ context.Context, e *Event) error {
		var p struct {
			Data struct {
				Fields struct {
					ID Int `json:"ID"`
				} `json:"FIELDS"`
			} `json:"data"`
		}
		if err := e.Decode(&p); err != nil {
			return err
		}
		got <- p.Data.Fields.ID.String()
		return nil
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Post(srv.URL, formType, strings.NewReader(formOf(t, dealUpdateDoc)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || <-got != "759" {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// typedDealUpdate is shaped like a generated event struct.
type typedDealUpdate struct {
	Event     string `json:"event"`
	HandlerID Int    `json:"event_handler_id"`
	TS        Int    `json:"ts"`
	Data      struct {
		Fields struct {
			ID Int `json:"ID"`
		} `json:"FIELDS"`
	} `json:"data"`
	Auth EventAuth `json:"auth"`
}

// BenchmarkDecodeFormEvent: a form-encoded ONCRMDEALUPDATE with its auth block
// decoded into an Event and then into a typed struct through the payload's
// JSON: the raw-handler route (events/s = 1e9 / ns/op).
func BenchmarkDecodeFormEvent(b *testing.B) {
	body := []byte(formOf(b, dealUpdateDoc))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		loc, err := locateToken(false, body)
		if err != nil {
			b.Fatal(err)
		}
		d := &delivery{loc: loc, body: body, token: string(loc.token)}
		ev, err := d.event()
		if err != nil {
			b.Fatal(err)
		}
		var typed typedDealUpdate
		if err := ev.Decode(&typed); err != nil || typed.Data.Fields.ID != 759 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReceiverServeHTTP: the whole handler path (body read, token check,
// dispatch, typed decode) without the network.
func BenchmarkReceiverServeHTTP(b *testing.B) {
	r := NewReceiver(testAppToken, WithReceiverLogger(slog.New(slog.DiscardHandler)))
	r.Handle("ONCRMDEALUPDATE", func(_ context.Context, e *Event) error {
		var typed typedDealUpdate
		return e.Decode(&typed)
	})
	body := formOf(b, dealUpdateDoc)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// FuzzFormDeliveryJSON: the hand-written form-to-JSON writer must say exactly
// what encoding/json says, and the data/auth spans must be those values.
func FuzzFormDeliveryJSON(f *testing.F) {
	f.Add("event=X&data[a][]=1&data[a][]=%22q%22&auth[application_token]=t&x=%3Cb%3E%26")
	f.Add("a=%E2%80%A8%FF%00%1F%7F&data=1")
	f.Add(formOf(f, dealUpdateDoc))
	f.Fuzz(func(t *testing.T, body string) {
		tree, err := DecodeForm(body)
		if err != nil {
			return
		}
		all, data, auth := formTreeJSON(tree)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(tree); err != nil {
			t.Fatal(err)
		}
		if string(all) != strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("formTreeJSON(%q)\n got %s\nwant %s", body, all, want.String())
		}
		for key, span := range map[string][]byte{"data": data, "auth": auth} {
			v, ok := tree[key]
			if !ok {
				if span != nil {
					t.Fatalf("%s span %q for an absent key", key, span)
				}
				continue
			}
			b, _ := json.Marshal(v)
			var x, y any
			_ = json.Unmarshal(b, &x)
			if err := json.Unmarshal(span, &y); err != nil || fmt.Sprint(x) != fmt.Sprint(y) {
				t.Fatalf("%s span %q, want %s (%v)", key, span, b, err)
			}
		}
	})
}

// FuzzReceiver: any body, any of the usual content types: a defined status,
// never a panic, the handler only after the right token.
func FuzzReceiver(f *testing.F) {
	f.Add(0, formOf(f, dealUpdateDoc))
	f.Add(1, dealUpdateDoc)
	f.Add(0, "event=X&auth[application_token]="+testAppToken+"&auth[expires]=%00")
	f.Add(2, `{"event":["x"],"auth":{"application_token":"`+testAppToken+`"},"ts":{}}`)
	types := []string{formType, "application/json", "", "text/plain; charset=utf-8"}
	r := NewReceiver(testAppToken, WithReceiverLogger(slog.New(slog.DiscardHandler)), WithMaxBodyBytes(4096))
	r.HandleFallback(func(_ context.Context, e *Event) error {
		if e.Auth.ApplicationToken != testAppToken {
			return errors.New("dispatched without the token")
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, ct int, body string) {
		rec := deliver(r, types[uint(ct)%uint(len(types))], body)
		switch rec.Code {
		case 200, 400, 401, 413:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
