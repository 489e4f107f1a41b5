package resolve

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The page's request example (spec.Method.RequestExample, the JSON body of
// its cURL call) shows what the parameters hold. Where a table left a
// parameter open — an array without an element type, an object without
// fields, a row without a type — and every value the example shows agrees,
// the parameter takes the example's shape. What a table documents is never
// changed, and maps keyed by field names or codes (filter, order, fields of
// custom keys, language maps) stay maps: a struct made from one example of
// them would fit no other call.

// refineFromRequest returns ps with the open kinds filled in from m's
// request example; each param it refined carries EvidenceRequest.
func (r *resolver) refineFromRequest(m *spec.Method, ps []spec.Param) []spec.Param {
	if len(m.RequestExample) == 0 {
		return ps
	}
	var body map[string]any
	if decodeNumbers(m.RequestExample, &body) != nil || len(body) == 0 {
		return ps
	}
	out, _ := refineParams(ps, []map[string]any{body}, true)
	requestPage(out, m.Page)
	return out
}

// refineParams refines each of ps from its values in objs (the objects the
// params are keys of: the body, or every element of a documented list).
// top is set for the method's own params.
func refineParams(ps []spec.Param, objs []map[string]any, top bool) ([]spec.Param, int) {
	out := slices.Clone(ps)
	total := 0
	for i := range out {
		var vals []any
		for _, o := range objs {
			if v, ok := o[out[i].Name]; ok && v != nil {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		var n int
		out[i], n = refineParam(out[i], vals, top)
		total += n
	}
	return out, total
}

// refineParam refines one param from all the values the example gives it.
func refineParam(p spec.Param, vals []any, top bool) (spec.Param, int) {
	if top && strings.EqualFold(p.Name, "select") || p.KeyedMap() {
		// paramType makes select []string whatever the table says; a map
		// keyed by record id has its row from resolve.
		return p, 0
	}
	// "array" in PHP's sense: the docs say array, the example sends an
	// object ({"fields": {"TITLE": …}}), and so does the portal's PHP.
	if p.Kind == spec.KindArray && len(vals) > 0 && allPlainObjects(vals) {
		p.Kind, p.Elem = spec.KindObject, ""
		q, _ := refineParam(p, vals, top)
		return fromRequest(q, spec.RequestKind), 1
	}
	switch {
	case p.Kind == spec.KindObject && len(p.Fields) == 0:
		if objs, ok := records(vals); ok && !keyedByFieldName(p.Name) {
			p.Fields = inferFields(objs)
			return fromRequest(p, spec.RequestFields), 1
		}
	case p.Kind == spec.KindObject:
		if objs, ok := allObjects(vals); ok {
			var n int
			p.Fields, n = refineParams(p.Fields, objs, false)
			return p, n
		}
	case p.Kind == spec.KindArray && p.Elem == spec.KindObject && len(p.Fields) > 0:
		if objs, ok := allObjects(elements(vals)); ok {
			var n int
			p.Fields, n = refineParams(p.Fields, objs, false)
			return p, n
		}
	case p.Kind == spec.KindArray && (p.Elem == "" || p.Elem == spec.KindAny || p.Elem == spec.KindObject):
		elems := elements(vals)
		if len(elems) == 0 {
			return p, 0
		}
		if objs, ok := records(elems); ok {
			p.Elem, p.Fields = spec.KindObject, inferFields(objs)
			return fromRequest(p, spec.RequestFields), 1
		}
		if k := scalarKind(elems); k != "" && p.Elem != spec.KindObject {
			p.Elem = k
			return fromRequest(p, spec.RequestElem), 1
		}
	case (p.Kind == spec.KindAny || p.Kind == "") && p.Type == "":
		// A row without a type: the example's shape, when all agree.
		if q := inferParam(p.Name, vals); q.Kind != spec.KindAny && (q.Kind != spec.KindObject || len(q.Fields) > 0) && !keyedByFieldName(p.Name) &&
			(q.Kind != spec.KindArray || q.Elem != spec.KindAny) {
			p.Kind, p.Elem, p.Fields = q.Kind, q.Elem, q.Fields
			return fromRequest(p, requestNote(p)), 1
		}
	}
	return p, 0
}

// keyedByFieldName names the parameters whose keys are the entity's field
// names (optionally operator-prefixed) or a template's placeholders:
// filter, ELEMENT_ORDER, fields, values, PROPERTY_VALUES. Their map types
// stay.
func keyedByFieldName(name string) bool {
	n := strings.ToLower(name)
	for _, suffix := range []string{"filter", "order", "sort", "select", "fields", "values"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// elements returns the elements of all vals, or nil when one is not an array.
func elements(vals []any) []any {
	var out []any
	for _, v := range vals {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for _, e := range arr {
			if e != nil {
				out = append(out, e)
			}
		}
	}
	if out == nil {
		return nil
	}
	return out
}

func allObjects(vals []any) ([]map[string]any, bool) {
	if len(vals) == 0 {
		return nil, false
	}
	objs := make([]map[string]any, 0, len(vals))
	for _, v := range vals {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		objs = append(objs, o)
	}
	return objs, true
}

// records returns vals as objects when every one is a record: non-empty,
// its keys plain identifiers, not a map keyed by ID, code, language or
// custom field.
func records(vals []any) ([]map[string]any, bool) {
	objs, ok := allObjects(vals)
	if !ok {
		return nil, false
	}
	for _, o := range objs {
		if !isRecord(o) {
			return nil, false
		}
	}
	return objs, true
}

func isRecord(o map[string]any) bool {
	if len(o) == 0 || looksLikeMap(o) || isDescriptorMap(o) {
		return false
	}
	langs := 0
	for k := range o {
		if !isIdentifier(k) || isCustomField(k) || hasDigit(k) {
			return false
		}
		if len(k) == 2 && strings.ToLower(k) == k {
			langs++
		}
	}
	// {"en": "…", "de": "…"}: a map of translations.
	return langs < 2 || langs < len(o)
}

// isIdentifier reports a key that names a field: letters, digits and
// underscores, not starting with a digit. Operator prefixes (">ID"),
// paths ("a.b") and numeric keys mark maps.
func isIdentifier(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isCustomField reports a user field key (UF_CRM_1, ufCrm5_123): its
// presence shows the object is keyed by the portal's field names.
func isCustomField(k string) bool {
	return strings.HasPrefix(k, "UF_") || strings.HasPrefix(k, "uf_") || strings.HasPrefix(k, "ufCrm") || strings.HasPrefix(k, "ufTask")
}

// hasDigit reports keys such as U1, group6, PROPERTY_123, Parameter1 or
// Option1Code: instances of a numbered series (access codes, sections,
// template parameters), so the object is keyed by instance, not by field.
func hasDigit(k string) bool { return strings.ContainsAny(k, "0123456789") }

// inferFields describes the union of the keys of objs, sorted; each field
// takes the kind all its values agree on.
func inferFields(objs []map[string]any) []spec.Param {
	var keys []string
	for _, o := range objs {
		for k := range o {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	out := make([]spec.Param, 0, len(keys))
	for _, k := range keys {
		var vals []any
		for _, o := range objs {
			if v, ok := o[k]; ok && v != nil {
				vals = append(vals, v)
			}
		}
		out = append(out, inferParam(k, vals))
	}
	return out
}

// inferParam describes a key from all its example values: KindAny when
// they show nothing (null) or disagree.
func inferParam(name string, vals []any) spec.Param {
	p := spec.Param{Name: name, Kind: spec.KindAny}
	if len(vals) == 0 {
		return p
	}
	if _, ok := allObjects(vals); ok {
		p.Kind = spec.KindObject // a map, or empty: map[string]any
		if recs, ok := records(vals); ok && !keyedByFieldName(name) {
			p.Fields = inferFields(recs)
		}
		return p
	}
	if allArrays(vals) {
		p.Kind, p.Elem = spec.KindArray, spec.KindAny
		elems := elements(vals)
		if len(elems) == 0 {
			return p
		}
		if recs, ok := records(elems); ok {
			p.Elem, p.Fields = spec.KindObject, inferFields(recs)
		} else if k := scalarKind(elems); k != "" {
			p.Elem = k
		}
		return p
	}
	if k := scalarKind(vals); k != "" {
		p.Kind = k
	}
	return p
}

func allArrays(vals []any) bool {
	for _, v := range vals {
		if _, ok := v.([]any); !ok {
			return false
		}
	}
	return len(vals) > 0
}

// scalarKind is the kind every value in vals has: integer (integral
// numbers), number (any with a fraction), string or boolean (JSON true and
// false; "Y"/"N" stay strings, as the portal takes them); "" when they
// disagree or one is structured.
func scalarKind(vals []any) spec.Kind {
	var k spec.Kind
	for _, v := range vals {
		var vk spec.Kind
		switch x := v.(type) {
		case json.Number:
			vk = spec.KindNumber
			if _, err := x.Int64(); err == nil {
				vk = spec.KindInteger
			}
		case string:
			vk = spec.KindString
		case bool:
			vk = spec.KindBoolean
		default:
			return ""
		}
		var ok bool
		if k, ok = unifyKinds(k, vk); !ok {
			return ""
		}
	}
	return k
}

// unifyKinds is the kind that holds values of kinds a and b: b when a is
// unset, a when they agree, number for integer and number; ok is false
// when no kind holds both.
func unifyKinds(a, b spec.Kind) (k spec.Kind, ok bool) {
	switch {
	case a == "":
		return b, true
	case a == b:
		return a, true
	case a == spec.KindInteger && b == spec.KindNumber || a == spec.KindNumber && b == spec.KindInteger:
		return spec.KindNumber, true
	}
	return "", false
}

// fromRequest marks p as typed by the request example; note is one of
// spec.RequestKind, spec.RequestElem, spec.RequestFields.
func fromRequest(p spec.Param, note string) spec.Param {
	if len(p.Evidence) == 0 || p.Evidence[0].Kind != spec.EvidenceRequest {
		p.Evidence = append([]spec.Evidence{{Kind: spec.EvidenceRequest, Note: note}}, p.Evidence...)
	}
	return p
}

// requestNote is what the example gave a row without a type.
func requestNote(p spec.Param) string {
	if len(p.Fields) > 0 {
		return spec.RequestFields
	}
	return spec.RequestKind
}

// allPlainObjects reports values that are all JSON objects, none keyed
// 0, 1, 2… (a list PHP sent as an object).
func allPlainObjects(vals []any) bool {
	for _, v := range vals {
		o, ok := v.(map[string]any)
		if !ok || len(o) == 0 {
			return false
		}
		if _, isList := o["0"]; isList {
			return false
		}
	}
	return true
}

// requestPage names the page of the request evidence refineParams recorded.
func requestPage(ps []spec.Param, page string) {
	for i := range ps {
		if ev := ps[i].Evidence; len(ev) > 0 && ev[0].Kind == spec.EvidenceRequest && ev[0].Page == "" {
			ps[i].Evidence = slices.Clone(ev)
			ps[i].Evidence[0].Page = page
		}
		requestPage(ps[i].Fields, page)
	}
}
