package b24

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// genDealUpdate is shaped like a generated event struct: value types,
// Extra catch-alls with DecodeObject, nested structs, a list, raw JSON.
type genDealUpdate struct {
	Event          String            `json:"event"`
	EventHandlerID Int               `json:"event_handler_id"`
	Data           genDealUpdateData `json:"data"`
	Ts             Time              `json:"ts"`
	Auth           EventAuth         `json:"auth"`
	Extra          Fields            `json:"-"`
}

func (v *genDealUpdate) UnmarshalJSON(b []byte) error {
	type plain genDealUpdate
	return DecodeObject(b, (*plain)(v), &v.Extra)
}

type genDealUpdateData struct {
	Fields genDealUpdateFields `json:"FIELDS"`
	Extra  Fields              `json:"-"`
}

func (v *genDealUpdateData) UnmarshalJSON(b []byte) error {
	type plain genDealUpdateData
	return DecodeObject(b, (*plain)(v), &v.Extra)
}

type genKind string

type genDealUpdateFields struct {
	ID          Int             `json:"ID"`
	Title       String          `json:"TITLE"`
	Opportunity Number          `json:"OPPORTUNITY"`
	Opened      Bool            `json:"OPENED"`
	Closed      Date            `json:"CLOSEDATE"`
	Kind        genKind         `json:"KIND"`
	Plain       string          `json:"PLAIN"`
	Tags        []String        `json:"TAGS"`
	Raw         json.RawMessage `json:"RAW"`
	Maybe       Opt[Int]        `json:"MAYBE"`
	Extra       Fields          `json:"-"`
}

func (v *genDealUpdateFields) UnmarshalJSON(b []byte) error {
	type plain genDealUpdateFields
	return DecodeObject(b, (*plain)(v), &v.Extra)
}

