package b24

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// Presence records which documented fields of a decoded value arrived, and
// which of them arrived as JSON null. Every generated read type (an entity
// such as crm.Deal, a result, a row, a nested object) embeds one, so
//
//	deal.Has("OPPORTUNITY")   // the portal sent the key (it was selected)
//	deal.IsNull("CONTACT_ID") // … and sent it as null
//	deal.Keys()               // the documented keys that arrived
//
// tell a field that was not sent from one sent as 0, "" or null, with no
// pointer per field.
//
// The representation is a bit set over the type's documented fields, in
// declaration order (the order DecodeObject's plan of the struct's json tags
// gives them): two inline words of "sent" bits and two of "null" bits cover
// the first 128 fields, so decoding sets bits and allocates nothing; a type
// with more fields spills the rest into a slice. The plan the bits index
// comes from the type itself (computed once per type, as decoding already
// does), so generated code carries no field table of its own and cannot
// disagree with its tags. Keys the docs do not list are not counted here:
// they are in the value's Extra.
//
// Encoding (the generated MarshalJSON, through EncodeObject) writes the
// fields that arrived, a field that arrived as null as null, plus every
// field set to a non-zero value since, and the keys of Extra. So a decoded
// value encodes back to the keys the portal sent and no others, and a value
// built in Go (nothing arrived) encodes its non-zero fields only: a zero
// field of a read type is indistinguishable from one never sent, and is
// never written.
type Presence struct {
	sent, null [2]uint64
	more       []uint64       // fields from 128 on: for each 64, a sent word then a null word
	plan       *objectPlan    // the plan the bits index; nil when nothing was decoded
	spelled    map[int]string // keys that matched their field only ignoring case, as they arrived
}

var presenceType = reflect.TypeFor[Presence]()

// Decoded reports whether the value was decoded from JSON (DecodeObject),
// rather than built in Go.
func (p *Presence) Decoded() bool { return p.plan != nil }

// Has reports whether the documented key arrived (null included). Keys are
// matched as decoding matches them: exactly, then ignoring ASCII case.
func (p *Presence) Has(key string) bool {
	i, ok := p.index(key)
	return ok && p.bit(i, false)
}

// IsNull reports whether the documented key arrived as JSON null.
func (p *Presence) IsNull(key string) bool {
	i, ok := p.index(key)
	return ok && p.bit(i, true)
}

// Keys returns the documented keys that arrived, in the type's declaration
// order, spelled as they arrived (a key matches its field ignoring case).
func (p *Presence) Keys() []string {
	if p.plan == nil {
		return nil
	}
	var out []string
	for i := range p.plan.fields {
		if p.bit(i, false) {
			out = append(out, p.keyOf(p.plan, i))
		}
	}
	return out
}

func (p *Presence) index(key string) (int, bool) {
	if p.plan == nil {
		return 0, false
	}
	return p.plan.lookup([]byte(key))
}

// spell records that field i arrived under another spelling than its json
// name ("ID" for a field documented as "id"), which encoding writes back.
func (p *Presence) spell(i int, key string) {
	if p.spelled == nil {
		p.spelled = map[int]string{}
	}
	p.spelled[i] = key
}

// keyOf is the key field i of plan is written under: as it arrived.
func (p *Presence) keyOf(plan *objectPlan, i int) string {
	name := plan.fields[i].name
	if p.spelled == nil {
		return name
	}
	j, ok := i, true
	if p.plan != plan { // the decoder's and the encoder's local types differ
		j, ok = p.plan.exact[name]
	}
	if k, spelled := p.spelled[j]; ok && spelled {
		return k
	}
	return name
}

// mark records that field i arrived, as null when null is set.
func (p *Presence) mark(i int, null bool) {
	w, b := i/64, uint64(1)<<(i%64)
	if w < 2 {
		p.sent[w] |= b
		if null {
			p.null[w] |= b
		} else {
			p.null[w] &^= b // a key sent twice: the last one counts
		}
		return
	}
	j := 2 * (w - 2)
	for len(p.more) <= j+1 {
		p.more = append(p.more, 0, 0)
	}
	p.more[j] |= b
	if null {
		p.more[j+1] |= b
	} else {
		p.more[j+1] &^= b
	}
}

