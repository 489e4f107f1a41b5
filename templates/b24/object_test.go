package b24

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// testDeal is shaped like a generated struct.
type testDeal struct {
	ID          Int    `json:"ID"`
	Title       string `json:"TITLE,omitempty"`
	Opportunity Number `json:"OPPORTUNITY"`
	Opened      Bool   `json:"OPENED"`
	Extra       Fields `json:"-"`
}

func (d *testDeal) UnmarshalJSON(b []byte) error {
	type plain testDeal
	return DecodeObject(b, (*plain)(d), &d.Extra)
}

func (d testDeal) MarshalJSON() ([]byte, error) {
	type plain testDeal
	return EncodeObject(plain(d), d.Extra)
}

func TestDecodeObject(t *testing.T) {
	var d testDeal
	in := `{"ID":"759","TITLE":"Deal","OPPORTUNITY":"1000000.00","OPENED":"Y","UF_CRM_1":"x","PARENT_ID_1032":12,"UF_LIST":[1,2]}`
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	want := testDeal{ID: 759, Title: "Deal", Opportunity: 1000000, Opened: true, Extra: Fields{
		"UF_CRM_1": json.RawMessage(`"x"`), "PARENT_ID_1032": json.RawMessage(`12`), "UF_LIST": json.RawMessage(`[1,2]`),
	}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %#v\nwant %#v", d, want)
	}
}