func quietReceiver(token string, opts ...ReceiverOption) *Receiver {
	return NewReceiver(token, append([]ReceiverOption{WithReceiverLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// pathologicalForm is about 0.99 MB: 9,998 keys, each 32 levels deep, and
// a wrong token.
func pathologicalForm() []byte {
	var b bytes.Buffer
	b.WriteString("event=ONCRMDEALUPDATE&auth%5Bapplication_token%5D=wrongwrongwrongwrongwrongwrong00")
	deep := strings.Repeat("%5Bx%5D", 32)
	for i := 0; b.Len() < 990_000 && i < 9_998; i++ {
		fmt.Fprintf(&b, "&k%d%s=%d", i, deep, i)
	}
	return b.Bytes()
}

// pathologicalJSON nests deeply and holds many keys, with a wrong token.
func pathologicalJSON() []byte {
	var b bytes.Buffer
	b.WriteString(`{"auth":{"application_token":"wrongwrongwrongwrongwrongwrong00"},"data":`)
	b.WriteString(strings.Repeat(`[{"a":`, 40_000))
	b.WriteString("1")
	b.WriteString(strings.Repeat(`}]`, 40_000))
	for i := 0; b.Len() < 990_000; i++ {
		fmt.Fprintf(&b, `,"k%d":{"v":[1,"x",{"y":null}]}`, i)
	}
	b.WriteString("}")
	return b.Bytes()
}

// allocatedPerRequest measures the bytes ServeHTTP allocates per request,
// the request itself built beforehand.
func allocatedPerRequest(h http.Handler, ctype string, body []byte, chunked bool) uint64 {
	const runs = 4
	reqs := make([]*http.Request, runs)
	recs := make([]*httptest.ResponseRecorder, runs)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		reqs[i].Header.Set("Content-Type", ctype)
		if chunked {
			reqs[i].ContentLength = -1 // no length to size the buffer by
		}
		recs[i] = httptest.NewRecorder()
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))) // warm up
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range reqs {
		h.ServeHTTP(recs[i], reqs[i])
	}
	runtime.ReadMemStats(&after)
	for _, rec := range recs {
		if rec.Code != http.StatusUnauthorized {
			panic(fmt.Sprintf("status %d, want 401", rec.Code))
		}
	}
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

// An unauthenticated request costs at most 4× its body in allocations,
// whatever its shape: the token is found without building anything.
func TestReceiverUnauthenticatedCostIsBounded(t *testing.T) {
	r := quietReceiver(testAppToken)
	r.Handle("ONCRMDEALUPDATE", func(context.Context, *Event) error { t.Error("handler called"); return nil })
	HandleTyped(r, "ONCRMDEALUPDATE2", func(context.Context, *genDealUpdate) error { return nil })
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		chunked     bool
	}{
		{"form 9998 keys 32 deep", formType, pathologicalForm(), false},
		{"form 9998 keys 32 deep, chunked", formType, pathologicalForm(), true},
		{"json deep and wide", "application/json", pathologicalJSON(), false},
		{"form one huge key", formType, []byte("auth%5Bapplication_token%5D=nope&" + strings.Repeat("%5B", 300_000) + "=1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := allocatedPerRequest(r, tc.ctype, tc.body, tc.chunked)
			t.Logf("body %d bytes, allocated %d bytes per request (%.2f×)", len(tc.body), got, float64(got)/float64(len(tc.body)))
			if limit := 4 * uint64(len(tc.body)); got > limit {
				t.Errorf("allocated %d bytes for a %d byte unauthenticated body, want at most %d", got, len(tc.body), limit)
			}
		})
	}
}

// The token is checked before the body is decoded: a malformed body with a
// wrong token is a 401, never a decoding error.
func TestReceiverChecksTokenBeforeDecoding(t *testing.T) {
	r, logs := newTestReceiver()
	r.HandleFallback(func(context.Context, *Event) error { t.Error("handler called"); return nil })
	body := "event=X&data[FIELDS=1&auth[application_token]=wrongtoken"
	if rec := deliver(r, formType, body); rec.Code != 401 {
		t.Errorf("status %d, want 401", rec.Code)
	}
	if strings.Contains(logs.String(), "FIELDS") {
		t.Errorf("the body was decoded before the token was checked: %s", logs)
	}
}

// dealUpdateForm is ONCRMDEALUPDATE as the portal posts it, with the
// fields the typed struct knows and some it does not.
func dealUpdateForm(tb testing.TB) string {
	return formOf(tb, strings.Replace(dealUpdateDoc, `{"ID": "759"}`,
		`{"ID": "759", "TITLE": "Big deal", "OPPORTUNITY": "1000.50", "OPENED": "Y", "CLOSEDATE": "2025-01-31T00:00:00+03:00",
		  "KIND": "SALE", "PLAIN": "p", "TAGS": ["a", "b&c"], "RAW": {"x": ["1"]}, "MAYBE": "7", "UF_CRM_1": "custom", "UF_LIST": ["1", "2"]},
		 "NOT_DOCUMENTED": "z"`, 1))
}

// treeDecode is the reference: form tree, JSON, encoding/json.
func treeDecode(body string, v any) error {
	loc, err := locateToken(false, []byte(body))
	if err != nil {
		return err
	}
	d := &delivery{loc: loc, body: []byte(body), token: string(loc.token)}
	ev, err := d.event()
	if err != nil {
		return err
	}
	return ev.Decode(v)
}

func fastDecode(body string, v any) (slow bool, err error) {
	loc, err := locateToken(false, []byte(body))
	if err != nil {
		return false, err
	}
	rv := reflect.ValueOf(v).Elem()
	var a EventAuth
	err = decodeFormInto(body, rv, planFor(rv.Type()), &a)
	if errors.Is(err, errSlowRoute) {
		return true, err
	}
	a.ApplicationToken = string(loc.token)
	rv.FieldByName("Auth").Set(reflect.ValueOf(a))
	return false, err
}

func TestTypedFormDecodeMatchesTreeRoute(t *testing.T) {
	bodies := []string{
		dealUpdateForm(t),
		formOf(t, dealUpdateDoc),
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&data[FIELDS][ID]=2&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][TAGS][]=a&data[FIELDS][TAGS][]=b&data[FIELDS][TAGS][5]=c&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][RAW]=1&data[FIELDS][RAW][a]=2&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][RAW][a]=2&data[FIELDS][RAW]=1&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][TITLE][x]=1&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][UF][a][b]=%FF%00&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][TITLE]=%FF&data[FIELDS][KIND]=%FE&auth[application_token]=" + testAppToken,
		"event=X&data[fields][ID]=3&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS]=&auth[application_token]=" + testAppToken,
		"event=X&data[FIELDS][ID]=abc&data[FIELDS][ID]=4&auth[application_token]=" + testAppToken,
		"event=X&auth[user_id]=5&auth[expires]=1736409407&auth[application_token]=" + testAppToken,
	}
	fastRoute := 0
	for _, body := range bodies {
		var fast, slow genDealUpdate
		slowRoute, ferr := fastDecode(body, &fast)
		serr := treeDecode(body, &slow)
		if slowRoute {
			continue // the receiver uses the tree route: nothing to compare
		}
		fastRoute++
		if (ferr != nil) != (serr != nil) {
			t.Errorf("%s\n one pass: %v\n tree: %v", body, ferr, serr)
			continue
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s\n one pass: %+v\n     tree: %+v", body, fast.Data, slow.Data)
		}
	}
	if fastRoute < 8 {
		t.Errorf("only %d of %d bodies took the one-pass route", fastRoute, len(bodies))
	}
}