func (p *Presence) bit(i int, null bool) bool {
	w, b := i/64, uint64(1)<<(i%64)
	if w < 2 {
		if null {
			return p.null[w]&b != 0
		}
		return p.sent[w]&b != 0
	}
	j := 2 * (w - 2)
	if null {
		j++
	}
	return j < len(p.more) && p.more[j]&b != 0
}

// arrived reports, for field i of plan, whether it arrived and whether as
// null. A Presence filled through another plan (a value converted between
// two types with the same tags) is read by name.
func (p *Presence) arrived(plan *objectPlan, i int) (sent, null bool) {
	switch {
	case p.plan == nil:
		return false, false
	case p.plan == plan:
		return p.bit(i, false), p.bit(i, true)
	}
	j, ok := p.plan.exact[plan.fields[i].name]
	if !ok {
		return false, false
	}
	return p.bit(j, false), p.bit(j, true)
}

// presenceOf returns the Presence embedded in the struct rv per plan, or nil.
func presenceOf(rv reflect.Value, plan *objectPlan) *Presence {
	if plan == nil || plan.presence == nil || !rv.CanAddr() {
		return nil
	}
	f, ok := fieldIfReachable(rv, plan.presence)
	if !ok {
		return nil
	}
	return f.Addr().Interface().(*Presence)
}

