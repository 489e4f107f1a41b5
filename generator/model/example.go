package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
	"github.com/b24gen/b24gen/templates/b24"
)

// The docs' response example is the evidence of what a method really
// returns. Where the returned-data table disagrees with it (a list drawn as
// a scalar, a boolean that holds "E", no table at all), the example wins,
// as DESIGN.md asks, and the disagreement is reported. Compatibility is
// judged by the runtime's own decoders (templates/b24), so "compatible"
// means "the generated type decodes it".

// exampleValue returns the documented result value, under the wrapper key
// when there is one, or nil when the page has no usable example.
func exampleValue(r *spec.Result) (any, bool) {
	if r == nil || len(r.Example) == 0 {
		return nil, false
	}
	var env map[string]any
	if err := decodeNumbers(r.Example, &env); err != nil {
		return nil, false
	}
	v, ok := env["result"]
	if !ok {
		return nil, false
	}
	if r.Wrapper != "" {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return nil, false
		}
		v, ok = obj[r.Wrapper]
	}
	return v, ok
}

// exampleResultJSON returns the documented "result" as compact JSON, or nil.
func exampleResultJSON(r *spec.Result) []byte {
	if r == nil || len(r.Example) == 0 {
		return nil
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(r.Example, &env) != nil || env["result"] == nil {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, env["result"]) != nil {
		return nil
	}
	return buf.Bytes()
}

func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// jsonShape names the JSON kind of an example value as a result shape.
func jsonShape(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return ""
	}
	return "scalar"
}

// reconcile returns the result description to generate from: m.Result
// corrected by its example. descriptors is true when the example shows a
// map of field descriptors (the *.fields methods).
func (b *builder) reconcile(m *spec.Method) (r spec.Result, descriptors bool) {
	if m.Result != nil {
		r = *m.Result
		r.Fields = b.borrowSiblingTypes(m, nestDotted(r.Fields))
	}
	ex, ok := exampleValue(m.Result)
	if !ok || r.Shape == "map" {
		// A map keyed by record id is resolve's reading of the example.
		return r, false
	}
	if isDescriptorMap(ex) {
		return r, true
	}
	exShape := jsonShape(ex)
	if exShape == "" || isEmptyExample(ex) {
		return r, false
	}
	documented := r.Shape
	switch {
	case r.Shape == "" || r.Shape == "unknown":
		r.Shape = exShape
	case r.Shape != exShape:
		// An array of objects documented as one object is the common
		// case; a keyed map of rows ({"1": {...}}) documented as a list
		// is not a shape we can type, so it stays raw.
		if r.Shape == "array" && exShape == "object" && allKeysNumeric(ex.(map[string]any)) {
			b.problem(m.Page, m.Line, "shape-from-example",
				m.Name+": rows documented as a list arrive as an object keyed by ID: json.RawMessage")
			return spec.Result{Shape: "unknown", Wrapper: r.Wrapper, Paginated: r.Paginated}, false
		}
		b.problem(m.Page, m.Line, "shape-from-example",
			fmt.Sprintf("%s: result documented as %s, the example shows %s; following the example", m.Name, documented, exShape))
		r.Shape = exShape
		if exShape != "scalar" {
			r.Kind = ""
		}
	}
	switch r.Shape {
	case "scalar":
		k := inferKind("id", ex) // a bare integer result is an ID or a count
		if r.Kind == "" || !compatibleScalar(r.Kind, ex) {
			r.Kind = k
		}
		r.Fields = nil
	case "object":
		obj := ex.(map[string]any)
		if allKeysNumeric(obj) || len(r.Fields) == 0 && looksLikeMap(obj) {
			return spec.Result{Shape: "unknown", Wrapper: r.Wrapper}, false
		}
		if len(r.Fields) == 0 {
			r.Fields = paramsFromObject(obj)
		} else {
			r.Fields = b.reconcileFields(m, r.Fields, obj)
		}
	case "array":
		rows := mergeRows(ex.([]any))
		if rows == nil && (r.Kind == spec.KindObject || len(r.Fields) > 0) {
			// Rows documented as objects, shown as scalars (a parameter
			// switches between the two): only raw JSON takes both.
			b.problem(m.Page, m.Line, "shape-from-example",
				m.Name+": rows documented as objects, the example shows scalars: json.RawMessage")
			return spec.Result{Shape: "unknown", Wrapper: r.Wrapper}, false
		}
		if rows == nil {
			if len(r.Fields) == 0 && r.Kind != spec.KindObject {
				if k := inferArrayElem(ex.([]any)); r.Kind == "" || r.Kind == spec.KindAny || !compatibleElems(r.Kind, ex.([]any)) {
					r.Kind = k
				}
			}
			break
		}
		r.Kind = spec.KindObject
		if len(r.Fields) == 0 {
			r.Fields = paramsFromObject(rows)
		} else {
			r.Fields = b.reconcileRows(m, r.Fields, ex.([]any))
		}
	}
	return r, false
}

