package b24

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Tolerant decoding. The docs type each field from an example, and real
// portals send more than the examples show: a decimal where an integer was
// documented, false for an empty list, an object keyed by ID where a list was
// documented. Such a value must not lose the whole call. So a value that does
// not fit its field leaves the field zero (the value kept raw in Extra),
// stays reachable as the raw JSON the portal sent, and is reported:
//
//   - in a struct that keeps unknown keys (generated types: an Extra Fields
//     filled by DecodeObject), the raw value is stored in Extra under its own
//     key, the key its declared field claims; Mismatches(v) lists them;
//   - every mismatch of a result is logged at debug level through the
//     client's logger (WithLogger), with the method, JSON path and value;
//   - under strict decoding (WithStrictDecoding, SetStrictDecoding) the
//     first mismatch is a *DecodeError instead, naming the method, the JSON
//     path and the value. The project's own tests run strict.
//
// The empty forms (null, "", false, [], {}) of a list, map or object decode
// as empty, and a JSON object where a list is expected decodes its values,
// in the order they appear: both are how PHP writes those values, not
// mismatches.

// Mismatch is one value that arrived but does not fit the Go type of its
// field. The field holds its zero value, or the part of the value that fit.
type Mismatch struct {
	Path  string          // JSON path inside the decoded value: "items[2].OPPORTUNITY"; "" for the whole value
	Type  string          // the Go type it was decoded into: "b24.Int"
	Value json.RawMessage // the value as the portal sent it
	Err   error           // why it does not fit
}

func (m Mismatch) String() string {
	p := m.Path
	if p == "" {
		p = "(the value)"
	}
	return fmt.Sprintf("%s = %s does not fit %s: %v", p, cutValue(m.Value), m.Type, m.Err)
}

func cutValue(raw []byte) string {
	v := string(raw)
	if len(v) > maxValueInErr {
		v = v[:maxValueInErr] + "…"
	}
	return v
}

// WithStrictDecoding makes every value that does not fit its Go type an
// error (a *DecodeError) instead of a debug log line and a raw value kept in
// Extra. Meant for tests, so that a drift between the docs and the types
// fails a test rather than a user's call.
func WithStrictDecoding() Option { return func(c *Client) { c.strictDecoding = true } }

var strictAll atomic.Bool

// SetStrictDecoding makes every decode of a result strict (as if every client
// had WithStrictDecoding, and for results of Callers that are not a *Client),
// or returns to the per-client setting. It returns a function that restores
// the previous setting:
//
//	func TestMain(m *testing.M) { b24.SetStrictDecoding(true); os.Exit(m.Run()) }
//	defer b24.SetStrictDecoding(true)()
func SetStrictDecoding(on bool) (restore func()) {
	prev := strictAll.Swap(on)
	return func() { strictAll.Store(prev) }
}

// mismatchSeq counts the mismatches DecodeObject has stored in an Extra. A
// result decode compares it before and after, and only when it moved walks
// the decoded value for them, so a result that fits costs nothing more.
var mismatchSeq atomic.Uint64

// decodeResponse decodes a result into out, the tolerant way; the settings
// (logger, strict) come from the client that produced resp, if any.
func decodeResponse(ctx context.Context, resp *Response, method, key string, out any) error {
	if out == nil {
		return nil
	}
	var raw json.RawMessage
	var cl *Client
	if resp != nil {
		raw, cl = resp.Result, resp.client
	}
	return decodeInto(ctx, cl, method, key, raw, out)
}