// The typed route through ServeHTTP: the verified auth block, the values,
// the unknown keys in Extra, and far fewer allocations than the tree route.
func TestReceiverTypedOnePass(t *testing.T) {
	r := quietReceiver(testAppToken)
	var got *genDealUpdate
	HandleTyped(r, "ONCRMDEALUPDATE", func(_ context.Context, e *genDealUpdate) error { got = e; return nil })
	body := dealUpdateForm(t)
	if rec := deliver(r, formType, body); rec.Code != 200 || got == nil {
		t.Fatalf("status %d, handler called %v", rec.Code, got != nil)
	}
	f := got.Data.Fields
	if f.ID != 759 || f.Title != "Big deal" || f.Opportunity != 1000.5 || !bool(f.Opened) || f.Kind != "SALE" ||
		len(f.Tags) != 2 || f.Tags[1] != "b&c" || string(f.Raw) != `{"x":["1"]}` || f.Maybe != Some[Int](7) ||
		string(f.Extra["UF_CRM_1"]) != `"custom"` || string(f.Extra["UF_LIST"]) != `["1","2"]` ||
		string(got.Data.Extra["NOT_DOCUMENTED"]) != `"z"` || f.Closed.Format(time.DateOnly) != "2025-01-31" {
		t.Errorf("decoded %+v", got.Data)
	}
	if got.Auth.ApplicationToken != testAppToken || got.Auth.AccessToken != testAccessToken || got.Auth.UserID != 1 ||
		got.Ts.Unix() != 1736405807 || got.EventHandlerID != 201 || got.Event != "ONCRMDEALUPDATE" {
		t.Errorf("envelope %v %v %v %v", got.Auth, got.Ts, got.EventHandlerID, got.Event)
	}
	var tree genDealUpdate
	if err := treeDecode(body, &tree); err != nil || !reflect.DeepEqual(*got, tree) {
		t.Errorf("differs from the tree route (%v):\n%+v\n%+v", err, *got, tree)
	}
	perDelivery := func(h http.Handler, body string) float64 {
		return testing.AllocsPerRun(50, func() {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", formType)
			h.ServeHTTP(httptest.NewRecorder(), req)
		})
	}
	treeRoute := quietReceiver(testAppToken)
	treeRoute.Handle("ONCRMDEALUPDATE", func(_ context.Context, e *Event) error { var v genDealUpdate; return e.Decode(&v) })
	for _, body := range []string{body, formOf(t, dealUpdateDoc)} {
		typed, tree := perDelivery(r, body), perDelivery(treeRoute, body)
		t.Logf("allocations per delivery: typed %.0f, tree route %.0f", typed, tree)
		if typed > tree/2 {
			t.Errorf("typed delivery costs %.0f allocations, the tree route %.0f: want at most half", typed, tree)
		}
	}
}

