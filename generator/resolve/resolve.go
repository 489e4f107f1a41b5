// Package resolve is the stage between extract and model: it merges the
// evidence the pages give into a resolved spec.Spec, language-neutral.
//
// extract reads each page on its own; resolve looks across pages. It
// assembles one entity per method family (crm.deal, tasks.task, user …)
// from the *.fields page, the get/list/add/update tables, the response
// examples and the event payloads, and points each method's result and
// write parameter at it. It reconciles every result and event payload with
// its example (example.go), borrows a sibling get page's types for fields
// only an example shows (sibling.go), refines the params a table left
// open from the request example (request.go), and gives each event its
// delivery envelope (event.go). It also drops what the pages show that is
// not data: placeholder rows (UF_CRM_..., PARENT_ID_...) and enum "values"
// that are code, not literals. Model then only names things and maps
// kinds to Go types: it reads no example (TestModelReadsNoExample).
//
// Resolve never mutates its input: the returned spec shares unchanged
// records with it and copies every record it changes.
package resolve

import "github.com/b24gen/b24gen/spec"

// Resolve returns the resolved form of s and the problems met on the way
// (each naming its page and line).
func Resolve(s *spec.Spec) (*spec.Spec, []spec.Problem) {
	out := *s
	out.Methods = append([]spec.Method(nil), s.Methods...)
	out.Events = append([]spec.Event(nil), s.Events...)
	r := &resolver{s: &out}
	r.clean()
	r.keyed()
	r.linked()
	r.followLinks()
	r.codeExamples(true) // code.go
	r.entities()
	r.nest()
	r.examples()
	r.codeExamples(false)
	r.payloads()
	r.tokens() // last: it reads the settled rows
	return &out, r.problems
}

type resolver struct {
	s        *spec.Spec
	problems []spec.Problem
	codeDone map[int]bool // methods whose code example codeExamples merged
}

func (r *resolver) problem(file string, line int, kind, msg string) {
	r.problems = append(r.problems, spec.Problem{File: file, Line: line, Kind: kind, Message: msg})
}