func decodeInto(ctx context.Context, cl *Client, method, key string, raw json.RawMessage, out any) error {
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = nullJSON
	}
	seq := mismatchSeq.Load()
	err := json.Unmarshal(raw, out)
	if err == nil && mismatchSeq.Load() == seq {
		return nil // the common case: everything fit
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &DecodeError{Method: method, Key: key, Err: err}
	}
	var found []Mismatch
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &DecodeError{Method: method, Key: key, Err: err}
		}
		rv.Elem().SetZero()
		var d tolerant
		d.value(raw, rv.Elem())
		found = d.found
	}
	found = append(found, Mismatches(out)...)
	if len(found) == 0 {
		return nil
	}
	strict := strictAll.Load()
	var red redactor
	if cl != nil {
		strict = strict || cl.strictDecoding
		red = cl.red
		if cl.log != nil && cl.log.Enabled(ctx, slog.LevelDebug) {
			for _, m := range found {
				cl.log.LogAttrs(ctx, slog.LevelDebug, "b24: value does not fit its type; kept raw",
					slog.String("method", method), slog.String("batch_key", key), slog.String("path", m.Path),
					slog.String("type", m.Type), slog.String("value", red.clean(cutValue(m.Value))),
					slog.String("error", red.clean(m.Err.Error())))
			}
		}
	}
	if !strict {
		return nil
	}
	m := found[0]
	return &DecodeError{Method: method, Key: key, Path: m.Path, Value: red.clean(cutValue(m.Value)),
		Err: m.Err, More: len(found) - 1}
}

// objectPlan is what a struct type's json tags say, computed once per type:
// which field each key fills, and which field holds the unknown keys.
type objectPlan struct {
	fields []fieldPlan
	exact  map[string]int // json name → index in fields
	fold   map[string]int // ASCII-lower-cased name: encoding/json matches keys case-insensitively
	extra  []int          // index path of the Fields field tagged "-" (named Extra by the generator), if any
	// presence and baseline are the index paths of an embedded Presence (read
	// types) or Baseline (write forms) tagged "-", if any (presence.go).
	presence, baseline []int
}

type fieldPlan struct {
	name   string
	index  []int
	typ    reflect.Type
	quoted bool // the ",string" option
	depth  int
	tagged bool
}

var planCache sync.Map // reflect.Type → *objectPlan

func planOf(t reflect.Type) *objectPlan {
	if p, ok := planCache.Load(t); ok {
		return p.(*objectPlan)
	}
	p := &objectPlan{exact: map[string]int{}, fold: map[string]int{}}
	collectPlan(t, p, nil, 0)
	for i, f := range p.fields {
		p.exact[f.name] = i
		lk := strings.ToLower(f.name)
		if _, ok := p.fold[lk]; !ok {
			p.fold[lk] = i // the first field in declaration order wins, as in encoding/json
		}
	}
	planCache.Store(t, p)
	return p
}

var fieldsType = reflect.TypeFor[Fields]()

