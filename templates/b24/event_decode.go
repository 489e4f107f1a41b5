package b24

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file decodes a form delivery straight into a typed event struct, in
// one pass over the pairs, with a per-type plan built once by reflection.
// The result is the one the slow route gives (form tree → JSON → encoding/json
// with the types' own UnmarshalJSON): leaves go through the same UnmarshalJSON
// of each value type, fed the JSON string the slow route would have written,
// and whatever the plan does not cover (lists, maps, raw JSON, unknown keys for
// Extra) is gathered into a small tree of its own and decoded by encoding/json.
// Anything unusual (a key differing from a field's only in case, a numeric
// or [] key at a struct's level, a scalar where a struct belongs, a value a
// leaf refuses) abandons the fast route for the slow one, whose answer is then
// the answer.

// errSlowRoute abandons the one-pass decode for the tree route.
var errSlowRoute = errors.New("b24: form needs the tree route")

// malformedError is a body that is not a valid form: 400, not the handler's
// failure.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

type fieldKind uint8

const (
	kindStruct fieldKind = iota // a struct decoded key by key with its own plan
	kindText                    // String: the text as it is
	kindString                  // a string kind without decoding methods
	kindValue                   // a type with UnmarshalJSON, fed one JSON string
	kindInt                     // Int, Number, Time, Date: parsed from the text
	kindNumber                  // directly, as their UnmarshalJSON parses a
	kindTime                    // JSON string, without building one
	kindDate
	kindJSON // anything else: its subtree through encoding/json
	kindAuth // the event's auth block: the verified one
)

type formField struct {
	name  string
	index int
	kind  fieldKind
	plan  *formPlan // kindStruct
}

// formPlan is how to decode one struct type from form pairs.
type formPlan struct {
	fields map[string]*formField // by exact JSON key
	list   []*formField
	extra  int // index of the Extra Fields field; -1 without one
	auth   int // index of the auth block field (root plans only); -1 without
}

