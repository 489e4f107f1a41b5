package resolve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Objects keyed by record ids. PHP sends a set of records as an object
// whose keys are the records' ids: a task's auditors
// {"13": {"id": "13", "name": …}, "103": {…}}, a list field's values
// {"1669": "Planning"}. extract describes such an example key by key, so
// one portal's ids became fields ("13", "103") that no other portal sends.
// They are a map from the id to the row: spec.Param.KeyedMap, the row's
// members in Fields (the union over the ids shown), or a scalar element
// kind in Elem; a result that is one is Shape "map".
//
// The evidence is the shape alone: every key a numeric string, every value
// of one shape (all objects, or all scalars of one kind). A field whose
// description says it is keyed by id (keyedSpellings) is a map on one key
// too; otherwise one key holding an object is enough as well, since no
// field name is a number.

// keyedSpellings are the ways the docs' prose says "keyed by id", per
// language (matched case-insensitively on the description).
var keyedSpellings = []string{
	"keyed by", "keys are", "key is the", "where the key is", "object where the keys",
	"ключ", // ключами, ключ — идентификатор, ключом является
}

// describedKeyed reports a description that says its object is keyed.
func describedKeyed(desc string) bool { return mentionsAny(desc, keyedSpellings) }

// keyed rewrites every object keyed by record ids in the methods' params
// and results and the events' payloads, and reports each one.
func (r *resolver) keyed() {
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		k := keyer{r: r, file: m.Page, what: m.Name}
		if ps, ok := k.params(m.Params, "params"); ok {
			m.Params = ps
		}
		if m.Result == nil {
			continue
		}
		res := *m.Result
		changed := false
		if fs, ok := k.params(res.Fields, "result"); ok {
			res.Fields, changed = fs, true
		}
		if names := paramNames(res.Fields); res.Shape == "object" && allNumeric(names) {
			k.report(m.Line, "result", res.Fields)
			if row, ok := keyedRow(res.Fields); ok {
				res.Shape, res.Kind, res.Fields = "map", row.Kind, row.Fields
			} else {
				res.Shape, res.Kind, res.Fields = "unknown", "", nil
			}
			changed = true
		}
		if changed {
			m.Result = &res
		}
	}
	for i := range r.s.Events {
		ev := &r.s.Events[i]
		k := keyer{r: r, file: ev.Page, what: ev.Name}
		if fs, ok := k.params(ev.Fields, "payload"); ok {
			ev.Fields = fs
		}
	}
}

type keyer struct {
	r    *resolver
	file string
	what string
}

func (k keyer) report(line int, path string, fields []spec.Param) {
	ids := make([]string, 0, len(fields))
	for _, f := range fields {
		ids = append(ids, f.Name)
	}
	if len(ids) > 4 {
		ids = append(ids[:4], "…")
	}
	k.r.problem(k.file, line, KindKeyedByID,
		fmt.Sprintf("%s: %s is keyed by record id (keys %s in the example): a map of its rows", k.what, path, strings.Join(ids, ", ")))
}

// KindKeyedByID is the problem kind of an object found keyed by record ids.
const KindKeyedByID = "keyed-by-id"

// params returns ps with every keyed object made a map (copied where
// changed); ok is false when nothing changed.
func (k keyer) params(ps []spec.Param, path string) ([]spec.Param, bool) {
	var out []spec.Param
	for i, p := range ps {
		q, changed := k.param(p, path+"."+p.Name)
		if changed && out == nil {
			out = append([]spec.Param(nil), ps[:i]...)
		}
		if out != nil {
			out = append(out, q)
		}
	}
	return out, out != nil
}

func (k keyer) param(p spec.Param, path string) (spec.Param, bool) {
	changed := false
	if fs, ok := k.params(p.Fields, path); ok {
		p.Fields, changed = fs, true
	}
	if p.Kind != spec.KindObject && p.Kind != spec.KindArray && p.Kind != spec.KindAny && p.Kind != "" {
		return p, changed
	}
	if !allNumeric(paramNames(p.Fields)) {
		return p, changed
	}
	row, ok := keyedRow(p.Fields)
	if !ok {
		// Keyed by id, but the values disagree in shape or are maps or
		// lists themselves ({"0": ["read"]}, {"1763": {"103": false}}):
		// no field per id, the object stays untyped.
		k.report(p.Line, path, p.Fields)
		p.Kind, p.Elem, p.Fields = spec.KindObject, "", nil
		return p, true
	}
	k.report(p.Line, path, p.Fields)
	p.Kind, p.Elem, p.Fields = spec.KindObject, row.Kind, row.Fields
	p.Evidence = rank([]spec.Evidence{{Kind: spec.EvidenceResponse, Page: k.file, Line: p.Line, Method: k.what, Note: "keyed by record id"}}, p.Evidence)
	return p, true
}

// keyedRow reports fields that are the members of an object keyed by
// record ids, and returns the row they share: all names numeric strings,
// all of one shape. Rows that are objects merge their members (the union
// over the ids shown, in first-seen order); scalar rows give their kind.
func keyedRow(fields []spec.Param) (spec.Param, bool) {
	if len(fields) == 0 {
		return spec.Param{}, false
	}
	var kind spec.Kind
	for _, f := range fields {
		if !isInteger(f.Name) || strings.HasPrefix(f.Name, "-") {
			return spec.Param{}, false
		}
		if f.KeyedMap() {
			return spec.Param{}, false // a map of maps: no spec form
		}
		fk := f.Kind
		if fk == "" || fk == spec.KindAny {
			return spec.Param{}, false
		}
		if kind == "" {
			kind = fk
		} else if kind != fk {
			if numberLike(kind) && numberLike(fk) {
				kind = spec.KindNumber
				continue
			}
			return spec.Param{}, false
		}
	}
	row := spec.Param{Kind: kind}
	if kind == spec.KindObject {
		mg := newMerger()
		for _, f := range fields {
			mg.add(f.Fields, true)
		}
		row.Fields = mg.fields()
	}
	if kind == spec.KindArray {
		return spec.Param{}, false // a map of lists: no spec form
	}
	return row, true
}

