package b24

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// itemRow is shaped like a generated entity: typed fields and an Extra.
type itemRow struct {
	ID          Int      `json:"id"`
	Title       String   `json:"title"`
	Opportunity Int      `json:"opportunity"` // documented as integer; portals send 1999.99
	Quantity    Int      `json:"quantity"`
	CalEvent    []String `json:"UF_CRM_CAL_EVENT"`
	Begin       Date     `json:"begindate"`
	Contacts    []Int    `json:"contactIds"`
	Extra       Fields   `json:"-"`
}

func (r *itemRow) UnmarshalJSON(b []byte) error {
	type plain itemRow
	return DecodeObject(b, (*plain)(r), &r.Extra)
}

// fakeCaller answers every call with one result, as a test double of the
// portal that is not a *Client.
type fakeCaller struct{ result string }

func (f fakeCaller) Call(ctx context.Context, req *Request) (*Response, error) {
	return &Response{Result: json.RawMessage(f.result)}, nil
}

// The classes of issue 8, in the docs' wire form: a decimal where an integer
// was documented (crm.item.list "opportunity", crm.item.productrow.list
// "quantity"), false for an empty list (calendar.event.getbyid
// UF_CRM_CAL_EVENT), a datetime where a date was documented.
func TestTolerantDecodeKeepsTheCall(t *testing.T) {
	const result = `{"items":[
		{"id":1,"title":"Deal #1","opportunity":1999.99,"quantity":0.06,"UF_CRM_CAL_EVENT":false,"begindate":"2024-01-01T03:00:00+03:00","contactIds":[]},
		{"id":"2","title":"Deal #2","opportunity":"500","quantity":1,"UF_CRM_CAL_EVENT":["EV_1"],"begindate":"2024-01-02","contactIds":{"0":5,"1":"6"}}
	]}`
	var out struct {
		Items []itemRow `json:"items"`
	}
	if err := Invoke(context.Background(), fakeCaller{result}, Request{Method: "crm.item.list"}, &out); err != nil {
		t.Fatalf("tolerant decode lost the call: %v", err)
	}
	if len(out.Items) != 2 {
		t.Fatalf("items = %+v", out.Items)
	}
	a, b := out.Items[0], out.Items[1]
	if a.ID != 1 || a.Title != "Deal #1" || a.Opportunity != 0 || a.Quantity != 0 || len(a.CalEvent) != 0 || len(a.Contacts) != 0 {
		t.Errorf("row 1 = %+v", a)
	}
	if string(a.Extra["opportunity"]) != "1999.99" || string(a.Extra["quantity"]) != "0.06" || len(a.Extra) != 2 {
		t.Errorf("row 1 raw values = %v, want opportunity and quantity kept", a.Extra)
	}
	plus3 := time.FixedZone("", 3*3600)
	if !a.Begin.Equal(time.Date(2024, 1, 1, 3, 0, 0, 0, plus3)) {
		t.Errorf("a datetime in a Date lost its time: %v", a.Begin)
	}
	if got, _ := json.Marshal(a.Begin); string(got) != `"2024-01-01T03:00:00+03:00"` {
		t.Errorf("Date re-encodes as %s, want what arrived", got)
	}
	if got, _ := json.Marshal(b.Begin); string(got) != `"2024-01-02"` {
		t.Errorf("a plain date re-encodes as %s", got)
	}
	if b.ID != 2 || b.Opportunity != 500 || len(b.CalEvent) != 1 || !reflect.DeepEqual(b.Contacts, []Int{5, 6}) || b.Extra != nil {
		t.Errorf("row 2 = %+v", b)
	}
	ms := Mismatches(&out)
	if len(ms) != 2 || ms[0].Path != "items[0].opportunity" || ms[1].Path != "items[0].quantity" || ms[0].Type != "b24.Int" {
		t.Errorf("Mismatches = %v", ms)
	}

	// Strict: the same answer is an error naming method, path and value, and
	// the part that fit is still there.
	defer SetStrictDecoding(true)()
	out.Items = nil
	err := Invoke(context.Background(), fakeCaller{result}, Request{Method: "crm.item.list"}, &out)
	var de *DecodeError
	if !errors.As(err, &de) || de.Method != "crm.item.list" || de.Path != "items[0].opportunity" || de.Value != "1999.99" || de.More != 1 {
		t.Fatalf("strict: %v (%#v)", err, de)
	}
	for _, want := range []string{"crm.item.list", "result.items[0].opportunity = 1999.99", "Int", "1 more"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("strict error %q does not say %q", err, want)
		}
	}
	if len(out.Items) != 2 || out.Items[1].ID != 2 {
		t.Errorf("strict decode dropped what fit: %+v", out.Items)
	}
}

