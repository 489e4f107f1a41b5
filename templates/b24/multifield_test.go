package b24

import (
	"encoding/json"
	"testing"
)

// The wire form of crm.contact.get's PHONE, as the docs' example shows it:
// IDs as strings, and a key the docs do not list.
func TestMultifieldWireForm(t *testing.T) {
	var got []Multifield
	in := `[{"ID":"10","VALUE_TYPE":"WORK","VALUE":"+15550100","TYPE_ID":"PHONE","COUNTRY_CODE":"US"}]`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 10 || got[0].Value != "+15550100" || got[0].ValueType != "WORK" || got[0].TypeID != "PHONE" {
		t.Fatalf("decoded %+v", got)
	}
	if string(got[0].Extra["COUNTRY_CODE"]) != `"US"` {
		t.Errorf("undocumented key lost: Extra = %v", got[0].Extra)
	}
	// A new value is sent without an ID.
	out, err := json.Marshal(Multifield{Value: "a@example.com", ValueType: "WORK"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"VALUE":"a@example.com","VALUE_TYPE":"WORK"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	// Removing a value: its ID and DELETE=Y, as crm.contact.update's
	// example sends it (a value built in Go writes its non-zero fields).
	out, err = json.Marshal(Multifield{ID: 225, Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"ID":225,"DELETE":"Y"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
}
