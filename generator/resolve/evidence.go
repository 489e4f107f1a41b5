package resolve

import (
	"cmp"
	"slices"

	"github.com/b24gen/b24gen/spec"
)

// Every field resolve types records where the type came from
// (spec.Param.Evidence, the deciding source first), and every field merged
// from another page keeps that page (spec.Param.Page), so a problem names
// the row it came from and `b24gen report -why` can answer "why is this
// field a b24.String?". The sources rank, from the most reliable:
//
//	*.fields descriptors > a table row (the get page, then list, add, update)
//	  > a sibling get page's row > a linked REST 3.0 object
//	  > a response example > a request example > the name
//
// A row of the field's own table needs no record: Explain derives it.

// The problem kinds resolve reports (keyed.go and linked.go keep theirs
// beside their rules).
const (
	KindEntityWidened    = "entity-widened"
	KindTypeFromName     = "type-from-name"
	KindTypeFromExample  = "type-from-example"
	KindShapeFromExample = "shape-from-example"
	KindEnumNotLiteral   = "enum-not-literal"
	KindPlaceholderDrop  = "placeholder-dropped"
	KindEventExample     = "event-example"
	KindEventEnvelope    = "event-envelope"
	KindCodeContradicted = "code-contradicted"
)

// maxEvidence bounds what one field records: the decision and a few
// corroborating sources.
const maxEvidence = 4

// stamp returns copies of ps marked as read from m's page: Page set where
// the row has none, and evidence of kind k for a documented row (its type
// token), or of the response example for a kind only an example gave.
func stamp(ps []spec.Param, m *spec.Method, k spec.EvidenceKind) []spec.Param {
	if len(ps) == 0 {
		return ps
	}
	out := slices.Clone(ps)
	for i := range out {
		p := &out[i]
		p.Page = cmp.Or(p.Page, m.Page)
		if len(p.Evidence) == 0 {
			switch {
			case documented(*p):
				p.Evidence = []spec.Evidence{{Kind: k, Page: p.Page, Line: p.Line, Method: m.Name, Note: p.Type}}
			case p.Kind != "" && p.Kind != spec.KindAny:
				p.Evidence = []spec.Evidence{{Kind: spec.EvidenceResponse, Page: m.Page, Method: m.Name, Note: string(p.Kind)}}
			}
		}
		p.Fields = stamp(p.Fields, m, k)
	}
	return out
}

// rank puts the deciding evidence first and the rest after it, each
// source once, at most maxEvidence.
func rank(decided, rest []spec.Evidence) []spec.Evidence {
	out := make([]spec.Evidence, 0, min(maxEvidence, len(decided)+len(rest)))
	for _, e := range slices.Concat(decided, rest) {
		if len(out) < maxEvidence && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Explain is the evidence of p's type as a maintainer reads it: what
// resolve recorded, else the field's own row (page is the page holding
// it: its method's or event's), else nothing when no source types it.
func Explain(p spec.Param, page string) []spec.Evidence {
	if len(p.Evidence) > 0 {
		return p.Evidence
	}
	page = cmp.Or(p.Page, page)
	switch {
	case p.Type != "":
		return []spec.Evidence{{Kind: spec.EvidenceTable, Page: page, Line: p.Line, Note: p.Type}}
	case p.Kind != "" && p.Kind != spec.KindAny:
		return []spec.Evidence{{Kind: spec.EvidenceResponse, Page: page, Note: string(p.Kind)}}
	}
	return nil
}
