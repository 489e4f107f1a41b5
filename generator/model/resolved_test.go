package model

import (
	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

// buildResolved builds s as the generator does: resolved first, since the
// evidence of the examples (and siblings, and request bodies) is resolve's.
func buildResolved(s *spec.Spec, opt Options) (*Model, Stats, []spec.Problem) {
	rs, probs := resolve.Resolve(s)
	m, st, more := Build(rs, opt)
	return m, st, append(probs, more...)
}

// buildEventsResolved is BuildEvents on the resolved s.
func buildEventsResolved(s *spec.Spec, scopes []string) (*Events, []spec.Problem) {
	rs, probs := resolve.Resolve(s)
	ev, more := BuildEvents(rs, scopes)
	return ev, append(probs, more...)
}
