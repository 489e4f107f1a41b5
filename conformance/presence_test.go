package conformance

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
)

// Issue 19 as it was filed: an export of crm.item.list rows written out with
// json.Marshal must carry the keys the portal sent, not every field of
// crm.Item ("isWon":"N", "companyId":0 for fields never selected).
func TestListRowsEncodeWhatArrived(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithStrictDecoding())
	portal.AnswerRaw("crm.item.list", json.RawMessage(`{"items":[`+
		`{"id":1,"title":"Website","opportunity":1999.99,"stageId":"WON","companyId":null,"assignedById":1,"ufCrm_1_Source":"ads"},`+
		`{"id":2,"title":"Audit","opportunity":0,"stageId":"NEW","companyId":4,"assignedById":1,"ufCrm_1_Source":null}]}`))
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	var rows []crm.Item
	for row, err := range crm.ItemListAll(t.Context(), client, crm.ItemListParams{
		EntityTypeID: 2, Select: []string{"id", "title", "opportunity", "stageId", "companyId", "assignedById", "ufCrm_1_Source"},
	}) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	out, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"id":1,"title":"Website","assignedById":1,"companyId":null,"stageId":"WON","opportunity":1999.99,"ufCrm_1_Source":"ads"},` +
		`{"id":2,"title":"Audit","assignedById":1,"companyId":4,"stageId":"NEW","opportunity":0,"ufCrm_1_Source":null}]`
	var got, exp []map[string]any
	json.Unmarshal(out, &got)
	json.Unmarshal([]byte(want), &exp)
	for i := range exp {
		if i >= len(got) || !maps.EqualFunc(got[i], exp[i], func(a, b any) bool { return a == b }) {
			t.Fatalf("encoded %s\nwant (any key order) %s", out, want)
		}
	}
	// What arrived, and what arrived as null, is there to ask.
	first := rows[0]
	if !first.Has("companyId") || !first.IsNull("companyId") || first.Has("isWon") {
		t.Errorf("companyId: Has %v IsNull %v; isWon Has %v", first.Has("companyId"), first.IsNull("companyId"), first.Has("isWon"))
	}
	if got := first.Keys(); !slices.Contains(got, "stageId") || len(got) != 6 {
		t.Errorf("Keys %v, want the 6 documented keys that arrived", got)
	}
}

// Edit and send back: a deal read, its title changed, and the update the
// portal receives carries the title alone.
func TestEditDealSendsTheChangedField(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithStrictDecoding())
	portal.AnswerRaw("crm.item.get", json.RawMessage(`{"item":{"id":410,"title":"Website","opportunity":5000,`+
		`"stageId":"NEW","createdTime":"2024-03-01T10:00:00+03:00","createdBy":1,"ufCrm_1_Source":"ads"}}`))
	portal.Answer("crm.item.update", map[string]any{"item": map[string]any{"id": 410}})
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	got, err := crm.ItemGet(t.Context(), client, crm.ItemGetParams{EntityTypeID: 2, ID: 410})
	if err != nil {
		t.Fatal(err)
	}
	in := got.Item.Input()
	if title, ok := in.Title.Get(); !ok || title != "Website" {
		t.Errorf("Input().Title %v, want the title that arrived", in.Title)
	}
	in.StageID = b24.Some("WON")
	if _, err := crm.ItemUpdate(t.Context(), client, crm.ItemUpdateParams{EntityTypeID: 2, ID: 410, Fields: in}); err != nil {
		t.Fatal(err)
	}
	sent := lastParams(t, portal, "crm.item.update")["fields"]
	if want := map[string]any{"stageId": "WON"}; !maps.Equal(sent.(map[string]any), want) {
		t.Errorf("update sent fields %v, want %v", sent, want)
	}
	// SendUnchanged sends every field that arrived and is writable: never
	// the read-only createdTime or createdBy.
	in.SendUnchanged()
	if _, err := crm.ItemUpdate(t.Context(), client, crm.ItemUpdateParams{EntityTypeID: 2, ID: 410, Fields: in}); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(lastParams(t, portal, "crm.item.update")["fields"].(map[string]any)))
	if want := []string{"opportunity", "stageId", "title", "ufCrm_1_Source"}; !slices.Equal(keys, want) {
		t.Errorf("SendUnchanged sent %v, want %v", keys, want)
	}
}

func lastParams(t *testing.T, portal *b24test.Portal, method string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, c := range portal.Calls() {
		if c.Method == method {
			last = c.Params
		}
	}
	if last == nil {
		t.Fatalf("%s was not called", method)
	}
	return last
}
