package b24

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
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
// false, "", {}) give the zero object.
//
// The object is read once, member by member, through a plan of the struct's
// json tags computed once per type. A member whose value does not fit its
// field (a decimal for an Int, an object for a string) does not fail the
// decode: the field keeps its zero value and the raw
// value is stored in *extra under its own key, where Mismatches finds it and
// a result decode reports it (see WithStrictDecoding). Only data that is not
// an object at all, or not JSON, is an error.
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
	rv = rv.Elem()
	rv.SetZero()
	if extra != nil {
		*extra = nil
	}
	plan := planOf(rv.Type())
	data = trimSpace(data)
	if string(data) == "null" {
		return nil // no object: the value stays as if built in Go, and a field holding it writes null
	}
	pres := presenceOf(rv, plan)
	if pres != nil {
		pres.plan = plan // decoded: even an empty object ([], {}) encodes back as {}
	}
	if isEmptyValue(data) {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return valueError("object", data, "a JSON object")
	}
	return decodeMembers(data, rv, plan, extra, pres, nil)
}

// EncodeObject encodes v (a struct, or a pointer to one) as a JSON object and
// adds the keys of extra. v's fields come first in their declared order, then
// the extra keys sorted, so the output is deterministic.
//
// An extra key that a declared field claims (Extra.Set("TITLE", …), or a
// value kept raw because it did not fit its field) is sent when that field is
// zero, in the field's place; when the field is set too, EncodeObject refuses
// with an error rather than drop one of the two.
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
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	var plan *objectPlan
	if rv.Kind() == reflect.Struct {
		plan = planOf(rv.Type())
	}
	if plan != nil && plan.presence != nil {
		// A read value: what arrived and what was set since (presence.go).
		if f, ok := fieldIfReachable(rv, plan.presence); ok {
			p := f.Interface().(Presence)
			if body, err = filterPresent(body, rv, plan, &p); err != nil {
				return nil, err
			}
		}
	}
	var base *Baseline
	if plan != nil && plan.baseline != nil {
		if f, ok := fieldIfReachable(rv, plan.baseline); ok {
			if b := f.Interface().(Baseline); b.members != nil {
				base = &b
			}
		}
	}
	if len(extra) == 0 {
		if base != nil {
			return base.dropUnchanged(body)
		}
		return body, nil
	}
	keys := make([]string, 0, len(extra))
	var claimed map[string]json.RawMessage // declared name → extra value sent in its place
	for k, raw := range extra {
		raw = trimSpace(raw)
		if len(raw) == 0 {
			raw = nullJSON
		} else if !json.Valid(raw) {
			return nil, fmt.Errorf("b24: extra field %q does not hold valid JSON", k)
		}
		i, ok := -1, false
		if plan != nil {
			i, ok = plan.lookup([]byte(k))
		}
		if !ok {
			keys = append(keys, k)
			continue
		}
		fp := plan.fields[i]
		if fv, reach := fieldIfReachable(rv, fp.index); reach && !fv.IsZero() {
			if base != nil && base.unchanged(k, raw) {
				continue // a value Input() could not type, now replaced by a field set since: the field wins
			}
			return nil, fmt.Errorf("b24: extra field %q is also set as the declared field %s: clear one of them", k, fp.name)
		}
		if claimed == nil {
			claimed = map[string]json.RawMessage{}
		}
		if _, dup := claimed[fp.name]; dup {
			return nil, fmt.Errorf("b24: extra fields %q and another spelling of it both fill %s", k, fp.name)
		}
		claimed[fp.name] = raw
	}
	sort.Strings(keys)
	out := make([]byte, 0, len(body)+64*len(extra))
	out = append(out, '{')
	first := true
	member := func(k string, raw []byte) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendJSONKey(out, k)
		out = append(out, ':')
		out = append(out, raw...)
	}
	if claimed == nil {
		out = append(out[:0], body[:len(body)-1]...) // v's members as encoded
		first = len(body) == 2
	} else {
		// Walk v's members to put a claimed extra value in its field's place.
		if err := eachMember(body, func(key []byte, escaped bool, raw []byte) error {
			k := memberKey(key, escaped)
			if x, ok := claimed[k]; ok {
				raw = x
				delete(claimed, k)
			}
			member(k, raw)
			return nil
		}); err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(claimed) { // fields omitted as empty
			member(k, claimed[k])
		}
	}
	for _, k := range keys {
		raw := trimSpace(extra[k])
		if len(raw) == 0 {
			raw = nullJSON
		}
		member(k, raw)
	}
	out = append(out, '}')
	if base != nil {
		return base.dropUnchanged(out)
	}
	return out, nil
}

// appendJSONKey appends k as a JSON string, the way encoding/json writes it.
func appendJSONKey(out []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			kb, _ := json.Marshal(k)
			return append(out, kb...)
		}
	}
	return append(append(append(out, '"'), k...), '"')
}
