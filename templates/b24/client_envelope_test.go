package b24

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestDecodeEnvelopeMatchesUnmarshal: the scanning decoder gives what
// json.Unmarshal of the whole body gives, and its result aliases the body.
func TestDecodeEnvelopeMatchesUnmarshal(t *testing.T) {
	for _, in := range []string{
		`{"result":[1,2,{"result":3}],"total":2,"next":50,"time":{"start":1.5,"operating_reset_at":1724917459}}`,
		` { "time" : {"operating":1} , "result" : {"a":"}\"{"} } `,
		`{"\u0072esult":true}`,
		`{"result":1,"result":2}`,
		`{"error":"NOT_FOUND","error_description":"Not found"}`,
		`{"error":{"code":"x","message":"m","validation":[{"field":"f","message":"v"}]}}`,
		`{"next":"50","total":"7","result":"s"}`,
		`{}`,
		`null`,
	} {
		var want envelope
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		body := []byte(in)
		got, err := decodeEnvelope(body)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("%s:\n got %s\nwant %s", in, gj, wj)
		}
		if len(got.Result) > 0 && !bytes.Contains(body, got.Result) {
			t.Errorf("%s: result %s is not from the body", in, got.Result)
		}
	}
	for _, in := range []string{`[1]`, `"x"`, `{"result":[1,}`, `{"result":1`, ``, `<html>`} {
		want := json.Unmarshal([]byte(in), new(envelope))
		if _, err := decodeEnvelope([]byte(in)); err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%q: err %v, want %v", in, err, want)
		}
	}
}