// isEmptyExample reports the empty forms that show nothing of the shape.
func isEmptyExample(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// isDescriptorMap recognises the answer of the *.fields methods: an object
// whose values describe fields ({"ID": {"type": "integer", "isRequired":
// false, …}}), whatever the returned-data table draws.
func isDescriptorMap(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) < 2 {
		return false
	}
	n := 0
	for _, e := range obj {
		if d, ok := e.(map[string]any); ok {
			_, hasType := d["type"]
			_, hasReq := d["isRequired"]
			_, hasReq2 := d["required"]
			_, hasTitle := d["title"]
			if hasType && (hasReq || hasReq2 || hasTitle) {
				n++
			}
		}
	}
	return n*5 >= len(obj)*4
}

// looksLikeMap reports an object that is a map keyed by ID or code rather
// than a record: at least two members, all objects sharing most of their
// keys ({"empty": {"ID": …, "TYPE": …}, "shop": {"ID": …, "TYPE": …}}).
// A struct made from one example of it would fit no other portal.
func looksLikeMap(obj map[string]any) bool {
	if allKeysNumeric(obj) {
		return true
	}
	if len(obj) < 2 {
		return false
	}
	var first map[string]any
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		o, ok := obj[k].(map[string]any)
		if !ok || len(o) == 0 {
			return false
		}
		if first == nil {
			first = o
			continue
		}
		shared := 0
		for key := range o {
			if _, ok := first[key]; ok {
				shared++
			}
		}
		if shared*2 < max(len(o), len(first)) {
			return false
		}
	}
	return true
}

func allKeysNumeric(obj map[string]any) bool {
	if len(obj) == 0 {
		return false
	}
	for k := range obj {
		if k == "" || strings.Trim(k, "0123456789") != "" {
			return false
		}
	}
	return true
}

// mergeRows returns the union of the keys of an array of objects, or nil
// when the elements are not objects.
func mergeRows(arr []any) map[string]any {
	var merged map[string]any
	for _, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		if merged == nil {
			merged = map[string]any{}
		}
		for k, v := range obj {
			if old, seen := merged[k]; !seen || old == nil || isEmptyExample(old) {
				merged[k] = v
			}
		}
	}
	return merged
}

// reconcileRows reconciles fields with every row of an example list, so
// a value that only a later row shows is checked too.
func (b *builder) reconcileRows(m *spec.Method, fields []spec.Param, rows []any) []spec.Param {
	// An untyped field that is structured in some row stays raw even where
	// another row shows a scalar.
	structuredIn := map[string]bool{}
	for _, r := range rows {
		if obj, ok := r.(map[string]any); ok {
			for k, v := range obj {
				if s := jsonShape(v); (s == "object" || s == "array") && !isEmptyForm(v) {
					structuredIn[k] = true
				}
			}
		}
	}
	fields = slices.Clone(fields)
	for i := range fields {
		if (fields[i].Kind == spec.KindAny || fields[i].Kind == "") && structuredIn[fields[i].Name] {
			fields[i].Type = mixedType
		}
	}
	outer := b.inRows
	b.inRows = true
	for _, r := range rows {
		if obj, ok := r.(map[string]any); ok {
			fields = b.reconcileFields(m, fields, obj)
		}
	}
	b.inRows = outer
	return fields
}

