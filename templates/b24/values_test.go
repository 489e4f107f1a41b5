package b24

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// emptyForms are the JSON values Bitrix24 uses for "nothing".
var emptyForms = []string{`null`, `""`, `false`, `[]`, `{}`, `[ ]`, ` { } `}

func TestIntDecode(t *testing.T) {
	ok := map[string]Int{
		`410`: 410, `"410"`: 410, `" 410 "`: 410, `-7`: -7, `"-7"`: -7, `"+3"`: 3,
		`1000.00`: 1000, `"1000000.00"`: 1000000, `1e3`: 1000, `true`: 1, `"0"`: 0,
		`9223372036854775807`: math.MaxInt64, `"9223372036854775807"`: math.MaxInt64,
	}
	for _, e := range emptyForms {
		ok[e] = 0
	}
	for in, want := range ok {
		var got Int = 99
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Int from %s = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`"abc"`, `12.5`, `"12.5"`, `"0x10"`, `"NaN"`, `"Inf"`, `[1]`, `{"a":1}`, `"1_000"`, `9223372036854775808`, `1e30`} {
		var got Int
		err := json.Unmarshal([]byte(in), &got)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Type != "Int" {
			t.Errorf("Int from %s: error %v, want a ValueError", in, err)
		}
	}
}

func TestValueErrorNamesValueTruncated(t *testing.T) {
	long := `"` + strings.Repeat("x", 500) + `"`
	var n Int
	err := json.Unmarshal([]byte(long), &n)
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	if !strings.Contains(msg, `"xxxx`) || len(msg) > 200 {
		t.Errorf("error %q: want the value quoted and cut", msg)
	}
	err = json.Unmarshal([]byte(`{"n":"abc"}`), &struct {
		N Int `json:"n"`
	}{})
	if err == nil || err.Error() != `b24: cannot decode "abc" as Int: want an integer or a string holding one` {
		t.Errorf("error = %v", err)
	}
}

func TestNumberDecode(t *testing.T) {
	ok := map[string]Number{
		`"1000000.00"`: 1000000, `999.99`: 999.99, `"999.99"`: 999.99, `12`: 12, `"-0.5"`: -0.5, `"1e2"`: 100, `true`: 1,
	}
	for _, e := range emptyForms {
		ok[e] = 0
	}
	for in, want := range ok {
		var got Number = 99
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Number from %s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`"abc"`, `"NaN"`, `"Inf"`, `"0x1p3"`, `"1,5"`, `[1]`} {
		var got Number
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("Number from %s = %v, want error", in, got)
		}
	}
}

func TestBoolDecode(t *testing.T) {
	ok := map[string]Bool{
		`"Y"`: true, `"y"`: true, `"N"`: false, `"n"`: false, `true`: true, `1`: true, `0`: false,
		`"1"`: true, `"0"`: false, `"true"`: true, `"false"`: false, `"TRUE"`: true,
	}
	for _, e := range emptyForms {
		ok[e] = false
	}
	for in, want := range ok {
		var got Bool = !want
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Bool from %s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`"D"`, `2`, `"yes"`, `[1]`} {
		var got Bool
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("Bool from %s = %v, want error", in, got)
		}
	}
}

func TestStringDecode(t *testing.T) {
	ok := map[string]String{
		`"abc"`: "abc", `"a\"b\u00e9"`: `a"bé`, `410`: "410", `1000.50`: "1000.50", `true`: "1", `" "`: " ",
	}
	for _, e := range emptyForms {
		ok[e] = ""
	}
	for in, want := range ok {
		var got String = "old"
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("String from %s = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`["a"]`, `{"a":1}`} {
		var got String
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("String from %s = %q, want error", in, got)
		}
	}
}

func TestTimeDecode(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	ok := map[string]time.Time{
		`"2024-08-30T14:29:00+02:00"`:        time.Date(2024, 8, 30, 14, 29, 0, 0, plus2),
		`"2024-08-30T14:29:00.123456+02:00"`: time.Date(2024, 8, 30, 14, 29, 0, 123456000, plus2),
		`"2024-08-30T12:29:00Z"`:             time.Date(2024, 8, 30, 12, 29, 0, 0, time.UTC),
		`"2024-08-30T14:29:00"`:              time.Date(2024, 8, 30, 14, 29, 0, 0, time.UTC),
		`"2024-08-30 14:29:00"`:              time.Date(2024, 8, 30, 14, 29, 0, 0, time.UTC),
		`"30.08.2024 14:29:00"`:              time.Date(2024, 8, 30, 14, 29, 0, 0, time.UTC),
		`"30.08.2024"`:                       time.Date(2024, 8, 30, 0, 0, 0, 0, time.UTC),
		`"2024-08-30"`:                       time.Date(2024, 8, 30, 0, 0, 0, 0, time.UTC),
		`"1736405807"`:                       time.Unix(1736405807, 0),
		`1736405807`:                         time.Unix(1736405807, 0),
		`"0000-00-00 00:00:00"`:              {},
		`"0000-00-00"`:                       {},
	}
	for _, e := range emptyForms {
		ok[e] = time.Time{}
	}
	for in, want := range ok {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
			t.Errorf("Time from %s = %v, %v; want %v", in, got.Time, err, want)
		}
		var d Date
		if err := json.Unmarshal([]byte(in), &d); err != nil || !d.Equal(want) {
			t.Errorf("Date from %s = %v, %v; want %v", in, d.Time, err, want)
		}
	}
	for _, in := range []string{`"yesterday"`, `"2024-13-01"`, `"30/08/2024"`, `-5`, `1.5`, `["2024-08-30"]`} {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("Time from %s = %v, want error", in, got)
		}
	}
}

