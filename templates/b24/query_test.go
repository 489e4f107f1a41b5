package b24

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterHelpersSpellTheOperatorKeys(t *testing.T) {
	var f Filter // nil: the first helper makes the map
	f = f.Eq("STAGE_ID", "WON").Ne("TYPE_ID", "SALE").Gt("ID", 10).Ge("OPPORTUNITY", 1000).
		Lt("PROBABILITY", 50).Le("CATEGORY_ID", 3).In("ASSIGNED_BY_ID", 1, 2).NotIn("SOURCE_ID", "WEB").Like("TITLE", "shop")
	got, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string]any // as the portal reads it
	if err := json.Unmarshal(got, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"!=TYPE_ID": "SALE", "!@SOURCE_ID": []any{"WEB"}, "%TITLE": "shop", "<=CATEGORY_ID": 3.0,
		"<PROBABILITY": 50.0, "=STAGE_ID": "WON", ">=OPPORTUNITY": 1000.0, ">ID": 10.0, "@ASSIGNED_BY_ID": []any{1.0, 2.0}}
	if d := cmp.Diff(want, sent); d != "" {
		t.Errorf("filter as sent (-want +got):\n%s", d)
	}
}

func TestOrderKeepsItsKeyOrder(t *testing.T) {
	o := Order{Desc("DATE_CREATE"), Asc("ID"), {Field: "TITLE"}}
	got, err := json.Marshal(struct {
		Order Order `json:"order,omitzero"`
	}{o})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"order":{"DATE_CREATE":"DESC","ID":"ASC","TITLE":"ASC"}}`; string(got) != want {
		t.Errorf("order encodes as %s, want %s", got, want)
	}
	var back Order
	if err := json.Unmarshal([]byte(`{"DATE_CREATE":"desc","ID":"ASC","TITLE":"ASC"}`), &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Order{Desc("DATE_CREATE"), Asc("ID"), Asc("TITLE")}, back); d != "" {
		t.Errorf("decoded order (-want +got):\n%s", d)
	}
	empty, _ := json.Marshal(struct {
		Order Order `json:"order,omitzero"`
	}{})
	if string(empty) != `{}` {
		t.Errorf("an empty order is sent: %s", empty)
	}
}

func TestOrderRefusesWhatIsNotAnObject(t *testing.T) {
	for _, in := range []string{`[]`, `null`, `""`} {
		var o Order
		if err := json.Unmarshal([]byte(in), &o); err != nil || len(o) != 0 {
			t.Errorf("Unmarshal(%s) = %v, %v; want an empty order", in, o, err)
		}
	}
	var o Order
	err := json.Unmarshal([]byte(`["ID"]`), &o)
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Type != "Order" {
		t.Errorf("Unmarshal([\"ID\"]) error = %v, want a *ValueError for Order", err)
	}
	if err := json.Unmarshal([]byte(`{"ID": 5}`), &o); err == nil {
		t.Error("a non-string direction was accepted")
	}
}
