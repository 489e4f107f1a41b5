// Command tour is the README's tour of the bindings, a program a new user
// can run against a portal: B24_WEBHOOK=https://portal.bitrix24.com/rest/1/secret/ go run .
// It reads a deal, adds and updates one, runs a batch, exports a filtered
// list and handles a missing record. conformance/tour_test.go builds it in
// a module of its own, as a user's program depends on b24gen, and runs it
// against the fake portal.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/b24gen/b24gen/generated/user"
)

// crm.item.* serves every CRM object type; entityTypeId says which: 1 lead,
// 2 deal, 3 contact, 4 company, 7 quote, 31 invoice, and for a smart process
// the entityTypeId crm.type.list gives it.
const (
	deal    = 2
	contact = 3
)

func main() {
	ctx := context.Background()
	client, err := b24.NewWebhookClient(os.Getenv("B24_WEBHOOK")) // the secret never appears in an error or a log line
	if err != nil {
		log.Fatal(err)
	}

	// One record: crm.item.get answers {"item": {...}}, a *crm.Item.
	got, err := crm.ItemGet(ctx, client, crm.ItemGetParams{EntityTypeID: deal, ID: 410})
	if err != nil {
		log.Fatal(err)
	}
	d := got.Item
	fmt.Println("deal:", d.ID, d.Title, d.Opportunity, d.CurrencyID, d.StageID)

	// Add takes the write form crm.ItemInput: every field optional, only the
	// fields set are sent, and an ID read from one result fits the next call.
	added, err := crm.ItemAdd(ctx, client, crm.ItemAddParams{EntityTypeID: deal, Fields: crm.ItemInput{
		Title:       b24.Some("Website redesign"),
		Opportunity: b24.Some(5000.0),
		ContactID:   b24.Some(d.ContactID),
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added:", added.Item.ID)

	// Custom fields (ufCrm...) are not in the docs: set them through Extra.
	upd := crm.ItemInput{StageID: b24.Some("WON")}
	if upd.Extra, err = upd.Extra.Set("ufCrm_1_Source", "README tour"); err != nil {
		log.Fatal(err)
	}
	if _, err := crm.ItemUpdate(ctx, client, crm.ItemUpdateParams{EntityTypeID: deal, ID: added.Item.ID, Fields: upd}); err != nil {
		log.Fatal(err)
	}

	// Up to 50 typed commands per HTTP call; a later command can take an
	// earlier one's result in any typed parameter.
	batch := b24.NewBatch()
	dealCmd := b24.Add(batch, "deal", crm.ItemGetCommand(crm.ItemGetParams{EntityTypeID: deal, ID: 410}))
	contactCmd := b24.Add(batch, "contact",
		crm.ItemGetCommand(crm.ItemGetParams{EntityTypeID: contact}), b24.WithRef("id", dealCmd.Ref("item.contactId")))
	meCmd := b24.Add(batch, "me", user.CurrentCommand(user.CurrentParams{}))
	if err := batch.Run(ctx, client); err != nil {
		log.Fatal(err)
	}
	c, err := contactCmd.Result()
	if err != nil {
		log.Fatal(err)
	}
	me, err := meCmd.Result()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batch:", c.Item.ID, me.Name)

	// Every row of a filtered list, read by ID, 50 pages per HTTP call.
	var total b24.Number
	n := 0
	for row, err := range crm.ItemListExport(ctx, client, crm.ItemListParams{
		EntityTypeID: deal,
		Filter:       b24.Terms(crm.ItemKeyStageID.Eq("WON"), crm.ItemKeyOpportunity.Gt(1000)),
		Select:       b24.Columns(crm.ItemKeyID, crm.ItemKeyTitle, crm.ItemKeyOpportunity),
	}) {
		if err != nil {
			log.Fatal(err)
		}
		total += row.Opportunity
		n++
	}
	fmt.Println("won deals over 1000:", n, "worth", total)

	// Documented errors are *b24.APIError and match sentinels.
	_, err = crm.ItemGet(ctx, client, crm.ItemGetParams{EntityTypeID: deal, ID: 999999})
	if errors.Is(err, b24.ErrNotFound) {
		fmt.Println("deal 999999: not found")
	} else if err != nil {
		log.Fatal(err)
	}
}
