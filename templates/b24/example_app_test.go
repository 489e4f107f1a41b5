package b24_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// An application's install: the portal delivers ONAPPINSTALL to the
// install handler, a receiver in install mode confirms the tokens with the
// authorization server and stores them, and the application then calls the
// portal. The fake portal (b24test) plays Bitrix24 and oauth.bitrix.info;
// `b24gen fake` prints its keys and authorization server for a program.
func ExampleNewApp() {
	portal := b24test.Start()
	defer portal.Close()
	oauth := portal.RegisterApp("local.65f0a1b2c3d4e5.12345678", "application-secret")
	portal.Answer("user.current", map[string]any{"ID": "1", "NAME": "John"})

	app, err := b24.NewApp("local.65f0a1b2c3d4e5.12345678", "application-secret",
		b24.WithAuthServer(oauth.URL()),               // default: https://oauth.bitrix.info/
		b24.WithTokenStore(b24.NewMemoryTokenStore())) // keep tokens in a durable store of your own
	if err != nil {
		panic(err)
	}
	receiver := b24.NewReceiver("", b24.WithApp(app)) // "": the application token comes with the install
	var memberID string
	receiver.Handle("ONAPPINSTALL", func(ctx context.Context, e *b24.Event) error {
		memberID = e.Auth.MemberID // the install is stored by now
		return nil
	})
	status, err := portal.Deliver(context.Background(), receiver, oauth.InstallEvent())
	fmt.Println("ONAPPINSTALL:", status, err)

	client, err := app.Client(context.Background(), memberID)
	if err != nil {
		panic(err)
	}
	var me struct{ NAME string }
	err = client.CallMethod(context.Background(), "user.current", nil, &me)
	fmt.Println("user.current:", me.NAME, err)
	// Output:
	// ONAPPINSTALL: 200 <nil>
	// user.current: John <nil>
}

// The application client renews an expired access token with its refresh
// token and repeats the call; the new pair goes to the TokenStore.
func ExampleApp_Client() {
	portal := b24test.Start()
	defer portal.Close()
	oauth := portal.RegisterApp("local.1.2", "application-secret")
	portal.Answer("user.current", map[string]any{"ID": "1"})
	store := b24.NewMemoryTokenStore()
	app, err := b24.NewApp("local.1.2", "application-secret", b24.WithAuthServer(oauth.URL()), b24.WithTokenStore(store))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// Install confirms the pair at the authorization server by renewing it
	// (as ONAPPINSTALL does): that is the first renewal.
	if err := app.Install(ctx, oauth.Issue()); err != nil {
		panic(err)
	}
	client, err := app.Client(ctx, oauth.MemberID())
	if err != nil {
		panic(err)
	}
	before, _ := store.Load(ctx, oauth.MemberID())

	oauth.ExpireAll() // an hour later
	err = client.CallMethod(ctx, "user.current", nil, nil)
	after, _ := store.Load(ctx, oauth.MemberID())
	fmt.Println("call:", err)
	fmt.Println("renewals:", oauth.Renewals(), "stored pair changed:", before.RefreshToken != after.RefreshToken)
	// Output:
	// call: <nil>
	// renewals: 2 stored pair changed: true
}

// One receiver serves every portal the application is installed on: each
// delivery is matched to its portal by member_id and checked with that
// portal's application token; a portal never installed is refused.
func ExampleWithApp() {
	portalA, portalB := b24test.Start(), b24test.Start()
	defer portalA.Close()
	defer portalB.Close()
	oauthA := portalA.RegisterApp("local.1.2", "application-secret")
	oauthB := oauthA.Join(portalB) // the same application on a second portal

	app, err := b24.NewApp("local.1.2", "application-secret", b24.WithAuthServer(oauthA.URL()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, o := range []*b24test.AuthServer{oauthA, oauthB} {
		if err := app.Install(ctx, o.Issue()); err != nil {
			panic(err)
		}
	}
	receiver := b24.NewReceiver("", b24.WithApp(app))
	receiver.Handle("ONCRMDEALADD", func(ctx context.Context, e *b24.Event) error {
		var p struct {
			Data struct {
				Fields struct{ ID b24.Int } `json:"FIELDS"`
			} `json:"data"`
		}
		if err := e.Decode(&p); err != nil {
			return err
		}
		who := map[string]string{oauthA.MemberID(): "A", oauthB.MemberID(): "B"}[e.Auth.MemberID]
		fmt.Println("deal", p.Data.Fields.ID, "added on portal", who)
		return nil
	})
	deal := func(id int) map[string]any { return map[string]any{"FIELDS": map[string]any{"ID": id}} }
	portalA.Deliver(ctx, receiver, oauthA.Event("ONCRMDEALADD", deal(7)))
	portalB.Deliver(ctx, receiver, oauthB.Event("ONCRMDEALADD", deal(8)))

	stranger := oauthA.Event("ONCRMDEALADD", deal(9))
	stranger["auth"].(map[string]any)["member_id"] = "0123456789abcdef0123456789abcdef"
	status, _ := portalA.Deliver(ctx, receiver, stranger)
	fmt.Println("unknown portal:", status == http.StatusUnauthorized)
	// Output:
	// deal 7 added on portal A
	// deal 8 added on portal B
	// unknown portal: true
}
