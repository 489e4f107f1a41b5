package resolve

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/b24gen/b24gen/spec"
)

// fitsScalar is the one test of whether a documented scalar kind holds a
// value the portal sent (v, one JSON value). It follows the reading rules
// of the runtime's tolerant values (templates/b24/values.go: Int, Number,
// Bool, String, Date, Time), so "fits" means "the generated type decodes
// it" (TestFitsScalarAgreesWithRuntime holds the two together), with one
// narrowing: a small number is no date (see timeText). The rules
// are the portal's, not Go's: IDs arrive as numbers or numeric strings,
// flags as Y/N, 1/0 or true/false, empty values as null, "", false, [] or
// {}, dates with or without a time, as Unix seconds or "31.01.2024".
// Kinds that are not scalars fit anything here.
func fitsScalar(k spec.Kind, v []byte) bool {
	v = bytes.TrimSpace(v)
	if isEmptyJSON(v) {
		return true
	}
	switch k {
	case spec.KindInteger:
		s, ok := numericText(v)
		return ok && (s == "" || integralText(s))
	case spec.KindNumber:
		s, ok := numericText(v)
		if !ok || s == "" {
			return ok
		}
		_, err := strconv.ParseFloat(s, 64)
		return decimalText(s) && err == nil
	case spec.KindBoolean:
		s, isStr := jsonString(v)
		if !isStr {
			s = string(v)
		}
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "Y", "1", "TRUE", "1.0", "N", "0", "FALSE", "", "0.0":
			return true
		}
		return false
	case spec.KindString, spec.KindEnum:
		if _, isStr := jsonString(v); isStr {
			return true
		}
		return string(v) == "true" || (v[0] == '-' || '0' <= v[0] && v[0] <= '9') && json.Valid(v)
	case spec.KindDate, spec.KindDateTime:
		s, isStr := jsonString(v)
		if !isStr {
			return allDigits(string(v)) && timeText(string(v))
		}
		return timeText(s)
	}
	return true
}

// fitsValue is fitsScalar for a decoded example value (json.Number kept).
func fitsValue(k spec.Kind, v any) bool {
	data, err := json.Marshal(v)
	return err == nil && fitsScalar(k, data)
}

// jsonString returns the text of a JSON string; isStr is false for any
// other value (or a string that does not decode).
func jsonString(v []byte) (string, bool) {
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// numericText is the text a number is read from: a number's literal, a
// string's trimmed content, "1" for true; ok is false for anything else.
func numericText(v []byte) (string, bool) {
	if string(v) == "true" {
		return "1", true
	}
	if s, isStr := jsonString(v); isStr {
		return strings.TrimSpace(s), true
	}
	if len(v) > 0 && (v[0] == '-' || '0' <= v[0] && v[0] <= '9') {
		return string(v), true
	}
	return "", false
}

// integralText reads "410", "+410", "1000.00" or "1e3": a whole number in
// the int64 range, a fraction refused rather than rounded.
func integralText(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	if !decimalText(s) {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64
}

// decimalText refuses what strconv.ParseFloat takes beyond plain decimals
// ("Inf", "NaN", hex floats, underscores).
func decimalText(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits = true
		case c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// timeLayouts are the forms of a date or date-time the portal sends.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	time.DateOnly,
	"02.01.2006",
}

// minUnixSeconds is the least Unix time taken for a moment (1973-03-03).
const minUnixSeconds = 100_000_000

// timeText reports text that reads as a date or date-time: one of
// timeLayouts, Unix seconds from 1973 to the year 10000, a zero date, or
// blank.
func timeText(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return true
	}
	if allDigits(s) {
		// The runtime reads any Unix seconds; as evidence a small count
		// ("32400", START_DATE_PLAN_AFTER's offset) is a duration, not
		// a moment, so only seconds past 1973 fit.
		sec, err := strconv.ParseInt(s, 10, 64)
		return err == nil && sec >= minUnixSeconds && sec < 253402300800
	}
	for _, layout := range timeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
