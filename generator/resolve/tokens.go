package resolve

import (
	"slices"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The type token's flags. extract turns a row's type token into a kind;
// what else the token says (a char flag, a multifield, a text per
// language, a union of scalars, an integer enum) is read here, once, into
// spec.Param's flags, after every other pass has settled the fields. model
// maps kinds and flags to Go types and never reads a token.

// tokens sets the flags on every param of the resolved spec: methods'
// params and results, events' payloads, entities' fields and write forms,
// and the linked objects. A list that changes is copied, so the input
// spec is left as it was.
func (r *resolver) tokens() {
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		m.Params = flagged(m.Params, m.Version)
		if m.Result != nil {
			if fields := flagged(m.Result.Fields, m.Version); !sameList(fields, m.Result.Fields) {
				res := *m.Result
				res.Fields = fields
				m.Result = &res
			}
		}
	}
	for i := range r.s.Events {
		r.s.Events[i].Fields = flagged(r.s.Events[i].Fields, 2)
	}
	r.s.Entities = slices.Clone(r.s.Entities)
	for i := range r.s.Entities {
		e := &r.s.Entities[i]
		// An entity's Version is 3 for REST 3.0 and unset for REST 2: the
		// REST 2 "Y" reading belongs to a method's own rows.
		e.Fields, e.Input = flagged(e.Fields, e.Version), flagged(e.Input, e.Version)
	}
	r.s.Objects = slices.Clone(r.s.Objects)
	for i := range r.s.Objects {
		r.s.Objects[i].Fields = flagged(r.s.Objects[i].Fields, 3)
	}
}

// flagged returns ps with each param's token flags set, nested fields
// included; version is the REST version the rows are called under. Copy
// on write: a list none of whose params gains a flag is returned as it is.
func flagged(ps []spec.Param, version int) []spec.Param {
	var out []spec.Param
	for i, p := range ps {
		p.SentAsYN = sentAsYN(p.Type, version)
		p.Multifield = strings.Contains(strings.ToLower(p.Type), "crm_multifield")
		p.Localized = p.Type == LocalizedType
		if p.Kind == spec.KindAny || p.Kind == "" {
			p.Union = unionKind(p.Type)
		}
		p.IntEnum = intEnum(p)
		fields := flagged(p.Fields, version)
		p.Fields = fields
		if out == nil && sameList(fields, ps[i].Fields) && flagsOf(p) == flagsOf(ps[i]) {
			continue
		}
		if out == nil {
			out = slices.Clone(ps)
		}
		out[i] = p
	}
	if out == nil {
		return ps
	}
	return out
}

// sameList reports that flagged handed back the very list it was given.
func sameList(a, b []spec.Param) bool { return len(a) == 0 || &a[0] == &b[0] }

type tokenFlags struct {
	yn, multi, localized, intEnum bool
	union                         spec.Kind
}

func flagsOf(p spec.Param) tokenFlags {
	return tokenFlags{p.SentAsYN, p.Multifield, p.Localized, p.IntEnum, p.Union}
}

// sentAsYN reads a boolean's token: "char" (the docs' name for a Y/N
// flag), or under REST 2 any token showing the Y ("Y/N", "boolean (Y/N)").
func sentAsYN(token string, version int) bool {
	return strings.Contains(strings.ToLower(token), "char") || version == 2 && strings.Contains(token, "Y")
}

// intEnum reports an enum under an integer token whose documented values
// are all integers.
func intEnum(p spec.Param) bool {
	if len(p.Enum) == 0 || !strings.Contains(strings.ToLower(p.Type), "int") {
		return false
	}
	for _, v := range p.Enum {
		if _, err := strconv.ParseInt(v.Value, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// unionKind reads a type token listing alternatives ("integer | string",
// "boolean|integer", "integer | null") and returns the kind that decodes
// every one of them, or "" when an alternative is structured or unknown.
func unionKind(token string) spec.Kind {
	alts := strings.Split(token, "|")
	if len(alts) == 1 {
		// "string integer": alternatives the docs wrote side by side.
		alts = strings.Fields(token)
	}
	if len(alts) < 2 {
		return ""
	}
	seen := map[spec.Kind]bool{}
	for _, alt := range alts {
		switch strings.Trim(strings.ToLower(alt), " `()") {
		case "integer", "int":
			seen[spec.KindInteger] = true
		case "number", "double", "float", "decimal":
			seen[spec.KindNumber] = true
		case "string", "text":
			seen[spec.KindString] = true
		case "boolean", "bool":
			seen[spec.KindBoolean] = true
		case "datetime", "date":
			seen[spec.KindString] = true // with another form: text is safest
		case "null", "":
		default:
			return ""
		}
	}
	switch {
	case len(seen) == 1:
		for k := range seen {
			return k
		}
	case len(seen) == 2 && seen[spec.KindInteger] && seen[spec.KindNumber]:
		return spec.KindNumber
	case len(seen) == 2 && seen[spec.KindInteger] && seen[spec.KindBoolean]:
		return spec.KindBoolean // 1/0 and true/false: b24.Bool takes both
	case !seen[spec.KindBoolean] || len(seen) > 1:
		return spec.KindString // b24.String reads any scalar
	}
	return ""
}
