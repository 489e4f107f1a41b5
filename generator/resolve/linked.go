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
