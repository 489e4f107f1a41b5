package b24

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Filter is the filter of a list method: field names, optionally prefixed
// by an operator ("=STAGE_ID", ">ID", "%TITLE", "@ID", "!ID"). It is a
// plain map, so any key the helpers do not cover can be set directly:
//
//	f := b24.Filter{}.Eq("STAGE_ID", "WON").Gt("OPPORTUNITY", 1000)
//	f["=UF_CRM_123"] = "x"
type Filter map[string]any

// set stores key, making the map on first use so a nil Filter chains too.
func (f Filter) set(key string, v any) Filter {
	if f == nil {
		f = Filter{}
	}
	f[key] = v
	return f
}

// Eq filters on field = v ("=FIELD").
func (f Filter) Eq(field string, v any) Filter { return f.set("="+field, v) }

// Ne filters on field ≠ v ("!=FIELD").
func (f Filter) Ne(field string, v any) Filter { return f.set("!="+field, v) }

// Gt filters on field > v (">FIELD").
func (f Filter) Gt(field string, v any) Filter { return f.set(">"+field, v) }

// Ge filters on field ≥ v (">=FIELD"), named as REST 3.0's OpGe and the
// typed keys' Ge.
func (f Filter) Ge(field string, v any) Filter { return f.set(">="+field, v) }

// Gte is Ge.
//
// Deprecated: use Ge, the name REST 2 and REST 3.0 share.
func (f Filter) Gte(field string, v any) Filter { return f.Ge(field, v) }

// Lt filters on field < v ("<FIELD").
func (f Filter) Lt(field string, v any) Filter { return f.set("<"+field, v) }

// Le filters on field ≤ v ("<=FIELD").
func (f Filter) Le(field string, v any) Filter { return f.set("<="+field, v) }

// Lte is Le.
//
// Deprecated: use Le, the name REST 2 and REST 3.0 share.
func (f Filter) Lte(field string, v any) Filter { return f.Le(field, v) }

// In filters on field being one of vs ("@FIELD").
func (f Filter) In(field string, vs ...any) Filter { return f.set("@"+field, vs) }

// NotIn filters on field being none of vs ("!@FIELD").
func (f Filter) NotIn(field string, vs ...any) Filter { return f.set("!@"+field, vs) }

// Like filters on field containing substr ("%FIELD"; no % in substr).
func (f Filter) Like(field, substr string) Filter { return f.set("%"+field, substr) }

// Direction is a sort direction of an Order.
type Direction string

const (
	ASC  Direction = "ASC"
	DESC Direction = "DESC"
)

// OrderBy is one sort key of an Order.
type OrderBy struct {
	Field string
	Dir   Direction
}

// Asc sorts by field, ascending.
func Asc(field string) OrderBy { return OrderBy{field, ASC} }

// Desc sorts by field, descending.
func Desc(field string) OrderBy { return OrderBy{field, DESC} }

// Order is the sort order of a list method, most significant key first.
// It is sent as a JSON object whose keys keep that order, which a Go map
// could not promise:
//
//	b24.Order{b24.Desc("DATE_CREATE"), b24.Asc("ID")} → {"DATE_CREATE":"DESC","ID":"ASC"}
type Order []OrderBy

// MarshalJSON writes the keys in the order's order.
func (o Order) MarshalJSON() ([]byte, error) {
	return orderedObject(len(o), func(i int) (string, string) {
		dir := o[i].Dir
		if dir == "" {
			dir = ASC
		}
		return o[i].Field, string(dir)
	}), nil
}

// orderedObject writes n string pairs as a JSON object in the order given,
// which a Go map cannot keep.
func orderedObject(n int, pair func(i int) (key, value string)) []byte {
	b := []byte{'{'}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		k, v := pair(i)
		kb, _ := json.Marshal(k) // a string always encodes
		vb, _ := json.Marshal(v)
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}')
}

// UnmarshalJSON reads an order object keeping its key order; the empty
// forms ([] null "" false) give an empty Order.
func (o *Order) UnmarshalJSON(data []byte) error {
	*o = nil
	if isEmptyValue(bytes.TrimSpace(data)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("b24: order: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return valueError("Order", data, "an object of field: ASC or DESC")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("b24: order: %w", err)
		}
		var dir string
		if err := dec.Decode(&dir); err != nil {
			return fmt.Errorf("b24: order %q: %w", kt, err)
		}
		*o = append(*o, OrderBy{Field: kt.(string), Dir: Direction(strings.ToUpper(dir))})
	}
	return nil
}
