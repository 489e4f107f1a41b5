package b24

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bitrix24 is written in PHP and its JSON shows it: an ID arrives as 410 or
// "410", a flag as "Y", an amount as "1000000.00", and an empty value as null,
// "", false, [] or {} depending on the method. The types below accept every
// one of those forms, so a generated struct decodes whatever the portal sends,
// and encode back the form the portal accepts.

// Int is an integer that arrives as a JSON number or a numeric string
// ("410", "1000.00" when the fraction is zero). The empty forms decode to 0
// and true to 1. It encodes as a JSON number.
type Int int64

// Number is a decimal that arrives as a JSON number or a string ("1000000.00").
// The empty forms decode to 0. It encodes as a JSON number without exponent.
type Number float64

// Bool is a flag that arrives as "Y"/"N" (any case), true/false, 1/0, "1"/"0"
// or "true"/"false". The empty forms decode to false. It encodes as "Y" or "N",
// the form every Bitrix24 method accepts.
type Bool bool

// String is text that may arrive as a number (rendered exactly as sent) or a
// boolean (true as "1", as PHP renders it). The empty forms decode to "".
type String string

// Time is a date and time. It accepts RFC 3339 with an offset or "Z",
// "2006-01-02T15:04:05", "2006-01-02 15:04:05", "02.01.2006 15:04:05", the
// date-only forms of Date, and Unix seconds as a number or numeric string.
// Forms without an offset are read as UTC, since the portal's time zone is
// not in the value. The empty forms and "0000-00-00 00:00:00" decode to the
// zero Time. It encodes as RFC 3339 (seconds, with offset); the zero Time
// encodes as "".
type Time struct{ time.Time }

// Date is a calendar date. It accepts "2006-01-02", "02.01.2006" and every
// form Time accepts, keeping what arrived: a field documented as a date that
// carries "2024-01-01T03:00:00+03:00" keeps its time and offset. It encodes
// as "2006-01-02" when it holds midnight in its own zone (what a date-only
// value decodes to, and how to send a plain date), else as RFC 3339 like
// Time, so a datetime read is sent back unchanged; "" for the zero Date.
type Date struct{ time.Time }

// Fields holds the keys of an object that its Go struct does not declare:
// user fields (UF_*), PARENT_ID_* links, anything newer than the docs.
// Values are kept as the raw JSON the portal sent.
type Fields map[string]json.RawMessage

// Opt marks an optional value whose presence matters: a request sends the
// field only when Set, and then sends it even when it is 0, "" or false.
// Use it with the ",omitzero" JSON option.
type Opt[T any] struct {
	Value T
	Set   bool
}

// Some returns a set Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{Value: v, Set: true} }

// IsZero reports whether o is unset; encoding/json's omitzero calls it.
func (o Opt[T]) IsZero() bool { return !o.Set }

// Get returns the value and whether it is set.
func (o Opt[T]) Get() (T, bool) { return o.Value, o.Set }

// Or returns the value when set and def otherwise.
func (o Opt[T]) Or(def T) T {
	if o.Set {
		return o.Value
	}
	return def
}

// MarshalJSON encodes the value, or null when unset.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// UnmarshalJSON sets o from any value but null, which leaves it unset.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	var zero T
	if string(bytes.TrimSpace(b)) == "null" {
		*o = Opt[T]{Value: zero}
		return nil
	}
	o.Value = zero
	var err error
	if u, ok := any(&o.Value).(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(b) // our own types: no second parse
	} else {
		err = json.Unmarshal(b, &o.Value)
	}
	if err != nil {
		// The empty forms of a list or an object, an object for a list:
		// read the tolerant way; anything else does not fit.
		o.Value = zero
		var d tolerant
		d.value(b, reflect.ValueOf(&o.Value).Elem())
		if len(d.found) > 0 {
			return err
		}
	}
	o.Set = true
	return nil
}

// String renders the value, or "unset".
func (o Opt[T]) String() string {
	if !o.Set {
		return "unset"
	}
	return fmt.Sprint(o.Value)
}

// ValueError reports a JSON value that none of a type's accepted forms match.
type ValueError struct {
	Type  string // "Int", "Bool", …
	Value string // the JSON text received, cut to a readable length
	Want  string // the forms accepted
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("b24: cannot decode %s as %s: want %s", e.Value, e.Type, e.Want)
}

const maxValueInErr = 64

func valueError(typ string, raw []byte, want string) error {
	v := string(raw)
	if len(v) > maxValueInErr {
		v = v[:maxValueInErr] + "…"
	}
	return &ValueError{Type: typ, Value: v, Want: want}
}