func TestDecodeObjectEmptyForms(t *testing.T) {
	for _, e := range emptyForms {
		d := testDeal{ID: 5, Extra: Fields{"X": nil}}
		if err := json.Unmarshal([]byte(e), &d); err != nil {
			t.Errorf("from %s: %v", e, err)
		}
		if !reflect.DeepEqual(d, testDeal{}) {
			t.Errorf("from %s: %#v, want the zero deal", e, d)
		}
	}
	// Inside a list and as a nested field, as responses carry them.
	var out struct {
		Items []testDeal `json:"items"`
		One   testDeal   `json:"one"`
	}
	if err := json.Unmarshal([]byte(`{"items":[{"ID":1},[],{"ID":"2"}],"one":false}`), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 3 || out.Items[0].ID != 1 || out.Items[1].ID != 0 || out.Items[2].ID != 2 || out.One.ID != 0 {
		t.Errorf("got %+v", out)
	}
}

// A member that does not fit its field no longer fails the object: the field
// stays zero and the raw value is kept in Extra under its own key.
func TestDecodeObjectMismatchKeptRaw(t *testing.T) {
	tests := []struct {
		in   string
		want testDeal
	}{
		{`{"ID":"abc"}`, testDeal{Extra: Fields{"ID": json.RawMessage(`"abc"`)}}},
		{`{"ID":1,"OPENED":"maybe"}`, testDeal{ID: 1, Extra: Fields{"OPENED": json.RawMessage(`"maybe"`)}}},
		{`{"TITLE":5,"OPPORTUNITY":"1999.99"}`, testDeal{Opportunity: 1999.99, Extra: Fields{"TITLE": json.RawMessage(`5`)}}},
		{`{"ID":1999.99,"UF_X":1}`, testDeal{Extra: Fields{"ID": json.RawMessage(`1999.99`), "UF_X": json.RawMessage(`1`)}}},
	}
	for _, tc := range tests {
		var d testDeal
		if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
			t.Errorf("from %s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(d, tc.want) {
			t.Errorf("from %s: got %#v\nwant %#v", tc.in, d, tc.want)
		}
	}
	var d testDeal
	json.Unmarshal([]byte(`{"ID":1999.99,"TITLE":"t","OPENED":"maybe"}`), &d)
	ms := Mismatches(&d)
	if len(ms) != 2 || ms[0].Path != "ID" || ms[0].Type != "b24.Int" || string(ms[0].Value) != "1999.99" ||
		ms[1].Path != "OPENED" || !strings.Contains(ms[1].Err.Error(), "Bool") {
		t.Errorf("Mismatches = %v", ms)
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[1,2]`, `cannot decode [1,2] as object`},
		{`"x"`, `cannot decode "x" as object`},
		{`5`, `cannot decode 5 as object`},
	}
	for _, tc := range tests {
		var d testDeal
		err := json.Unmarshal([]byte(tc.in), &d)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("from %s: error %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
	// Called directly (not through encoding/json), malformed JSON is refused.
	for _, in := range []string{`{"ID":1`, `{"ID":1,}`, `{"ID" 1}`, `{"ID":tru}`, `{"ID":1} x`, `{"ID":"\q"}`, `{"ID":01}`, `{"A":[1,2}`} {
		var d testDeal
		if err := d.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("from %s: no error", in)
		}
	}
	if err := DecodeObject([]byte(`{}`), testDeal{}, nil); err == nil {
		t.Error("DecodeObject into a non-pointer: want error")
	}
	var n int
	if err := DecodeObject([]byte(`{}`), &n, nil); err == nil {
		t.Error("DecodeObject into *int: want error")
	}
}

func TestDecodeObjectCaseFoldClaimsKey(t *testing.T) {
	// encoding/json fills ID from "id", so "id" must not also land in Extra.
	var d testDeal
	if err := json.Unmarshal([]byte(`{"id":"3","Uf_X":"y"}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != 3 || len(d.Extra) != 1 || d.Extra["Uf_X"] == nil {
		t.Errorf("got %#v", d)
	}
}

func TestDecodeObjectEmbedded(t *testing.T) {
	type Base struct {
		ID Int `json:"ID"`
	}
	type withBase struct {
		Base
		Name string `json:"NAME"`
		skip int
	}
	var v withBase
	var extra Fields
	if err := DecodeObject([]byte(`{"ID":"1","NAME":"n","OTHER":true}`), &v, &extra); err != nil {
		t.Fatal(err)
	}
	if v.ID != 1 || v.Name != "n" || len(extra) != 1 || string(extra["OTHER"]) != "true" {
		t.Errorf("got %+v, extra %v", v, extra)
	}
	_ = v.skip
}

func TestEncodeObject(t *testing.T) {
	d := testDeal{ID: 7, Opened: true, Extra: Fields{
		"UF_B": json.RawMessage(`"b"`), "UF_A": json.RawMessage(`[1]`),
		"TITLE":       json.RawMessage(`"sent"`),  // declared but omitted as empty: the extra value is sent
		"opportunity": json.RawMessage(`1999.99`), // declared (case-folded), zero: sent in the field's place
		"UF_N":        nil,
	}}
	got, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ID":7,"OPPORTUNITY":1999.99,"OPENED":"Y","TITLE":"sent","UF_A":[1],"UF_B":"b","UF_N":null}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Round trip keeps the extra keys.
	var back testDeal
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != 7 || back.Title != "sent" || back.Opportunity != 1999.99 || string(back.Extra["UF_A"]) != "[1]" || len(back.Extra) != 3 {
		t.Errorf("back = %#v", back)
	}
	// Both the declared field and an extra value for it: refused, never dropped.
	d.Extra = Fields{"ID": json.RawMessage(`999`)}
	if _, err := json.Marshal(d); err == nil || !strings.Contains(err.Error(), `"ID"`) {
		t.Errorf("extra ID and field ID both set: %v, want an error naming ID", err)
	}
	if _, err := EncodeObject(struct{}{}, Fields{"X": json.RawMessage(`{bad`)}); err == nil || !strings.Contains(err.Error(), `"X"`) {
		t.Errorf("invalid extra JSON: error %v", err)
	}
	if got, err := EncodeObject(struct{}{}, Fields{"X": json.RawMessage(`1`)}); err != nil || string(got) != `{"X":1}` {
		t.Errorf("empty struct + extra = %s, %v", got, err)
	}
	if _, err := EncodeObject(5, nil); err == nil {
		t.Error("EncodeObject(5): want error")
	}
}

func TestRequiredError(t *testing.T) {
	var err error = &RequiredError{Method: "crm.deal.get", Param: "id"}
	if err.Error() != `crm.deal.get: required parameter "id" is missing` {
		t.Errorf("Error() = %q", err)
	}
	var re *RequiredError
	if !errors.As(err, &re) || re.Param != "id" {
		t.Error("errors.As failed")
	}
}

func TestDecodeObjectConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				var d testDeal
				if err := json.Unmarshal([]byte(`{"ID":1,"UF":2}`), &d); err != nil || d.ID != 1 || len(d.Extra) != 1 {
					t.Errorf("got %#v, %v", d, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkDecodeObject(b *testing.B) {
	in := []byte(`{"ID":"759","TITLE":"Deal","OPPORTUNITY":"1000000.00","OPENED":"Y","UF_CRM_1":"x","PARENT_ID_1032":12}`)
	b.ReportAllocs()
	for b.Loop() {
		var d testDeal
		if err := json.Unmarshal(in, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFieldsSetSendsCustomFields(t *testing.T) {
	type dealFields struct {
		Title string `json:"TITLE"`
		Extra Fields `json:"-"`
	}
	var extra Fields // nil: Set makes the map
	extra, err := extra.Set("UF_CRM_1", "Hello")
	if err != nil {
		t.Fatal(err)
	}
	if extra, err = extra.Set("UF_CRM_2", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	got, err := EncodeObject(dealFields{Title: "x"}, extra)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"TITLE":"x","UF_CRM_1":"Hello","UF_CRM_2":[1,2]}`; string(got) != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	if _, err := extra.Set("bad", func() {}); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Set of an unencodable value: %v, want an error naming the key", err)
	}
}
