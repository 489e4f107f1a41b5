package b24

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// RequiredError reports a required parameter left unset. Generated functions
// return it before sending anything, so a forgotten ID never reaches the portal
// as 0.
type RequiredError struct {
	Method string // "crm.deal.get"
	Param  string // "id"; a nested one is written as "fields.TITLE"
}

func (e *RequiredError) Error() string {
	return fmt.Sprintf("%s: required parameter %q is missing", e.Method, e.Param)
}

// DecodeObject decodes the JSON object data into v, a pointer to a struct
// whose fields carry json tags, and stores every key that no field claims into
// *extra (nil when there are none; extra itself may be nil to drop them).
// v is reset first. The empty forms Bitrix24 sends for "no object" (null, [],
// false, "", {}) give the zero object. A value that does not fit its field is
// an error naming the key.
//
// Generated structs call it from UnmarshalJSON through a local type without
// methods, so the call does not recurse:
//
//	func (d *Deal) UnmarshalJSON(b []byte) error {
//		type plain Deal
//		return b24.DecodeObject(b, (*plain)(d), &d.Extra)
//	}
func DecodeObject(data []byte, v any, extra *Fields) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("b24: DecodeObject needs a non-nil pointer to a struct, not %T", v)
	}
	rv.Elem().SetZero()
	if extra != nil {
		*extra = nil
	}
	data = bytes.TrimSpace(data)
	if isEmptyValue(data) {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return valueError("object", data, "a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return locateObjectError(data, rv.Elem().Type(), err)
	}
	if extra == nil {
		return nil
	}
	known := objectKeysOf(rv.Elem().Type())
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err // not reached: data decoded above
	}
	for k, raw := range all {
		if known.claims(k) {
			continue
		}
		if *extra == nil {
			*extra = make(Fields)
		}
		(*extra)[k] = raw
	}
	return nil
}

// locateObjectError names the key whose value failed to decode: encoding/json
// passes our types' errors up without saying which field they came from.
func locateObjectError(data []byte, t reflect.Type, err error) error {
	var ve *ValueError
	var te *json.UnmarshalTypeError
	if !errors.As(err, &ve) && !errors.As(err, &te) {
		return err
	}
	if te != nil && te.Field != "" {
		return err // encoding/json already named it
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(data, &all) != nil {
		return err
	}
	for _, k := range sortedKeys(all) {
		one := reflect.New(t).Interface()
		piece := append(append([]byte(`{`), strconv.Quote(k)...), ':')
		piece = append(append(piece, all[k]...), '}')
		if json.Unmarshal(piece, one) != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return err
}

// EncodeObject encodes v (a struct, or a pointer to one) as a JSON object and
// adds the keys of extra that v does not declare; a declared key always wins,
// even when omitted because it is empty. v's fields come first in their
// declared order, then the extra keys sorted, so the output is deterministic.
//
//	func (d Deal) MarshalJSON() ([]byte, error) {
//		type plain Deal
//		return b24.EncodeObject(plain(d), d.Extra)
//	}
func EncodeObject(v any, extra Fields) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(body) == "null" {
		body = []byte("{}")
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("b24: EncodeObject needs a struct, not %T", v)
	}
	if len(extra) == 0 {
		return body, nil
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var known objectKeys
	if t.Kind() == reflect.Struct {
		known = objectKeysOf(t)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !known.claims(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return body, nil
	}
	sort.Strings(keys)
	out := make([]byte, 0, len(body)+64*len(keys))
	out = append(out, body[:len(body)-1]...) // without the closing brace
	first := len(body) == 2                  // "{}"
	for _, k := range keys {
		raw := bytes.TrimSpace(extra[k])
		if len(raw) == 0 {
			raw = []byte("null")
		} else if !json.Valid(raw) {
			return nil, fmt.Errorf("b24: extra field %q does not hold valid JSON", k)
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		kb, _ := json.Marshal(k)
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, raw...)
	}
	return append(out, '}'), nil
}

// objectKeys is the set of JSON keys a struct type declares.
type objectKeys struct {
	exact map[string]bool
	fold  map[string]bool // lower-cased: encoding/json matches keys case-insensitively
}

// claims reports whether encoding/json would decode key into one of the
// struct's fields, so the key is not "extra".
func (k objectKeys) claims(key string) bool {
	return k.exact[key] || k.fold[strings.ToLower(key)]
}

var objectKeysCache sync.Map // reflect.Type → objectKeys

func objectKeysOf(t reflect.Type) objectKeys {
	if c, ok := objectKeysCache.Load(t); ok {
		return c.(objectKeys)
	}
	k := objectKeys{exact: map[string]bool{}, fold: map[string]bool{}}
	collectObjectKeys(t, k, 0)
	objectKeysCache.Store(t, k)
	return k
}

// collectObjectKeys follows encoding/json's rules: a tag name or the field
// name, "-" skipped, untagged embedded structs flattened.
func collectObjectKeys(t reflect.Type, k objectKeys, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectObjectKeys(ft, k, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		k.exact[name] = true
		k.fold[strings.ToLower(name)] = true
	}
}