// isEmptyValue reports whether b is one of the forms Bitrix24 uses for "no
// value": null, "", false, [] or {} (spaces allowed inside the brackets).
func isEmptyValue(b []byte) bool {
	switch string(b) {
	case "null", `""`, "false", "[]", "{}":
		return true
	}
	if len(b) >= 2 && (b[0] == '[' && b[len(b)-1] == ']' || b[0] == '{' && b[len(b)-1] == '}') {
		return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	}
	return false
}

// jsonText returns the text of a JSON string literal, or ok=false when b is
// not a string.
func jsonText(b []byte) (s string, ok bool, err error) {
	if len(b) == 0 || b[0] != '"' {
		return "", false, nil
	}
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1]), true, nil // fast path: no escapes to undo
	}
	err = json.Unmarshal(b, &s)
	return s, true, err
}

func isJSONNumberStart(c byte) bool { return c == '-' || '0' <= c && c <= '9' }

const intWant = "an integer or a string holding one"

// numericText returns the text Int and Number parse from the trimmed JSON
// value b: a number's literal or a string's trimmed content; "" for the empty
// forms and for a blank string, "1" for true. ok is false for anything else.
func numericText(b []byte) (s string, ok bool) {
	if isEmptyValue(b) {
		return "", true
	}
	if string(b) == "true" {
		return "1", true
	}
	s, isStr, err := jsonText(b)
	switch {
	case err != nil:
		return "", false
	case isStr:
		return strings.TrimSpace(s), true
	case len(b) > 0 && isJSONNumberStart(b[0]):
		return string(b), true
	}
	return "", false
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s, ok := numericText(b)
	if !ok {
		return valueError("Int", b, intWant)
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, ok := parseIntText(s)
	if !ok {
		return valueError("Int", b, intWant)
	}
	*n = Int(v)
	return nil
}

// parseIntText reads "410", "+410", "1000.00" or "1e3"; a fraction or an
// out-of-range value is refused rather than rounded.
func parseIntText(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	if !looksDecimal(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// looksDecimal refuses what strconv.ParseFloat accepts beyond plain decimals:
// "Inf", "NaN", hex floats and underscores.
func looksDecimal(s string) bool {
	if s == "" {
		return false
	}
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digits = true
		case c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits
}

// MarshalJSON implements json.Marshaler.
func (n Int) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(n), 10), nil }

// String returns the decimal text.
func (n Int) String() string { return strconv.FormatInt(int64(n), 10) }

// MarshalText gives the decimal text, so an Int works as a map key, in
// query strings and in log attributes the same way as in JSON.
func (n Int) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(n), 10), nil }

// UnmarshalText reads the text forms UnmarshalJSON reads inside a string
// ("410", "1000.00"); "" is 0.
func (n *Int) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*n = 0
		return nil
	}
	v, ok := parseIntText(s)
	if !ok {
		return valueError("Int", strconv.AppendQuote(nil, string(b)), intWant)
	}
	*n = Int(v)
	return nil
}

const numberWant = "a number or a string holding one"

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s, ok := numericText(b)
	if !ok {
		return valueError("Number", b, numberWant)
	}
	if s == "" {
		*n = 0
		return nil
	}
	if !looksDecimal(s) {
		return valueError("Number", b, numberWant)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return valueError("Number", b, numberWant)
	}
	*n = Number(f)
	return nil
}

// MarshalJSON implements json.Marshaler; NaN and infinities have no JSON form.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("b24: Number %v has no JSON form", f)
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// String returns the decimal text, without exponent.
func (n Number) String() string { return strconv.FormatFloat(float64(n), 'f', -1, 64) }

const boolWant = `"Y"/"N", true/false, 1/0 or "1"/"0"`

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*v = false
		return nil
	}
	s, isStr, err := jsonText(b)
	if err != nil {
		return valueError("Bool", b, boolWant)
	}
	if !isStr {
		s = string(b)
	}
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "Y", "1", "TRUE", "1.0":
		*v = true
	case "N", "0", "FALSE", "", "0.0":
		*v = false
	default:
		return valueError("Bool", b, boolWant)
	}
	return nil
}

// MarshalJSON implements json.Marshaler: "Y" or "N".
func (v Bool) MarshalJSON() ([]byte, error) {
	if v {
		return []byte(`"Y"`), nil
	}
	return []byte(`"N"`), nil
}

// String returns "Y" or "N".
func (v Bool) String() string {
	if v {
		return "Y"
	}
	return "N"
}

const stringWant = "a string, number or boolean"