func TestValuesEncode(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	v := struct {
		I  Int    `json:"i"`
		N  Number `json:"n"`
		N2 Number `json:"n2"`
		B  Bool   `json:"b"`
		F  Bool   `json:"f"`
		S  String `json:"s"`
		T  Time   `json:"t"`
		T0 Time   `json:"t0"`
		D  Date   `json:"d"`
		D0 Date   `json:"d0"`
	}{
		I: 410, N: 1000000, N2: 1e21, B: true, S: "x",
		T: Time{time.Date(2024, 8, 30, 14, 29, 0, 500, plus2)},
		D: Date{time.Date(2024, 8, 30, 23, 0, 0, 0, plus2)},
	}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"i":410,"n":1000000,"n2":1000000000000000000000,"b":"Y","f":"N","s":"x","t":"2024-08-30T14:29:00+02:00","t0":"","d":"2024-08-30T23:00:00+02:00","d0":""}`
	if string(got) != want {
		t.Errorf("Marshal\n got %s\nwant %s", got, want)
	}
	if _, err := json.Marshal(Number(math.NaN())); err == nil {
		t.Error("NaN Number encoded without error")
	}
}

func TestOpt(t *testing.T) {
	type params struct {
		ID     Opt[int64]  `json:"id,omitzero"`
		Active Opt[Bool]   `json:"active,omitzero"`
		Title  Opt[string] `json:"title,omitzero"`
	}
	got, err := json.Marshal(params{ID: Some[int64](0), Active: Some[Bool](false)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"id":0,"active":"N"}` {
		t.Errorf("Marshal = %s: zero values that are set must be sent, unset ones omitted", got)
	}
	var p params
	if err := json.Unmarshal([]byte(`{"active":"Y","title":null}`), &p); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Active.Get(); !ok || !bool(v) {
		t.Errorf("Active = %v", p.Active)
	}
	if p.Title.Set || p.Title.Or("def") != "def" || p.ID.Set {
		t.Errorf("Title = %v, ID = %v, want both unset", p.Title, p.ID)
	}
	// "5" does not fit int64: the error must come through.
	if err := json.Unmarshal([]byte(`{"id":"5"}`), &p); err == nil {
		t.Errorf("Opt[int64] from \"5\": no error")
	}
	var q struct {
		ID Opt[Int] `json:"id"`
	}
	if err := json.Unmarshal([]byte(`{"id":"5"}`), &q); err != nil || q.ID.Or(0) != 5 {
		t.Errorf("Opt[Int] from \"5\" = %v, %v", q.ID, err)
	}
	if s := Some(3).String(); s != "3" {
		t.Errorf("String() = %q", s)
	}
}

func TestFieldsDecode(t *testing.T) {
	for _, e := range emptyForms {
		f := Fields{"x": nil}
		if err := json.Unmarshal([]byte(e), &f); err != nil || f != nil {
			t.Errorf("Fields from %s = %v, %v; want nil", e, f, err)
		}
	}
	var f Fields
	if err := json.Unmarshal([]byte(`{"UF_CRM_1":"5","UF_CRM_2":"x"}`), &f); err != nil {
		t.Fatal(err)
	}
	var n Int
	if ok, err := f.Decode("UF_CRM_1", &n); !ok || err != nil || n != 5 {
		t.Errorf("Decode UF_CRM_1 = %v, %v, %d", ok, err, n)
	}
	if ok, err := f.Decode("missing", &n); ok || err != nil {
		t.Errorf("Decode missing = %v, %v", ok, err)
	}
	if _, err := f.Decode("UF_CRM_2", &n); err == nil || !strings.Contains(err.Error(), `field "UF_CRM_2"`) {
		t.Errorf("Decode UF_CRM_2 error = %v, want it to name the field", err)
	}
	if err := json.Unmarshal([]byte(`[1]`), &f); err == nil {
		t.Error("Fields from [1]: want error")
	}
}

