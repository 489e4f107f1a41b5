package model

import (
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// A method name the runtime refuses (a "/", a non-ASCII letter) would give a
// function whose every call fails; an empty one names nothing. Each is
// reported and not generated, never dropped in silence.
func TestBuildReportsMethodNamesTheRuntimeRefuses(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{
		{Name: "crm.deal.get", Page: "ok.md", Scopes: []string{"crm"}},
		{Name: "crm.deal/get", Page: "slash.md", Line: 3, Scopes: []string{"crm"}},
		{Name: "crm.dеal.get", Page: "cyrillic-e.md", Line: 4, Scopes: []string{"crm"}}, // U+0435
		{Name: "", Page: "empty.md", Line: 5, Scopes: []string{"crm"}},
	}}
	m, _, problems := Build(s, Options{})
	var funcs []string
	for _, p := range m.Packages {
		for _, f := range p.Files {
			for _, fn := range f.Funcs {
				funcs = append(funcs, fn.Method)
			}
		}
	}
	if len(funcs) != 1 || funcs[0] != "crm.deal.get" {
		t.Errorf("generated functions for %q, want only crm.deal.get", funcs)
	}
	reported := map[string]string{}
	for _, p := range problems {
		if p.Kind == "bad-method-name" {
			reported[p.File] = p.Message
		}
	}
	for _, page := range []string{"slash.md", "cyrillic-e.md", "empty.md"} {
		if msg, ok := reported[page]; !ok || !strings.Contains(msg, "not generated") {
			t.Errorf("%s: no bad-method-name problem (got %q)", page, msg)
		}
	}
	if _, ok := reported["ok.md"]; ok {
		t.Error("a valid name was reported")
	}
}
