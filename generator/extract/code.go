package extract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Most method pages show a Go example beside the cURL one, written against
// the official Go SDK: it calls the method, unwraps the result's key where
// there is one, and decodes it into a struct with json tags:
//
//	raw, ok := b24.Unwrap(res.Result, "items")
//	var items []struct {
//		ID              b24.ID `json:"ID"`
//		StageSemanticID string `json:"STAGE_SEMANTIC_ID"`
//	}
//	if err := json.Unmarshal(raw, &items); err != nil { … }
//
// The struct names keys the tables sometimes leave out
// (crm.stagehistory.list's STAGE_SEMANTIC_ID) and types them. The example
// is parsed as Go (go/parser), never matched as text, so a comment or a
// string that looks like a tag teaches nothing.

// goWrapLines is how many lines goExampleSource puts before the code.
const goWrapLines = 2

// goExampleSource wraps an example's statements in a function, so that a
// fragment ("res, err := client.Core().Call(…)") parses.
func goExampleSource(code string) string {
	return "package p\nfunc _() {\n" + code + "\n}\n"
}

// codeFields reads the first Go example from block index from on that
// calls name and decodes the result into a struct: its fields and the key
// it unwraps first ("" for the result itself). Examples that do not parse
// are passed over.
func (pc *pageCtx) codeFields(name string, from int) ([]spec.Param, string) {
	for i := max(from, 0); i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bCode || b.Lang != "go" || !strings.Contains(b.Raw, strconv.Quote(name)) {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "", goExampleSource(b.Raw), parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		// The page line of a position: the fence is b.Line, the code
		// starts on the next line.
		line := func(p token.Pos) int { return b.Line + fset.Position(p).Line - goWrapLines }
		if fields, wrapper := decodedStruct(f, line); len(fields) > 0 {
			return fields, wrapper
		}
	}
	return nil, ""
}

// decodedStruct finds json.Unmarshal(src, &v) where v is declared with a
// struct type (or a slice of one), and src is the call's result or a value
// b24.Unwrap took from it under a key.
func decodedStruct(f *ast.File, line func(token.Pos) int) ([]spec.Param, string) {
	structs := map[string]*ast.StructType{} // var name → its struct
	unwrapped := map[string]string{}        // var name → the key b24.Unwrap took
	var found []spec.Param
	wrapper := ""
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if st := structOf(n.Type); st != nil {
				for _, id := range n.Names {
					structs[id.Name] = st
				}
			}
		case *ast.AssignStmt:
			if len(n.Rhs) == 1 && len(n.Lhs) >= 1 {
				if key, ok := unwrapKey(n.Rhs[0]); ok {
					if id, ok := n.Lhs[0].(*ast.Ident); ok {
						unwrapped[id.Name] = key
					}
				}
			}
		case *ast.CallExpr:
			if found != nil || !isSelector(n.Fun, "json", "Unmarshal") || len(n.Args) != 2 {
				return true
			}
			dst, ok := n.Args[1].(*ast.UnaryExpr)
			if !ok || dst.Op != token.AND {
				return true
			}
			id, ok := dst.X.(*ast.Ident)
			if !ok || structs[id.Name] == nil {
				return true
			}
			switch src := n.Args[0].(type) {
			case *ast.Ident:
				key, ok := unwrapped[src.Name]
				if !ok {
					return true
				}
				wrapper = key
			case *ast.SelectorExpr:
				if src.Sel.Name != "Result" {
					return true
				}
			default:
				return true
			}
			found = structFields(structs[id.Name], line, 0)
		}
		return true
	})
	return found, wrapper
}

// unwrapKey reads b24.Unwrap(x.Result, "key").
func unwrapKey(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || !isSelector(call.Fun, "b24", "Unwrap") || len(call.Args) != 2 {
		return "", false
	}
	lit, ok := call.Args[1].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	key, err := strconv.Unquote(lit.Value)
	return key, err == nil && key != ""
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// structOf returns the struct of a type expression: struct{…}, []struct{…},
// *struct{…}; nil for any other.
func structOf(e ast.Expr) *ast.StructType {
	switch t := e.(type) {
	case *ast.StructType:
		return t
	case *ast.ArrayType:
		return structOf(t.Elt)
	case *ast.StarExpr:
		return structOf(t.X)
	}
	return nil
}

// maxCodeDepth bounds the nesting of structs read.
const maxCodeDepth = 4

// structFields turns a struct's json-tagged fields into params.
func structFields(st *ast.StructType, line func(token.Pos) int, depth int) []spec.Param {
	var out []spec.Param
	for _, fl := range st.Fields.List {
		if fl.Tag == nil || len(fl.Names) == 0 {
			continue
		}
		tag, err := strconv.Unquote(fl.Tag.Value)
		if err != nil {
			continue
		}
		key, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
		if key == "" || key == "-" {
			continue
		}
		p := spec.Param{Name: key, Line: line(fl.Tag.Pos()), Type: goTypeText(fl.Type)}
		p.Kind, p.Elem = goKind(fl.Type)
		if sub := structOf(fl.Type); sub != nil && depth < maxCodeDepth {
			p.Fields = structFields(sub, line, depth+1)
		}
		out = append(out, p)
	}
	return out
}

// goKind is the spec kind of a Go type as the SDK's examples write them.
func goKind(e ast.Expr) (spec.Kind, spec.Kind) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string":
			return spec.KindString, ""
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
			return spec.KindInteger, ""
		case "float32", "float64":
			return spec.KindNumber, ""
		case "bool":
			return spec.KindBoolean, ""
		}
	case *ast.SelectorExpr:
		switch {
		case isSelector(t, "b24", "ID"):
			return spec.KindInteger, ""
		case isSelector(t, "time", "Time"):
			return spec.KindDateTime, ""
		}
	case *ast.StarExpr:
		return goKind(t.X)
	case *ast.StructType:
		return spec.KindObject, ""
	case *ast.MapType:
		return spec.KindObject, ""
	case *ast.ArrayType:
		if _, ok := t.Elt.(*ast.Ident); ok && isByte(t.Elt) {
			return spec.KindString, ""
		}
		el, _ := goKind(t.Elt)
		return spec.KindArray, el
	}
	return spec.KindAny, ""
}

func isByte(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "byte"
}

// goTypeText spells a field's Go type as the example does, for the
// record ("b24.ID", "[]string"); a struct is "struct".
func goTypeText(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok {
			return x.Name + "." + t.Sel.Name
		}
	case *ast.StarExpr:
		return "*" + goTypeText(t.X)
	case *ast.ArrayType:
		return "[]" + goTypeText(t.Elt)
	case *ast.MapType:
		return "map[" + goTypeText(t.Key) + "]" + goTypeText(t.Value)
	case *ast.StructType:
		return "struct"
	case *ast.InterfaceType:
		return "any"
	}
	return "?"
}