// Every date and date-time string in the docs' examples must decode as Time.
func TestTimeAcceptsDocsExamples(t *testing.T) {
	dir := docsDir(t)
	re := regexp.MustCompile(`"(\d{4}-\d{2}-\d{2}[T ][^"]{0,40}|\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}[^"\\]{0,20})"`)
	seen, bad := 0, []string{}
	err := filepath.WalkDir(filepath.Join(dir, "api-reference"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			seen++
			var tm Time
			if err := json.Unmarshal(m[0], &tm); err != nil {
				bad = append(bad, string(m[1]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d date strings in the docs, %d refused", seen, len(bad))
	if seen < 1000 {
		t.Errorf("only %d date strings found: the corpus layout changed?", seen)
	}
	// Placeholders such as "2024-01-01T00:00:00+03:00 (example)" may be refused,
	// but nothing a portal really sends.
	if len(bad)*1000 > seen {
		t.Errorf("%d refused, more than 0.1%%: %q", len(bad), bad[:min(len(bad), 20)])
	}
}

// docsDir finds the docs corpus: $B24_DOCS, or ../shared/b24restdocs from the
// module root. It skips the test when absent.
func docsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("B24_DOCS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "b24restdocs") // templates/b24 → module root → ..
	}
	if _, err := os.Stat(filepath.Join(dir, "api-reference")); err != nil {
		t.Skipf("docs corpus not found at %s (set B24_DOCS): %v", dir, err)
	}
	return dir
}

// FuzzValues: no decoder panics, and whatever decodes encodes and decodes back
// to the same value.
func FuzzValues(f *testing.F) {
	for _, s := range []string{`410`, `"410"`, `"1000000.00"`, `"Y"`, `null`, `[]`, `{}`, `false`, `true`,
		`"2024-08-30T14:29:00+02:00"`, `"2024-08-30"`, `"30.08.2024 14:29"`, `"1736405807"`, `"\u00e9"`, `1e400`, `"-0"`} {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{"id":1,"opportunity":1999.99,"UF_CRM_CAL_EVENT":false}`, `{"l":{"5":{"id":"5"}},"m":{"1":[1,"2"]},"o":false}`,
		`{"begindate":"2024-01-01T03:00:00+03:00","contactIds":{"0":5}}`, `{"a\u0041":[1,{"b":null}],"q":[1,2,3]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var i Int
		if json.Unmarshal(b, &i) == nil {
			roundTrip(t, b, i)
		}
		var n Number
		if json.Unmarshal(b, &n) == nil {
			roundTrip(t, b, n)
		}
		var v Bool
		if json.Unmarshal(b, &v) == nil {
			roundTrip(t, b, v)
		}
		var s String
		if json.Unmarshal(b, &s) == nil {
			roundTrip(t, b, s)
		}
		var tm Time
		if json.Unmarshal(b, &tm) == nil {
			out, err := json.Marshal(tm)
			if err != nil {
				t.Fatalf("Time from %q does not encode: %v", b, err)
			}
			var back Time
			if err := json.Unmarshal(out, &back); err != nil || !back.Equal(tm.Truncate(time.Second)) {
				t.Fatalf("Time %q → %s → %v, %v", b, out, back, err)
			}
		}
		var d Date
		if json.Unmarshal(b, &d) == nil {
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatalf("Date from %q does not encode: %v", b, err)
			}
			var back Date
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("Date %q → %s → %v", b, out, err)
			}
			if h, m, sec := d.Clock(); h != 0 || m != 0 || sec != 0 {
				if !back.Equal(d.Truncate(time.Second)) {
					t.Fatalf("Date %q → %s → %v: the time was lost", b, out, back)
				}
			} else if y, mo, dd := d.Date(); back.Year() != y || back.Month() != mo || back.Day() != dd {
				t.Fatalf("Date %q → %s → %v: the date changed", b, out, back)
			}
		}
		var fl Fields
		_ = json.Unmarshal(b, &fl)

		// The scanner agrees with encoding/json on what is a JSON object.
		tb := trimSpace(b)
		if len(tb) > 0 && tb[0] == '{' {
			scanErr := eachMember(tb, func([]byte, bool, []byte) error { return nil })
			if (scanErr == nil) != json.Valid(tb) {
				t.Fatalf("scanner on %q: %v, json.Valid %v", b, scanErr, json.Valid(tb))
			}
		}
		// Tolerant decoding never panics, and what it decodes encodes again.
		var r itemRow
		if err := r.UnmarshalJSON(b); err == nil {
			if _, err := json.Marshal(struct {
				ID    Int
				Title String
				Extra Fields
			}{r.ID, r.Title, r.Extra}); err != nil {
				t.Fatalf("row from %q does not encode: %v", b, err)
			}
		}
		var anyShape struct {
			L []itemRow       `json:"l"`
			M map[Int][]Int   `json:"m"`
			O *Opt[[]String]  `json:"o"`
			P map[string]Bool `json:"p"`
			Q [2]Int          `json:"q"`
			X any             `json:"x"`
		}
		var dt tolerant
		dt.value(b, reflect.ValueOf(&anyShape).Elem())
	})
}

func roundTrip[T comparable](t *testing.T, in []byte, v T) {
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%T from %q does not encode: %v", v, in, err)
	}
	var back T
	if err := json.Unmarshal(out, &back); err != nil || back != v {
		t.Fatalf("%T %q → %s → %v, %v", v, in, out, back, err)
	}
}
