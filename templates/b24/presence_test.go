package b24

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// presDeal is shaped like a generated read type: it embeds Presence.
type presDeal struct {
	ID          Int                    `json:"ID"`
	Title       String                 `json:"TITLE"`
	Opportunity Number                 `json:"OPPORTUNITY"`
	Opened      Bool                   `json:"OPENED"`
	ContactID   Int                    `json:"CONTACT_ID"`
	DateCreate  Time                   `json:"DATE_CREATE"`
	Company     presCompany            `json:"COMPANY"`
	Products    map[string]presProduct `json:"PRODUCTS"`
	Presence    `json:"-"`
	Extra       Fields `json:"-"`
}

func (d *presDeal) UnmarshalJSON(b []byte) error {
	type plain presDeal
	return DecodeObject(b, (*plain)(d), &d.Extra)
}

func (d presDeal) MarshalJSON() ([]byte, error) {
	type plain presDeal
	return EncodeObject(plain(d), d.Extra)
}

func (d presDeal) Input() presDealInput {
	var in presDealInput
	FillInput(d, &in)
	return in
}

type presCompany struct {
	ID       Int    `json:"ID"`
	Name     String `json:"NAME"`
	Presence `json:"-"`
	Extra    Fields `json:"-"`
}

func (c *presCompany) UnmarshalJSON(b []byte) error {
	type plain presCompany
	return DecodeObject(b, (*plain)(c), &c.Extra)
}

func (c presCompany) MarshalJSON() ([]byte, error) {
	type plain presCompany
	return EncodeObject(plain(c), c.Extra)
}

type presProduct struct {
	Name     String `json:"name"`
	Price    Number `json:"price"`
	Presence `json:"-"`
	Extra    Fields `json:"-"`
}

func (p *presProduct) UnmarshalJSON(b []byte) error {
	type plain presProduct
	return DecodeObject(b, (*plain)(p), &p.Extra)
}

func (p presProduct) MarshalJSON() ([]byte, error) {
	type plain presProduct
	return EncodeObject(plain(p), p.Extra)
}

// presDealInput is shaped like a generated write form: ID and DATE_CREATE
// are read-only, so it has no such fields.
type presDealInput struct {
	Title       Opt[string]  `json:"TITLE,omitzero"`
	Opportunity Opt[float64] `json:"OPPORTUNITY,omitzero"`
	Opened      Opt[Bool]    `json:"OPENED,omitzero"`
	ContactID   Opt[Int]     `json:"CONTACT_ID,omitzero"`
	Baseline    `json:"-"`
	Extra       Fields `json:"-"`
}

func (in *presDealInput) UnmarshalJSON(b []byte) error {
	type plain presDealInput
	return DecodeObject(b, (*plain)(in), &in.Extra)
}

func (in presDealInput) MarshalJSON() ([]byte, error) {
	type plain presDealInput
	return EncodeObject(plain(in), in.Extra)
}

// objectKeys lists the object keys of a JSON value at every level, by path.
func objectKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	var out []string
	var walk func(string, any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, prefix+"."+k)
				walk(prefix+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", v)
	slices.Sort(out)
	return slices.Compact(out)
}