// reconcileFields keeps the documented fields, retyping from the example
// those whose example value the documented type cannot decode.
func (b *builder) reconcileFields(m *spec.Method, fields []spec.Param, obj map[string]any) []spec.Param {
	out := slices.Clone(fields)
	for i := range out {
		p := &out[i]
		v, ok := obj[p.Name]
		if !ok || v == nil {
			continue
		}
		switch {
		case p.KeyedMap():
			// Keyed by record id (resolve): each member is a row.
			if sub, isObj := v.(map[string]any); isObj && p.Elem == spec.KindObject && len(p.Fields) > 0 {
				var rows []any
				for _, k := range slices.Sorted(maps.Keys(sub)) {
					rows = append(rows, sub[k])
				}
				if mergeRows(rows) != nil {
					p.Fields = b.reconcileRows(m, p.Fields, rows)
				}
			}
			continue
		case p.Kind == spec.KindAny || p.Kind == "":
			// Documented without a usable type, shown as a scalar: the
			// runtime's String takes any scalar the portal sends.
			if jsonShape(v) == "scalar" && p.Type != mixedType {
				p.Kind = spec.KindString
			}
			continue
		case p.Kind == spec.KindObject && len(p.Fields) == 0:
			// An object the docs do not detail: its keys from the example.
			if sub, isObj := v.(map[string]any); isObj && len(sub) > 0 && !looksLikeMap(sub) && !isDescriptorMap(sub) {
				p.Fields = paramsFromObject(sub)
			}
			continue
		case p.Kind == spec.KindArray && (p.Elem == "" || p.Elem == spec.KindAny || p.Elem == spec.KindObject && len(p.Fields) == 0):
			// A list whose rows the docs do not detail.
			if arr, isArr := v.([]any); isArr && len(arr) > 0 {
				inferred := paramFromValue(p.Name, arr)
				if inferred.Elem != spec.KindAny {
					p.Elem, p.Fields = inferred.Elem, inferred.Fields
				}
				continue
			}
		case p.Kind == spec.KindObject && len(p.Fields) > 0:
			if sub, isObj := v.(map[string]any); isObj && !allKeysNumeric(sub) {
				p.Fields = b.reconcileFields(m, p.Fields, sub)
				continue
			}
			if isEmptyForm(v) {
				continue
			}
		case p.Kind == spec.KindArray && p.Elem == spec.KindObject && len(p.Fields) > 0:
			if arr, isArr := v.([]any); isArr {
				if mergeRows(arr) != nil {
					p.Fields = b.reconcileRows(m, p.Fields, arr)
					continue
				}
				if len(arr) == 0 {
					continue
				}
			}
		case fits(*p, v):
			continue
		}
		inferred := paramFromValue(p.Name, v)
		if b.inRows && (structured(p.Kind) || structured(inferred.Kind)) {
			// An object in one row and a scalar in another (or in the
			// table): only raw JSON takes both. A single value follows
			// the example.
			inferred = spec.Param{Name: p.Name, Kind: spec.KindAny, Type: mixedType}
		}
		b.problem(m.Page, p.Line, "type-from-example",
			fmt.Sprintf("%s: result field %s documented as %s, the example holds %s; following the example", m.Name, p.Name, describe(*p), describe(inferred)))
		inferred.Description, inferred.Line, inferred.Deprecated = p.Description, p.Line, p.Deprecated
		*p = inferred
	}
	return out
}

// mixedType marks a field the example shows in incompatible forms: it
// stays raw, whatever later rows show.
const mixedType = "(mixed in the example)"

func structured(k spec.Kind) bool { return k == spec.KindObject || k == spec.KindArray }

func describe(p spec.Param) string {
	if p.Kind == spec.KindArray && p.Elem != "" {
		return "array of " + string(p.Elem)
	}
	return string(cmpOr(p.Kind, spec.KindAny))
}

func cmpOr(k, def spec.Kind) spec.Kind {
	if k == "" {
		return def
	}
	return k
}

// isEmptyForm reports the values Bitrix24 sends for "nothing": null, "",
// false, [] and {}.
func isEmptyForm(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	}
	return isEmptyExample(v)
}

