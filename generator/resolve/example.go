package resolve

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The docs' response example is the evidence of what a method really
// returns. Where the returned-data table disagrees with it (a list drawn as
// a scalar, a boolean that holds "E", no table at all), the example wins,
// as DESIGN.md asks, and the disagreement is reported. Whether a value
// fits a kind is fitsScalar's one test (fits.go), the runtime's reading
// rules.

// reconciler reconciles one method's (or event's) documented fields with
// its example.
type reconciler struct {
	r    *resolver
	m    *spec.Method // the page, name and line problems name
	what string       // "result field" or "payload field", for problems
	// siblings are the documented get results by family (sibling.go).
	siblings map[string]map[string]spec.Param
	// inRows is set while reconciling with the rows of a list example.
	inRows bool
}

// examples reconciles every method's result with its response example
// and refines its params from its request example. It runs last, on the
// entities' view of the results, so each method keeps what its own page
// shows where that differs.
func (r *resolver) examples() {
	siblings := siblingFields(r.s.Methods)
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		m.Params = r.refineFromRequest(m, m.Params)
		if m.Result == nil {
			continue
		}
		x := &reconciler{r: r, m: m, what: "result field", siblings: siblings}
		res := x.reconcile()
		// What the page says beyond the fields stays as it is: the
		// example, the paging, for the documented answers.
		res.Example, res.Paginated = m.Result.Example, m.Result.Paginated
		m.Result = &res
	}
	r.descriptorsWithoutExample()
}

// descriptorsWithoutExample gives a *.fields method whose page shows no
// example (crm.invoice.fields, crm.product.fields: a table of the entity's
// fields only) the shape its module's other *.fields methods show: a map
// of field descriptors, when nearly all of them (and at least three) do.
// Typed as a struct of the entity's fields it would decode nothing.
func (r *resolver) descriptorsWithoutExample() {
	type count struct{ examples, descriptors int }
	byModule := map[string]*count{}
	module := func(m *spec.Method) string {
		mod, _, _ := strings.Cut(m.Name, ".")
		return mod
	}
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		if role(m) != "fields" || m.Version == 3 || m.Result == nil || len(m.Result.Example) == 0 {
			continue
		}
		c := byModule[module(m)]
		if c == nil {
			c = &count{}
			byModule[module(m)] = c
		}
		c.examples++
		if m.Result.Shape == spec.ShapeDescriptors {
			c.descriptors++
		}
	}
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		if m.Version == 3 || m.Result == nil || len(m.Result.Example) > 0 || m.Result.Shape != "object" {
			continue
		}
		if role(m) == "list" && len(m.Result.Fields) > 0 {
			// crm.invoice.list's table of the invoice's fields, with no
			// example: the rows of the list, paged by start where the
			// page takes it.
			res := *m.Result
			res.Shape, res.Kind = "array", spec.KindObject
			res.Paginated = res.Paginated || hasParam(m.Params, "start")
			m.Result = &res
			continue
		}
		if role(m) != "fields" {
			continue
		}
		c := byModule[module(m)]
		if c == nil || c.descriptors < 3 || c.descriptors*10 < c.examples*9 {
			continue
		}
		res := *m.Result
		res.Shape = spec.ShapeDescriptors
		m.Result = &res
	}
}

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

