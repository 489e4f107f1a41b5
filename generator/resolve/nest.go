package resolve

import (
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// nest gathers the documented dotted rows ("fields.TITLE", "select.ID")
// of every method, entity and event under their parent, so no later stage
// meets a dotted name that is a path.
func (r *resolver) nest() {
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		m.Params = nestDotted(m.Params)
		if m.Result != nil && hasDotted(m.Result.Fields) {
			res := *m.Result
			res.Fields = nestDotted(res.Fields)
			m.Result = &res
		}
	}
	for i := range r.s.Entities {
		e := &r.s.Entities[i]
		e.Fields, e.Input = nestDotted(e.Fields), nestDotted(e.Input)
	}
	for i := range r.s.Events {
		ev := &r.s.Events[i]
		ev.Fields = nestDotted(ev.Fields)
	}
}

// hasDotted reports a dotted name among ps or their fields.
func hasDotted(ps []spec.Param) bool {
	for _, p := range ps {
		if strings.Contains(p.Name, ".") || hasDotted(p.Fields) {
			return true
		}
	}
	return false
}

// nestDotted turns documented dotted rows ("fields.TITLE") into nested
// fields of their parent, creating the parent when the docs omit it. It
// returns ps itself when nothing is dotted, else copies.
func nestDotted(ps []spec.Param) []spec.Param {
	if !hasDotted(ps) {
		return ps
	}
	// A dotted name whose head is a documented scalar is a literal key
	// ("edit" and "edit.originator" are both flags of tasks.task.get).
	scalar := map[string]bool{}
	for _, p := range ps {
		if p.Kind != spec.KindObject && p.Kind != spec.KindArray && !strings.Contains(p.Name, ".") {
			scalar[p.Name] = true
		}
	}
	var out []spec.Param
	index := map[string]int{}
	for _, p := range ps {
		head, rest, ok := strings.Cut(p.Name, ".")
		if !ok || head == "" || rest == "" || scalar[head] {
			index[p.Name] = len(out)
			out = append(out, p)
			continue
		}
		i, found := index[head]
		if !found {
			i = len(out)
			index[head] = i
			out = append(out, spec.Param{Name: head, Kind: spec.KindObject, Line: p.Line})
		}
		child := p
		child.Name = rest
		parent := &out[i]
		if parent.Kind != spec.KindObject && parent.Kind != spec.KindArray {
			parent.Kind = spec.KindObject
		}
		// Clipped, so the input's backing array is never written.
		parent.Fields = append(slices.Clip(parent.Fields), child)
	}
	for i := range out {
		out[i].Fields = nestDotted(out[i].Fields)
	}
	return out
}