// filterPresent keeps the members of body (rv encoded by encoding/json)
// that a read value writes: the fields that arrived (null as null) and the
// fields set to non-zero values, each under the key it arrived as.
func filterPresent(body []byte, rv reflect.Value, plan *objectPlan, pres *Presence) ([]byte, error) {
	out := newObjectWriter(len(body))
	err := eachMember(body, func(key []byte, escaped bool, raw []byte) error {
		k := memberKey(key, escaped)
		i, ok := plan.exact[k]
		if ok {
			k = pres.keyOf(plan, i)
			sent, null := pres.arrived(plan, i)
			fv, reach := fieldIfReachable(rv, plan.fields[i].index)
			zero := !reach || fv.IsZero()
			switch {
			case !sent && zero:
				return nil // never sent, never set
			case sent && null && zero:
				raw = nullJSON
			}
		}
		out.member(k, raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.close(), nil
}

// Baseline remembers the members a write form held when Input() built it
// from a read value, so that encoding it sends only the fields changed
// since: read a deal, take deal.Input(), set one field, and the update
// carries that field alone. Every generated write form (crm.DealInput)
// embeds one; it is empty, and changes nothing, in a form built in Go.
//
// A field counts as changed when its encoding differs from the baseline's,
// so setting a field to the value it had sends nothing. Clearing a field
// (b24.Opt's zero value) is not sent either: the REST API has no way to
// say "leave as is" other than not sending the key.
type Baseline struct {
	members map[string]string // wire key → the member's JSON as Input() encoded it
}

var baselineType = reflect.TypeFor[Baseline]()

// SendUnchanged drops the baseline: the form sends every field that is set,
// changed or not, as a form built in Go does.
func (b *Baseline) SendUnchanged() { b.members = nil }

// Unchanged reports whether the form has a baseline and the member key
// encodes as it did when the form was built.
func (b *Baseline) unchanged(key string, raw []byte) bool {
	if b.members == nil {
		return false
	}
	was, ok := b.members[key]
	return ok && was == string(raw)
}

// dropUnchanged removes the members of the encoded object out that the
// baseline holds unchanged.
func (b *Baseline) dropUnchanged(out []byte) ([]byte, error) {
	kept := newObjectWriter(len(out))
	err := eachMember(out, func(key []byte, escaped bool, raw []byte) error {
		k := memberKey(key, escaped)
		if b.unchanged(k, raw) {
			return nil
		}
		kept.member(k, raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return kept.close(), nil
}

// FillInput fills the write form in (a pointer to a generated …Input) from
// the read value read (a generated entity): the fields that arrived and that
// the write form takes, and the custom fields (keys neither type declares,
// UF_* and the like) into its Extra; a field only the read type declares is
// read-only and left out. It then records the result as in's Baseline, so
// that in sends only the fields changed afterwards. Generated Input methods
// call it:
//
//	func (v Deal) Input() DealInput {
//		var in DealInput
//		b24.FillInput(v, &in)
//		return in
//	}
//
// A value that the write form's type cannot hold (the docs type a field
// differently on the read and the write page) is converted where the JSON
// allows it (a number or a flag for a text field); otherwise it is kept raw
// in Extra under its key, where it is sent only if changed there.
func FillInput(read any, in any) {
	iv := reflect.ValueOf(in)
	if iv.Kind() != reflect.Pointer || iv.IsNil() || iv.Elem().Kind() != reflect.Struct {
		return
	}
	iv = iv.Elem()
	iv.SetZero()
	rv := reflect.ValueOf(read)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return
	}
	data, err := json.Marshal(read)
	if err != nil {
		return // only an Extra that does not hold JSON: nothing sensible to send back
	}
	rp, ip := planOf(rv.Type()), planOf(iv.Type())
	kept := newObjectWriter(len(data))
	eachMember(data, func(key []byte, escaped bool, raw []byte) error {
		k := memberKey(key, escaped)
		i, writable := ip.lookup([]byte(k))
		if !writable && rp.claims(k) {
			return nil // read-only
		}
		if writable && string(raw) == "null" {
			return nil // nothing to hold: an unset Opt
		}
		if writable {
			raw = convertFor(ip.fields[i].typ, raw)
		}
		kept.member(k, raw)
		return nil
	})
	if err := json.Unmarshal(kept.close(), in); err != nil {
		iv.SetZero()
		return
	}
	if ip.baseline == nil {
		return
	}
	b := fieldAt(iv, ip.baseline).Addr().Interface().(*Baseline)
	b.members = nil
	enc, err := json.Marshal(in)
	if err != nil {
		return
	}
	members := map[string]string{}
	eachMember(enc, func(key []byte, escaped bool, raw []byte) error {
		members[memberKey(key, escaped)] = string(raw)
		return nil
	})
	b.members = members
}

// convertFor turns a number or a flag into text when the write form's
// field holds text (b24.Opt[string]) and the read form sent it otherwise,
// the one conversion the JSON leaves unambiguous.
func convertFor(t reflect.Type, raw []byte) []byte {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Opt[") {
		if f, ok := t.FieldByName("Value"); ok {
			t = f.Type
		}
	}
	if t.Kind() == reflect.Slice && len(raw) > 0 && raw[0] == '[' {
		return idsFor(t.Elem(), raw)
	}
	if t.Kind() != reflect.String || len(raw) == 0 {
		return raw
	}
	if c := raw[0]; c == '-' || '0' <= c && c <= '9' || bytes.Equal(raw, []byte("true")) || bytes.Equal(raw, []byte("false")) {
		q, _ := json.Marshal(string(raw))
		return q
	}
	return raw
}

// idsFor turns a list of related records ([{"id": 3, "name": …}]) into
// the list of their ids ([3]) where the write form takes scalars: a REST
// 3.0 task reads its accomplices as users and is written their ids. Any
// other list is returned as it is.
func idsFor(elem reflect.Type, raw []byte) []byte {
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	if k := elem.Kind(); k == reflect.Struct || k == reflect.Slice || k == reflect.Map || k == reflect.Interface {
		return raw
	}
	var rows []map[string]json.RawMessage
	if json.Unmarshal(raw, &rows) != nil || len(rows) == 0 {
		return raw
	}
	ids := make([]json.RawMessage, 0, len(rows))
	for _, r := range rows {
		id, ok := r["id"]
		if !ok {
			if id, ok = r["ID"]; !ok {
				return raw
			}
		}
		ids = append(ids, id)
	}
	out, err := json.Marshal(ids)
	if err != nil {
		return raw
	}
	return out
}

// objectWriter writes a JSON object member by member, each raw value
// copied as it was encoded.
type objectWriter struct {
	b     []byte
	empty bool
}

func newObjectWriter(capacity int) *objectWriter {
	return &objectWriter{b: append(make([]byte, 0, capacity), '{'), empty: true}
}

// member writes "key":raw.
func (w *objectWriter) member(key string, raw []byte) {
	if !w.empty {
		w.b = append(w.b, ',')
	}
	w.empty = false
	w.b = appendJSONKey(w.b, key)
	w.b = append(append(w.b, ':'), raw...)
}

// close ends the object and returns it.
func (w *objectWriter) close() []byte { return append(w.b, '}') }