// reconcile returns m.Result corrected by its example: the shape the
// example shows, fields it shows that the table does not, types the
// example contradicts widened. A map of field descriptors gets
// spec.ShapeDescriptors.
func (x *reconciler) reconcile() spec.Result {
	m := x.m
	r := *m.Result
	r.Fields = x.borrowSiblingTypes(m, r.Fields)
	ex, ok := exampleValue(m.Result)
	if !ok || r.Shape == "map" {
		// A map keyed by record id is keyed.go's reading of the example.
		return r
	}
	if isDescriptorMap(ex) {
		r.Shape = spec.ShapeDescriptors
		return r
	}
	exShape := jsonShape(ex)
	if exShape == "" || isEmptyExample(ex) {
		return r
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
			x.r.problem(m.Page, m.Line, KindShapeFromExample,
				m.Name+": rows documented as a list arrive as an object keyed by ID: json.RawMessage")
			return unknownResult(r)
		}
		x.r.problem(m.Page, m.Line, KindShapeFromExample,
			fmt.Sprintf("%s: result documented as %s, the example shows %s; following the example", m.Name, documented, exShape))
		r.Shape = exShape
		if exShape != "scalar" {
			r.Kind = ""
		}
	}
	switch r.Shape {
	case "scalar":
		k := inferKind("id", ex) // a bare integer result is an ID or a count
		if r.Kind == "" || !fitsValue(r.Kind, ex) {
			r.Kind = k
		}
		r.Fields = nil
	case "object":
		obj := ex.(map[string]any)
		if allKeysNumeric(obj) || len(r.Fields) == 0 && looksLikeMap(obj) {
			return unknownResult(r)
		}
		if len(r.Fields) == 0 {
			r.Fields = x.exampled(paramsFromObject(obj))
		} else {
			r.Fields = x.reconcileFields(r.Fields, obj)
		}
	case "array":
		rows := mergeRows(ex.([]any))
		if rows == nil && (r.Kind == spec.KindObject || len(r.Fields) > 0) {
			// Rows documented as objects, shown as scalars (a parameter
			// switches between the two): only raw JSON takes both.
			x.r.problem(m.Page, m.Line, KindShapeFromExample,
				m.Name+": rows documented as objects, the example shows scalars: json.RawMessage")
			return unknownResult(r)
		}
		if rows == nil {
			if len(r.Fields) == 0 && r.Kind != spec.KindObject {
				if k := inferArrayElem(ex.([]any)); r.Kind == "" || r.Kind == spec.KindAny || !fitsElems(r.Kind, ex.([]any)) {
					r.Kind = k
				}
			}
			break
		}
		r.Kind = spec.KindObject
		if len(r.Fields) == 0 {
			r.Fields = x.exampled(paramsFromObject(rows))
		} else {
			r.Fields = x.reconcileRows(r.Fields, ex.([]any))
		}
	}
	return r
}

