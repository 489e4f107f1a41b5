package conformance

import (
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

const generatedPath = "github.com/b24gen/b24gen/generated/"

// The generator emits a hand-written example only when the package's model
// has what its //b24gen:needs lines name (generator/emit/examples.go). That
// keeps another docs edition compiling only if the lines name everything
// the example uses, so TestExamplesDeclareWhatTheyUse type-checks the
// emitted examples with go/packages and matches every function, type,
// field and event they take from their package against the lines of the
// source they came from.
func TestExamplesDeclareWhatTheyUse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the type-check of the examples")
	}
	fset := token.NewFileSet()
	cfg := &packages.Config{
		Fset:  fset,
		Mode:  packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Tests: true,
		Dir:   "..",
	}
	pkgNames := []string{"crm", "tasks", "user", "events"}
	var patterns []string
	for _, p := range pkgNames {
		patterns = append(patterns, generatedPath+p)
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, pkg := range pkgs {
		name, ok := strings.CutSuffix(pkg.PkgPath, "_test")
		if !ok || !strings.HasPrefix(name, generatedPath) {
			continue // the package itself, or its internal test variant
		}
		for _, e := range pkg.Errors {
			t.Errorf("%s: %v", pkg.PkgPath, e)
		}
		short := strings.TrimPrefix(name, generatedPath)
		for _, file := range pkg.Syntax {
			base := filepath.Base(fset.File(file.Pos()).Name())
			ex, ok := strings.CutPrefix(base, "example_")
			if !ok || base == "example_test.go" {
				continue
			}
			src := filepath.Join("..", "generator", "emit", "examples", short, strings.TrimSuffix(ex, ".go")+".go.txt")
			data, err := os.ReadFile(src)
			if err != nil {
				t.Errorf("%s/%s has no source under generator/emit/examples: %v", short, base, err)
				continue
			}
			needs := needsOf(string(data))
			for _, use := range usesOf(pkg.TypesInfo, file, name) {
				if !covered(needs, use) {
					t.Errorf("%s uses %s but no //b24gen:needs line says so", src, use)
				}
			}
			checked[short]++
		}
	}
	for _, p := range pkgNames {
		if checked[p] == 0 {
			t.Errorf("no example file of package %s was checked", p)
		}
	}
}

// needsOf returns the needs lines of an example source, split into words.
func needsOf(src string) [][]string {
	var out [][]string
	for line := range strings.Lines(src) {
		if rest, ok := strings.CutPrefix(line, "//b24gen:needs "); ok {
			out = append(out, strings.Fields(rest))
		}
	}
	return out
}

// A use is what an example takes from its package: "func ItemGet",
// "type ItemGetParams", "field Item.Title", "method Receiver.OnTaskAdd".
type use struct{ kind, name, member string }

func (u use) String() string {
	if u.member != "" {
		return u.kind + " " + u.name + "." + u.member
	}
	return u.kind + " " + u.name
}

// staticNames are declared by the events package whatever the docs say
// (the Receiver and its plumbing, Auth); the examples need no line for them.
var staticNames = []string{"NewReceiver", "Receiver", "Auth", "Err", "Fallback", "Handle", "ServeHTTP"}

func usesOf(info *types.Info, file *ast.File, pkgPath string) []use {
	var out []use
	inPkg := func(obj types.Object) bool { return obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == pkgPath }
	namedIn := func(t types.Type) string {
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := types.Unalias(t).(*types.Named); ok && inPkg(n.Obj()) {
			return n.Obj().Name()
		}
		return ""
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if sel, ok := info.Selections[x]; ok {
				if s := namedIn(sel.Recv()); s != "" {
					kind := "field"
					if sel.Kind() != types.FieldVal {
						kind = "method"
					}
					out = append(out, use{kind, s, x.Sel.Name})
				}
				return true
			}
			switch obj := info.Uses[x.Sel].(type) {
			case *types.Func:
				if inPkg(obj) {
					out = append(out, use{"func", obj.Name(), ""})
				}
			case *types.TypeName, *types.Const:
				if inPkg(obj) {
					out = append(out, use{"type", obj.Name(), ""})
				}
			}
		case *ast.CompositeLit:
			tv, ok := info.Types[x]
			if !ok {
				return true
			}
			s := namedIn(tv.Type)
			if s == "" {
				return true
			}
			for _, elt := range x.Elts {
				if kv, ok := elt.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						out = append(out, use{"field", s, id.Name})
					}
				}
			}
		}
		return true
	})
	return out
}

// covered reports whether one of the needs lines vouches for u.
func covered(needs [][]string, u use) bool {
	if slices.Contains(staticNames, u.name) && (u.member == "" || slices.Contains(staticNames, u.member)) {
		return true
	}
	for _, n := range needs {
		kind, name, args := n[0], n[1], n[2:]
		switch u.kind {
		case "func":
			base := u.name
			switch {
			case kind == "func" && (base == name || base == name+"Command"):
				return true
			case kind == "list" && base == name+"All", kind == "export" && base == name+"Export":
				return true
			}
		case "type":
			// A type is vouched for by any line that spells it: a params
			// or result type, a struct, a field's type, an enum or its
			// constant, an event.
			for _, w := range n[1:] {
				if w == u.name || strings.Contains(w, ":") && typeMentions(w[strings.Index(w, ":")+1:], u.name) ||
					typeMentions(w, u.name) {
					return true
				}
			}
		case "field":
			if u.member == "Extra" && kind == "extra" && name == u.name {
				return true
			}
			if kind == "fields" && name == u.name {
				for _, a := range args {
					if f, _, _ := strings.Cut(a, ":"); f == u.member {
						return true
					}
				}
			}
		case "method":
			if u.name == "Receiver" && kind == "event" && name == u.member {
				return true
			}
		}
	}
	return false
}

// typeMentions reports whether the type spelling t names the type n:
// "*ItemGetResult", "b24.Opt[TaskInputStatus]", "[]Item".
func typeMentions(t, n string) bool {
	for _, w := range strings.FieldsFunc(t, func(r rune) bool { return strings.ContainsRune("*[]. ", r) }) {
		if w == n {
			return true
		}
	}
	return false
}