// collectPlan follows encoding/json's rules: a tag name or the field name,
// "-" skipped, untagged embedded structs flattened, a shallower field
// shadowing a deeper one of the same name.
func collectPlan(t reflect.Type, p *objectPlan, index []int, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			switch {
			case depth == 0 && f.Type == fieldsType && p.extra == nil:
				p.extra = idx
			case depth == 0 && f.Type == presenceType && p.presence == nil:
				p.presence = idx
			case depth == 0 && f.Type == baselineType && p.baseline == nil:
				p.baseline = idx
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectPlan(ft, p, idx, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		tagged := name != ""
		if name == "" {
			name = f.Name
		}
		fp := fieldPlan{name: name, index: idx, typ: f.Type, depth: depth, tagged: tagged,
			quoted: strings.Contains(","+opts+",", ",string,")}
		replaced := false
		for j, old := range p.fields {
			if old.name != name {
				continue
			}
			if depth < old.depth || depth == old.depth && tagged && !old.tagged {
				p.fields[j] = fp
			}
			replaced = true
		}
		if !replaced {
			p.fields = append(p.fields, fp)
		}
	}
}

// lookup finds the field a key fills, matching exactly first and then
// case-insensitively as encoding/json does.
func (p *objectPlan) lookup(key []byte) (int, bool) {
	if i, ok := p.exact[string(key)]; ok {
		return i, true
	}
	var buf [64]byte
	if len(key) > len(buf) {
		i, ok := p.fold[strings.ToLower(string(key))]
		return i, ok
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	i, ok := p.fold[string(buf[:len(key)])]
	return i, ok
}

func (p *objectPlan) claims(key string) bool {
	_, ok := p.lookup([]byte(key))
	return ok
}

// field returns the struct field at index, allocating nil embedded pointers.
func fieldAt(v reflect.Value, index []int) reflect.Value {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}

// decodeField decodes one member's raw value into the addressable field f,
// the fast way: our own value types and generated structs through their
// UnmarshalJSON directly, strings by hand, the rest through encoding/json.
func decodeField(raw []byte, f reflect.Value, quoted bool) error {
	if quoted {
		if s, isStr, err := jsonText(raw); isStr && err == nil {
			raw = []byte(s)
		}
	}
	for f.Kind() == reflect.Pointer {
		if string(raw) == "null" {
			f.SetZero()
			return nil
		}
		if f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		f = f.Elem()
	}
	switch p := f.Addr().Interface().(type) {
	case json.Unmarshaler:
		return p.UnmarshalJSON(raw)
	case *string:
		s, isStr, err := jsonText(raw)
		switch {
		case err != nil:
			return err
		case isStr:
			*p = s
			return nil
		case string(raw) == "null":
			return nil
		}
		return &json.UnmarshalTypeError{Value: "non-string " + cutValue(raw), Type: f.Type()}
	case *any:
		return json.Unmarshal(raw, p)
	}
	return json.Unmarshal(raw, f.Addr().Interface())
}

// decodeMembers decodes the JSON object data into the struct rv, member by
// member in one pass. Keys no field claims go to extra (dropped when nil).
// A member that does not fit its field is left zero, is stored raw in extra
// under its key and counted in mismatchSeq; without an extra it is passed to
// miss (when not nil) instead.
//
// pres, when not nil, records each documented member that arrived.
func decodeMembers(data []byte, rv reflect.Value, p *objectPlan, extra *Fields, pres *Presence, miss func(key string, raw []byte, t reflect.Type, err error)) error {
	return eachMember(data, func(key []byte, escaped bool, raw []byte) error {
		var i int
		var ok bool
		if escaped {
			i, ok = p.lookup([]byte(memberKey(key, true)))
		} else {
			i, ok = p.lookup(key)
		}
		if !ok {
			if extra != nil {
				if *extra == nil {
					*extra = make(Fields)
				}
				(*extra)[memberKey(key, escaped)] = append(json.RawMessage(nil), raw...)
			}
			return nil
		}
		if pres != nil {
			pres.mark(i, len(raw) == 4 && string(raw) == "null")
			if name := p.fields[i].name; escaped || string(key) != name {
				if k := memberKey(key, escaped); k != name {
					pres.spell(i, k) // matched ignoring case: written back as sent
				}
			}
		}
		fp := &p.fields[i]
		f := fieldAt(rv, fp.index)
		err := decodeField(raw, f, fp.quoted)
		if err == nil {
			return nil
		}
		// Not the documented form: read it the tolerant way.
		f.SetZero()
		var d tolerant
		d.value(raw, f)
		if len(d.found) == 0 {
			return nil // an empty form or an object for a list: accepted
		}
		switch {
		case extra != nil:
			if *extra == nil {
				*extra = make(Fields)
			}
			(*extra)[memberKey(key, escaped)] = append(json.RawMessage(nil), raw...)
			mismatchSeq.Add(1)
			// The raw value is the member now: a partly filled field
			// would claim the same key on re-encoding.
			f.SetZero()
		case miss != nil:
			miss(memberKey(key, escaped), raw, fp.typ, d.found[0].Err)
		}
		return nil
	})
}

// tolerant decodes a value into a Go value, keeping what fits and recording
// what does not, with the JSON path to it.
type tolerant struct {
	found []Mismatch
	path  []string
}

func (d *tolerant) miss(raw []byte, t reflect.Type, err error) {
	d.found = append(d.found, Mismatch{Path: joinPath(d.path), Type: typeName(t),
		Value: append(json.RawMessage(nil), raw...), Err: err})
}

func joinPath(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		if s[0] != '[' && b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "nil"
	}
	return t.String()
}

var (
	unmarshalerT     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerT = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value decodes data into the addressable v.
func (d *tolerant) value(data []byte, v reflect.Value) {
	data = trimSpace(data)
	if len(data) == 0 {
		d.miss(data, v.Type(), &syntaxError{0, "no value"})
		return
	}
	if len(d.path) > maxScanDepth {
		d.miss(data, v.Type(), &syntaxError{0, "nested too deeply"})
		return
	}
	if v.Kind() == reflect.Pointer {
		if string(data) == "null" {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(data, v.Elem())
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerT) {
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(data); err != nil {
			v.SetZero()
			d.miss(data, v.Type(), err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		switch {
		case isEmptyValue(data):
		case data[0] == '{':
			p := planOf(v.Type())
			err := eachMember(data, func(key []byte, escaped bool, raw []byte) error {
				k := memberKey(key, escaped)
				i, ok := p.lookup([]byte(k))
				if !ok {
					return nil
				}
				d.path = append(d.path, k)
				d.value(raw, fieldAt(v, p.fields[i].index))
				d.path = d.path[:len(d.path)-1]
				return nil
			})
			if err != nil {
				d.miss(data, v.Type(), err)
			}
		default:
			d.miss(data, v.Type(), fmt.Errorf("want an object"))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 && !isEmptyValue(data) && data[0] == '"' {
			d.plain(data, v)
			return
		}
		switch {
		case isEmptyValue(data):
			v.SetZero()
		case data[0] == '[' || data[0] == '{':
			et := v.Type().Elem()
			n := 0
			add := func(raw []byte, seg string) {
				if n == v.Len() {
					v.Set(reflect.Append(v, reflect.New(et).Elem()))
				}
				d.path = append(d.path, seg)
				d.value(raw, v.Index(n))
				d.path = d.path[:len(d.path)-1]
				n++
			}
			var err error
			if data[0] == '[' {
				err = eachElement(data, func(raw []byte) error { add(raw, "["+strconv.Itoa(n)+"]"); return nil })
			} else {
				err = eachMember(data, func(key []byte, escaped bool, raw []byte) error {
					add(raw, "["+strconv.Quote(memberKey(key, escaped))+"]")
					return nil
				})
			}
			if err != nil {
				d.miss(data, v.Type(), err)
			}
		default:
			d.miss(data, v.Type(), fmt.Errorf("want a list"))
		}
	case reflect.Map:
		switch {
		case isEmptyValue(data):
			v.SetZero()
		case data[0] == '{' || data[0] == '[':
			kt, et := v.Type().Key(), v.Type().Elem()
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			put := func(k string, raw []byte) {
				kv := reflect.New(kt).Elem()
				if err := mapKey(k, kv); err != nil {
					d.path = append(d.path, "["+strconv.Quote(k)+"]")
					d.miss(raw, et, err)
					d.path = d.path[:len(d.path)-1]
					return
				}
				ev := reflect.New(et).Elem()
				d.path = append(d.path, "["+strconv.Quote(k)+"]")
				d.value(raw, ev)
				d.path = d.path[:len(d.path)-1]
				v.SetMapIndex(kv, ev)
			}
			var err error
			if data[0] == '{' {
				err = eachMember(data, func(key []byte, escaped bool, raw []byte) error {
					put(memberKey(key, escaped), raw)
					return nil
				})
			} else { // a PHP list where a map was documented: keys are the indexes
				n := 0
				err = eachElement(data, func(raw []byte) error { put(strconv.Itoa(n), raw); n++; return nil })
			}
			if err != nil {
				d.miss(data, v.Type(), err)
			}
		default:
			d.miss(data, v.Type(), fmt.Errorf("want an object"))
		}
	default:
		d.plain(data, v)
	}
}

// plain decodes through encoding/json; a failure leaves v zero.
func (d *tolerant) plain(data []byte, v reflect.Value) {
	if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
		v.SetZero()
		d.miss(data, v.Type(), err)
	}
}

// mapKey sets the map key kv from its JSON text, as encoding/json would.
func mapKey(k string, kv reflect.Value) error {
	if reflect.PointerTo(kv.Type()).Implements(textUnmarshalerT) {
		return kv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(k))
	}
	switch kv.Kind() {
	case reflect.String:
		kv.SetString(k)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || kv.OverflowInt(n) {
			return fmt.Errorf("map key %q is not an integer", k)
		}
		kv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil || kv.OverflowUint(n) {
			return fmt.Errorf("map key %q is not an unsigned integer", k)
		}
		kv.SetUint(n)
	default:
		return fmt.Errorf("unsupported map key type %s", kv.Type())
	}
	return nil
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// Mismatches lists the values inside v (a decoded result: a struct, a
// pointer, a list or a map of them) that did not fit their declared fields
// and were kept raw in an Extra under the key the field claims. It is the
// record a tolerant decode leaves behind; the fields themselves hold their
// zero values, or the part of the value that fit.
func Mismatches(v any) []Mismatch {
	var out []Mismatch
	walkMismatches(reflect.ValueOf(v), nil, &out, 0)
	return out
}

func walkMismatches(v reflect.Value, path []string, out *[]Mismatch, depth int) {
	if !v.IsValid() || depth > 64 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkMismatches(v.Elem(), path, out, depth+1)
		}
	case reflect.Struct:
		p := planOf(v.Type())
		if p.extra != nil {
			extra := v.FieldByIndex(p.extra).Interface().(Fields)
			keys := make([]string, 0, len(extra))
			for k := range extra {
				if p.claims(k) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				i, _ := p.lookup([]byte(k))
				ft := p.fields[i].typ
				var d tolerant
				d.value(extra[k], reflect.New(ft).Elem())
				err := error(fmt.Errorf("does not fit %s", typeName(ft)))
				if len(d.found) > 0 {
					err = d.found[0].Err
				}
				*out = append(*out, Mismatch{Path: joinPath(append(path, k)), Type: typeName(ft), Value: extra[k], Err: err})
			}
		}
		for _, f := range p.fields {
			if mayHoldObjects(f.typ) {
				fv, ok := fieldIfReachable(v, f.index)
				if ok {
					walkMismatches(fv, append(path, f.name), out, depth+1)
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if !mayHoldObjects(v.Type().Elem()) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			walkMismatches(v.Index(i), append(path, "["+strconv.Itoa(i)+"]"), out, depth+1)
		}
	case reflect.Map:
		if !mayHoldObjects(v.Type().Elem()) {
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			walkMismatches(v.MapIndex(k), append(path, "["+strconv.Quote(fmt.Sprint(k))+"]"), out, depth+1)
		}
	}
}

func fieldIfReachable(v reflect.Value, index []int) (reflect.Value, bool) {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

var holdCache sync.Map // reflect.Type → bool

// mayHoldObjects reports whether a value of t can contain a struct, so the
// walk can skip scalars and lists of them.
func mayHoldObjects(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if c, ok := holdCache.Load(t); ok {
			return c.(bool)
		}
		holdCache.Store(t, false) // breaks cycles through recursive types
		r := mayHoldObjects(t.Elem())
		if t.Kind() == reflect.Map {
			r = r && t != fieldsType
		}
		holdCache.Store(t, r)
		return r
	}
	return false
}
