package resolve

import (
	"cmp"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Many list pages show their rows only as a response example, so the
// extractor can tell no more than "string" for "ID": "410". The family's
// documented read method (crm.deal.get for crm.deal.list) usually has the
// returned-data table those rows follow. siblingFields indexes those tables
// so a field known only from an example can take its documented type
// (evidence EvidenceSibling); reconcile then still checks the type against
// the example.

// siblingFields maps a method family ("crm.deal") to the documented result
// fields of its REST 2 get method, by wire name.
func siblingFields(ms []spec.Method) map[string]map[string]spec.Param {
	out := map[string]map[string]spec.Param{}
	for i := range ms {
		m := &ms[i]
		if m.Version == 3 || m.Result == nil || m.Result.Shape != "object" {
			continue
		}
		family, last, ok := cutLast(m.Name)
		if !ok || !strings.EqualFold(last, "get") {
			continue
		}
		byName := map[string]spec.Param{}
		for _, p := range m.Result.Fields {
			if documented(p) {
				p.Evidence = []spec.Evidence{{Kind: spec.EvidenceSibling, Page: cmp.Or(p.Page, m.Page), Line: p.Line, Method: m.Name, Note: p.Type}}
				byName[p.Name] = p
			}
		}
		if len(byName) > 0 {
			out[family] = byName
		}
	}
	return out
}

// borrowSiblingTypes gives the example-only fields of m's result the
// documented type of the same field in the family's get method.
func (x *reconciler) borrowSiblingTypes(m *spec.Method, fields []spec.Param) []spec.Param {
	family, last, ok := cutLast(m.Name)
	if !ok || strings.EqualFold(last, "get") {
		return fields
	}
	known := x.siblings[family]
	if len(known) == 0 {
		return fields
	}
	var out []spec.Param
	for i, f := range fields {
		g, ok := known[f.Name]
		if !ok || documented(f) || len(f.Fields) > 0 {
			continue
		}
		if out == nil {
			out = append([]spec.Param(nil), fields...)
		}
		f.Kind, f.Elem, f.Type, f.Enum = g.Kind, g.Elem, g.Type, g.Enum
		if f.Description == "" {
			f.Description = g.Description
		}
		if g.Kind == spec.KindObject {
			f.Fields, f.Ref = g.Fields, g.Ref
		}
		f.Evidence = append(g.Evidence[:1:1], f.Evidence...)
		out[i] = f
	}
	if out == nil {
		return fields
	}
	return out
}