// A JSON body: one auth block, one token, whatever the spelling; the typed
// handler and the raw one see exactly the verified block.
func TestReceiverAuthIsTheVerifiedBlock(t *testing.T) {
	tok := `"application_token":"` + testAppToken + `"`
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		domain            string
	}{
		{"case-variant token beside the real one", "application/json", `{"event":"X","auth":{` + tok + `,"APPLICATION_TOKEN":"other","domain":"a"}}`, 400, ""},
		{"later AUTH block", "application/json", `{"event":"X","auth":{` + tok + `,"domain":"a"},"AUTH":{"application_token":"other","domain":"evil"}}`, 400, ""},
		{"escaped auth key", "application/json", `{"event":"X","auth":{` + tok + `},"\u0061uth":{"domain":"evil"}}`, 400, ""},
		{"Kelvin sign token key", "application/json", `{"event":"X","auth":{` + tok + `,"application_to\u212aen":"x"}}`, 400, ""},
		{"two auth blocks, same key", "application/json", `{"event":"X","auth":{` + tok + `},"auth":{` + tok + `,"domain":"evil"}}`, 400, ""},
		{"one block spelled AUTH", "application/json", `{"event":"X","AUTH":{` + tok + `,"domain":"a"}}`, 200, "a"},
		{"form: two tokens", formType, "event=X&auth[application_token]=" + testAppToken + "&auth[application_token]=" + testAppToken, 400, ""},
		{"form: bare auth replaces the block", formType, "event=X&auth[application_token]=" + testAppToken + "&auth=x", 400, ""},
		{"form: token turned into a map", formType, "event=X&auth[application_token]=" + testAppToken + "&auth%5Bapplication_token%5D%5Bx%5D=1", 400, ""},
		{"form: AUTH block beside", formType, "event=X&auth[application_token]=" + testAppToken + "&auth[domain]=a&AUTH[domain]=evil&AUTH[application_token]=other", 200, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := quietReceiver(testAppToken)
			var raw, typed *EventAuth
			r.Handle("X", func(_ context.Context, e *Event) error {
				var v genDealUpdate
				if err := e.Decode(&v); err != nil {
					return err
				}
				if v.Auth != e.Auth {
					t.Errorf("Decode gave auth %v, the event has %v", v.Auth, e.Auth)
				}
				raw = &e.Auth
				return nil
			})
			if rec := deliver(r, tc.ctype, tc.body); rec.Code != tc.status {
				t.Errorf("raw: status %d, want %d", rec.Code, tc.status)
			}
			HandleTyped(r, "X", func(_ context.Context, e *genDealUpdate) error { typed = &e.Auth; return nil })
			if rec := deliver(r, tc.ctype, tc.body); rec.Code != tc.status {
				t.Errorf("typed: status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				if raw != nil || typed != nil {
					t.Error("a handler was called")
				}
				return
			}
			for name, a := range map[string]*EventAuth{"raw": raw, "typed": typed} {
				if a == nil || a.ApplicationToken != testAppToken || a.Domain != tc.domain {
					t.Errorf("%s handler saw %v, want domain %q and the token", name, a, tc.domain)
				}
			}
		})
	}
}

// startServer serves h through srv on a loopback port.
func startServer(t *testing.T, srv *http.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// trickle writes s one byte per interval until the peer cuts the
// connection; it reports how many bytes went out.
func trickle(conn net.Conn, s string, interval time.Duration) int {
	for i := 0; i < len(s); i++ {
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return i
		}
		time.Sleep(interval)
	}
	return len(s)
}

func TestEventServerCutsSlowHeaders(t *testing.T) {
	srv := NewEventServer("", quietReceiver(testAppToken))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("NewEventServer leaves a timeout unset: %+v", srv)
	}
	srv.ReadHeaderTimeout = 100 * time.Millisecond
	addr := startServer(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		conn.Read(make([]byte, 1024)) // returns when the server cuts the connection
		close(closed)
	}()
	header := "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 300) + "\r\n\r\n"
	done := make(chan int)
	go func() { done <- trickle(conn, header, 10*time.Millisecond) }()
	select {
	case <-closed:
	case n := <-done:
		t.Fatalf("the server read all %d header bytes, sent one per 10ms, without cutting the connection", n)
	}
}

func TestReceiverBodyReadTimeout(t *testing.T) {
	var called atomic.Bool
	r := quietReceiver(testAppToken, WithBodyReadTimeout(150*time.Millisecond))
	r.HandleFallback(func(context.Context, *Event) error { called.Store(true); return nil })
	srv := httptest.NewServer(r) // no server timeouts: only the receiver's bound applies
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := formOf(t, dealUpdateDoc)
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", formType, len(body))
	status := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		status <- line
	}()
	sent := make(chan int, 1)
	go func() { sent <- trickle(conn, body, 10*time.Millisecond) }()
	select {
	case line := <-status:
		if !strings.HasPrefix(line, "HTTP/1.1 408") {
			t.Errorf("status line %q, want 408", line)
		}
	case n := <-sent:
		t.Fatalf("all %d body bytes read, one per 10ms, without a 408", n)
	}
	if called.Load() {
		t.Error("handler called")
	}
}

