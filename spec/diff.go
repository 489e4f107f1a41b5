package spec

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// ChangeKind classifies one API change between two specs.
type ChangeKind string

const (
	MethodAdded      ChangeKind = "method added"
	MethodRemoved    ChangeKind = "method removed"
	MethodDeprecated ChangeKind = "method deprecated"
	MethodRenamed    ChangeKind = "method renamed" // only the case of its name changed
	EventAdded       ChangeKind = "event added"
	EventRemoved     ChangeKind = "event removed"
	ParamAdded       ChangeKind = "parameter added"
	ParamRemoved     ChangeKind = "parameter removed"
	ParamRetyped     ChangeKind = "parameter retyped"
	ParamRequired    ChangeKind = "parameter now required"
	ParamOptional    ChangeKind = "parameter no longer required"
	ParamDeprecated  ChangeKind = "parameter deprecated"
	FieldAdded       ChangeKind = "result field added"
	FieldRemoved     ChangeKind = "result field removed"
	FieldRetyped     ChangeKind = "result field retyped"
	EventFieldAdded  ChangeKind = "event field added"
	EventFieldRemove ChangeKind = "event field removed"
)

// Change is one API change. Subject is the method key or event name; Path
// the dotted parameter or field path, when the change is inside one.
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Subject string     `json:"subject"`
	Path    string     `json:"path,omitempty"`
	Detail  string     `json:"detail,omitempty"`
}

func (c Change) String() string {
	return string(c.Kind) + ": " + c.Subject + c.pathDetail()
}

// pathDetail is what follows the subject: " path (detail)", either part
// left out when empty.
func (c Change) pathDetail() string {
	s := ""
	if c.Path != "" {
		s += " " + c.Path
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// Diff lists the API changes from old to new, in a stable order: by
// subject, then path, then kind. Method names are matched case-insensitively,
// as the portal matches them: disk.file.copyto → disk.file.copyTo is a
// rename, not a removal and an addition.
func Diff(old, new *Spec) []Change {
	var out []Change
	oldM, newM := methodsByKey(old), methodsByKey(new)
	for lkey, nm := range newM {
		key := nm.Key()
		om, ok := oldM[lkey]
		if !ok {
			out = append(out, Change{Kind: MethodAdded, Subject: key, Detail: nm.Page})
			continue
		}
		if om.Name != nm.Name {
			out = append(out, Change{Kind: MethodRenamed, Subject: key, Detail: "was " + om.Name})
		}
		if nm.Deprecated && !om.Deprecated {
			d := ""
			if nm.ReplacedBy != "" {
				d = "use " + nm.ReplacedBy
			}
			out = append(out, Change{Kind: MethodDeprecated, Subject: key, Detail: d})
		}
		out = diffParams(out, key, "", om.Params, nm.Params, paramKinds)
		var of, nf []Param
		if om.Result != nil {
			of = om.Result.Fields
		}
		if nm.Result != nil {
			nf = nm.Result.Fields
		}
		out = diffParams(out, key, "", of, nf, fieldKinds)
	}
	for lkey, om := range oldM {
		if _, ok := newM[lkey]; !ok {
			out = append(out, Change{Kind: MethodRemoved, Subject: om.Key(), Detail: om.Page})
		}
	}
	oldE, newE := eventsByName(old), eventsByName(new)
	for name, ne := range newE {
		oe, ok := oldE[name]
		if !ok {
			out = append(out, Change{Kind: EventAdded, Subject: name, Detail: ne.Page})
			continue
		}
		out = diffParams(out, name, "", oe.Fields, ne.Fields, eventKinds)
	}
	for name, oe := range oldE {
		if _, ok := newE[name]; !ok {
			out = append(out, Change{Kind: EventRemoved, Subject: name, Detail: oe.Page})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}

// kindSet names the change kinds for one kind of parameter list, so the
// same walk serves params, result fields and event fields.
type kindSet struct {
	added, removed, retyped ChangeKind
	trackRequired           bool
}

var (
	paramKinds = kindSet{ParamAdded, ParamRemoved, ParamRetyped, true}
	fieldKinds = kindSet{FieldAdded, FieldRemoved, FieldRetyped, false}
	eventKinds = kindSet{EventFieldAdded, EventFieldRemove, FieldRetyped, false}
)

func diffParams(out []Change, subject, prefix string, old, new []Param, k kindSet) []Change {
	oldP := map[string]*Param{}
	for i := range old {
		oldP[old[i].Name] = &old[i]
	}
	newNames := map[string]bool{}
	for i := range new {
		np := &new[i]
		newNames[np.Name] = true
		path := prefix + np.Name
		op, ok := oldP[np.Name]
		if !ok {
			d := typeLabel(np)
			if k.trackRequired && np.Required {
				d += ", required"
			}
			out = append(out, Change{Kind: k.added, Subject: subject, Path: path, Detail: d})
			continue
		}
		if typeLabel(op) != typeLabel(np) {
			out = append(out, Change{Kind: k.retyped, Subject: subject, Path: path,
				Detail: typeLabel(op) + " → " + typeLabel(np)})
		}
		if k.trackRequired && np.Required && !op.Required {
			out = append(out, Change{Kind: ParamRequired, Subject: subject, Path: path})
		}
		if k.trackRequired && !np.Required && op.Required {
			out = append(out, Change{Kind: ParamOptional, Subject: subject, Path: path})
		}
		if k.trackRequired && np.Deprecated && !op.Deprecated {
			out = append(out, Change{Kind: ParamDeprecated, Subject: subject, Path: path})
		}
		out = diffParams(out, subject, path+".", op.Fields, np.Fields, k)
	}
	for i := range old {
		if !newNames[old[i].Name] {
			out = append(out, Change{Kind: k.removed, Subject: subject, Path: prefix + old[i].Name})
		}
	}
	return out
}

// typeLabel is how a parameter's type reads in the changelog: the kind,
// with the element kind for arrays.
func typeLabel(p *Param) string {
	if p.Kind == KindArray && p.Elem != "" {
		return "array of " + string(p.Elem)
	}
	return string(p.Kind)
}

// methodsByKey indexes methods by their lower-cased key.
func methodsByKey(s *Spec) map[string]*Method {
	m := make(map[string]*Method, len(s.Methods))
	for i := range s.Methods {
		m[strings.ToLower(s.Methods[i].Key())] = &s.Methods[i]
	}
	return m
}

func eventsByName(s *Spec) map[string]*Event {
	m := make(map[string]*Event, len(s.Events))
	for i := range s.Events {
		m[s.Events[i].Name] = &s.Events[i]
	}
	return m
}

// WriteChangelog prints changes as a changelog: a count per kind of
// change, then one block per method or event with its changes beneath it.
func WriteChangelog(w io.Writer, changes []Change) error {
	counts := map[ChangeKind]int{}
	for _, c := range changes {
		counts[c.Kind]++
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d changes\n", len(changes))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&sb, "  %-30s %d\n", k, counts[k])
	}
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b Change) int { return strings.Compare(a.Subject, b.Subject) })
	subject := ""
	for _, c := range changes {
		if c.Subject != subject {
			subject = c.Subject
			fmt.Fprintf(&sb, "\n%s\n", subject)
		}
		sb.WriteString("  " + string(c.Kind) + c.pathDetail() + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
