package b24_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/b24gen/b24gen/templates/b24"
)

// A receiver for outgoing webhooks, fed one delivery in the form Bitrix24
// really posts: form-encoded, PHP bracket keys, every value a string.
func ExampleReceiver() {
	const appToken = "51856fefc120afa4b628cc82d3935cce" // shown by the portal for the webhook

	r := b24.NewReceiver(appToken, b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *b24.Event) error {
		var p struct {
			Data struct {
				Fields struct {
					ID b24.Int `json:"ID"`
				} `json:"FIELDS"`
			} `json:"data"`
		}
		if err := e.Decode(&p); err != nil {
			return err
		}
		fmt.Println(e.Name, "deal", p.Data.Fields.ID, "on", e.Auth.Domain, "by user", e.Auth.UserID)
		return nil
	})
	srv := httptest.NewServer(r) // in a program: http.Handle("/b24/events", r)
	defer srv.Close()

	body := "event=ONCRMDEALUPDATE&event_handler_id=201&data%5BFIELDS%5D%5BID%5D=759&ts=1736405807" +
		"&auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Buser_id%5D=1&auth%5Bapplication_token%5D=" + appToken
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	// A forged delivery never reaches the handler.
	forged := strings.Replace(body, appToken, "guess", 1)
	resp, _ = http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(forged))
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// ONCRMDEALUPDATE deal 759 on some-domain.bitrix24.com by user 1
	// 200
	// 401
}
