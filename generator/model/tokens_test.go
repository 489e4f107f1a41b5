package model

import (
	"go/ast"
	"go/types"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestModelReadsNoTypeToken holds the other half of the design: the docs'
// type tokens ("char", "integer | string", "crm_multifield") are read once,
// by extract into kinds and by resolve into spec.Param's flags
// (generator/resolve/tokens.go). So no non-test code of model selects the
// Type of a spec.Param.
func TestModelReadsNoTypeToken(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks package model; -short skips it")
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("loading package model: %v", pkgs)
	}
	p := pkgs[0]
	checked := 0
	for _, f := range p.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			s, ok := p.TypesInfo.Selections[sel]
			if !ok || s.Kind() != types.FieldVal {
				return true
			}
			named, ok := types.Unalias(derefType(s.Recv())).(*types.Named)
			if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != "github.com/b24gen/b24gen/spec" {
				return true
			}
			checked++
			if named.Obj().Name() == "Param" && sel.Sel.Name == "Type" {
				t.Errorf("%s: reads spec.Param.Type: the token's meaning is a flag resolve sets", p.Fset.Position(sel.Pos()))
			}
			return true
		})
	}
	if checked < 50 {
		t.Fatalf("saw %d selections of spec fields: the test is not looking at model's code", checked)
	}
}

func derefType(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}
