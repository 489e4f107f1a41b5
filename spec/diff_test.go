package spec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffReportsEachKindOfChange(t *testing.T) {
	old := &Spec{
		Methods: []Method{
			{Name: "crm.deal.get", Version: 2, Params: []Param{{Name: "id", Kind: KindInteger}}},
			{Name: "crm.deal.list", Version: 2, Params: []Param{
				{Name: "filter", Kind: KindObject},
				{Name: "start", Kind: KindInteger},
			}, Result: &Result{Shape: "array", Fields: []Param{{Name: "ID", Kind: KindInteger}}}},
			{Name: "crm.old.thing", Version: 2},
			{Name: "disk.file.copyto", Version: 2, Params: []Param{{Name: "id", Kind: KindInteger}}},
		},
		Events: []Event{{Name: "ONCRMDEALADD", Fields: []Param{{Name: "event", Kind: KindString}}}},
	}
	new := &Spec{
		Methods: []Method{
			{Name: "crm.deal.get", Version: 2, Deprecated: true, ReplacedBy: "crm.item.get",
				Params: []Param{{Name: "id", Kind: KindInteger, Required: true}}},
			{Name: "crm.deal.get", Version: 3},
			{Name: "crm.deal.list", Version: 2, Params: []Param{
				{Name: "filter", Kind: KindObject, Fields: []Param{{Name: "ID", Kind: KindArray, Elem: KindInteger}}},
				{Name: "start", Kind: KindString},
			}, Result: &Result{Shape: "array", Fields: []Param{{Name: "ID", Kind: KindInteger}, {Name: "TITLE", Kind: KindString}}}},
			{Name: "disk.file.copyTo", Version: 2, Params: []Param{{Name: "id", Kind: KindString}}},
		},
		Events: []Event{
			{Name: "ONCRMDEALADD", Fields: []Param{{Name: "event", Kind: KindString}, {Name: "ts", Kind: KindInteger}}},
			{Name: "ONCRMDEALUPDATE"},
		},
	}
	got := Diff(old, new)
	want := []Change{
		{Kind: MethodRemoved, Subject: "crm.old.thing"},
		{Kind: MethodDeprecated, Subject: "crm.deal.get", Detail: "use crm.item.get"},
		{Kind: ParamRequired, Subject: "crm.deal.get", Path: "id"},
		{Kind: MethodAdded, Subject: "crm.deal.get@3"},
		{Kind: FieldAdded, Subject: "crm.deal.list", Path: "TITLE", Detail: "string"},
		{Kind: ParamAdded, Subject: "crm.deal.list", Path: "filter.ID", Detail: "array of integer"},
		{Kind: ParamRetyped, Subject: "crm.deal.list", Path: "start", Detail: "integer → string"},
		{Kind: EventFieldAdded, Subject: "ONCRMDEALADD", Path: "ts", Detail: "integer"},
		{Kind: EventAdded, Subject: "ONCRMDEALUPDATE"},
		{Kind: MethodRenamed, Subject: "disk.file.copyTo", Detail: "was disk.file.copyto"},
		{Kind: ParamRetyped, Subject: "disk.file.copyTo", Path: "id", Detail: "integer → string"},
	}
	sortChanges := func(cs []Change) map[string]Change {
		m := map[string]Change{}
		for _, c := range cs {
			m[c.String()] = c
		}
		return m
	}
	if d := cmp.Diff(sortChanges(want), sortChanges(got)); d != "" {
		t.Fatalf("Diff mismatch (-want +got):\n%s", d)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Subject > got[i].Subject {
			t.Errorf("changes not sorted by subject: %q before %q", got[i-1].Subject, got[i].Subject)
		}
	}
}

func TestDiffOfEqualSpecsIsEmpty(t *testing.T) {
	s := &Spec{Methods: []Method{{Name: "user.current", Version: 2, Params: []Param{{Name: "x", Kind: KindString}}}}}
	if got := Diff(s, s); len(got) != 0 {
		t.Fatalf("Diff(s, s) = %v, want none", got)
	}
}

func TestWriteChangelogSummarisesByKind(t *testing.T) {
	var buf bytes.Buffer
	err := WriteChangelog(&buf, []Change{
		{Kind: MethodAdded, Subject: "a.b"},
		{Kind: MethodAdded, Subject: "a.c"},
		{Kind: ParamRetyped, Subject: "a.b", Path: "x", Detail: "integer → string"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"3 changes", "method added", "\na.b\n  method added\n  parameter retyped x (integer → string)\n\na.c\n  method added\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("changelog lacks %q:\n%s", want, out)
		}
	}
}

func TestMarshalIsStableAndRoundTrips(t *testing.T) {
	s := &Spec{Source: Source{Repository: "r", Commit: "c", Language: "en"},
		Methods: []Method{{Name: "crm.deal.get", Version: 2, Scopes: []string{"crm"},
			Params: []Param{{Name: "id", Kind: KindInteger, Required: true, Description: "a <b> & c"}}}}}
	a, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := back.Marshal()
	if !bytes.Equal(a, b) {
		t.Fatalf("marshal not stable:\n%s\n%s", a, b)
	}
	if !bytes.Contains(a, []byte("a <b> & c")) {
		t.Errorf("HTML characters escaped in committed form:\n%s", a)
	}
	if _, err := Parse([]byte(`{"methods":[],"surprise":1}`)); err == nil {
		t.Error("Parse accepted an unknown field")
	}
}