// im.user.list.get answers an object keyed by user ID where a list was
// documented; the values are read in the order they arrive.
func TestObjectForList(t *testing.T) {
	const result = `{"7":{"id":7,"name":"Ann"},"3":{"id":3,"name":"Bob"},"12":{"id":12,"name":"Cy"}}`
	type user struct {
		ID   Int    `json:"id"`
		Name string `json:"name"`
	}
	var users []user
	if err := Invoke(context.Background(), fakeCaller{result}, Request{Method: "im.user.list.get"}, &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 || users[0].ID != 7 || users[1].Name != "Bob" || users[2].ID != 12 {
		t.Errorf("users = %+v", users)
	}
	// As a member of a generated struct, too.
	var r struct {
		Users []user `json:"users"`
		Extra Fields `json:"-"`
	}
	if err := DecodeObject([]byte(`{"users":`+result+`}`), &r, &r.Extra); err != nil || len(r.Users) != 3 || r.Users[0].ID != 7 || r.Extra != nil {
		t.Errorf("member: %+v, %v", r, err)
	}
}

// The empty forms of a list, a map and an object are empty, not mismatches.
func TestEmptyFormsOfContainers(t *testing.T) {
	type inner struct {
		A Int `json:"a"`
	}
	type holder struct {
		L     []String          `json:"l"`
		M     map[string]Int    `json:"m"`
		O     inner             `json:"o"`
		P     *inner            `json:"p"`
		OL    Opt[[]Int]        `json:"ol"`
		MK    map[Int]String    `json:"mk"`
		Raw   json.RawMessage   `json:"raw"`
		Extra Fields            `json:"-"`
		Any   map[string]any    `json:"any"`
		Deep  map[string][]Bool `json:"deep"`
	}
	for _, e := range []string{`false`, `""`, `[]`, `{}`, `null`} {
		in := `{"l":E,"m":E,"o":E,"ol":E,"mk":E,"any":E,"deep":{"x":E}}`
		in = strings.ReplaceAll(in, "E", e)
		var h holder
		if err := DecodeObject([]byte(in), &h, &h.Extra); err != nil {
			t.Errorf("%s: %v", e, err)
		}
		if h.Extra != nil || len(h.L) != 0 || len(h.M) != 0 || h.O.A != 0 || len(h.MK) != 0 || len(h.Deep["x"]) != 0 {
			t.Errorf("%s: %+v", e, h)
		}
		if ms := Mismatches(&h); len(ms) != 0 {
			t.Errorf("%s: mismatches %v", e, ms)
		}
	}
	var h holder
	if err := DecodeObject([]byte(`{"mk":{"5":"x","6":7}}`), &h, &h.Extra); err != nil || h.MK[5] != "x" || h.MK[6] != "7" {
		t.Errorf("Int map keys: %+v, %v", h.MK, err)
	}
}

// A result of the wrong shape at the top is decoded as far as it fits.
func TestTopLevelMismatch(t *testing.T) {
	var ids []Int
	if err := Invoke(context.Background(), fakeCaller{`[1,"x",2.5,"4"]`}, Request{Method: "x.list"}, &ids); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []Int{1, 0, 0, 4}) {
		t.Errorf("ids = %v", ids)
	}
	var n Int
	if err := Invoke(context.Background(), fakeCaller{`{"a":1}`}, Request{Method: "x.add"}, &n); err != nil || n != 0 {
		t.Errorf("object for an Int: %v, %v", n, err)
	}
	defer SetStrictDecoding(true)()
	err := Invoke(context.Background(), fakeCaller{`[1,"x",2.5]`}, Request{Method: "x.list"}, &ids)
	var de *DecodeError
	if !errors.As(err, &de) || de.Path != "[1]" || de.Value != `"x"` || de.More != 1 {
		t.Errorf("strict top-level: %v", err)
	}
	// Not JSON and not a pointer stay errors in any mode.
	restore := SetStrictDecoding(false)
	defer restore()
	if err := Invoke(context.Background(), fakeCaller{`[1,`}, Request{Method: "x.list"}, &ids); err == nil {
		t.Error("malformed result: no error")
	}
	if err := Invoke(context.Background(), fakeCaller{`[1]`}, Request{Method: "x.list"}, ids); err == nil {
		t.Error("non-pointer out: no error")
	}
}

func TestScanner(t *testing.T) {
	good := []string{`{}`, `{"a":1}`, ` { "a" : [1, 2.5e-3, -0, true, false, null, "x\"\u00e9"], "b":{} } `, `{"\u0041":1}`}
	for _, in := range good {
		if !json.Valid([]byte(in)) {
			t.Fatalf("bad fixture %s", in)
		}
		var keys []string
		if err := eachMember(trimSpace([]byte(in)), func(k []byte, esc bool, raw []byte) error {
			keys = append(keys, memberKey(k, esc))
			if !json.Valid(raw) {
				t.Errorf("%s: member %q raw %q not valid", in, k, raw)
			}
			return nil
		}); err != nil {
			t.Errorf("%s: %v", in, err)
		}
		if in == `{"\u0041":1}` && (len(keys) != 1 || keys[0] != "A") {
			t.Errorf("escaped key = %q", keys)
		}
	}
	bad := []string{`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":[1,]}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":nul}`, `{"a":1}}`, `{"a":"\u12"}`}
	for _, in := range bad {
		if json.Valid([]byte(in)) {
			t.Fatalf("fixture %s is valid", in)
		}
		if err := eachMember([]byte(in), func([]byte, bool, []byte) error { return nil }); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

func TestOptTolerant(t *testing.T) {
	var o Opt[[]Int]
	if err := json.Unmarshal([]byte(`false`), &o); err != nil || !o.Set || len(o.Value) != 0 {
		t.Errorf("Opt from false: %+v, %v", o, err)
	}
	if err := json.Unmarshal([]byte(`{"a":1,"b":"2"}`), &o); err != nil || !reflect.DeepEqual(o.Value, []Int{1, 2}) {
		t.Errorf("Opt from an object: %+v, %v", o, err)
	}
	var oi Opt[Int]
	if err := json.Unmarshal([]byte(`1.5`), &oi); err == nil {
		t.Errorf("Opt[Int] from 1.5: %+v, want an error (DecodeObject keeps it raw)", oi)
	}
}

func BenchmarkDecodeObjectMismatch(b *testing.B) {
	in := []byte(`{"id":1,"title":"Deal","opportunity":1999.99,"quantity":0.06,"UF_CRM_CAL_EVENT":false,"begindate":"2024-01-01T03:00:00+03:00","contactIds":{"0":5}}`)
	b.ReportAllocs()
	for b.Loop() {
		var r itemRow
		if err := json.Unmarshal(in, &r); err != nil {
			b.Fatal(err)
		}
	}
}