// unknownResult is r when its example shows a shape no result type holds:
// raw, with no fields and no entity; the placeholder notes stay on record.
func unknownResult(r spec.Result) spec.Result {
	return spec.Result{Shape: "unknown", Wrapper: r.Wrapper, Placeholders: r.Placeholders}
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

// allKeysNumeric reports an object keyed by record ids (keyed.go's rule).
func allKeysNumeric(obj map[string]any) bool { return allNumeric(slices.Collect(maps.Keys(obj))) }

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
func (x *reconciler) reconcileRows(fields []spec.Param, rows []any) []spec.Param {
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
	outer := x.inRows
	x.inRows = true
	for _, r := range rows {
		if obj, ok := r.(map[string]any); ok {
			fields = x.reconcileFields(fields, obj)
		}
	}
	x.inRows = outer
	return fields
}

// reconcileFields keeps the documented fields, retyping from the example
// those whose example value the documented type cannot decode.
func (x *reconciler) reconcileFields(fields []spec.Param, obj map[string]any) []spec.Param {
	m := x.m
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
					p.Fields = x.reconcileRows(p.Fields, rows)
				}
			}
			continue
		case p.Kind == spec.KindAny || p.Kind == "":
			// Documented without a usable type, shown as a scalar: the
			// runtime's String takes any scalar the portal sends.
			if jsonShape(v) == "scalar" && p.Type != mixedType {
				p.Kind = spec.KindString
				p.Evidence = x.evidence(*p)
			}
			continue
		case p.Kind == spec.KindObject && len(p.Fields) == 0:
			// An object the docs do not detail: its keys from the example.
			if sub, isObj := v.(map[string]any); isObj && len(sub) > 0 && !looksLikeMap(sub) && !isDescriptorMap(sub) {
				p.Fields = x.exampled(paramsFromObject(sub))
			}
			continue
		case p.Kind == spec.KindArray && (p.Elem == "" || p.Elem == spec.KindAny || p.Elem == spec.KindObject && len(p.Fields) == 0):
			// A list whose rows the docs do not detail.
			if arr, isArr := v.([]any); isArr && len(arr) > 0 {
				inferred := paramFromValue(p.Name, arr)
				if inferred.Elem != spec.KindAny {
					p.Elem, p.Fields = inferred.Elem, x.exampled(inferred.Fields)
				}
				continue
			}
		case p.Kind == spec.KindObject && len(p.Fields) > 0:
			if sub, isObj := v.(map[string]any); isObj && !allKeysNumeric(sub) {
				p.Fields = x.reconcileFields(p.Fields, sub)
				continue
			}
			if isEmptyForm(v) {
				continue
			}
		case p.Kind == spec.KindArray && p.Elem == spec.KindObject && len(p.Fields) > 0:
			if arr, isArr := v.([]any); isArr {
				if mergeRows(arr) != nil {
					p.Fields = x.reconcileRows(p.Fields, arr)
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
		if x.inRows && (structured(p.Kind) || structured(inferred.Kind)) {
			// An object in one row and a scalar in another (or in the
			// table): only raw JSON takes both. A single value follows
			// the example.
			inferred = spec.Param{Name: p.Name, Kind: spec.KindAny, Type: mixedType}
		}
		x.r.problem(cmp.Or(p.Page, m.Page), p.Line, KindTypeFromExample,
			fmt.Sprintf("%s: %s %s documented as %s, the example holds %s; following the example", m.Name, x.what, p.Name, describeKind(*p), describeKind(inferred)))
		inferred.Description, inferred.Line, inferred.Deprecated, inferred.Placeholders = p.Description, p.Line, p.Deprecated, p.Placeholders
		inferred.Fields, inferred.Evidence = x.exampled(inferred.Fields), rank(x.evidence(inferred), p.Evidence)
		*p = inferred
	}
	return out
}

// mixedType marks a field the example shows in incompatible forms: it
// stays raw, whatever later rows show.
const mixedType = "(mixed in the example)"

func structured(k spec.Kind) bool { return k == spec.KindObject || k == spec.KindArray }

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
		return fitsElems(p.Elem, arr)
	case spec.KindEnum:
		if p.YN() {
			return fitsValue(spec.KindBoolean, v)
		}
		return fitsValue(spec.KindString, v)
	}
	return fitsValue(p.Kind, v)
}

func fitsElems(k spec.Kind, arr []any) bool {
	for _, e := range arr {
		if !fitsValue(k, e) {
			return false
		}
	}
	return true
}

// paramsFromObject describes an example object's keys, sorted.
// A key written as a pattern ("<user_id>") is the docs' placeholder
// shown in the example, no key a portal sends: it is left out.
func paramsFromObject(obj map[string]any) []spec.Param {
	var out []spec.Param
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if _, pattern := placeholderPattern(k); pattern {
			continue
		}
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
		if _, err := x.Int64(); err == nil && spec.IDName(name) {
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

// evidence is the record of p's kind as the example shows it.
func (x *reconciler) evidence(p spec.Param) []spec.Evidence {
	return []spec.Evidence{{Kind: spec.EvidenceResponse, Page: x.m.Page, Line: x.m.Line, Method: x.m.Name, Note: describeKind(p)}}
}

// exampled marks fields only the example describes as typed by it.
func (x *reconciler) exampled(ps []spec.Param) []spec.Param {
	for i := range ps {
		p := &ps[i]
		if len(p.Evidence) == 0 && p.Kind != "" && p.Kind != spec.KindAny {
			p.Evidence = x.evidence(*p)
		}
		p.Fields = x.exampled(p.Fields)
	}
	return ps
}

func hasParam(ps []spec.Param, name string) bool {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}
