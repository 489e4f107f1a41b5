package b24

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzEnvelopeAgreesWithJSON: the one-scan envelope decoder gives what
// json.Unmarshal gives for every member it reads, and fails where it fails.
func FuzzEnvelopeAgreesWithJSON(f *testing.F) {
	for _, s := range []string{
		`{"result":{"ID":"1"},"time":{"start":1700000000.1,"finish":1700000000.2,"duration":0.1,"processing":0.05,"operating":0,"operating_reset_at":1700000600,"date_start":"2024-01-01T00:00:00+00:00","date_finish":"2024-01-01T00:00:01+00:00"}}`,
		`{"result":[1,2],"total":"120","next":50,"time":{"start":"1700000000.5","operating":"12.5"}}`,
		`{"error":"NOT_FOUND","error_description":"Not found"}`,
		`{"Result":1,"TIME":null,"result":2}`,
		`{"res\u0075lt":3,"time":{"date_start":"a\"b"}}`,
		`{"result":1,"time":"x"}`,
		`{"result":1,"time":{}}`,
		`{"result":`, `[]`, `null`, ` {"result" : true } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want envelope
		wantErr := json.Unmarshal(body, &want)
		got, err := decodeEnvelope(bytes.Clone(body))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: err %v, json.Unmarshal %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		for name, pair := range map[string][2]json.RawMessage{
			"result": {got.Result, want.Result}, "total": {got.Total, want.Total}, "next": {got.Next, want.Next},
			"error": {got.Error, want.Error}, "error_description": {got.ErrorDescription, want.ErrorDescription},
		} {
			if !bytes.Equal(pair[0], pair[1]) {
				t.Fatalf("%q: %s = %q, json.Unmarshal gives %q", body, name, pair[0], pair[1])
			}
		}
		if !reflect.DeepEqual(got.Time, want.Time) {
			t.Fatalf("%q: time = %+v, json.Unmarshal gives %+v", body, got.Time, want.Time)
		}
	})
}
