package b24_test

import (
	"encoding/json"
	"fmt"

	"github.com/b24gen/b24gen/templates/b24"
)

// The value types read what the portal sends, whatever the method's habit.
func ExampleInt() {
	var deal struct {
		ID          b24.Int    `json:"ID"`
		Opportunity b24.Number `json:"OPPORTUNITY"`
		Opened      b24.Bool   `json:"OPENED"`
		Closed      b24.Bool   `json:"CLOSED"`
		DateCreate  b24.Time   `json:"DATE_CREATE"`
		BeginDate   b24.Date   `json:"BEGINDATE"`
		CompanyID   b24.Int    `json:"COMPANY_ID"`
	}
	in := `{"ID":"759","OPPORTUNITY":"1000000.00","OPENED":"Y","CLOSED":"N",
		"DATE_CREATE":"2024-08-30T14:29:00+02:00","BEGINDATE":"2024-08-30","COMPANY_ID":null}`
	if err := json.Unmarshal([]byte(in), &deal); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(deal.ID, deal.Opportunity, deal.Opened, deal.Closed, deal.DateCreate, deal.BeginDate, deal.CompanyID)
	out, _ := json.Marshal(deal)
	fmt.Println(string(out))
	// Output:
	// 759 1000000 Y N 2024-08-30T14:29:00+02:00 2024-08-30 0
	// {"ID":759,"OPPORTUNITY":1000000,"OPENED":"Y","CLOSED":"N","DATE_CREATE":"2024-08-30T14:29:00+02:00","BEGINDATE":"2024-08-30","COMPANY_ID":0}
}

// Opt sends a parameter only when it is set, and then even when it is zero.
func ExampleOpt() {
	type params struct {
		Title  b24.Opt[string]   `json:"TITLE,omitzero"`
		Opened b24.Opt[b24.Bool] `json:"OPENED,omitzero"`
	}
	out, _ := json.Marshal(params{Opened: b24.Some[b24.Bool](false)})
	fmt.Println(string(out))
	// Output: {"OPENED":"N"}
}

// DecodeObject keeps the keys a struct does not declare, such as user fields.
func ExampleDecodeObject() {
	type deal struct {
		ID    b24.Int    `json:"ID"`
		Extra b24.Fields `json:"-"`
	}
	var d deal
	err := b24.DecodeObject([]byte(`{"ID":"5","UF_CRM_PHONE":"+100","UF_CRM_TAGS":["a","b"]}`), &d, &d.Extra)
	fmt.Println(d.ID, string(d.Extra["UF_CRM_PHONE"]), string(d.Extra["UF_CRM_TAGS"]), err)
	// Output: 5 "+100" ["a","b"] <nil>
}

// The PHP bracket form Bitrix24 uses for events and batch commands.
func ExampleDecodeForm() {
	tree, err := b24.DecodeForm("data[FIELDS][ID]=759&data[TAGS][]=a&data[TAGS][]=b&auth[domain]=x.bitrix24.com")
	out, _ := json.Marshal(tree)
	fmt.Println(string(out), err)
	fmt.Println(b24.EncodeForm(map[string]any{"filter": map[string]any{">ID": 10}, "select": []string{"ID", "TITLE"}}))
	// Output:
	// {"auth":{"domain":"x.bitrix24.com"},"data":{"FIELDS":{"ID":"759"},"TAGS":["a","b"]}} <nil>
	// filter%5B%3EID%5D=10&select%5B0%5D=ID&select%5B1%5D=TITLE
}
