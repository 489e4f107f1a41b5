package resolve

import (
	"fmt"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Linked result types. A REST 3.0 page types its result by a link to the
// section's fields-rest-v3 page ("Task object. See the field descriptions
// in the [Task object](./fields-rest-v3.md#taskdto) block"), and its
// example shows only what one select returned: tasks.task.list's rows had
// 5 of the task's 87 fields. The linked table is the type. extract keeps
// those tables as spec.Objects; here a REST 3.0 result whose keys are an
// object's of the same section (most of them) takes the object's fields,
// the nested objects it links to expanded from the same page. A link back
// into an object being expanded (a cycle) and a link to an anchor the page
// lacks are reported; that field stays an object without members.

// KindLinkCycle and KindLinkMissing are the problems of a linked type that
// cannot be followed.
const (
	KindLinkCycle   = "link-cycle"
	KindLinkMissing = "link-missing"
	// KindLinkValue: a row linked to a section without a table (a value's
	// description) is typed by the section's example, not as a struct.
	KindLinkValue = "link-value"
)

// minLinkedOverlap is the share of a result's keys that must be the
// object's for the result to be that object.
const minLinkedOverlap = 0.8

func (r *resolver) linked() {
	byDir := map[string][]*spec.Object{}
	for i := range r.s.Objects {
		o := &r.s.Objects[i]
		byDir[dirOf(o.Page)] = append(byDir[dirOf(o.Page)], o)
	}
	if len(byDir) == 0 {
		return
	}
	reported := map[string]bool{} // one problem per link, however many results expand it
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		if m.Version != 3 || m.Result == nil || len(m.Result.Fields) == 0 {
			continue
		}
		if m.Result.Shape != "object" && !(m.Result.Shape == "array" && m.Result.Kind == spec.KindObject) {
			continue
		}
		objs := byDir[dirOf(m.Page)]
		best, bestShare := (*spec.Object)(nil), 0.0
		for _, o := range objs {
			if share := keyShare(m.Result.Fields, o.Fields); share > bestShare {
				best, bestShare = o, share
			}
		}
		if best == nil || bestShare < minLinkedOverlap || len(best.Fields) <= len(m.Result.Fields) {
			continue
		}
		x := expander{r: r, objs: objs, visiting: map[string]bool{}, reported: reported}
		fields := linkedEvidence(x.object(best), best.Page)
		mg := newMerger()
		mg.add(fields, true)
		mg.add(m.Result.Fields, true)
		res := *m.Result
		res.Fields = mg.fields()
		m.Result = &res
	}
}

func dirOf(page string) string {
	if i := strings.LastIndexByte(page, '/'); i >= 0 {
		return page[:i]
	}
	return ""
}

// keyShare is the share of fs's keys that obj has.
func keyShare(fs, obj []spec.Param) float64 {
	have := map[string]bool{}
	for _, p := range obj {
		have[p.Name] = true
	}
	n := 0
	for _, f := range fs {
		if have[f.Name] {
			n++
		}
	}
	return float64(n) / float64(len(fs))
}

// expander expands the in-page links of one fields-rest-v3 page's objects.
type expander struct {
	r        *resolver
	objs     []*spec.Object
	visiting map[string]bool
	reported map[string]bool
}

func (x expander) problem(o *spec.Object, f spec.Param, kind, msg string) {
	key := o.Page + "#" + o.Name + "." + f.Name
	if x.reported[key] {
		return
	}
	x.reported[key] = true
	x.r.problem(o.Page, f.Line, kind, msg)
}

func (x expander) find(anchor string) *spec.Object {
	for _, o := range x.objs {
		if strings.EqualFold(o.Name, anchor) {
			return o
		}
	}
	return nil
}