var (
	extraFieldsType = reflect.TypeFor[Fields]()
	stringValueType = reflect.TypeFor[String]()
	textKinds       = map[reflect.Type]fieldKind{
		reflect.TypeFor[Int]():    kindInt,
		reflect.TypeFor[Number](): kindNumber,
		reflect.TypeFor[Time]():   kindTime,
		reflect.TypeFor[Date]():   kindDate,
	}
	eventAuthType       = reflect.TypeFor[EventAuth]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

var formPlans sync.Map // reflect.Type → *formPlan (nil: not plannable)

// planFor returns the plan of struct type t, nil when t must be decoded by
// encoding/json as a whole.
func planFor(t reflect.Type) *formPlan {
	if p, ok := formPlans.Load(t); ok {
		return p.(*formPlan)
	}
	p := buildPlan(t, 0)
	formPlans.Store(t, p)
	return p
}

// plannable: a struct whose JSON form is its fields' keys. A struct with its
// own UnmarshalJSON qualifies only in the shape generated structs have,
// an Extra Fields `json:"-"` beside the documented keys, whose UnmarshalJSON
// is DecodeObject.
func plannable(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t == eventAuthType {
		return false
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(textUnmarshalerType) && !pt.Implements(jsonUnmarshalerType) {
		return false
	}
	if pt.Implements(jsonUnmarshalerType) {
		f, ok := t.FieldByName("Extra")
		if !ok || f.Type != extraFieldsType || f.Tag.Get("json") != "-" || len(f.Index) != 1 {
			return false
		}
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Anonymous {
			return false // embedded fields: leave the promotion rules to encoding/json
		}
	}
	return true
}

func buildPlan(t reflect.Type, depth int) *formPlan {
	if depth > maxFormDepth || !plannable(t) {
		return nil
	}
	p := &formPlan{fields: map[string]*formField{}, extra: -1, auth: -1}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			if sf.Name == "Extra" && sf.Type == extraFieldsType {
				p.extra = i
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := &formField{name: name, index: i, kind: kindJSON}
		pt := reflect.PointerTo(sf.Type)
		switch {
		case strings.Contains(","+opts+",", ",string,"):
			// ",string" numbers: encoding/json's business
		case depth == 0 && sf.Type == eventAuthType && name == authKey:
			f.kind = kindAuth
			p.auth = i
		case plannable(sf.Type):
			if f.plan = buildPlan(sf.Type, depth+1); f.plan != nil {
				f.kind = kindStruct
			}
		case sf.Type == stringValueType:
			f.kind = kindText
		case textKinds[sf.Type] != 0:
			f.kind = textKinds[sf.Type]
		case pt.Implements(jsonUnmarshalerType):
			f.kind = kindValue
		case pt.Implements(textUnmarshalerType):
			// stays kindJSON
		case sf.Type.Kind() == reflect.String:
			f.kind = kindString
		}
		if _, dup := p.fields[name]; dup {
			return nil // two fields, one key: encoding/json's rules decide
		}
		p.fields[name] = f
		p.list = append(p.list, f)
	}
	return p
}

// claimsFolded reports whether key matches a field of p only case-insensitively.
func (p *formPlan) claimsFolded(key []byte) bool {
	for _, f := range p.list {
		if bytes.EqualFold(key, []byte(f.name)) {
			return true
		}
	}
	return false
}

// formDecoder holds the state of one one-pass decode.
type formDecoder struct {
	kbuf    []byte   // the current key, unescaped
	segs    [][]byte // its segments, within kbuf
	jbuf    []byte   // a leaf as the JSON string the slow route would write
	rests   []restLevel
	auth    [len(authWireKeys)]string
	authSet uint16
}

var formDecoders = sync.Pool{New: func() any { return &formDecoder{} }}

// release returns d to the pool, keeping its buffers unless a huge key grew them.
func (d *formDecoder) release() {
	if cap(d.kbuf) > 4096 || cap(d.jbuf) > 4096 || cap(d.segs) > 64 {
		return
	}
	clear(d.segs[:cap(d.segs)]) // drop references into the body
	clear(d.rests)
	*d = formDecoder{kbuf: d.kbuf[:0], segs: d.segs[:0], jbuf: d.jbuf[:0], rests: d.rests[:0]}
	formDecoders.Put(d)
}

// restLevel gathers, for one struct in the result, the keys its plan leaves
// to encoding/json or to Extra, as a form tree with PHP's semantics.
type restLevel struct {
	v    reflect.Value
	plan *formPlan
	node *formNode
}

func (d *formDecoder) rest(v reflect.Value, p *formPlan) *formNode {
	for i := range d.rests {
		if d.rests[i].v.UnsafeAddr() == v.UnsafeAddr() && d.rests[i].plan == p {
			return d.rests[i].node
		}
	}
	n := &formNode{}
	d.rests = append(d.rests, restLevel{v: v, plan: p, node: n})
	return n
}

func (d *formDecoder) dropRest(v reflect.Value, p *formPlan, key string) {
	for i := range d.rests {
		if d.rests[i].v.UnsafeAddr() == v.UnsafeAddr() && d.rests[i].plan == p {
			delete(d.rests[i].node.kids, key)
		}
	}
}

// authWireKeys are the keys of the auth block, in EventAuth's order.
var authWireKeys = [...]string{"access_token", "refresh_token", "expires", "expires_in", "scope", "domain",
	"server_endpoint", "client_endpoint", "member_id", "user_id", "status", "application_token"}

// decodeFormInto decodes the form body into root (an addressable struct
// described by plan); plan nil only checks the body's syntax. auth receives
// the auth block when the plan has one. errSlowRoute means the caller must use
// the tree route; a *malformedError is a bad body.
func decodeFormInto(body string, root reflect.Value, plan *formPlan, auth *EventAuth) error {
	d := formDecoders.Get().(*formDecoder)
	defer d.release()
	pairs := 0
	for rest := body; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		pairs++
		if pairs > maxFormPairs {
			return &malformedError{fmt.Errorf("form: more than %d keys", maxFormPairs)}
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		var ok bool
		if d.kbuf, ok = appendUnescaped(d.kbuf[:0], rawKey); !ok {
			return &malformedError{fmt.Errorf("form: key %s (pair %d): bad percent-escape", quoteKey(rawKey), pairs)}
		}
		val := rawVal
		if needsUnescape(rawVal) {
			b, ok := appendUnescaped(make([]byte, 0, len(rawVal)), rawVal)
			if !ok {
				return &malformedError{fmt.Errorf("form: value of key %s (pair %d): bad percent-escape", quoteKey(string(d.kbuf)), pairs)}
			}
			val = string(b)
		}
		var err error
		if d.segs, err = splitFormKey(d.kbuf, d.segs[:0]); err != nil {
			return &malformedError{fmt.Errorf("form: key %s (pair %d): %w", quoteKey(string(d.kbuf)), pairs, err)}
		}
		if plan == nil {
			continue
		}
		if err := d.put(root, plan, d.segs, val); err != nil {
			return err
		}
	}
	if plan == nil {
		return nil
	}
	for _, l := range d.rests {
		for k, child := range l.node.kids {
			raw := appendFormJSON(nil, child.tree())
			if f := l.plan.fields[k]; f != nil {
				fv := l.v.Field(f.index)
				fv.SetZero()
				if json.Unmarshal(raw, fv.Addr().Interface()) != nil {
					return errSlowRoute
				}
				continue
			}
			if l.plan.extra >= 0 {
				ex := l.v.Field(l.plan.extra).Addr().Interface().(*Fields)
				if *ex == nil {
					*ex = Fields{}
				}
				(*ex)[k] = raw
			}
		}
	}
	if plan.auth >= 0 && auth != nil {
		a, err := authFromForm(func(k string) (s string, isStr, ok bool) {
			for i, name := range authWireKeys {
				if name == k && d.authSet&(1<<i) != 0 {
					return d.auth[i], true, true
				}
			}
			return "", false, false
		})
		if err != nil {
			return errSlowRoute
		}
		*auth = a
	}
	return nil
}

func needsUnescape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			return true
		}
	}
	return false
}

