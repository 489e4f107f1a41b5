package conformance

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/b24gen/b24gen/generated/user"
)

// The README's tour of the bindings, run against the fake portal answering
// with the documented responses: a typed call, a write, a batch, and a
// full export of a list.
func Example_readme() {
	portal := b24test.Start(b24test.WithDocumentedAnswers())
	defer portal.Close()
	ctx := context.Background()

	// The webhook URL as the portal shows it: https://portal/rest/1/secret/
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		log.Fatal(err)
	}

	deal, err := crm.DealGet(ctx, client, crm.DealGetParams{ID: 410})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deal.ID, deal.Title, deal.Opportunity, deal.Opened, deal.DateCreate.Year())

	id, err := crm.DealAdd(ctx, client, crm.DealAddParams{Fields: &crm.DealInput{
		Title:       b24.Some("New deal"),
		Opportunity: b24.Some(5000.0),
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added", id)

	// A required parameter left empty never reaches the portal.
	_, err = crm.DealGet(ctx, client, crm.DealGetParams{})
	var missing *b24.RequiredError
	fmt.Println(errors.As(err, &missing), err)

	// Up to 50 typed commands per HTTP call.
	batch := b24.NewBatch()
	dealCmd := b24.Add(batch, "deal", crm.DealGetCommand(crm.DealGetParams{ID: 410}))
	meCmd := b24.Add(batch, "me", user.CurrentCommand(user.CurrentParams{}))
	if err := batch.Run(ctx, client); err != nil {
		log.Fatal(err)
	}
	d, _ := dealCmd.Result()
	me, _ := meCmd.Result()
	fmt.Println("batch:", d.Title, me.Name)

	// Every row of a list, read by ID 50 pages per call.
	n := 0
	for row, err := range crm.DealListExport(ctx, client, crm.DealListParams{
		Filter: b24.Filter{}.Gt("OPPORTUNITY", 0),
		Select: []string{"ID", "TITLE"},
	}) {
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			fmt.Println("first row:", row.ID, row.Title)
		}
		n++
	}
	fmt.Println("rows:", n)
	// Output:
	// 410 New Deal #1 1000000 Y 2024
	// added 394
	// true crm.deal.get: required parameter "id" is missing
	// batch: New Deal #1 John
	// first row: 37 [A] Deal
	// rows: 6
}