// fits reports whether the type generated for p decodes v.
func fits(p spec.Param, v any) bool {
	switch p.Kind {
	case spec.KindObject, spec.KindAny, spec.KindFile, "":
		// Raw or struct-with-no-fields: json.RawMessage takes anything.
		return p.Kind != spec.KindObject || len(p.Fields) == 0 || isEmptyForm(v)
	case spec.KindArray:
		arr, ok := v.([]any)
		if !ok {
			return v == nil
		}
		if p.Elem == spec.KindObject || p.Elem == spec.KindAny || p.Elem == "" {
			return true
		}
		return compatibleElems(p.Elem, arr)
	case spec.KindEnum:
		if isYN(p) {
			return compatibleScalar(spec.KindBoolean, v)
		}
		return compatibleScalar(spec.KindString, v)
	}
	return compatibleScalar(p.Kind, v)
}

func compatibleElems(k spec.Kind, arr []any) bool {
	for _, e := range arr {
		if !compatibleScalar(k, e) {
			return false
		}
	}
	return true
}

// compatibleScalar decodes v with the runtime type generated for kind k.
func compatibleScalar(k spec.Kind, v any) bool {
	data, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var target any
	switch k {
	case spec.KindString, spec.KindEnum:
		target = new(b24.String)
	case spec.KindInteger:
		target = new(b24.Int)
	case spec.KindNumber:
		target = new(b24.Number)
	case spec.KindBoolean:
		target = new(b24.Bool)
	case spec.KindDate:
		target = new(b24.Date)
	case spec.KindDateTime:
		target = new(b24.Time)
	default:
		return true
	}
	return json.Unmarshal(data, target) == nil
}

// paramsFromObject describes an example object's keys, sorted.
func paramsFromObject(obj map[string]any) []spec.Param {
	var out []spec.Param
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		out = append(out, paramFromValue(k, obj[k]))
	}
	return out
}

// paramFromValue describes one example value. Numbers are integers where
// the example writes an integer under an ID-like key, otherwise numbers
// (a float decodes an integer, not the reverse); Y/N strings are booleans.
func paramFromValue(name string, v any) spec.Param {
	p := spec.Param{Name: name, Kind: inferKind(name, v)}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 || looksLikeMap(x) {
			p.Kind = spec.KindAny
			break
		}
		p.Fields = paramsFromObject(x)
	case []any:
		if rows := mergeRows(x); rows != nil {
			p.Elem = spec.KindObject
			p.Fields = loosen(paramsFromObject(rows), x)
		} else {
			p.Elem = inferArrayElem(x)
		}
	}
	return p
}

// loosen leaves raw the inferred fields that some row of the example
// does not fit (a value that is a string in one row and an object in the
// next).
func loosen(fields []spec.Param, rows []any) []spec.Param {
	for _, r := range rows {
		obj, _ := r.(map[string]any)
		for i := range fields {
			if v, ok := obj[fields[i].Name]; ok && !isEmptyForm(v) && !fits(fields[i], v) {
				fields[i] = spec.Param{Name: fields[i].Name, Kind: spec.KindAny, Type: mixedType}
			}
		}
	}
	return fields
}

func inferArrayElem(arr []any) spec.Kind {
	var k spec.Kind
	for _, e := range arr {
		ek := inferKind("", e)
		if _, isString := e.(string); isString {
			ek = spec.KindString // "Y" among other strings is not a flag
		}
		var ok bool
		if k, ok = unifyKinds(k, ek); !ok {
			return spec.KindAny
		}
	}
	if k == "" || k == spec.KindObject || k == spec.KindArray {
		return spec.KindAny
	}
	return k
}

func inferKind(name string, v any) spec.Kind {
	switch x := v.(type) {
	case map[string]any:
		return spec.KindObject
	case []any:
		return spec.KindArray
	case bool:
		return spec.KindBoolean
	case json.Number:
		if _, err := x.Int64(); err == nil && looksLikeID(name) {
			return spec.KindInteger
		}
		return spec.KindNumber
	case string:
		if x == "Y" || x == "N" {
			return spec.KindBoolean
		}
		return spec.KindString
	}
	return spec.KindAny
}
