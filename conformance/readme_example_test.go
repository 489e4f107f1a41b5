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
// with the documented responses: entity types, a write form, a documented
// error, a batch with a reference into a typed parameter, and a full export.
func Example_readme() {
	portal := b24test.Start(b24test.WithDocumentedAnswers())
	defer portal.Close()
	ctx := context.Background()

	// The webhook URL as the portal shows it: https://portal/rest/1/secret/
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		log.Fatal(err)
	}

	// get, list, All and Export return the family's entity: *crm.Deal here.
	deal, err := crm.DealGet(ctx, client, crm.DealGetParams{ID: 410})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deal.ID, deal.Title, deal.Opportunity, deal.Opened, deal.StageSemanticID == crm.DealStageSemanticIDP, deal.DateCreate.Year())

	// PHONE, EMAIL, WEB and IM are []b24.Multifield on every entity.
	contact, err := crm.ContactGet(ctx, client, crm.ContactGetParams{ID: 43})
	if err != nil {
		log.Fatal(err)
	}
	for _, phone := range contact.Phone {
		fmt.Println("phone:", phone.Value, phone.ValueType)
	}

	// add and update take the entity's write form; only the fields set are
	// sent, and an ID read from one result goes straight into a parameter.
	id, err := crm.DealAdd(ctx, client, crm.DealAddParams{Fields: &crm.DealInput{
		Title:       b24.Some("New deal"),
		Opportunity: b24.Some(5000.0),
		ContactID:   b24.Some(contact.ID),
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added", id)

	// A required parameter left empty never reaches the portal.
	_, err = crm.DealGet(ctx, client, crm.DealGetParams{})
	var missing *b24.RequiredError
	fmt.Println(errors.As(err, &missing), err)

	// Up to 50 typed commands per HTTP call; a later command can take an
	// earlier one's result in any typed parameter.
	batch := b24.NewBatch()
	dealCmd := b24.Add(batch, "deal", crm.DealGetCommand(crm.DealGetParams{ID: 410}))
	contactCmd := b24.Add(batch, "contact",
		crm.ContactGetCommand(crm.ContactGetParams{}), b24.WithRef("id", dealCmd.Ref("CONTACT_ID")))
	meCmd := b24.Add(batch, "me", user.CurrentCommand(user.CurrentParams{}))
	if err := batch.Run(ctx, client); err != nil {
		log.Fatal(err)
	}
	d, _ := dealCmd.Result()
	c, _ := contactCmd.Result()
	me, _ := meCmd.Result()
	fmt.Println("batch:", d.Title, c.Name, me.Name)

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

	// The portal's documented errors, empty code included, match sentinels.
	portal.Fail("crm.deal.get", b24test.APIFailure(400, "", "Not found"))
	_, err = crm.DealGet(ctx, client, crm.DealGetParams{ID: 999})
	fmt.Println(errors.Is(err, b24.ErrNotFound), err)
	// Output:
	// 410 New Deal #1 1000000 Y true 2024
	// phone: +13333333555 WORK
	// phone: +15599888666 HOME
	// added 394
	// true crm.deal.get: required parameter "id" is missing
	// batch: New Deal #1 John John
	// first row: 37 [A] Deal
	// rows: 6
	// true b24: crm.deal.get: Not found (HTTP 400)
}
