package b24

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeForm(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]any
	}{
		{"empty body", "", map[string]any{}},
		{"flat", "a=1&b=x+y", map[string]any{"a": "1", "b": "x y"}},
		{"nested event", "event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=759&auth%5Bapplication_token%5D=tok",
			map[string]any{
				"event": "ONCRMDEALUPDATE",
				"data":  map[string]any{"FIELDS": map[string]any{"ID": "759"}},
				"auth":  map[string]any{"application_token": "tok"},
			}},
		{"unescaped brackets", "data[FIELDS][ID]=759", map[string]any{"data": map[string]any{"FIELDS": map[string]any{"ID": "759"}}}},
		{"append", "a[]=1&a[]=2", map[string]any{"a": []any{"1", "2"}}},
		{"indexed list", "b[0]=x&b[1]=y", map[string]any{"b": []any{"x", "y"}}},
		{"indexed out of order", "b[1]=y&b[0]=x", map[string]any{"b": []any{"x", "y"}}},
		{"sparse stays map", "b[0]=x&b[2]=y", map[string]any{"b": map[string]any{"0": "x", "2": "y"}}},
		{"mixed stays map", "b[0]=x&b[k]=y", map[string]any{"b": map[string]any{"0": "x", "k": "y"}}},
		{"leading zero is not an index", "b[00]=x", map[string]any{"b": map[string]any{"00": "x"}}},
		{"append after index", "a[5]=x&a[]=y", map[string]any{"a": map[string]any{"5": "x", "6": "y"}}},
		{"list of objects", "r[0][ID]=1&r[0][N]=a&r[1][ID]=2", map[string]any{"r": []any{
			map[string]any{"ID": "1", "N": "a"}, map[string]any{"ID": "2"}}}},
		{"append objects", "r[][x]=1&r[][y]=2", map[string]any{"r": []any{map[string]any{"x": "1"}, map[string]any{"y": "2"}}}},
		{"key without value", "flag&a=", map[string]any{"flag": "", "a": ""}},
		{"empty pairs skipped", "&a=1&&b=2&", map[string]any{"a": "1", "b": "2"}},
		{"later wins", "a=1&a=2", map[string]any{"a": "2"}},
		{"container replaces scalar", "a=1&a[b]=2", map[string]any{"a": map[string]any{"b": "2"}}},
		{"scalar replaces container", "a[b]=2&a=1", map[string]any{"a": "1"}},
		{"equals in value", "a=x%3Dy=z", map[string]any{"a": "x=y=z"}},
		{"filter operators", "filter%5B%3E%3DID%5D=5", map[string]any{"filter": map[string]any{">=ID": "5"}}},
		{"top level numeric stays map", "0=a&1=b", map[string]any{"0": "a", "1": "b"}},
		{"utf8", "t=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82", map[string]any{"t": "Привет"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeForm(tc.body)
			if err != nil {
				t.Fatalf("DecodeForm(%q): %v", tc.body, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecodeForm(%q)\n got %#v\nwant %#v", tc.body, got, tc.want)
			}
		})
	}
}

func TestDecodeFormErrors(t *testing.T) {
	deep := "a" + strings.Repeat("[x]", maxFormDepth+1) + "=1"
	many := strings.Repeat("a=1&", maxFormPairs+1)
	tests := []struct {
		body string
		want string // substring of the error
	}{
		{"a[b=1", `key "a[b" (pair 1): unbalanced "["`},
		{"x=1&a[b][c=1", `key "a[b][c" (pair 2): unbalanced "["`},
		{"a]=1", `key "a]" (pair 1): unbalanced "]"`},
		{"[b]=1", `key "[b]" (pair 1): empty name before [`},
		{"=1", `key "" (pair 1): empty name`},
		{"a[b]c=1", `key "a[b]c" (pair 1): text after "]"`},
		{"a[b[c]]=1", `key "a[b[c]]" (pair 1): "[" inside brackets`},
		{"a%zz=1", `key "a%zz" (pair 1): bad percent-escape`},
		{"a=%zz", `value of key "a" (pair 1): bad percent-escape`},
		{deep, "deeper than 32 levels"},
		{many, "more than 10000 keys"},
	}
	for _, tc := range tests {
		got, err := DecodeForm(tc.body)
		if err == nil {
			t.Errorf("DecodeForm(%.40q) = %v, want error", tc.body, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeForm(%.40q) error %q, want it to contain %q", tc.body, err, tc.want)
		}
	}
}

func TestDecodeFormErrorHidesValue(t *testing.T) {
	_, err := DecodeForm("auth[application_token]=secret-value%zz")
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Errorf("error %q shows the value", err)
	}
}

