package conformance

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/generated/crm"
)

// dealAnswer is a crm.deal.get answer as a portal sends it: strings for
// numbers, Y/N flags, a custom field and a null.
var dealAnswer = []byte(`{"ID":"759","TITLE":"Deal","TYPE_ID":"SALE","STAGE_ID":"NEW","OPPORTUNITY":"1000000.00",` +
	`"CURRENCY_ID":"USD","OPENED":"Y","CLOSED":"N","COMPANY_ID":"12","CONTACT_ID":null,"ASSIGNED_BY_ID":"1",` +
	`"DATE_CREATE":"2024-03-01T10:00:00+03:00","UF_CRM_1":"x"}`)

// BenchmarkDecodeGeneratedDeal decodes one generated entity (crm.Deal, 50
// documented fields) from a 13-key answer: the cost of a row.
func BenchmarkDecodeGeneratedDeal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var d crm.Deal
		if err := json.Unmarshal(dealAnswer, &d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeGeneratedItemRows decodes a page of 50 crm.item.list
// rows selected down to four fields.
func BenchmarkDecodeGeneratedItemRows(b *testing.B) {
	page := []byte(`{"items":[`)
	for i := range 50 {
		if i > 0 {
			page = append(page, ',')
		}
		page = append(page, `{"id":1,"title":"Deal","opportunity":1999.99,"stageId":"WON"}`...)
	}
	page = append(page, `]}`...)
	b.ReportAllocs()
	for b.Loop() {
		var r crm.ItemListResult
		if err := json.Unmarshal(page, &r); err != nil || len(r.Items) != 50 {
			b.Fatal(err)
		}
	}
}
