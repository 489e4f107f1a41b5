package model

import (
	"regexp"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestNoSilentPoolSuffix: over the embedded spec, every public Go name the
// pool had to number (Extra_2, ChatID_2) has a name-collision problem that
// says so, and the names with a word for the clash (NotifyRecord,
// ChatIDField) are reported too. A user who meets a strange name finds in
// `b24gen generate -v` why it is not the docs' own.
func TestNoSilentPoolSuffix(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	mdl, _, problems := Build(s, Options{})
	evs, evProblems := BuildEvents(s, nil)
	reported := map[string]bool{}
	for _, p := range append(problems, evProblems...) {
		if p.Kind == KindNameCollision {
			if i := strings.LastIndex(p.Message, "using "); i >= 0 {
				reported[p.Message[i+len("using "):]] = true
			}
		}
	}
	numbered := regexp.MustCompile(`_[0-9]+$`)
	var names []string
	structs := func(sts []*Struct) {
		for _, st := range sts {
			names = append(names, st.Name)
			for _, f := range st.Fields {
				names = append(names, f.Name)
			}
		}
	}
	enums := func(es []*Enum) {
		for _, e := range es {
			names = append(names, e.Name)
			for _, v := range e.Values {
				names = append(names, v.Name)
			}
		}
	}
	for _, pkg := range mdl.Packages {
		structs(pkg.Shared)
		for _, f := range pkg.Files {
			for _, e := range f.Entities {
				names = append(names, e.Name, e.Input)
				structs(e.Structs)
				enums(e.Enums)
			}
			for _, fn := range f.Funcs {
				names = append(names, fn.Name, fn.Command, fn.All, fn.Export)
				structs(fn.Structs)
				enums(fn.Enums)
			}
		}
	}
	for _, ev := range evs.Events {
		names = append(names, ev.Name, ev.Const)
		structs(ev.Structs)
		enums(ev.Enums)
	}
	silent := 0
	for _, n := range names {
		if numbered.MatchString(n) && !reported[n] {
			silent++
			if silent <= 20 {
				t.Errorf("public name %s carries the pool's number with no name-collision problem reported", n)
			}
		}
	}
	if silent > 20 {
		t.Errorf("… and %d more", silent-20)
	}
	if len(reported) == 0 {
		t.Error("no name-collision problem over the whole spec: the test reads nothing")
	}
	t.Logf("%d public names checked, %d name collisions reported", len(names), len(reported))
}