// A normal delivery through NewEventServer is unaffected by the deadlines,
// including a handler that outlives the body read timeout.
func TestEventServerServesDeliveries(t *testing.T) {
	r := quietReceiver(testAppToken, WithBodyReadTimeout(50*time.Millisecond))
	r.HandleFallback(func(ctx context.Context, _ *Event) error {
		time.Sleep(120 * time.Millisecond) // past the body deadline: the context must survive
		return ctx.Err()
	})
	addr := startServer(t, NewEventServer("", r))
	resp, err := http.Post("http://"+addr+"/", formType, strings.NewReader(formOf(t, dealUpdateDoc)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestEventRedacted(t *testing.T) {
	payload := `{"event":"ONX","data":{"FIELDS":{"ID":"1","nested":[{"ACCESS_TOKEN":{"deep":"` + testAccessToken + `x"}},
		{"client_secret":12345678}],"echo":"` + testRefreshToken + `","Password":["p4ssw0rdValue"]}},
		"auth":{"application_token":"` + testAppToken + `","access_token":"` + testAccessToken + `","refresh_token":"` + testRefreshToken + `","domain":"d.bitrix24.com"}}`
	ev := &Event{Name: "ONX", Payload: json.RawMessage(payload),
		Auth: EventAuth{ApplicationToken: testAppToken, AccessToken: testAccessToken, RefreshToken: testRefreshToken, Domain: "d.bitrix24.com"}}
	red := ev.Redacted()
	if !json.Valid(red) {
		t.Fatalf("Redacted is not JSON: %s", red)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("event", "e", ev)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("event", "e", *ev)
	all := string(red) + ev.String() + fmt.Sprintf("%v %+v", ev, *ev) + logs.String()
	for _, s := range []string{testAppToken, testAccessToken, testRefreshToken, "12345678", "p4ssw0rdValue"} {
		if strings.Contains(all, s) {
			t.Errorf("%s… survives redaction:\n%s", s[:4], all)
		}
	}
	for _, s := range []string{"d.bitrix24.com", `"ID":"1"`, "ONX"} {
		if !strings.Contains(string(red), s) || !strings.Contains(ev.String(), s) {
			t.Errorf("%q missing from the redacted view %s / %s", s, red, ev)
		}
	}
	if !strings.Contains(logs.String(), `\"ID\":\"1\"`) {
		t.Errorf("LogValue does not carry the redacted payload: %s", logs.String())
	}
	if got := (&Event{Payload: json.RawMessage(`{"a":`)}).Redacted(); !json.Valid(got) || strings.Contains(string(got), "{") {
		t.Errorf("invalid payload: %s", got)
	}
}

// Tokens of any length are kept out of logs: a short one makes the error
// text withheld rather than quoted.
func TestReceiverRedactsShortAccessToken(t *testing.T) {
	r, logs := newTestReceiver()
	r.Handle("X", func(_ context.Context, e *Event) error {
		return fmt.Errorf("refresh with %s and %s failed", e.Auth.AccessToken, e.Auth.RefreshToken)
	})
	body := "event=X&auth[access_token]=Zq9&auth[refresh_token]=a+b%26c+d+e&auth[application_token]=" + testAppToken
	if rec := deliver(r, formType, body); rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(logs.String(), "Zq9") || strings.Contains(logs.String(), "a b&c d e") {
		t.Errorf("a token reached the log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "withheld") {
		t.Errorf("log %s", logs)
	}
}

func TestReceiverRefusesShortToken(t *testing.T) {
	var logs syncBuffer
	r := NewReceiver("ab3", WithReceiverLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if r.Err() == nil || strings.Contains(r.Err().Error(), "ab3") {
		t.Fatalf("Err() = %v", r.Err())
	}
	r.HandleFallback(func(context.Context, *Event) error { t.Error("handler called"); return nil })
	for range 3 {
		if rec := deliver(r, formType, "event=X&auth[application_token]=ab3"); rec.Code != 500 {
			t.Errorf("status %d, want 500", rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "fewer than 4"); n != 1 || strings.Contains(logs.String(), "ab3") {
		t.Errorf("configuration error logged %d times (want once, without the token):\n%s", n, logs.String())
	}
	if NewReceiver("").Err() != nil || NewReceiver("abcd").Err() != nil {
		t.Error("an empty or 4-character token reported as an error")
	}
	if rec := deliver(quietReceiver(""), formType, "event=X&auth[application_token]=x"); rec.Code != 401 {
		t.Errorf("empty token: status %d, want 401", rec.Code)
	}
}

// FuzzTypedFormDecode: the one-pass decode agrees with the tree route on
// any form it does not hand back to it.
func FuzzTypedFormDecode(f *testing.F) {
	f.Add(dealUpdateForm(f))
	f.Add("data[FIELDS][TAGS][]=a&data[FIELDS][RAW]=1&data[FIELDS][RAW][x]=&data[FIELDS][UF][0]=1&data[X]=%E2%80%A8")
	f.Add("data[FIELDS][MAYBE]=&data[FIELDS][OPENED]=N&data[FIELDS][CLOSEDATE]=31.01.2025&auth[expires]=")
	f.Fuzz(func(t *testing.T, body string) {
		var fast, slow genDealUpdate
		slowRoute, ferr := fastDecode(body, &fast)
		if slowRoute {
			return
		}
		serr := treeDecode(body, &slow)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%q:\n one pass: %v\n tree: %v", body, ferr, serr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\n one pass: %#v\n     tree: %#v", body, fast, slow)
		}
	})
}

// Benchmarks: the typed one-pass route beside url.ParseQuery of the same
// body, the baseline the issue sets (≤ 3× ParseQuery).
func BenchmarkParseQueryBaseline(b *testing.B) {
	body := formOf(b, dealUpdateDoc)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := url.ParseQuery(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTypedFormDecode: token located and compared, then the delivery
// decoded into a generated-shaped struct.
func BenchmarkTypedFormDecode(b *testing.B) {
	body := []byte(formOf(b, dealUpdateDoc))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		loc, err := locateToken(false, body)
		if err != nil || string(loc.token) != testAppToken {
			b.Fatal(err)
		}
		d := &delivery{loc: loc, body: body, token: string(loc.token)}
		var v genDealUpdate
		if err := d.decodeTyped(&v); err != nil || v.Data.Fields.ID != 759 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReceiverServeHTTPTyped: the whole handler path with a typed
// handler (body read, token check, one-pass decode, dispatch).
func BenchmarkReceiverServeHTTPTyped(b *testing.B) {
	r := quietReceiver(testAppToken)
	HandleTyped(r, "ONCRMDEALUPDATE", func(_ context.Context, e *genDealUpdate) error { return nil })
	body := formOf(b, dealUpdateDoc)
	rd := strings.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/", rd)
	req.Header.Set("Content-Type", formType)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReceiverUnauthenticated: the pathological body with a wrong token.
func BenchmarkReceiverUnauthenticated(b *testing.B) {
	r := quietReceiver(testAppToken)
	body := pathologicalForm()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", formType)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != 401 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkTypedVsParseQuery alternates the typed decode and url.ParseQuery
// of the same body in one loop, so that load on a shared machine hits both
// alike, and reports their ratio ("x-parsequery", the goal ≤ 3).
func BenchmarkTypedVsParseQuery(b *testing.B) {
	body := []byte(formOf(b, dealUpdateDoc))
	sbody := string(body)
	var typed, pq time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		loc, err := locateToken(false, body)
		if err != nil {
			b.Fatal(err)
		}
		d := &delivery{loc: loc, body: body, token: string(loc.token)}
		var v genDealUpdate
		if err := d.decodeTyped(&v); err != nil || v.Data.Fields.ID != 759 {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := url.ParseQuery(sbody); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		typed += t1.Sub(t0)
		pq += t2.Sub(t1)
	}
	b.ReportMetric(float64(typed.Nanoseconds())/float64(b.N), "typed-ns/op")
	b.ReportMetric(float64(pq.Nanoseconds())/float64(b.N), "parsequery-ns/op")
	b.ReportMetric(float64(typed)/float64(pq), "x-parsequery")
}
