package conformance

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/crm"
)

// A crm.item list filtered, selected and ordered by the typed keys sends
// the keys in crm.item's own camelCase, with their operators, and the
// fake portal with strict checks takes it.
func TestItemFilterSendsItsOwnCase(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithStrictRequestChecks())
	portal.ServeList("crm.item.list", []map[string]any{{"id": 1, "stageId": "C1:WON", "title": "x"}}, b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	p := crm.ItemListParams{EntityTypeID: 2,
		Filter: b24.Terms(crm.ItemKeyStageID.Eq("C1:WON"), crm.ItemKeyOpportunity.Ge(1000), crm.ItemKeyTitle.Like("x")),
		Select: b24.Columns(crm.ItemKeyID, crm.ItemKeyStageID),
		Order:  b24.Order{crm.ItemKeyID.Desc()},
	}
	for _, err := range crm.ItemListAll(t.Context(), client, p) {
		if err != nil {
			t.Fatalf("the typed filter was refused: %v", err)
		}
	}
	calls := portal.Calls()
	f, _ := calls[len(calls)-1].Params["filter"].(map[string]any)
	for _, k := range []string{"=stageId", ">=opportunity", "%title"} {
		if _, ok := f[k]; !ok {
			t.Errorf("filter sent %v, want key %s", f, k)
		}
	}
}

// The bug the typed keys close: crm.item's filter in crm.deal's case
// ("STAGE_ID" for "stageId") matches no row on a portal, silently; the
// fake portal with strict checks refuses it and names the right spelling.
// So does a select key the entity does not have.
func TestStrictChecksRefuseKeysNotTheEntitys(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithStrictRequestChecks())
	portal.ServeList("crm.item.list", []map[string]any{{"id": 1}}, b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	client, err := portal.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []crm.ItemListParams{
		{EntityTypeID: 2, Filter: b24.Filter{}.Eq("STAGE_ID", "C1:WON")},
		{EntityTypeID: 2, Select: []string{"id", "NO_SUCH_FIELD"}},
	} {
		_, err := crm.ItemList(t.Context(), client, p)
		if err == nil {
			t.Errorf("%+v: a key crm.item does not have was accepted", p)
			continue
		}
		if !strings.Contains(err.Error(), "no field of the rows' entity") {
			t.Errorf("%+v: %v", p, err)
		}
	}
	_, err = crm.ItemList(t.Context(), client, crm.ItemListParams{EntityTypeID: 2, Filter: b24.Filter{}.Eq("STAGE_ID", "x")})
	if err == nil || !strings.Contains(err.Error(), `"stageId"`) {
		t.Errorf("the refusal does not name crm.item's spelling: %v", err)
	}
	// Custom fields pass: they are no documented field, and every portal has its own.
	if _, err := crm.ItemList(t.Context(), client, crm.ItemListParams{EntityTypeID: 2,
		Filter: b24.Terms(b24.TextKey("UF_CRM_5").Eq("x"))}); err != nil {
		t.Errorf("a custom field was refused: %v", err)
	}
}

// What the typed keys refuse at compile time, type-checked from source as
// a user's program would be: an ordered operator on a text field, a value
// of the wrong type, a flag compared with a string, and a REST 2 key in a
// REST 3.0 filter.
func TestTypedKeysRefuseWrongFiltersAtCompileTime(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the generated crm and tasks packages from source")
	}
	fset := token.NewFileSet()
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	check := func(body string) error {
		src := "package p\n\nimport (\n\t\"time\"\n\t\"github.com/b24gen/b24gen/generated/b24\"\n\t\"github.com/b24gen/b24gen/generated/crm\"\n)\n\nvar _ = time.Now\nvar _ b24.Filter\n\nfunc f() {\n" + body + "\n}\n"
		file, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conf.Check("p", fset, []*ast.File{file}, nil)
		return err
	}
	if err := check(`_ = b24.Terms(crm.DealKeyStageID.Eq("WON"), crm.DealKeyOpportunity.Gt(1000), crm.DealKeyDateCreate.Ge(time.Now()), crm.DealKeyOpened.Eq(true))`); err != nil {
		t.Fatalf("the right filter does not compile: %v", err)
	}
	for _, c := range []struct{ what, body, want string }{
		{"an ordered operator on a text field", `_ = crm.DealKeyTitle.Gt("a")`, "Gt"},
		{"a date compared with an int", `_ = crm.DealKeyDateCreate.Gt(5)`, "Time value"},
		{"an integer compared with a string", `_ = crm.DealKeyID.Eq("7")`, "int64"},
		{"a flag compared with a string", `_ = crm.DealKeyOpened.Eq("Y")`, "bool"},
		{"a REST 2 key in a REST 3.0 filter", `_ = b24.FilterV3{crm.DealKeyID.Gt(1)}`, "Cond"},
	} {
		err := check(c.body)
		if err == nil {
			t.Errorf("%s compiled: %s", c.what, c.body)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %s", c.what, err, c.want)
		}
	}
}