func numberLike(k spec.Kind) bool { return k == spec.KindInteger || k == spec.KindNumber }

// keyedRows reports an object without documented members whose example is
// keyed by ids and holds objects ({"103": {"id": "103", "name": …}}): a
// map of rows, their members from the example. It is keyedScalars' twin
// for records.
func keyedRows(f spec.Param, v []byte) ([]spec.Param, bool) {
	if len(f.Fields) > 0 || f.Elem != "" || f.Kind != spec.KindObject && f.Kind != spec.KindArray && f.Kind != spec.KindAny {
		return nil, false
	}
	keys, vals, ok := orderedObject(v)
	if !ok || len(keys) == 0 {
		return nil, false
	}
	mg := newMerger()
	for i, key := range keys {
		if !isInteger(key) || strings.HasPrefix(key, "-") {
			return nil, false
		}
		rk, rv, ok := orderedObject(bytes.TrimSpace(vals[i]))
		if !ok || len(rk) == 0 || allNumeric(rk) {
			// A map of maps ({"1763": {"103": false}}) has no spec
			// form: it stays raw.
			return nil, false
		}
		var ps []spec.Param
		for j, name := range rk {
			ps = append(ps, spec.Param{Name: name, Kind: scalarOrAny(bytes.TrimSpace(rv[j]))})
		}
		mg.add(ps, true)
	}
	return mg.fields(), true
}

// scalarOrAny is a scalar's kind, or any for a structured value or null.
func scalarOrAny(v []byte) spec.Kind {
	switch jsonKind(v) {
	case 'o', 'a', 'z':
		return spec.KindAny
	}
	return scalarKindOf(v)
}

func allNumeric(keys []string) bool {
	for _, k := range keys {
		if !isInteger(k) || strings.HasPrefix(k, "-") {
			return false
		}
	}
	return len(keys) > 0
}

func paramNames(ps []spec.Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// phpContainer reports a field whose only type is PHP's word for any
// container ("array", "object", or none), with no members: a keyed map
// another page shows is its better description.
func phpContainer(p spec.Param) bool {
	switch strings.ToLower(strings.TrimSpace(p.Type)) {
	case "", "array", "object":
	default:
		return false
	}
	switch p.Kind {
	case spec.KindArray, spec.KindObject, spec.KindAny, "":
	default:
		return false
	}
	return len(p.Fields) == 0 && !p.KeyedMap()
}

// wrappedResult reads a result documented as an object with one member
// that the page leaves undetailed ({"task": object}) and the example
// fills: the value under that key, as a wrapped result whose fields are
// the example's. ok is false for any other result. The caller decides
// whether the fields are an entity's.
func wrappedResult(res *spec.Result) (*spec.Result, bool) {
	if res == nil || res.Shape != "object" || res.Wrapper != "" || len(res.Fields) != 1 {
		return nil, false
	}
	f := res.Fields[0]
	if len(f.Fields) > 0 || f.KeyedMap() || f.Kind != spec.KindObject && f.Kind != spec.KindAny && f.Kind != "" {
		return nil, false
	}
	v, ok := exampleResult(res)
	if !ok {
		return nil, false
	}
	inner, ok := member(v, f.Name)
	if !ok || jsonKind(bytes.TrimSpace(inner)) != 'o' {
		return nil, false
	}
	fields := paramsFromJSON(inner, 0)
	if len(fields) < minEntityFields {
		return nil, false
	}
	cp := *res
	cp.Wrapper, cp.Shape, cp.Kind, cp.Fields = f.Name, "object", "", fields
	return &cp, true
}

// paramsFromJSON describes an example object's members in order: scalars
// by their kind, objects by their members (records keyed by id as maps),
// lists by their first element. Their Type stays empty: example evidence,
// below any table.
func paramsFromJSON(obj []byte, depth int) []spec.Param {
	keys, vals, ok := orderedObject(obj)
	if !ok || depth > 6 {
		return nil
	}
	out := make([]spec.Param, 0, len(keys))
	for i, k := range keys {
		v := bytes.TrimSpace(vals[i])
		p := spec.Param{Name: k, Kind: scalarOrAny(v)}
		if sv := string(v); sv == "null" || sv == "[]" || sv == "{}" {
			// PHP's "nothing" shows no type.
			p.Kind = spec.KindAny
			out = append(out, p)
			continue
		}
		switch jsonKind(v) {
		case 'o':
			p.Kind = spec.KindObject
			if rows, ok := keyedRows(spec.Param{Kind: spec.KindObject}, v); ok {
				p.Elem, p.Fields = spec.KindObject, rows
			} else if sub := paramsFromJSON(v, depth+1); len(sub) > 0 && !allNumeric(paramNames(sub)) {
				p.Fields = sub
			}
		case 'a':
			p.Kind = spec.KindArray
			var elems []json.RawMessage
			if json.Unmarshal(v, &elems) == nil && len(elems) > 0 {
				e := bytes.TrimSpace(elems[0])
				if jsonKind(e) == 'o' {
					p.Elem, p.Fields = spec.KindObject, paramsFromJSON(e, depth+1)
				} else if k := scalarOrAny(e); k != spec.KindAny {
					p.Elem = k
				}
			}
		}
		out = append(out, p)
	}
	return out
}
