package b24

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestTopLevelMember(t *testing.T) {
	for _, tc := range []struct {
		in, key, want string
		found, bad    bool
	}{
		{in: `{"ID":"5","TITLE":"x"}`, key: "ID", want: `"5"`, found: true},
		{in: ` { "a" : {"ID": 1, "s": "}\"]"} , "ID" : 42 } `, key: "ID", want: `42`, found: true},
		{in: `{"list":[1,[2,{"ID":3}]],"id":7}`, key: "ID"},
		{in: `{"list":[1,[2,{"ID":3}]],"id":7}`, key: "id", want: "7", found: true},
		{in: `{"\u0049D":"9"}`, key: "ID", want: `"9"`, found: true},
		{in: `{}`, key: "ID"},
		{in: `[1,2]`, key: "ID", bad: true},
		{in: `{"ID":`, key: "ID", bad: true},
		{in: `{"ID" 5}`, key: "ID", bad: true},
		{in: `{"a":"unterminated`, key: "ID", bad: true},
		{in: ``, key: "ID", bad: true},
	} {
		got, found, err := topLevelMember([]byte(tc.in), tc.key)
		if (err != nil) != tc.bad || found != tc.found || string(got) != tc.want {
			t.Errorf("topLevelMember(%s, %s) = %s, %v, %v", tc.in, tc.key, got, found, err)
		}
	}
}

// FuzzTopLevelMember checks the scanner against encoding/json on any input.
func FuzzTopLevelMember(f *testing.F) {
	f.Add([]byte(`{"ID":"5","x":[{"ID":1}],"y":"\"}"}`))
	f.Add([]byte(`{"a":{"b":[1,2,{"c":null}]},"ID":-1.5e3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, found, err := topLevelMember(b, "ID")
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil || m == nil {
			return // only valid objects have a defined answer; invalid ones must merely not panic
		}
		want, ok := m["ID"]
		if err != nil || found != ok {
			t.Fatalf("%s: found %v err %v, want found %v", b, found, err, ok)
		}
		if ok && string(want) != string(got) {
			// Duplicate keys: encoding/json keeps the last, we the first.
			var again map[string]any
			_ = json.Unmarshal(b, &again)
			if len(again) == len(m) && countKey(b) == 1 {
				t.Fatalf("%s: got %s, want %s", b, got, want)
			}
		}
	})
}

func countKey(b []byte) int {
	n := 0
	for i := 0; i+4 <= len(b); i++ {
		if string(b[i:i+4]) == `"ID"` {
			n++
		}
	}
	return n
}

// FuzzSplitRows checks splitRows against encoding/json: on a valid array
// or object of rows it finds the same rows, byte for byte (compacted); on
// anything else it errs or finds rows, never panics.
func FuzzSplitRows(f *testing.F) {
	f.Add([]byte(`[{"ID":"5"},{"ID":6,"x":[1,{"a":"]"}]}]`))
	f.Add([]byte(` [ 1 , "two" , null , [ ] , { } ] `))
	f.Add([]byte(`{"a":{"ID":1},"b":{"ID":2}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := splitRows(b, "")
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil {
			return // objects and invalid input: no panic is the check
		}
		if err != nil {
			t.Fatalf("splitRows(%q): %v, want %d rows", b, err, len(want))
		}
		if len(rows) != len(want) {
			t.Fatalf("splitRows(%q): %d rows, want %d", b, len(rows), len(want))
		}
		for i := range rows {
			var x, y bytes.Buffer
			if json.Compact(&x, rows[i]) != nil || json.Compact(&y, want[i]) != nil || x.String() != y.String() {
				t.Fatalf("splitRows(%q) row %d = %q, want %q", b, i, rows[i], want[i])
			}
		}
	})
}
