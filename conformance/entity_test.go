//lint:file-ignore SA1019 the typing cases of the deprecated crm.deal.*, crm.lead.* and crm.contact.* families are checked on purpose: they are still served and still generated

package conformance

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/b24gen/b24gen/generated/department"
	"github.com/b24gen/b24gen/generated/tasks"
	"github.com/b24gen/b24gen/generated/user"
)

// The typing issue's cases, as a user meets them: one type per entity
// across get, list and write, typed multifields, typed task fields.
var (
	_ func(context.Context, b24.Caller, crm.DealGetParams, ...b24.CallOption) (*crm.Deal, error)                  = crm.DealGet
	_ func(context.Context, b24.Caller, crm.DealListParams, ...b24.CallOption) ([]crm.Deal, error)                = crm.DealList
	_ func(context.Context, b24.Caller, crm.LeadListParams, ...b24.CallOption) ([]crm.Lead, error)                = crm.LeadList
	_ func(context.Context, b24.Caller, crm.ContactListParams, ...b24.CallOption) ([]crm.Contact, error)          = crm.ContactList
	_ func(context.Context, b24.Caller, user.GetParams, ...b24.CallOption) ([]user.User, error)                   = user.Get
	_ func(context.Context, b24.Caller, department.GetParams, ...b24.CallOption) ([]department.Department, error) = department.Get
)

func TestEntityFieldTypes(t *testing.T) {
	cases := []struct {
		v     any
		field string
		want  any
	}{
		{crm.Contact{}, "Phone", []b24.Multifield(nil)},
		{crm.Contact{}, "Email", []b24.Multifield(nil)},
		{crm.Deal{}, "Opportunity", b24.Number(0)},
		{crm.Deal{}, "ID", b24.Int(0)},
		{crm.DealGetParams{}, "ID", b24.Int(0)}, // one ID type: DealGetParams{ID: deal.ID}
		{tasks.Task{}, "CreatedDate", b24.Time{}},
		{tasks.Task{}, "ChangedDate", b24.Time{}},
		{tasks.Task{}, "GroupID", b24.Int(0)},
		{tasks.TaskAddParams{}, "Fields", tasks.TaskInput{}},
	}
	for _, c := range cases {
		f, ok := reflect.TypeOf(c.v).FieldByName(c.field)
		if !ok {
			t.Errorf("%T has no field %s", c.v, c.field)
			continue
		}
		if want := reflect.TypeOf(c.want); f.Type != want {
			t.Errorf("%T.%s is %s, want %s", c.v, c.field, f.Type, want)
		}
	}
	// Task status and priority are enums of the documented values.
	for _, name := range []string{"Status", "Priority"} {
		f, _ := reflect.TypeOf(tasks.Task{}).FieldByName(name)
		if f.Type.Kind() == reflect.Struct || f.Type == reflect.TypeOf(json.RawMessage(nil)) {
			t.Errorf("tasks.Task.%s is %s, want a typed enum", name, f.Type)
		}
	}
	// The list rows carry the family's fields, not 9 of them.
	if n := reflect.TypeOf(crm.Deal{}).NumField(); n < 45 {
		t.Errorf("crm.Deal has %d fields, want the 45 of crm.deal.fields and more", n)
	}
}

// A deal read and sent back never carries the docs' placeholder rows
// (UF_CRM_... once became {"UF_CRM_": {"..": null}}), and keeps the custom
// fields a real portal sends.
func TestDealRoundTripKeepsCustomFields(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithDocumentedAnswers(), b24test.WithStrictDecoding())
	portal.Answer("crm.deal.get", map[string]any{
		"ID": "7", "TITLE": "Mine", "OPPORTUNITY": "1999.99", "UF_CRM_1712345": "custom", "PARENT_ID_156": "12",
	})
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	deal, err := crm.DealGet(t.Context(), client, crm.DealGetParams{ID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if deal.ID != 7 || deal.Opportunity != 1999.99 || string(deal.Extra["UF_CRM_1712345"]) != `"custom"` {
		t.Errorf("deal %+v", deal)
	}
	out, err := json.Marshal(deal)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `".."`) || strings.Contains(string(out), `"UF_CRM_"`) {
		t.Errorf("placeholders re-encoded: %s", out)
	}
	for _, want := range []string{`"UF_CRM_1712345":"custom"`, `"PARENT_ID_156":"12"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("re-encoding lost %s: %s", want, out)
		}
	}
}

// A value that does not fit its type costs the field, not the call: the
// raw value stays in Extra and Mismatches lists it; a strict client
// refuses it instead.
func TestMisfitValueKeepsTheCall(t *testing.T) {
	portal := b24test.NewPortal(t)
	portal.Answer("crm.deal.get", map[string]any{"ID": "7", "PROBABILITY": "12.5", "CONTACT_IDS": false})
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	deal, err := crm.DealGet(t.Context(), client, crm.DealGetParams{ID: 7})
	if err != nil {
		t.Fatalf("a misfit lost the call: %v", err)
	}
	if deal.ID != 7 || deal.Probability != 0 || string(deal.Extra["PROBABILITY"]) != `"12.5"` || deal.ContactIDs != nil {
		t.Errorf("deal %+v", deal)
	}
	if ms := b24.Mismatches(deal); len(ms) != 1 || ms[0].Path != "PROBABILITY" {
		t.Errorf("Mismatches = %v", ms)
	}
	strict := b24test.NewPortal(t, b24test.WithStrictDecoding())
	strict.Answer("crm.deal.get", map[string]any{"ID": "7", "PROBABILITY": "12.5"})
	sc, err := strict.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crm.DealGet(t.Context(), sc, crm.DealGetParams{ID: 7}); err == nil || !strings.Contains(err.Error(), "PROBABILITY") {
		t.Errorf("strict decoding accepted a decimal probability: %v", err)
	}
}