func TestEncodeForm(t *testing.T) {
	type inner struct {
		ID   int64  `json:"ID"`
		Name string `json:"NAME,omitempty"`
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, ""},
		{"flat sorted", map[string]any{"b": "2", "a": "1"}, "a=1&b=2"},
		{"nested", map[string]any{"filter": map[string]any{">ID": 5}, "order": map[string]any{"ID": "ASC"}},
			"filter%5B%3EID%5D=5&order%5BID%5D=ASC"},
		{"list", map[string]any{"select": []any{"ID", "TITLE"}}, "select%5B0%5D=ID&select%5B1%5D=TITLE"},
		{"typed list", map[string]any{"select": []string{"ID", "UF_*"}}, "select%5B0%5D=ID&select%5B1%5D=UF_%2A"},
		{"bools as php", map[string]any{"t": true, "f": false}, "f=0&t=1"},
		{"numbers", map[string]any{"i": 42, "f": 1.5, "whole": 3.0, "big": 1e21, "neg": int64(-7), "u": uint8(9)},
			"big=1000000000000000000000&f=1.5&i=42&neg=-7&u=9&whole=3"},
		{"json number", map[string]any{"n": json.Number("12345678901234567890"), "d": json.Number("2.50"), "e": json.Number("1e3")},
			"d=2.5&e=1000&n=12345678901234567890"},
		{"nil is empty", map[string]any{"a": nil}, "a="},
		{"empty containers dropped", map[string]any{"a": map[string]any{}, "b": []any{}, "c": "x"}, "c=x"},
		{"rfc1738", map[string]any{"q": "a b~c*d/e&f=g+h.i-j_k"}, "q=a+b%7Ec%2Ad%2Fe%26f%3Dg%2Bh.i-j_k"},
		{"utf8", map[string]any{"t": "Привет"}, "t=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"},
		{"numeric keys numerically", map[string]any{"10": "a", "9": "b", "x": "c"}, "9=b&10=a&x=c"},
		{"int keyed map", map[int]string{2: "b", 1: "a"}, "1=a&2=b"},
		{"struct via json", map[string]any{"fields": inner{ID: 7}}, "fields%5BID%5D=7"},
		{"top level list", []any{"a", "b"}, "0=a&1=b"},
		{"opt unset omitted", struct {
			A Opt[int] `json:"a,omitzero"`
			B Opt[int] `json:"b,omitzero"`
		}{B: Some(0)}, "b=0"},
		{"value types as in JSON", map[string]any{"fields": map[string]any{
			"OPENED": Bool(true), "ID": Int(5), "SUM": Number(10.5),
			"DATE": Time{time.Date(2024, 8, 30, 14, 29, 0, 0, time.FixedZone("", 7200))}, "EMPTY": Time{}}},
			"fields%5BDATE%5D=2024-08-30T14%3A29%3A00%2B02%3A00&fields%5BEMPTY%5D=&fields%5BID%5D=5&fields%5BOPENED%5D=Y&fields%5BSUM%5D=10.5"},
		{"raw json", map[string]any{"r": json.RawMessage(`{"x":[1,"y"]}`)}, "r%5Bx%5D%5B0%5D=1&r%5Bx%5D%5B1%5D=y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalForm(tc.in)
			if err != nil {
				t.Fatalf("MarshalForm: %v", err)
			}
			if got != tc.want {
				t.Errorf("MarshalForm(%#v)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			if e := EncodeForm(tc.in); e != got {
				t.Errorf("EncodeForm = %s, MarshalForm = %s", e, got)
			}
		})
	}
}

func TestMarshalFormErrors(t *testing.T) {
	tests := []struct {
		in      any
		want    string // error substring
		bestEff string // what EncodeForm still writes
	}{
		{"scalar", "top level", ""},
		{map[string]any{"": "x", "a": "1"}, `key ""`, "a=1"},
		{map[string]any{"a[b": "x", "c": "1"}, `key "a[b"`, "c=1"},
		{map[string]any{"n": math.NaN(), "c": "1"}, `key "n": number NaN`, "c=1&n="},
		{map[string]any{"ch": make(chan int)}, "unsupported type", "ch="},
	}
	for _, tc := range tests {
		got, err := MarshalForm(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("MarshalForm(%v) error %v, want it to contain %q", tc.in, err, tc.want)
		}
		if got != tc.bestEff {
			t.Errorf("MarshalForm(%v) best effort %q, want %q", tc.in, got, tc.bestEff)
		}
	}
}

// The form a Bitrix24 batch command carries: decoding what we encode gives
// back the same tree, with every scalar as the string PHP would see.
func TestFormRoundTripParams(t *testing.T) {
	params := map[string]any{
		"filter": map[string]any{">ID": 10, "STAGE_ID": []any{"NEW", "WON"}, "%TITLE": "a & b"},
		"select": []any{"ID", "UF_*"},
		"order":  map[string]any{"ID": "ASC"},
		"start":  -1,
	}
	tree, err := DecodeForm(EncodeForm(params))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"filter": map[string]any{">ID": "10", "STAGE_ID": []any{"NEW", "WON"}, "%TITLE": "a & b"},
		"select": []any{"ID", "UF_*"},
		"order":  map[string]any{"ID": "ASC"},
		"start":  "-1",
	}
	if !reflect.DeepEqual(tree, want) {
		t.Errorf("round trip\n got %#v\nwant %#v", tree, want)
	}
}

func FuzzFormRoundTrip(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "data[FIELDS][ID]=759&auth[application_token]=x&a[]=1&a[]=2&b[0]=x&b[1]=y",
		"a[5]=x&a[]=y", "a=1&a[b]=2", "r[][x]=1&r[][y]=2", "a[b=1", "a%5B%5D=%20+", "b[1]=y&b[0]=x&b[2][]=z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		t1, err := DecodeForm(body)
		if err != nil {
			return
		}
		s1, err := MarshalForm(t1)
		if err != nil {
			t.Fatalf("MarshalForm(DecodeForm(%q)): %v", body, err)
		}
		t2, err := DecodeForm(s1)
		if err != nil {
			t.Fatalf("DecodeForm(%q) (encoded from %q): %v", s1, body, err)
		}
		if !reflect.DeepEqual(t1, t2) {
			t.Fatalf("Decode(Encode(tree)) != tree for %q\n tree %#v\n back %#v", body, t1, t2)
		}
		if s2 := EncodeForm(t2); s2 != s1 {
			t.Fatalf("encoding not stable for %q: %q then %q", body, s1, s2)
		}
	})
}

func BenchmarkDecodeForm(b *testing.B) {
	body := formOf(b, dealUpdateDoc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeForm(body); err != nil {
			b.Fatal(err)
		}
	}
}
