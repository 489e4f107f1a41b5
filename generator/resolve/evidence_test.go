package resolve

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestEvidenceRanking: for each field, the source that decided its type is
// the first evidence, ranked *.fields page > table row > sibling get row >
// response example > request example > name, and it names its page.
func TestEvidenceRanking(t *testing.T) {
	s := familyFixture()
	// An entity field no page types (the example shows null): its name.
	s.Methods[1].Result.Fields = append(s.Methods[1].Result.Fields, spec.Param{Name: "IS_WON", Kind: spec.KindAny, Line: 77})
	// A family too small for an entity: list rows borrow the get row's
	// type.
	s.Methods = append(s.Methods,
		spec.Method{Name: "x.pair.get", Version: 2, Page: "pair-get.md", Result: &spec.Result{Shape: "object", Fields: []spec.Param{
			{Name: "ACTIVE", Type: "char", Kind: spec.KindBoolean, Line: 30},
		}}},
		spec.Method{Name: "x.pair.list", Version: 2, Page: "pair-list.md", Result: &spec.Result{Shape: "array", Kind: spec.KindObject,
			Fields:  []spec.Param{{Name: "ACTIVE", Kind: spec.KindString}},
			Example: json.RawMessage(`{"result":[{"ACTIVE":"Y"}]}`)}},
		// Rows no table describes: the example's keys.
		spec.Method{Name: "x.pair.history", Version: 2, Page: "pair-history.md", Result: &spec.Result{Shape: "array",
			Example: json.RawMessage(`{"result":[{"SORT":10}]}`)}},
		spec.Method{Name: "x.pair.add", Version: 2, Page: "pair-add.md",
			Params:         []spec.Param{{Name: "IDS", Kind: spec.KindArray, Line: 12}},
			RequestExample: json.RawMessage(`{"IDS":[1,2]}`)},
	)
	out, _ := Resolve(s)
	entity := func(key string) spec.Param {
		f, ok := fieldNamed(out.Entities[0].Fields, key)
		if !ok {
			t.Fatalf("no entity field %s", key)
		}
		return f
	}
	method := func(name string) *spec.Method {
		for i := range out.Methods {
			if out.Methods[i].Name == name {
				return &out.Methods[i]
			}
		}
		t.Fatalf("no method %s", name)
		return nil
	}
	list := method("x.pair.list").Result.Fields
	active, _ := fieldNamed(list, "ACTIVE")
	sort, _ := fieldNamed(method("x.pair.history").Result.Fields, "SORT")
	ids := method("x.pair.add").Params[0]
	for _, tc := range []struct {
		name  string
		field spec.Param
		page  string // the page the field's own rows are on
		kind  spec.EvidenceKind
		where string // the deciding source's page
	}{
		{"fields page over the get table", entity("TITLE"), "", spec.EvidenceFieldsPage, "thing-fields.md"},
		{"get table where the fields page is silent", entity("STAGE"), "", spec.EvidenceTable, "thing-get.md"},
		{"example over a documented integer", entity("OPPORTUNITY"), "", spec.EvidenceResponse, "thing-get.md"},
		{"name where nothing else types it", entity("IS_WON"), "", spec.EvidenceName, ""},
		{"sibling get row for an example-only list", active, "pair-list.md", spec.EvidenceSibling, "pair-get.md"},
		{"response example for rows no table describes", sort, "pair-history.md", spec.EvidenceResponse, "pair-history.md"},
		{"request example for an open list", ids, "pair-add.md", spec.EvidenceRequest, "pair-add.md"},
		{"own table row, derived", method("crm.thing.add").Params[0].Fields[1], "thing-add.md", spec.EvidenceTable, "thing-add.md"},
	} {
		ev := Explain(tc.field, tc.page)
		if len(ev) == 0 {
			t.Errorf("%s: %s has no evidence", tc.name, tc.field.Name)
			continue
		}
		if ev[0].Kind != tc.kind || ev[0].Page != tc.where {
			t.Errorf("%s: %s decided by %s %q, want %s %q (all: %+v)", tc.name, tc.field.Name, ev[0].Kind, ev[0].Page, tc.kind, tc.where, ev)
		}
	}
}