// UnmarshalJSON implements json.Unmarshaler.
func (v *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*v = ""
		return nil
	}
	s, isStr, err := jsonText(b)
	switch {
	case err != nil:
		return valueError("String", b, stringWant)
	case isStr:
		*v = String(s)
	case string(b) == "true":
		*v = "1" // PHP's (string)true
	case len(b) > 0 && isJSONNumberStart(b[0]) && json.Valid(b):
		*v = String(b)
	default:
		return valueError("String", b, stringWant)
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (v String) MarshalJSON() ([]byte, error) { return json.Marshal(string(v)) }

// Layouts Time and Date read, tried in order.
var timeLayouts = []string{
	time.RFC3339Nano, // also reads RFC 3339 without fraction, and "Z"
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

const timeWant = "a date-time such as 2024-08-30T14:29:00+02:00 or Unix seconds"

// parseTime reads the text of any accepted form; zero dates give the zero time.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, true
	}
	if isDigits(s) {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec >= 253402300800 { // year 10000: no RFC 3339 form
			return time.Time{}, false
		}
		return time.Unix(sec, 0).UTC(), true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decodeTime reads any JSON form of Time.
func decodeTime(typ string, b []byte) (time.Time, error) {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		return time.Time{}, nil
	}
	s, isStr, err := jsonText(b)
	if err != nil {
		return time.Time{}, valueError(typ, b, timeWant)
	}
	if !isStr {
		if !isDigits(string(b)) {
			return time.Time{}, valueError(typ, b, timeWant)
		}
		s = string(b)
	}
	t, ok := parseTime(s)
	if !ok {
		return time.Time{}, valueError(typ, b, timeWant)
	}
	return t, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	v, err := decodeTime("Time", b)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler: RFC 3339, or "" for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	b, _ := t.MarshalText()
	return strconv.AppendQuote(nil, string(b)), nil
}

// MarshalText gives the RFC 3339 form, or "" for the zero Time. It replaces
// time.Time's own method so text encoders agree with JSON.
func (t Time) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return []byte{}, nil
	}
	return []byte(t.Time.Format(time.RFC3339)), nil
}

// UnmarshalText reads any text form UnmarshalJSON reads.
func (t *Time) UnmarshalText(b []byte) error {
	v, ok := parseTime(string(b))
	if !ok {
		return valueError("Time", strconv.AppendQuote(nil, string(b)), timeWant)
	}
	t.Time = v
	return nil
}

// String gives the RFC 3339 form, or "" for the zero Time.
func (t Time) String() string {
	b, _ := t.MarshalText()
	return string(b)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Date) UnmarshalJSON(b []byte) error {
	v, err := decodeTime("Date", b)
	if err != nil {
		return err
	}
	d.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler: the text of MarshalText, quoted.
func (d Date) MarshalJSON() ([]byte, error) {
	b, _ := d.MarshalText()
	return strconv.AppendQuote(nil, string(b)), nil
}

// MarshalText gives "2006-01-02", the RFC 3339 form when the Date holds a
// time of day, or "" for the zero Date.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if h, m, s := d.Clock(); h != 0 || m != 0 || s != 0 {
		return []byte(d.Time.Format(time.RFC3339)), nil
	}
	return []byte(d.Time.Format(time.DateOnly)), nil
}

// UnmarshalText reads any text form UnmarshalJSON reads.
func (d *Date) UnmarshalText(b []byte) error {
	v, ok := parseTime(string(b))
	if !ok {
		return valueError("Date", strconv.AppendQuote(nil, string(b)), timeWant)
	}
	d.Time = v
	return nil
}

// String gives "2006-01-02", or "" for the zero Date.
func (d Date) String() string {
	b, _ := d.MarshalText()
	return string(b)
}

// UnmarshalJSON reads an object's keys; the empty forms give nil Fields.
func (f *Fields) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*f = nil
		return nil
	}
	if len(b) == 0 || b[0] != '{' {
		return valueError("Fields", b, "an object")
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*f = m
	return nil
}

// Decode decodes the value of key into v. It reports false when the key is
// absent, and an error naming the key when the value does not fit v.
func (f Fields) Decode(key string, v any) (bool, error) {
	raw, ok := f[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("field %q: %w", key, err)
	}
	return true, nil
}

// Set encodes v as the value of key, making the map on first use: the way
// to send a field the docs do not list, such as a custom UF_CRM_* field.
//
//	fields.Extra, err = fields.Extra.Set("UF_CRM_1721244482250", "Hello")
func (f Fields) Set(key string, v any) (Fields, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return f, fmt.Errorf("field %q: %w", key, err)
	}
	if f == nil {
		f = Fields{}
	}
	f[key] = raw
	return f, nil
}