// put stores one pair into v following p.
func (d *formDecoder) put(v reflect.Value, p *formPlan, segs [][]byte, val string) error {
	for i, seg := range segs {
		if len(seg) == 0 {
			return errSlowRoute // [] at a struct's level: PHP's numbering
		}
		if _, numeric := formIndex(string(seg)); numeric {
			return errSlowRoute // all-numeric levels become lists
		}
		if !utf8.Valid(seg) {
			return errSlowRoute // JSON would spell the key with U+FFFD
		}
		f := p.fields[string(seg)]
		last := i == len(segs)-1
		if f == nil {
			if p.claimsFolded(seg) {
				return errSlowRoute // encoding/json would fold it onto a field
			}
			if p.extra >= 0 {
				d.putRest(v, p, segs[i:], val)
			}
			return nil
		}
		switch f.kind {
		case kindAuth:
			if len(segs) != 2 || len(segs[1]) == 0 {
				return errSlowRoute // auth[] or deeper: the tree route's shapes
			}
			if _, numeric := formIndex(string(segs[1])); numeric {
				return errSlowRoute
			}
			for j, name := range authWireKeys {
				if string(segs[1]) == name {
					d.auth[j] = val
					d.authSet |= 1 << j
				}
			}
			return nil
		case kindStruct:
			if last {
				return errSlowRoute // a scalar replacing an object
			}
			v, p = v.Field(f.index), f.plan
			continue
		case kindJSON:
			d.putRest(v, p, segs[i:], val)
			return nil
		}
		if !last {
			d.putRest(v, p, segs[i:], val) // a list or map where a value belongs: encoding/json says what it makes of it
			return nil
		}
		d.dropRest(v, p, f.name) // this value replaces what the rest held
		fv := v.Field(f.index)
		if utf8.ValidString(val) { // else the JSON string differs: U+FFFD for each bad byte
			if ok, known := setText(fv, f.kind, val); known {
				if !ok {
					return errSlowRoute // the tree route reports it, unless a later pair replaces the value
				}
				return nil
			}
		}
		d.jbuf = appendJSONString(d.jbuf[:0], val)
		fv.SetZero()
		ptr := fv.Addr().Interface()
		var err error
		if u, ok := ptr.(json.Unmarshaler); ok {
			err = u.UnmarshalJSON(d.jbuf) // what encoding/json calls for a string literal
		} else {
			err = json.Unmarshal(d.jbuf, ptr)
		}
		if err != nil {
			return errSlowRoute
		}
		return nil
	}
	return nil
}

// setText sets a leaf of a kind parsed straight from its text, with the
// result its UnmarshalJSON gives for the same text as a JSON string; known
// is false for the kinds that need UnmarshalJSON itself.
func setText(fv reflect.Value, kind fieldKind, val string) (ok, known bool) {
	switch kind {
	case kindText, kindString:
		fv.SetString(val)
	case kindInt:
		s := strings.TrimSpace(val)
		n, ok := parseIntText(s)
		if !ok && s != "" {
			return false, true
		}
		fv.SetInt(n)
	case kindNumber:
		s := strings.TrimSpace(val)
		var f float64
		if s != "" {
			if !looksDecimal(s) {
				return false, true
			}
			var err error
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				return false, true
			}
		}
		fv.SetFloat(f)
	case kindTime, kindDate:
		t, ok := parseTime(val)
		if !ok {
			return false, true
		}
		if kind == kindTime {
			*fv.Addr().Interface().(*Time) = Time{t}
		} else {
			*fv.Addr().Interface().(*Date) = Date{t}
		}
	default:
		return false, false
	}
	return true, true
}

func (d *formDecoder) putRest(v reflect.Value, p *formPlan, segs [][]byte, val string) {
	path := make([]string, len(segs))
	for i, s := range segs {
		path[i] = string(s)
	}
	d.rest(v, p).set(path, val)
}

// setVerifiedAuth puts a into v's auth block field when v (a pointer to a
// struct) has one: the handler sees the block whose token was checked, never
// a look-alike key's.
func setVerifiedAuth(v any, a EventAuth) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return
	}
	if i := authFieldIndex(rv.Elem().Type()); i >= 0 {
		rv.Elem().Field(i).Set(reflect.ValueOf(a))
	}
}

var authFields sync.Map // reflect.Type → int

// authFieldIndex finds the field tagged "auth" of type EventAuth; -1 without.
func authFieldIndex(t reflect.Type) int {
	if i, ok := authFields.Load(t); ok {
		return i.(int)
	}
	idx := -1
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.IsExported() && sf.Type == eventAuthType && name == authKey {
			idx = i
			break
		}
	}
	authFields.Store(t, idx)
	return idx
}
