package conformance

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/b24gen/b24gen/generated/events"
)

// A handler for ONCRMDEALUPDATE that reads the changed deal back through the
// incoming webhook. The fake portal plays Bitrix24 on both sides: it answers
// crm.item.get and delivers the event, form-encoded, to the handler URL.
func Example_receiveDealUpdate() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Handle("crm.item.get", func(params map[string]any) (any, error) {
		id, _ := b24test.Int(params, "id")
		return map[string]any{"item": map[string]any{"id": id, "title": "Website redesign", "stageId": "WON", "opportunity": "150000.00"}}, nil
	})

	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		log.Fatal(err)
	}
	receiver := events.NewReceiver("51856fefc120afa4b628cc82d3935cce")
	receiver.OnCrmDealUpdate(func(ctx context.Context, e *events.OnCrmDealUpdate) error {
		got, err := crm.ItemGet(ctx, client, crm.ItemGetParams{EntityTypeID: 2, ID: e.Data.Fields.ID}) // 2: deal
		if err != nil {
			return err
		}
		deal := got.Item
		fmt.Printf("deal %d %q is now %s (%s), changed on %s\n", deal.ID, deal.Title, deal.StageID, deal.Opportunity, e.Auth.Domain)
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/b24/events", receiver)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	status, err := portal.DeliverURL(context.Background(), srv.URL+"/b24/events", map[string]any{
		"event": "ONCRMDEALUPDATE", "event_handler_id": 201, "ts": 1736405807,
		"data": map[string]any{"FIELDS": map[string]any{"ID": 759}},
		"auth": map[string]any{
			"domain": "some-domain.bitrix24.com", "member_id": "a223c6b3710f85df22e9377d6c4f7553",
			"application_token": "51856fefc120afa4b628cc82d3935cce",
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("answered", status)
	// Output:
	// deal 759 "Website redesign" is now WON (150000), changed on some-domain.bitrix24.com
	// answered 200
}