// Captured-style answers, one per class: each decodes and encodes back to
// its own keys, at every level, and no others.
func TestPresenceRoundTripFixtures(t *testing.T) {
	for _, c := range []struct{ name, answer string }{
		{"partial select", `{"ID":"7","TITLE":"Mine"}`},
		{"null values", `{"ID":"7","TITLE":null,"CONTACT_ID":null,"COMPANY":null,"DATE_CREATE":null}`},
		{"[] for an empty object", `{"ID":"7","COMPANY":[],"PRODUCTS":[]}`},
		{"object keyed by ID", `{"ID":"7","PRODUCTS":{"12":{"name":"Chair"},"15":{"name":"Desk","price":"9.50"}}}`},
		{"nested partial and custom", `{"COMPANY":{"NAME":"Acme","UF_X":1},"UF_CRM_1":"x","OPENED":"N","OPPORTUNITY":0}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d presDeal
			if err := json.Unmarshal([]byte(c.answer), &d); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := objectKeys(t, again), objectKeys(t, []byte(c.answer)); !slices.Equal(got, want) {
				t.Errorf("encoded %s\nkeys %v\nwant %v", again, got, want)
			}
		})
	}
}

func TestPresenceHasIsNullKeys(t *testing.T) {
	var d presDeal
	if err := json.Unmarshal([]byte(`{"TITLE":"x","OPPORTUNITY":0,"CONTACT_ID":null,"UF_1":2,"opened":"Y"}`), &d); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key       string
		has, null bool
	}{
		{"TITLE", true, false}, {"OPPORTUNITY", true, false}, {"CONTACT_ID", true, true},
		{"OPENED", true, false}, {"opened", true, false}, // matched as decoding matches keys
		{"ID", false, false}, {"UF_1", false, false}, // not sent; and Extra's keys are Extra's
	} {
		if d.Has(c.key) != c.has || d.IsNull(c.key) != c.null {
			t.Errorf("%s: Has %v IsNull %v, want %v %v", c.key, d.Has(c.key), d.IsNull(c.key), c.has, c.null)
		}
	}
	if got, want := d.Keys(), []string{"TITLE", "OPPORTUNITY", "opened", "CONTACT_ID"}; !slices.Equal(got, want) {
		t.Errorf("Keys %v, want %v (declaration order, as spelled)", got, want)
	}
	if !d.Decoded() || (&presDeal{}).Decoded() {
		t.Error("Decoded: want true for a decoded value only")
	}
	// A key sent twice: the last one counts.
	var twice presDeal
	json.Unmarshal([]byte(`{"TITLE":null,"TITLE":"x"}`), &twice)
	if !twice.Has("TITLE") || twice.IsNull("TITLE") {
		t.Error("TITLE null then text: want present, not null")
	}
	// Decoding again resets what arrived.
	json.Unmarshal([]byte(`{"ID":1}`), &d)
	if d.Has("TITLE") || !d.Has("ID") {
		t.Errorf("after a second decode Keys %v, want [ID]", d.Keys())
	}
}

// The rules for encoding: what arrived (null as null), plus what was set
// since; a value built in Go writes its non-zero fields.
func TestPresenceEncodeRules(t *testing.T) {
	var d presDeal
	json.Unmarshal([]byte(`{"ID":"7","CONTACT_ID":null,"OPPORTUNITY":"0.00"}`), &d)
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := enc(d), `{"ID":7,"OPPORTUNITY":0,"CONTACT_ID":null}`; got != want {
		t.Errorf("decoded: %s, want %s", got, want)
	}
	d.Title = "set in Go"
	d.ContactID = 3
	if got, want := enc(d), `{"ID":7,"TITLE":"set in Go","OPPORTUNITY":0,"CONTACT_ID":3}`; got != want {
		t.Errorf("after setting two fields: %s, want %s", got, want)
	}
	built := presDeal{Title: "New", Opened: true}
	if got, want := enc(built), `{"TITLE":"New","OPENED":"Y"}`; got != want {
		t.Errorf("built in Go: %s, want %s (its non-zero fields)", got, want)
	}
	if got := enc(presDeal{}); got != `{}` {
		t.Errorf("zero value: %s, want {}", got)
	}
	// An empty object decodes as decoded-with-nothing and writes {}.
	var empty presDeal
	json.Unmarshal([]byte(`[]`), &empty)
	if got := enc(empty); got != `{}` || !empty.Decoded() {
		t.Errorf("from []: %s (decoded %v), want {}", got, empty.Decoded())
	}
	// A value that did not fit its field is kept raw and written back in place.
	var odd presDeal
	json.Unmarshal([]byte(`{"ID":"7","CONTACT_ID":"not a number"}`), &odd)
	if got, want := enc(odd), `{"ID":7,"CONTACT_ID":"not a number"}`; got != want {
		t.Errorf("mismatch: %s, want %s", got, want)
	}
}

// More fields than the inline words hold spill into the slice.
func TestPresenceManyFields(t *testing.T) {
	var fs []reflect.StructField
	for i := range 200 {
		fs = append(fs, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeFor[Int](), Tag: reflect.StructTag(fmt.Sprintf(`json:"f%d"`, i))})
	}
	fs = append(fs, reflect.StructField{Name: "P", Type: presenceType, Tag: `json:"-"`})
	pv := reflect.New(reflect.StructOf(fs))
	in := `{"f0":1,"f63":null,"f64":2,"f127":3,"f128":4,"f199":null,"f150":0}`
	if err := DecodeObject([]byte(in), pv.Interface(), nil); err != nil {
		t.Fatal(err)
	}
	p := pv.Elem().FieldByName("P").Addr().Interface().(*Presence)
	if got, want := p.Keys(), []string{"f0", "f63", "f64", "f127", "f128", "f150", "f199"}; !slices.Equal(got, want) {
		t.Errorf("Keys %v, want %v", got, want)
	}
	if !p.IsNull("f199") || !p.IsNull("f63") || p.IsNull("f150") || p.Has("f198") {
		t.Error("null bits beyond the inline words are wrong")
	}
	out, err := EncodeObject(pv.Elem().Interface(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := objectKeys(t, out), objectKeys(t, []byte(in)); !slices.Equal(got, want) {
		t.Errorf("encoded %s, keys %v, want %v", out, got, want)
	}
}

// Edit and send back: Input holds what arrived and is writable; the form
// sends the fields changed since, and SendUnchanged sends them all.
func TestInputSendsOnlyChanges(t *testing.T) {
	var d presDeal
	answer := `{"ID":"7","TITLE":"Mine","OPPORTUNITY":"10.50","CONTACT_ID":null,"DATE_CREATE":"2024-01-02T03:04:05+03:00","UF_CRM_1":"x"}`
	if err := json.Unmarshal([]byte(answer), &d); err != nil {
		t.Fatal(err)
	}
	in := d.Input()
	if v, ok := in.Title.Get(); !ok || v != "Mine" {
		t.Errorf("Title %v, want Mine", in.Title)
	}
	if v, ok := in.Opportunity.Get(); !ok || v != 10.5 {
		t.Errorf("Opportunity %v, want 10.5", in.Opportunity)
	}
	if in.ContactID.Set || in.Opened.Set {
		t.Errorf("null and absent fields set: ContactID %v Opened %v", in.ContactID, in.Opened)
	}
	if _, ok := in.Extra["UF_CRM_1"]; !ok || len(in.Extra) != 1 {
		t.Errorf("Extra %v, want the custom field alone (no read-only ID, DATE_CREATE)", in.Extra)
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := enc(in); got != `{}` {
		t.Errorf("unchanged: %s, want {}", got)
	}
	in.Title = Some("Renamed")
	if got, want := enc(in), `{"TITLE":"Renamed"}`; got != want {
		t.Errorf("one field changed: %s, want %s", got, want)
	}
	in.Opportunity = Some(10.5) // the value it had: not a change
	in.Extra, _ = in.Extra.Set("UF_CRM_2", 1)
	if got, want := enc(in), `{"TITLE":"Renamed","UF_CRM_2":1}`; got != want {
		t.Errorf("with a new custom field: %s, want %s", got, want)
	}
	all := in
	all.SendUnchanged()
	if got, want := enc(all), `{"TITLE":"Renamed","OPPORTUNITY":10.5,"UF_CRM_1":"x","UF_CRM_2":1}`; got != want {
		t.Errorf("SendUnchanged: %s, want %s", got, want)
	}
	if got, want := enc(presDealInput{Title: Some("")}), `{"TITLE":""}`; got != want {
		t.Errorf("built in Go: %s, want %s", got, want)
	}
}

// A number where the write form holds text is converted, not lost.
func TestFillInputConvertsToText(t *testing.T) {
	type read struct {
		Code     Int `json:"CODE"`
		Presence `json:"-"`
		Extra    Fields `json:"-"`
	}
	type write struct {
		Code     Opt[string] `json:"CODE,omitzero"`
		Baseline `json:"-"`
		Extra    Fields `json:"-"`
	}
	var r read
	if err := DecodeObject([]byte(`{"CODE":42}`), &r, &r.Extra); err != nil {
		t.Fatal(err)
	}
	var w write
	FillInput(r, &w)
	if v, ok := w.Code.Get(); !ok || v != "42" || len(w.Extra) != 0 {
		t.Errorf("Code %v Extra %v, want \"42\"", w.Code, w.Extra)
	}
}

// Related records read as objects are written as their ids, where the
// write form takes ids (a REST 3.0 task's accomplices).
func TestFillInputWritesRelatedRecordsAsIDs(t *testing.T) {
	type user struct {
		ID   Int    `json:"id"`
		Name String `json:"name"`
	}
	type read struct {
		Accomplices []user `json:"accomplices"`
		Presence    `json:"-"`
		Extra       Fields `json:"-"`
	}
	type write struct {
		Accomplices []Int `json:"accomplices,omitzero"`
		Baseline    `json:"-"`
		Extra       Fields `json:"-"`
	}
	var r read
	if err := DecodeObject([]byte(`{"accomplices":[{"id":3,"name":"Ann"},{"id":"11","name":"Bo"}]}`), &r, &r.Extra); err != nil {
		t.Fatal(err)
	}
	var w write
	FillInput(r, &w)
	if want := []Int{3, 11}; !slices.Equal(w.Accomplices, want) || len(w.Extra) != 0 {
		t.Errorf("Accomplices %v Extra %v, want %v", w.Accomplices, w.Extra, want)
	}
	w.Accomplices = append(w.Accomplices, 12)
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"accomplices":[3,11,12]}`; got != want {
		t.Errorf("changed: %s, want %s", got, want)
	}
}

func BenchmarkDecodeObjectPresence(b *testing.B) {
	in := []byte(`{"ID":"759","TITLE":"Deal","OPPORTUNITY":"1000000.00","OPENED":"Y","UF_CRM_1":"x","PARENT_ID_1032":12}`)
	b.ReportAllocs()
	for b.Loop() {
		var d presDeal
		if err := json.Unmarshal(in, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeObjectPresence(b *testing.B) {
	var d presDeal
	json.Unmarshal([]byte(`{"ID":"759","TITLE":"Deal","OPPORTUNITY":"1000000.00","OPENED":"Y","UF_CRM_1":"x"}`), &d)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

// A key that matched its field only ignoring case is written back as sent.
func TestPresenceKeepsTheSpelling(t *testing.T) {
	var d presDeal
	if err := json.Unmarshal([]byte(`{"id":"7","Title":"x","OPENED":"Y"}`), &d); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":7,"Title":"x","OPENED":"Y"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	if got, want := d.Keys(), []string{"id", "Title", "OPENED"}; !slices.Equal(got, want) {
		t.Errorf("Keys %v, want %v", got, want)
	}
	var m Multifield
	json.Unmarshal([]byte(`{"id":"5","value":"+1 555"}`), &m)
	if out, _ := json.Marshal(m); string(out) != `{"id":5,"value":"+1 555"}` {
		t.Errorf("multifield encoded %s", out)
	}
}

// A value the write form cannot type stays raw in its Extra, unsent while
// unchanged; setting the field replaces it.
func TestInputUntypedValueGivesWayToTheField(t *testing.T) {
	var d presDeal
	if err := json.Unmarshal([]byte(`{"TITLE":"x","OPPORTUNITY":"about 5"}`), &d); err != nil {
		t.Fatal(err)
	}
	in := d.Input()
	if string(in.Extra["OPPORTUNITY"]) != `"about 5"` || in.Opportunity.Set {
		t.Fatalf("Opportunity %v Extra %v, want the raw value in Extra", in.Opportunity, in.Extra)
	}
	if out, err := json.Marshal(in); err != nil || string(out) != `{}` {
		t.Errorf("unchanged: %s %v, want {}", out, err)
	}
	in.Opportunity = Some(5.0)
	if out, err := json.Marshal(in); err != nil || string(out) != `{"OPPORTUNITY":5}` {
		t.Errorf("field set: %s %v, want {\"OPPORTUNITY\":5}", out, err)
	}
}
