package resolve

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
	"github.com/b24gen/b24gen/templates/b24"
)

// TestFitsScalarAgreesWithRuntime: fitsScalar is the runtime's reading of
// a value, so "fits" means "the generated type decodes it". Each value is
// run through both; the one narrowing (a small number is no date) is
// listed.
func TestFitsScalarAgreesWithRuntime(t *testing.T) {
	targets := map[spec.Kind]func() any{
		spec.KindInteger:  func() any { return new(b24.Int) },
		spec.KindNumber:   func() any { return new(b24.Number) },
		spec.KindBoolean:  func() any { return new(b24.Bool) },
		spec.KindString:   func() any { return new(b24.String) },
		spec.KindEnum:     func() any { return new(b24.String) },
		spec.KindDate:     func() any { return new(b24.Date) },
		spec.KindDateTime: func() any { return new(b24.Time) },
	}
	values := []string{
		`410`, `"410"`, `" 410 "`, `-3`, `"+410"`, `1000.00`, `"1000.00"`, `1e3`, `1999.99`, `"1999.99"`, `"12abc"`,
		`"Inf"`, `"NaN"`, `"0x10"`, `1e400`, `9223372036854775807`, `99999999999999999999`,
		`true`, `false`, `null`, `""`, `"  "`, `[]`, `{}`, `[ ]`, `[1]`, `{"a":1}`,
		`"Y"`, `"N"`, `"y"`, `"1"`, `"0"`, `"TRUE"`, `"E"`, `2`, `1.0`, `"1.0"`,
		`"2024-08-30T14:29:00+02:00"`, `"2024-08-30 14:29:00"`, `"2024-08-30"`, `"30.08.2024"`, `"30.08.2024 14:29"`,
		`"0000-00-00 00:00:00"`, `"1725020940"`, `1725020940`, `"2024-13-45"`, `"yesterday"`, `"text"`, `"a\"b"`,
	}
	narrowed := map[string]bool{} // values the runtime reads as a date that fitsScalar refuses
	for _, v := range []string{`410`, `"410"`, `" 410 "`, `2`, `"1"`, `"0"`, `-3`} {
		narrowed[v] = true
	}
	for k, target := range targets {
		for _, v := range values {
			decodes := json.Unmarshal([]byte(v), target()) == nil
			fits := fitsScalar(k, []byte(v))
			if (k == spec.KindDate || k == spec.KindDateTime) && narrowed[v] {
				if fits {
					t.Errorf("fitsScalar(%s, %s) = true, want false: a small number is no moment", k, v)
				}
				continue
			}
			if fits != decodes {
				t.Errorf("fitsScalar(%s, %s) = %v, the runtime decodes it: %v", k, v, fits, decodes)
			}
		}
	}
}
