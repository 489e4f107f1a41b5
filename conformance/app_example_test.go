package conformance

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/b24gen/b24gen/generated/event"
	"github.com/b24gen/b24gen/generated/events"
)

// A local application without a UI: it registers with its keys, receives
// ONAPPINSTALL (which carries the portal's tokens and application token),
// and then calls the portal with the generated bindings through the
// application client. The fake portal plays Bitrix24 and its authorization
// server.
func Example_application() {
	portal := b24test.Start()
	defer portal.Close()
	oauth := portal.RegisterApp("local.65f0a1b2c3d4e5.12345678", "LJSl0lNB76B5YY6u0YVQ3AW0DrVADcRTwVr4y99PXU1BWQyb")
	portal.Handle("crm.item.list", func(params map[string]any) (any, error) {
		return map[string]any{"items": []any{map[string]any{"id": 1, "title": "Website redesign"}}}, nil
	})

	// The keys come from the local application's form. A real application
	// keeps the tokens in a durable TokenStore of its own.
	app, err := b24.NewApp("local.65f0a1b2c3d4e5.12345678", "LJSl0lNB76B5YY6u0YVQ3AW0DrVADcRTwVr4y99PXU1BWQyb",
		b24.WithAuthServer(oauth.URL()), // default: https://oauth.bitrix.info/
		b24.WithTokenStore(b24.NewMemoryTokenStore()))
	if err != nil {
		log.Fatal(err)
	}

	// The install handler ("Path for initial installation") and every later
	// event share one receiver in install mode.
	receiver := events.NewReceiver("", b24.WithApp(app))
	installed := make(chan string, 1)
	receiver.OnAppInstall(func(ctx context.Context, e *events.OnAppInstall) error {
		installed <- e.Auth.MemberID
		return nil
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	status, err := portal.DeliverURL(context.Background(), srv.URL, oauth.InstallEvent())
	if err != nil {
		log.Fatal(err)
	}
	memberID := <-installed
	fmt.Println("ONAPPINSTALL answered", status)

	// The portal's client: the same limiter, retries, batch and lists as a
	// webhook client, signing with the stored access token and renewing it.
	client, err := app.Client(context.Background(), memberID)
	if err != nil {
		log.Fatal(err)
	}
	res, err := crm.ItemList(context.Background(), client, crm.ItemListParams{EntityTypeID: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range res.Items {
		fmt.Printf("item %d %q\n", it.ID, it.Title)
	}
	// Output:
	// ONAPPINSTALL answered 200
	// item 1 "Website redesign"
}

// The generated bindings work through the application client unchanged:
// event.bind, a batch, a paged list, an export; the token expires halfway
// and is renewed once.
func TestApplicationClientRunsGeneratedBindings(t *testing.T) {
	portal := b24test.NewPortal(t)
	oauth := portal.RegisterApp("local.1.2", "secret-of-the-application")
	var rows []map[string]any
	for i := 1; i <= 120; i++ {
		rows = append(rows, map[string]any{"id": i, "title": fmt.Sprint("Item ", i)})
	}
	portal.ServeList("crm.item.list", rows, b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	portal.Answer("event.bind", true)
	portal.Answer("event.unbind", map[string]any{"count": 1})
	app, err := b24.NewApp("local.1.2", "secret-of-the-application", b24.WithAuthServer(oauth.URL()),
		b24.WithClientOptions(b24.WithoutRateLimit()))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Install(context.Background(), oauth.Issue()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := app.Client(ctx, oauth.MemberID())
	if err != nil {
		t.Fatal(err)
	}
	ok, err := event.Bind(ctx, client, event.BindParams{Event: "ONCRMDEALADD", Handler: "https://app.example.com/b24/events"})
	if err != nil || !bool(ok) {
		t.Fatalf("event.bind: %v %v", ok, err)
	}
	if _, err := event.Unbind(ctx, client, event.UnbindParams{Event: "ONCRMDEALADD", Handler: "https://app.example.com/b24/events"}); err != nil {
		t.Fatalf("event.unbind: %v", err)
	}
	oauth.ExpireAll()
	n := 0
	for _, err := range crm.ItemListAll(ctx, client, crm.ItemListParams{EntityTypeID: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 120 {
		t.Fatalf("ItemListAll: %d rows", n)
	}
	oauth.ExpireAll()
	n = 0
	for _, err := range crm.ItemListExport(ctx, client, crm.ItemListParams{EntityTypeID: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 120 {
		t.Fatalf("ItemListExport: %d rows", n)
	}
	if portal.Requests("batch") == 0 {
		t.Error("the export sent no batch through the application client")
	}
	if r := oauth.Renewals(); r != 3 { // Install's confirmation, then one per expiry
		t.Fatalf("%d renewals for the install and two expiries", r)
	}
	// A receiver in install mode refuses an unknown portal.
	r := events.NewReceiver("", b24.WithApp(app))
	d := oauth.Event("ONCRMDEALADD", map[string]any{"FIELDS": map[string]any{"ID": 1}})
	d["auth"].(map[string]any)["member_id"] = "0123456789abcdef0123456789abcdef"
	if code, _ := portal.Deliver(ctx, r, d); code != http.StatusUnauthorized {
		t.Fatalf("unknown member_id answered %d", code)
	}
	if _, err := app.Client(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, b24.ErrNoToken) {
		t.Fatalf("client of an unknown portal: %v", err)
	}
}

// The typed ONAPPINSTALL handler sees the pair that was stored, not the
// delivered one that the install check spent.
func TestApplicationInstallHandlerSeesStoredPair(t *testing.T) {
	portal := b24test.NewPortal(t)
	oauth := portal.RegisterApp("local.1.2", "secret-of-the-application")
	store := b24.NewMemoryTokenStore()
	app, err := b24.NewApp("local.1.2", "secret-of-the-application", b24.WithAuthServer(oauth.URL()), b24.WithTokenStore(store))
	if err != nil {
		t.Fatal(err)
	}
	r := events.NewReceiver("", b24.WithApp(app))
	var got b24.EventAuth
	r.OnAppInstall(func(ctx context.Context, e *events.OnAppInstall) error {
		got = e.Auth
		return nil
	})
	if code, err := oauth.DeliverInstall(context.Background(), r); code != 200 || err != nil {
		t.Fatalf("ONAPPINSTALL: %d %v", code, err)
	}
	st, err := store.Load(context.Background(), oauth.MemberID())
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != st.RefreshToken || got.AccessToken != st.AccessToken || got.ApplicationToken != oauth.ApplicationToken() {
		t.Fatalf("handler got %v, stored %v", got, st)
	}
}