// object returns o's fields with every linked object's fields filled in.
func (x expander) object(o *spec.Object) []spec.Param {
	x.visiting[o.Name] = true
	defer delete(x.visiting, o.Name)
	out := make([]spec.Param, 0, len(o.Fields))
	for _, f := range o.Fields {
		if f.Ref != "" && len(f.Fields) == 0 && (f.Kind == spec.KindObject || f.Kind == spec.KindArray) {
			switch t := x.find(f.Ref); {
			case t == nil:
				x.problem(o, f, KindLinkMissing,
					fmt.Sprintf("%s: %s links to #%s, which the page does not have: an object without members", o.Name, f.Name, f.Ref))
			case x.visiting[t.Name]:
				x.problem(o, f, KindLinkCycle,
					fmt.Sprintf("%s: %s links back to #%s, which holds it: an object without members", o.Name, f.Name, t.Name))
			default:
				f.Fields = x.object(t)
				if f.Kind == spec.KindArray {
					f.Elem = spec.KindObject
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// linkedEvidence marks the object's rows as read from its page: the REST
// 3.0 entity (entity.go) tells by it the fields its write pages take.
func linkedEvidence(ps []spec.Param, page string) []spec.Param {
	for i := range ps {
		p := &ps[i]
		p.Page = page
		if len(p.Evidence) == 0 && documented(*p) {
			p.Evidence = []spec.Evidence{{Kind: spec.EvidenceLinked, Page: page, Line: p.Line, Note: p.Type}}
		}
		p.Fields = linkedEvidence(p.Fields, page)
	}
	return ps
}

// Links to other pages. A row whose type links to a structure another
// page describes (Param.Link: catalog's data-types.md#catalog_measure,
// crm's object-fields.md, imbot.v2's entities.md#message) is typed by that
// page's table (the spec.Objects extract read from it), not by the
// example, which shows what one call returned: a typed linked row types
// the example's key of the same name, and adds the keys the example
// omits. A link to a target that does not exist
// is reported (link-missing), and so is one back into a structure being
// expanded (link-cycle); an anchor whose section has no table describes a
// scalar type and changes nothing. Where the row already has members
// that mostly are not the table's keys, the table describes something
// else (or spells the keys otherwise) and is not used. The row's own
// members keep their place and spelling.

// minLinkShare is the share of a row's own members that must be the
// linked table's keys for the table to type it.
const minLinkShare = 0.5

type linker struct {
	r        *resolver
	objs     map[string]*spec.Object // by page#anchor, page alone for a whole page
	visiting map[string]bool
	reported map[string]bool
}

func (r *resolver) followLinks() {
	lk := &linker{r: r, objs: map[string]*spec.Object{}, visiting: map[string]bool{}, reported: map[string]bool{}}
	for i := range r.s.Objects {
		o := &r.s.Objects[i]
		key := o.Page
		if o.Name != "" {
			key += "#" + o.Name
		}
		lk.objs[key] = o
	}
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		where := func(line int) (string, int) { return m.Page, line }
		params, changed := lk.params(m.Params, where)
		res := m.Result
		if res != nil {
			fields, rc := lk.params(res.Fields, where)
			if res.Link != "" {
				p := spec.Param{Name: "result", Link: res.Link, Kind: spec.KindObject, Fields: fields, Line: m.Line}
				if q, ok := lk.expand(p, where); ok {
					fields, rc = q.Fields, true
				}
			}
			if rc {
				cp := *res
				cp.Fields = fields
				if cp.Shape == "unknown" || cp.Shape == "" {
					cp.Shape = "object"
				}
				res = &cp
				changed = true
			}
		}
		if changed {
			m.Params, m.Result = params, res
		}
	}
	for i := range r.s.Events {
		e := &r.s.Events[i]
		if fields, changed := lk.params(e.Fields, func(line int) (string, int) { return e.Page, line }); changed {
			e.Fields = fields
		}
	}
}

// params returns ps with every link followed, and whether any was; ps is
// not modified.
func (lk *linker) params(ps []spec.Param, where func(int) (string, int)) ([]spec.Param, bool) {
	var out []spec.Param
	for i, p := range ps {
		q, changed := lk.expand(p, where)
		if !changed {
			if sub, subChanged := lk.params(p.Fields, pageOf(p, where)); subChanged {
				q.Fields, changed = sub, true
			}
		}
		if changed && out == nil {
			out = append(make([]spec.Param, 0, len(ps)), ps[:i]...)
		}
		if out != nil {
			out = append(out, q)
		}
	}
	if out == nil {
		return ps, false
	}
	return out, true
}

// expand types p by the table its Link names.
func (lk *linker) expand(p spec.Param, where func(int) (string, int)) (spec.Param, bool) {
	if p.Link == "" || !linkable(p) {
		return p, false
	}
	o := lk.objs[p.Link]
	where = pageOf(p, where)
	switch {
	case o == nil:
		page, line := where(p.Line)
		if !lk.reported[page+"\x00"+p.Link] {
			lk.reported[page+"\x00"+p.Link] = true
			lk.r.problem(page, line, KindLinkMissing, fmt.Sprintf("%s links to %s, which the docs do not have: typed from the page alone", p.Name, p.Link))
		}
		return p, false
	case len(o.Fields) == 0:
		return lk.valueLike(p, o, where)
	case lk.visiting[p.Link]:
		page, line := where(p.Line)
		if !lk.reported[page+"\x00cycle\x00"+p.Link] {
			lk.reported[page+"\x00cycle\x00"+p.Link] = true
			lk.r.problem(page, line, KindLinkCycle, fmt.Sprintf("%s links back to %s, which holds it: an object without the linked members", p.Name, p.Link))
		}
		return p, false
	case len(p.Fields) > 0 && keyShare(p.Fields, o.Fields) < minLinkShare:
		return p, false
	}
	// Both the table's rows and the row's own members are expanded while
	// this link is being followed, so a link back to it is a cycle.
	lk.visiting[p.Link] = true
	linked, _ := lk.params(o.Fields, func(line int) (string, int) { return o.Page, line })
	own, _ := lk.params(p.Fields, where)
	delete(lk.visiting, p.Link)
	p.Fields = own
	// The row's own members first: their keys are what arrives, their
	// required flags this call's; a typed linked row still types an
	// example's key (mergeInto).
	mg := newMerger()
	mg.add(p.Fields, true)
	ownKeys := map[string]bool{}
	for _, f := range p.Fields {
		ownKeys[normKey(f.Name)] = true
	}
	mg.add(stampPage(linked, o.Page), true)
	p.Fields = mg.fields()
	for i := range p.Fields {
		if !ownKeys[normKey(p.Fields[i].Name)] {
			p.Fields[i].Linked = true
		}
	}
	switch p.Kind {
	case spec.KindArray:
		p.Elem = spec.KindObject
	case spec.KindObject:
	default:
		p.Kind, p.Elem = spec.KindObject, ""
	}
	return p, true
}

// valueLike types a row whose link leads to a section without a table: a
// description of a value, not a structure. A row extract read as an
// object only for the link (no members, no object token of its own) is a
// text per language where the section's example is one (crm's
// textWithTranslation: a string, or {"de": …, "en": …}), else a value
// the docs give no shape (any); either is reported (link-value). Other
// rows keep the kind their token gives (attached_diskfile as a string).
func (lk *linker) valueLike(p spec.Param, o *spec.Object, where func(int) (string, int)) (spec.Param, bool) {
	if p.Kind != spec.KindObject || len(p.Fields) > 0 || strings.EqualFold(p.Type, "object") {
		return p, false
	}
	what := "a value the section gives no shape: any"
	if isLocalized(o.Example) {
		p.Kind, p.Type, p.Elem = spec.KindObject, LocalizedType, ""
		what = "a text or a text per language, as its example shows: localized"
	} else {
		p.Kind, p.Type, p.Elem = spec.KindAny, "any", ""
	}
	page, line := where(p.Line)
	if key := page + "\x00value\x00" + p.Link; !lk.reported[key] {
		lk.reported[key] = true
		lk.r.problem(page, line, KindLinkValue, fmt.Sprintf("%s links to %s, a section without a table that describes a value, not a structure: %s", p.Name, p.Link, what))
	}
	return p, true
}

// stampPage marks fields read from another page with that page, so
// problems and doc links name where they come from. Their required flags
// are dropped: the linked page requires them where it is called (an add),
// not in every method that links to the structure (an update).
func stampPage(ps []spec.Param, page string) []spec.Param {
	out := make([]spec.Param, len(ps))
	for i, p := range ps {
		if p.Page == "" {
			p.Page = page
		}
		p.Required = false
		p.Fields = stampPage(p.Fields, page)
		out[i] = p
	}
	return out
}

// linkable reports a row whose type can be the linked structure: an
// object, a list, a named token the docs give no kind ("item" reads as a
// string) or a crm_ token (read as an ID) — not a value of the structure
// ("catalog_section.id", an integer), a number, a date or a flag.
func linkable(p spec.Param) bool {
	switch p.Kind {
	case spec.KindObject, spec.KindArray, spec.KindAny, spec.KindString, "":
		return true
	case spec.KindInteger:
		t := strings.ToLower(strings.TrimSuffix(p.Type, "[]"))
		return !strings.HasSuffix(t, "id")
	}
	return false
}

// pageOf names the page of p's row: its own where another page gave it.
func pageOf(p spec.Param, where func(int) (string, int)) func(int) (string, int) {
	if p.Page == "" {
		return where
	}
	return func(line int) (string, int) { return p.Page, line }
}
