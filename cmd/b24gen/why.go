package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

// `b24gen report -why QUERY` answers "where does this field's type come
// from?" from the resolved spec. QUERY is a method, an entity's family or
// an event, then a field path: crm.deal.list.OPENED (a method's params
// and result), crm.deal.STAGE_ID (the entity's read and write forms),
// ONCRMDEALUPDATE.data.FIELDS.ID (an event's payload). A method or
// entity alone lists its top-level fields.

// whyAnswer is one field the query names.
type whyAnswer struct {
	Path     string          `json:"path"` // "crm.deal.list result OPENED"
	Kind     spec.Kind       `json:"kind"`
	Elem     spec.Kind       `json:"elem,omitempty"`
	Type     string          `json:"type,omitempty"` // the documented token, as written
	Evidence []spec.Evidence `json:"evidence"`       // the deciding source first; none when nothing types it
}

// whyRoot is one tree of fields a query can walk.
type whyRoot struct {
	label  string // "crm.deal.list result"
	page   string // the page its own rows are on
	fields []spec.Param
	// wrapper is the result's key under "result" ("task"), which a path
	// may name or leave out.
	wrapper string
}

func runWhy(s *spec.Spec, query string, asJSON bool, stdout io.Writer) error {
	rs, _ := resolve.Resolve(s)
	answers, err := explainWhy(rs, query)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(answers)
	}
	for _, a := range answers {
		fmt.Fprintln(stdout, a.line())
		if len(a.Evidence) == 0 {
			fmt.Fprintln(stdout, "  no source types it: raw")
		}
		for i, e := range a.Evidence {
			fmt.Fprintf(stdout, "  %d. %s\n", i+1, evidenceLine(e))
		}
	}
	return nil
}

// explainWhy finds the fields query names in the resolved spec rs.
func explainWhy(rs *spec.Spec, query string) ([]whyAnswer, error) {
	query = strings.TrimSpace(query)
	owner, roots := whyRoots(rs, query)
	if owner == "" {
		return nil, fmt.Errorf("-why %q: no method, entity family or event of that name (try crm.deal.get.TITLE, crm.deal.TITLE or ONCRMDEALUPDATE.data)", query)
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(query[len(owner):], "."), ".")
	var path []string
	if rest != "" {
		path = strings.Split(rest, ".")
	}
	var out []whyAnswer
	for _, r := range roots {
		path := path
		if len(path) > 0 && r.wrapper != "" && path[0] == r.wrapper {
			path = path[1:]
		}
		for _, p := range walkPath(r.fields, path) {
			out = append(out, answer(r, p, path))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-why %q: %s has no field %s", query, owner, rest)
	}
	return out, nil
}

// whyRoots returns the longest method name, entity family or event name
// query starts with, and the field trees it owns.
func whyRoots(rs *spec.Spec, query string) (string, []whyRoot) {
	matches := func(name string) bool {
		return len(query) >= len(name) && strings.EqualFold(query[:len(name)], name) &&
			(len(query) == len(name) || query[len(name)] == '.')
	}
	best := ""
	var roots []whyRoot
	take := func(name string, rs ...whyRoot) {
		switch {
		case len(name) > len(best):
			best, roots = name, rs
		case len(name) == len(best):
			roots = append(roots, rs...)
		}
	}
	entities := map[string]*spec.Entity{} // by spec.EntityKey: a REST 3.0 family has its own
	for i := range rs.Entities {
		e := &rs.Entities[i]
		entities[spec.EntityKey(e.Family, e.Version)] = e
		if matches(e.Family) {
			take(e.Family, entityRoots(e)...)
		}
	}
	for i := range rs.Methods {
		m := &rs.Methods[i]
		if !matches(m.Name) {
			continue
		}
		label := m.Name
		if m.Version == 3 {
			label += " (REST 3.0)"
		}
		r := []whyRoot{{label: label + " param", page: m.Page, fields: m.Params}}
		if res := m.Result; res != nil {
			if e := entities[spec.EntityKey(res.Entity, m.Version)]; e != nil {
				// The result is the family's entity: its fields are the
				// entity's.
				r = append(r, whyRoot{label: label + " result (entity " + e.Family + ")", page: m.Page, fields: e.Fields, wrapper: res.Wrapper})
			} else {
				r = append(r, whyRoot{label: label + " result", page: m.Page, fields: res.Fields, wrapper: res.Wrapper})
			}
		}
		take(m.Name, r...)
	}
	for i := range rs.Events {
		ev := &rs.Events[i]
		if matches(ev.Name) {
			take(ev.Name, whyRoot{label: ev.Name + " payload", page: ev.Page, fields: ev.Fields})
		}
	}
	return best, roots
}

func entityRoots(e *spec.Entity) []whyRoot {
	page := ""
	if len(e.Sources) > 0 {
		page = e.Sources[0]
	}
	label := e.Family
	if e.Version == 3 {
		label += " (REST 3.0)"
	}
	out := []whyRoot{{label: label + " entity", page: page, fields: e.Fields}}
	if len(e.Input) > 0 {
		out = append(out, whyRoot{label: label + " write form", page: page, fields: e.Input})
	}
	return out
}

// walkPath returns the fields at path under ps (the top level when path
// is empty): exact keys first, else keys equal but for case.
func walkPath(ps []spec.Param, path []string) []spec.Param {
	if len(path) == 0 {
		return ps
	}
	var next *spec.Param
	for i := range ps {
		if ps[i].Name == path[0] {
			next = &ps[i]
			break
		}
	}
	for i := range ps {
		if next == nil && strings.EqualFold(ps[i].Name, path[0]) {
			next = &ps[i]
		}
	}
	if next == nil {
		return nil
	}
	if len(path) == 1 {
		return []spec.Param{*next}
	}
	return walkPath(next.Fields, path[1:])
}

func answer(r whyRoot, p spec.Param, path []string) whyAnswer {
	where := r.label + " "
	if len(path) > 1 {
		where += strings.Join(path[:len(path)-1], ".") + "."
	}
	return whyAnswer{Path: where + p.Name, Kind: cmp.Or(p.Kind, spec.KindAny), Elem: p.Elem, Type: p.Type,
		Evidence: resolve.Explain(p, r.page)}
}

func (a whyAnswer) line() string {
	kind := string(a.Kind)
	if a.Elem != "" {
		if a.Kind == spec.KindObject {
			kind = "map of " + string(a.Elem) // keyed by record id
		} else {
			kind += " of " + string(a.Elem)
		}
	}
	s := a.Path + ": " + kind
	if a.Type != "" {
		s += " (documented " + strconv.Quote(a.Type) + ")"
	}
	return s
}

// evidenceLine is one source as a maintainer reads it: what, where, what
// it showed.
func evidenceLine(e spec.Evidence) string {
	s := string(e.Kind)
	if e.Page != "" {
		s += " " + e.Page
		if e.Line > 0 {
			s += ":" + strconv.Itoa(e.Line)
		}
	}
	if e.Method != "" {
		s += " (" + e.Method + ")"
	}
	if e.Note != "" {
		s += ": " + e.Note
	}
	return s
}
