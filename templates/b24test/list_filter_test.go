package b24test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
)

// filterRows are deals as a portal stores them: numbers as strings, dates
// with offsets, a multiple field.
var filterRows = []map[string]any{
	{"ID": "1", "TITLE": "Alpha deal", "OPPORTUNITY": "900.00", "STAGE_ID": "NEW", "DATE_CREATE": "2024-01-05T10:00:00+03:00", "TAGS": []string{"a", "b"}},
	{"ID": "2", "TITLE": "beta", "OPPORTUNITY": "10000.00", "STAGE_ID": "WON", "DATE_CREATE": "2024-03-01T10:00:00+03:00", "TAGS": []string{}},
	{"ID": "3", "TITLE": "Gamma ALPHA", "OPPORTUNITY": "2500", "STAGE_ID": "C1:NEW", "DATE_CREATE": "2024-02-10T10:00:00+03:00", "COMMENTS": ""},
	{"ID": "10", "TITLE": "delta", "OPPORTUNITY": "", "STAGE_ID": "LOSE", "DATE_CREATE": "2023-12-31T23:00:00+03:00", "TAGS": []string{"b"}},
}

func TestServeListFilterOperators(t *testing.T) {
	p := NewPortal(t)
	p.ServeList("crm.deal.list", filterRows, ListOptions{})
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`{}`, []string{"1", "2", "3", "10"}},
		{`{"STAGE_ID":"won"}`, []string{"2"}},                                              // equality ignores case
		{`{"=STAGE_ID":"NEW"}`, []string{"1"}},                                             // = is the same as no prefix
		{`{"!STAGE_ID":"NEW"}`, []string{"2", "3", "10"}},                                  // !
		{`{"!=STAGE_ID":"NEW"}`, []string{"2", "3", "10"}},                                 // !=
		{`{">OPPORTUNITY":1000}`, []string{"2", "3"}},                                      // numbers: 900 < 1000 < 2500, though "900" > "1000" as text
		{`{">=OPPORTUNITY":"2500","<OPPORTUNITY":10000}`, []string{"3"}},                   // >= and <
		{`{"<=OPPORTUNITY":900}`, []string{"1"}},                                           // an empty value compares to nothing
		{`{">DATE_CREATE":"2024-01-31"}`, []string{"2", "3"}},                              // dates as times
		{`{"<DATE_CREATE":"2024-01-01T00:00:00+03:00"}`, []string{"10"}},                   // across offsets
		{`{"%TITLE":"alpha"}`, []string{"1", "3"}},                                         // contains, ignoring case
		{`{"!%TITLE":"alpha"}`, []string{"2", "10"}},                                       // does not contain
		{`{"=%TITLE":"%a"}`, []string{"2", "3", "10"}},                                     // LIKE: ends with a
		{`{"=%TITLE":"_eta"}`, []string{"2"}},                                              // LIKE: _ is one character
		{`{"@STAGE_ID":["NEW","LOSE"]}`, []string{"1", "10"}},                              // one of a list
		{`{"!@STAGE_ID":["NEW","LOSE"]}`, []string{"2", "3"}},                              // none of
		{`{"STAGE_ID":["WON","C1:NEW"]}`, []string{"2", "3"}},                              // a list value means any of
		{`{"@ID":[3,10]}`, []string{"3", "10"}},                                            // @ on the id field
		{`{"!@ID":[1,2]}`, []string{"3", "10"}},                                            // !@ on the id field
		{`{">ID":2,"<=ID":10}`, []string{"3", "10"}},                                       // id bounds as numbers (10 > 2)
		{`{"!ID":3}`, []string{"1", "2", "10"}},                                            // ! on the id field
		{`{"TAGS":"b"}`, []string{"1", "10"}},                                              // a multiple field matches by any value
		{`{"!TAGS":"b"}`, []string{"2", "3"}},                                              // and is negated by all
		{`{"COMMENTS":""}`, []string{"1", "2", "3", "10"}},                                 // empty matches absent and ""
		{`{"%TITLE":"a","@STAGE_ID":["NEW","C1:NEW"],">OPPORTUNITY":1000}`, []string{"3"}}, // all conditions at once
	} {
		status, body := postRaw(t, p.WebhookURL()+"crm.deal.list", "application/json", `{"filter":`+tc.filter+`}`)
		if status != 200 {
			t.Errorf("%s: status %d, body %v", tc.filter, status, body)
			continue
		}
		raw, _ := json.Marshal(body["result"])
		var rows []struct{ ID string }
		if err := json.Unmarshal(raw, &rows); err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %s: IDs %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// A batch command sends the filter in a query string: every value is text
// and @ comes as filter[@ID][]=….
func TestServeListFilterFromAQuery(t *testing.T) {
	p := NewPortal(t)
	p.ServeList("crm.deal.list", filterRows, ListOptions{})
	inner := url.Values{}
	inner.Set("filter[>OPPORTUNITY]", "1000")
	inner["filter[@STAGE_ID][]"] = []string{"WON", "C1:NEW"}
	inner.Set("filter[%TITLE]", "ALP")
	outer := url.Values{}
	outer.Set("cmd[a]", "crm.deal.list?"+inner.Encode())
	cmd := outer.Encode()
	status, body := postRaw(t, p.WebhookURL()+"batch", "application/x-www-form-urlencoded", cmd)
	if status != 200 {
		t.Fatalf("status %d, body %v", status, body)
	}
	raw, _ := json.Marshal(body["result"].(map[string]any)["result"].(map[string]any)["a"])
	var rows []struct{ ID string }
	if err := json.Unmarshal(raw, &rows); err != nil || len(rows) != 1 || rows[0].ID != "3" {
		t.Errorf("rows %s (%v), want deal 3 only", raw, err)
	}
}
