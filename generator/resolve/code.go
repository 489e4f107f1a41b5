package resolve

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Docs code examples as evidence. A page's Go example decodes the result
// into a struct of its own (extract's Method.CodeFields): its json tags
// name keys, its Go types type them. It ranks below the tables and above
// the field's name: a key no table lists is added to the result from it,
// and a field the tables leave untyped takes its kind, each marked with
// code-example evidence (b24gen report -why shows it). A struct that
// describes another level than the result has (it unwraps "items" where
// the result has no wrapper) is not the result's, and is left alone.

// codeExamples adds the code examples' fields to the results. It runs
// twice: before the entities are assembled, on the results a table
// describes (their entity then holds the code's keys too), and after the
// examples are reconciled, on the results no table describes and no
// entity stands for. A code example alone, like a response example alone,
// never makes an entity: it shows what one call decoded.
func (r *resolver) codeExamples(tabled bool) {
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		if m.Result == nil || r.codeDone[i] ||
			tabled && len(m.Result.Fields) == 0 || !tabled && m.Result.Entity != "" {
			continue
		}
		if r.codeDone == nil {
			r.codeDone = map[int]bool{}
		}
		r.codeDone[i] = true
		code := m.CodeFields
		if m.Result == nil || m.Result.Wrapper != m.CodeWrapper {
			code = nil
		}
		code = append(slices.Clone(code), selectedKeys(m)...)
		if len(code) == 0 || m.Result == nil {
			continue
		}
		switch m.Result.Shape {
		case "object":
		case "array":
			if m.Result.Kind != spec.KindObject && m.Result.Kind != "" && len(m.Result.Fields) == 0 {
				continue // rows of scalars: a struct is not theirs
			}
		default:
			continue
		}
		res := *m.Result
		ex, _ := exampleValue(m.Result)
		res.Fields = r.withCodeFields(m, res.Fields, code, rowsOf(ex))
		if res.Shape == "array" && len(res.Fields) > 0 {
			res.Kind = spec.KindObject
		}
		m.Result = &res
	}
}

// selectedKeys are the keys the page's request example selects
// ("select": ["ID", "STAGE_ID"]): the rows carry them. A key only a select
// names is text (b24.String reads any scalar) until a better source types
// it; wildcards ("*", "UF_*"), custom fields and REST 3.0 dotted paths of
// related objects are not keys of the row.
func selectedKeys(m *spec.Method) []spec.Param {
	if len(m.RequestExample) == 0 || m.Result == nil || len(m.Result.Fields) == 0 {
		return nil
	}
	var body struct {
		Select []any `json:"select"`
	}
	if json.Unmarshal(m.RequestExample, &body) != nil {
		return nil
	}
	var out []spec.Param
	for _, v := range body.Select {
		k, ok := v.(string)
		if !ok || k == "" || strings.ContainsAny(k, "*.[] ") || dynamicKey(k) {
			continue
		}
		out = append(out, spec.Param{Name: k, Kind: spec.KindString, Type: "select"})
	}
	return out
}

// withCodeFields returns have with the code example's fields merged in:
// the ones it lacks added, the untyped ones typed. ex is the response
// example's value at this level (an object, or the union of a list's rows),
// nil when the page shows none: the response example ranks above the code
// example, so a code field its value does not fit is left out and
// reported (a struct declared for a descriptor map or a map keyed by id
// would refuse every real answer), and an object the example shows as a
// map of ids or of descriptors takes no struct from the code.
func (r *resolver) withCodeFields(m *spec.Method, have, code []spec.Param, ex any) []spec.Param {
	out := slices.Clone(have)
	obj, _ := ex.(map[string]any)
	if obj != nil && (isDescriptorMap(obj) || looksLikeMap(obj)) {
		if len(code) > 0 {
			r.problem(m.Page, code[0].Line, KindCodeContradicted,
				m.Name+": the code example declares a struct ("+code[0].Name+", …) where the response example shows a map of ids or of field descriptors: the example's reading is kept")
		}
		return out
	}
	for _, c := range code {
		if dynamicKey(c.Name) {
			continue // one portal's custom field
		}
		v, shown := exampleAt(obj, c.Name)
		if shown && !codeFits(c, v) {
			what := "the code example declares " + c.Name + " as " + string(c.Kind)
			if c.Type == "select" {
				what = "the request's select names " + c.Name + " (text)"
			}
			r.problem(m.Page, c.Line, KindCodeContradicted,
				m.Name+": "+what+", and the response example's value does not fit it: the example's reading is kept")
			continue
		}
		ev := spec.Evidence{Kind: spec.EvidenceCode, Page: m.Page, Line: c.Line, Method: m.Name, Note: c.Type}
		i := slices.IndexFunc(out, func(p spec.Param) bool { return normKey(p.Name) == normKey(c.Name) })
		if i < 0 {
			p := spec.Param{Name: c.Name, Kind: c.Kind, Elem: c.Elem, Line: c.Line, Page: m.Page, Evidence: []spec.Evidence{ev}}
			p.Fields = r.withCodeFields(m, nil, c.Fields, rowsOf(v))
			out = append(out, p)
			continue
		}
		p := &out[i]
		// A row whose token lists alternatives ("string | boolean") is
		// typed by its table: the union reads them all.
		if !documented(*p) && (p.Kind == "" || p.Kind == spec.KindAny) && unionKind(p.Type) == "" && c.Kind != spec.KindAny {
			p.Kind, p.Elem = c.Kind, c.Elem
			p.Evidence = rank([]spec.Evidence{ev}, p.Evidence)
		}
		if len(c.Fields) > 0 && (p.Kind == spec.KindObject || p.Kind == spec.KindArray && p.Elem == spec.KindObject) {
			p.Fields = r.withCodeFields(m, p.Fields, c.Fields, rowsOf(v))
		}
	}
	return out
}

// exampleAt is obj's value under key, matched as the reconciler matches
// keys (normKey), and whether the example shows it.
func exampleAt(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if normKey(k) == normKey(key) {
			return obj[k], true
		}
	}
	return nil, false
}

// codeFits reports whether the code example's field c can read v: a
// struct reads an object (not a map of ids or descriptors), a slice an
// array, a scalar what fits decodes; null and an empty form fit anything.
func codeFits(c spec.Param, v any) bool {
	if v == nil || isEmptyForm(v) {
		return true
	}
	switch {
	case c.Kind == spec.KindObject && len(c.Fields) > 0:
		obj, ok := v.(map[string]any)
		return ok && !isDescriptorMap(obj) && !looksLikeMap(obj)
	case c.Kind == spec.KindArray && c.Elem == spec.KindObject:
		_, ok := v.([]any)
		return ok
	}
	return fits(c, v)
}

// rowsOf is the object level below an example value: the object itself,
// or the union of a list's rows.
func rowsOf(v any) any {
	if arr, ok := v.([]any); ok {
		return mergeRows(arr)
	}
	return v
}
