package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// startFake runs `b24gen fake` in-process with args and returns its stdout
// lines as they come; the fake stops when the test ends.
func startFake(t *testing.T, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runFake(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("b24gen fake: %v", err)
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("b24gen fake stopped printing")
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatal("b24gen fake printed nothing for a minute")
	}
	return ""
}

// The fake over HTTP, as a program sees it: the webhook URL on the first
// line, records that an add creates and a get returns, a filtered list, the
// documented not-found errors, the seeds from the docs' examples, and an
// application installed through the fake's authorization server that then
// calls the same records.
func TestFakeServesStateOverHTTP(t *testing.T) {
	// The application's install handler: a receiver in install mode.
	var app *b24.App
	installed := make(chan string, 1)
	var receiver atomic.Pointer[b24.Receiver] // set once the keys are read; until then the handler is "down"
	install := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := receiver.Load()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer install.Close()

	lines := startFake(t, "-install", install.URL)
	webhook := nextLine(t, lines)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/rest/1/` + b24test.Secret + `/$`).MatchString(webhook) {
		t.Fatalf("first line %q is not the webhook URL", webhook)
	}
	appLine := nextLine(t, lines)
	m := regexp.MustCompile(`client id (\S+), client secret (\S+), authorization server (\S+) \(b24\.WithAuthServer\)`).FindStringSubmatch(appLine)
	if m == nil {
		t.Fatalf("second line %q does not give the application's keys and authorization server", appLine)
	}

	ctx := context.Background()
	client, err := b24.NewWebhookClient(webhook, b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	call := func(method string, params map[string]any, out any) error {
		return client.CallMethod(ctx, method, params, out)
	}

	// Seeded from crm.deal.get's example; the same record through crm.item.get.
	var deal struct {
		ID        b24.Int `json:"ID"`
		Title     string  `json:"TITLE"`
		ContactID b24.Int `json:"CONTACT_ID"`
	}
	if err := call("crm.deal.get", map[string]any{"id": 410}, &deal); err != nil || deal.Title != "New Deal #1" {
		t.Fatalf("crm.deal.get 410 (the docs' example): %+v %v", deal, err)
	}
	var contact struct {
		ID b24.Int `json:"ID"`
	}
	if err := call("crm.contact.get", map[string]any{"id": deal.ContactID}, &contact); err != nil || contact.ID != deal.ContactID {
		t.Fatalf("the deal's contact %d is not there: %+v %v", deal.ContactID, contact, err)
	}

	// Add, then get the same record.
	var added struct {
		Item struct {
			ID    b24.Int `json:"id"`
			Title string  `json:"title"`
		} `json:"item"`
	}
	if err := call("crm.item.add", map[string]any{"entityTypeId": 2, "fields": map[string]any{
		"title": "Fake portal deal", "opportunity": 4200, "stageId": "WON"}}, &added); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Item struct {
			ID          b24.Int    `json:"id"`
			Title       string     `json:"title"`
			Opportunity b24.Number `json:"opportunity"`
		} `json:"item"`
	}
	if err := call("crm.item.get", map[string]any{"entityTypeId": 2, "id": added.Item.ID}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Item.ID != added.Item.ID || got.Item.Title != "Fake portal deal" || got.Item.Opportunity != 4200 {
		t.Fatalf("crm.item.get %d after add: %+v", added.Item.ID, got.Item)
	}
	var asDeal struct {
		Title   string `json:"TITLE"`
		StageID string `json:"STAGE_ID"`
	}
	if err := call("crm.deal.get", map[string]any{"id": added.Item.ID}, &asDeal); err != nil || asDeal.Title != "Fake portal deal" || asDeal.StageID != "WON" {
		t.Fatalf("crm.deal.get of the item added by crm.item.add: %+v %v", asDeal, err)
	}

	// A list with a filter: the operators apply, select is honoured.
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := call("crm.item.list", map[string]any{"entityTypeId": 2,
		"filter": map[string]any{"stageId": "WON", ">=opportunity": 4200, "%title": "portal"},
		"select": []string{"title"}}, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0]["title"] != "Fake portal deal" || list.Items[0]["opportunity"] != nil {
		t.Fatalf("crm.item.list filtered by stage, amount and title, selecting title: %v", list.Items)
	}
	var deals []map[string]any
	if err := call("crm.deal.list", map[string]any{"filter": map[string]any{"!STAGE_ID": "WON", "@ID": []int{37, 38, 410}}}, &deals); err != nil {
		t.Fatal(err)
	}
	if len(deals) != 3 {
		t.Fatalf("crm.deal.list !STAGE_ID and @ID: %d rows, want the 3 seeded deals", len(deals))
	}

	// Missing IDs answer the errors the pages document.
	for _, tc := range []struct {
		method     string
		params     map[string]any
		code, desc string
		notFound   bool
	}{
		{"crm.item.get", map[string]any{"entityTypeId": 2, "id": 999999}, "NOT_FOUND", "Item not found", true},
		{"crm.item.get", map[string]any{"entityTypeId": 5, "id": 1}, "NOT_FOUND", "SPA not found", true},
		{"crm.deal.get", map[string]any{"id": 999999}, "", "Not found", true},
		{"department.update", map[string]any{"ID": 999999, "NAME": "x"}, "ERROR_CORE", "Department not found", false},
	} {
		err := call(tc.method, tc.params, nil)
		var ae *b24.APIError
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Description != tc.desc || ae.Status != 400 {
			t.Errorf("%s %v: %v, want 400 %q %q", tc.method, tc.params, err, tc.code, tc.desc)
		}
		if errors.Is(err, b24.ErrNotFound) != tc.notFound {
			t.Errorf("%s: errors.Is(err, b24.ErrNotFound) = %v", tc.method, !tc.notFound)
		}
	}

	// An application installed against the fake's authorization server:
	// -install delivered ONAPPINSTALL, the receiver checked it with the
	// server, and the application client reads the record added above.
	app, err = b24.NewApp(m[1], m[2], b24.WithAuthServer(m[3]), b24.WithClientOptions(b24.WithoutRateLimit()))
	if err != nil {
		t.Fatal(err)
	}
	r := b24.NewReceiver("", b24.WithApp(app))
	r.Handle("ONAPPINSTALL", func(ctx context.Context, e *b24.Event) error {
		installed <- e.Auth.MemberID
		return nil
	})
	receiver.Store(r)
	var memberID string
	select {
	case memberID = <-installed:
	case <-time.After(30 * time.Second):
		t.Fatal("no ONAPPINSTALL within 30 s")
	}
	for l := nextLine(t, lines); !strings.HasPrefix(l, "ONAPPINSTALL delivered"); l = nextLine(t, lines) {
	}
	appClient, err := app.Client(ctx, memberID)
	if err != nil {
		t.Fatal(err)
	}
	got.Item.Title = ""
	if err := appClient.CallMethod(ctx, "crm.item.get", map[string]any{"entityTypeId": 2, "id": added.Item.ID}, &got); err != nil || got.Item.Title != "Fake portal deal" {
		t.Fatalf("the application's crm.item.get: %+v %v", got.Item, err)
	}
}

// With -events, a change is delivered to the URL, form-encoded, with the
// application token the fake printed; a receiver holding it accepts it.
func TestFakeDeliversEventsOfChanges(t *testing.T) {
	got := make(chan string, 4)
	var r *b24.Receiver
	ready := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-ready
		if req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("delivery Content-Type %q", req.Header.Get("Content-Type"))
		}
		r.ServeHTTP(w, req)
	}))
	defer srv.Close()
	lines := startFake(t, "-events", srv.URL)
	webhook := nextLine(t, lines)
	nextLine(t, lines)
	tokenLine := nextLine(t, lines)
	token, ok := strings.CutPrefix(tokenLine, "application token of event deliveries: ")
	if !ok {
		t.Fatalf("third line %q does not give the application token", tokenLine)
	}
	r = b24.NewReceiver(token)
	r.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		var p struct {
			Data struct {
				Fields struct{ ID b24.Int } `json:"FIELDS"`
			} `json:"data"`
		}
		if err := e.Decode(&p); err != nil {
			return err
		}
		got <- e.Name + " " + p.Data.Fields.ID.String()
		return nil
	})
	close(ready)
	client, err := b24.NewWebhookClient(webhook, b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var id b24.Int
	if err := client.CallMethod(context.Background(), "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "evented"}}, &id); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		if g != "ONCRMDEALADD "+id.String() {
			t.Fatalf("delivered %q, want ONCRMDEALADD %d", g, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ONCRMDEALADD delivered")
	}
}

func TestFakeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8024", ":8024", "192.168.1.10:8024", "example.com:80"} {
		_, stderr, code := runCLI(t, "fake", "-addr", addr)
		if code != 2 || !strings.Contains(stderr, "loopback only") {
			t.Errorf("fake -addr %s: exit %d, %s", addr, code, stderr)
		}
	}
}
