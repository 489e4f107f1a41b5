package audit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"reflect"
	"strconv"
	"strings"
)

// This file reads the generated Go: every package of the tree, parsed with
// go/parser, gives its methods (found by the Method and Version their
// Command function sends), their params and result types, their doc
// comments, and the events' payload structs. Types are read as the wire
// sees them: a class per Go type, and struct members by JSON key.

// goClass is what a Go type is on the wire.
type goClass string

const (
	gInt    goClass = "int"
	gNumber goClass = "number"
	gString goClass = "string"
	gBool   goClass = "bool"   // JSON true/false
	gYN     goClass = "Y/N"    // b24.Bool: sent as "Y"/"N", read either way
	gTime   goClass = "time"   // b24.Time, b24.Date, time.Time
	gSlice  goClass = "slice"  // elem says of what
	gStruct goClass = "struct" // fields by JSON key
	gMap    goClass = "map"    // elem is the value type; nil elem for raw members
	gRaw    goClass = "raw"    // any, json.RawMessage: no type at all
	gFile   goClass = "file"
	gOther  goClass = "other"
)

// goType is a Go type read for the audit.
type goType struct {
	class  goClass
	name   string // the Go spelling, for the misses list
	elem   *goType
	fields map[string]*goType // struct members by their JSON key
	keys   []string           // fields' keys in declaration order
}

// goMethod is one generated method.
type goMethod struct {
	pkg, fn string // package dir and function name ("crm", "ItemAdd")
	params  *goType
	result  *goType
	doc     string // the function's doc comment, as text
}

// goTree is the whole generated tree.
type goTree struct {
	methods map[string]*goMethod // by "name@version"
	events  map[string]*goType   // by the event's upper-case name
}

type goPkg struct {
	dir     string
	types   map[string]ast.Expr
	cache   map[string]*goType
	runtime *goPkg // package b24, for its structs; nil while reading it
}

// readGoTree parses every *_gen.go file of the packages under fsys (the
// runtime, b24 and b24test, is the vocabulary and not read).
func readGoTree(fsys fs.FS) (*goTree, error) {
	tree := &goTree{methods: map[string]*goMethod{}, events: map[string]*goType{}}
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	// The runtime's own structs (b24.EventAuth) are read as the
	// generated ones are; its scalars are the vocabulary (qualified).
	rt := &goPkg{dir: "b24", types: map[string]ast.Expr{}, cache: map[string]*goType{}}
	if err := rt.read(fsys, &goTree{methods: map[string]*goMethod{}, events: map[string]*goType{}}); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "b24" || d.Name() == "b24test" {
			continue
		}
		p := &goPkg{dir: d.Name(), types: map[string]ast.Expr{}, cache: map[string]*goType{}, runtime: rt}
		if err := p.read(fsys, tree); err != nil {
			return nil, err
		}
	}
	return tree, nil
}

// read parses the package's Go files (tests left out) into p and adds its
// methods and events to tree.
func (p *goPkg) read(fsys fs.FS, tree *goTree) error {
	dir := p.dir
	all, err := fs.Glob(fsys, dir+"/*.go")
	if err != nil {
		return err
	}
	var names []string
	for _, n := range all {
		if !strings.HasSuffix(n, "_test.go") {
			names = append(names, n)
		}
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, n, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	funcs := map[string]*ast.FuncDecl{}
	eventConsts := map[string]string{} // struct name → event name
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						p.types[s.Name.Name] = s.Type
					case *ast.ValueSpec:
						if len(s.Names) == 1 && len(s.Values) == 1 && strings.HasPrefix(s.Names[0].Name, "Name") {
							if v, ok := stringLit(s.Values[0]); ok {
								eventConsts[strings.TrimPrefix(s.Names[0].Name, "Name")] = v
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil {
					funcs[d.Name.Name] = d
				}
			}
		}
	}
	for name, fd := range funcs {
		base, ok := strings.CutSuffix(name, "Command")
		if !ok {
			continue
		}
		method, version := commandTarget(fd)
		if method == "" {
			continue
		}
		m := &goMethod{pkg: dir, fn: base}
		if pl := fd.Type.Params.List; len(pl) > 0 {
			m.params = p.typeOf(pl[0].Type)
		}
		if rl := fd.Type.Results; rl != nil && len(rl.List) > 0 {
			if ix, ok := rl.List[0].Type.(*ast.IndexExpr); ok {
				m.result = p.typeOf(ix.Index)
			}
		}
		doc := fd.Doc
		if f := funcs[base]; f != nil && f.Doc != nil {
			doc = f.Doc
		}
		if doc != nil {
			m.doc = doc.Text()
		}
		tree.methods[method+"@"+strconv.Itoa(version)] = m
	}
	for typ, ev := range eventConsts {
		if _, ok := p.types[typ]; ok {
			tree.events[ev] = p.typeOf(ast.NewIdent(typ))
		}
	}
	return nil
}

// commandTarget finds the Method and Version keys of the b24.Request a
// Command function builds.
func commandTarget(fd *ast.FuncDecl) (method string, version int) {
	if fd.Body == nil {
		return "", 0
	}
	version = 2
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, _ := kv.Key.(*ast.Ident)
		if key == nil {
			return true
		}
		switch key.Name {
		case "Method":
			if s, ok := stringLit(kv.Value); ok && method == "" {
				method = s
			}
		case "Version":
			if b, ok := kv.Value.(*ast.BasicLit); ok {
				version, _ = strconv.Atoi(b.Value)
			}
		}
		return true
	})
	return method, version
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// typeOf reads a type expression of the package.
func (p *goPkg) typeOf(e ast.Expr) *goType {
	switch e := e.(type) {
	case *ast.StarExpr:
		return p.typeOf(e.X)
	case *ast.ParenExpr:
		return p.typeOf(e.X)
	case *ast.ArrayType:
		return &goType{class: gSlice, name: "[]", elem: p.typeOf(e.Elt)}
	case *ast.MapType:
		return &goType{class: gMap, name: "map", elem: p.typeOf(e.Value)}
	case *ast.InterfaceType:
		return &goType{class: gRaw, name: "any"}
	case *ast.StructType:
		return p.structOf(e)
	case *ast.Ident:
		return p.named(e.Name)
	case *ast.SelectorExpr:
		t := qualified(e)
		if pkg, _ := e.X.(*ast.Ident); t.class == gOther && p.runtime != nil && pkg != nil && pkg.Name == "b24" {
			if _, ok := p.runtime.types[e.Sel.Name]; ok {
				return p.runtime.named(e.Sel.Name)
			}
		}
		return t
	case *ast.IndexExpr:
		if sel, ok := e.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Opt" {
			return p.typeOf(e.Index) // b24.Opt[T] is T with known presence
		}
		if sel, ok := e.X.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Field" || sel.Sel.Name == "OrderedField") {
			return &goType{class: gString, name: "b24." + sel.Sel.Name}
		}
	}
	return &goType{class: gOther, name: "?"}
}

// named reads a predeclared or package-level type by name; a type being
// read is returned as it stands, so recursive types end.
func (p *goPkg) named(name string) *goType {
	switch name {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return &goType{class: gInt, name: name}
	case "float32", "float64":
		return &goType{class: gNumber, name: name}
	case "string":
		return &goType{class: gString, name: name}
	case "bool":
		return &goType{class: gBool, name: name}
	case "any":
		return &goType{class: gRaw, name: name}
	}
	if t, ok := p.cache[name]; ok {
		return t
	}
	expr, ok := p.types[name]
	if !ok {
		return &goType{class: gOther, name: name}
	}
	t := &goType{name: name}
	p.cache[name] = t
	u := p.typeOf(expr)
	*t = *u
	t.name = name
	return t
}

// qualified reads a type of another package: the runtime's vocabulary.
func qualified(e *ast.SelectorExpr) *goType {
	pkg, _ := e.X.(*ast.Ident)
	name := e.Sel.Name
	full := name
	if pkg != nil {
		full = pkg.Name + "." + name
	}
	class := gOther
	switch full {
	case "b24.Int":
		class = gInt
	case "b24.Number":
		class = gNumber
	case "b24.String", "b24.FieldPath", "b24.Relation":
		class = gString
	case "b24.Bool":
		class = gYN
	case "b24.Time", "b24.Date", "time.Time":
		class = gTime
	case "b24.Fields", "b24.Filter", "b24.Localized", "b24.Order": // Order is sent as {"ID": "ASC"}
		class = gMap
	case "b24.FilterV3":
		class = gSlice
	case "b24.FileData", "b24.FilePair", "b24.FileBase64":
		class = gFile
	case "b24.Multifield":
		class = gStruct
	case "json.RawMessage":
		class = gRaw
	}
	return &goType{class: class, name: full}
}

// structOf reads a struct's members by JSON key; embedded structs lend
// theirs. Extra (json:"-") is not a member.
func (p *goPkg) structOf(s *ast.StructType) *goType {
	t := &goType{class: gStruct, name: "struct", fields: map[string]*goType{}}
	for _, f := range s.Fields.List {
		ft := p.typeOf(f.Type)
		if len(f.Names) == 0 {
			for _, k := range ft.keys {
				t.add(k, ft.fields[k])
			}
			continue
		}
		key := f.Names[0].Name
		if f.Tag != nil {
			tag, _ := strconv.Unquote(f.Tag.Value)
			if j, ok := reflect.StructTag(tag).Lookup("json"); ok {
				key, _, _ = strings.Cut(j, ",")
			}
		}
		if key == "-" || !ast.IsExported(f.Names[0].Name) {
			continue
		}
		t.add(key, ft)
	}
	return t
}

func (t *goType) add(key string, ft *goType) {
	if _, dup := t.fields[key]; !dup {
		t.keys = append(t.keys, key)
	}
	t.fields[key] = ft
}

// member finds a struct member by key, case folded when the exact key is
// absent (the portal reads keys without regard to case).
func (t *goType) member(key string) (*goType, string) {
	if t == nil || t.fields == nil {
		return nil, ""
	}
	if f, ok := t.fields[key]; ok {
		return f, key
	}
	for _, k := range t.keys {
		if strings.EqualFold(k, key) {
			return t.fields[k], k
		}
	}
	return nil, ""
}

// has reports whether the struct has a member key (case folded).
func (t *goType) has(key string) bool {
	f, _ := t.member(key)
	return f != nil
}

// level is the struct a type's members sit in: itself, the element of a
// slice or the value of a map, through any depth of those.
func (t *goType) level() *goType {
	for i := 0; t != nil && i < 4; i++ {
		switch t.class {
		case gStruct:
			return t
		case gSlice, gMap:
			t = t.elem
		default:
			return nil
		}
	}
	return nil
}

// structs lists every struct reachable from t with its path, breadth
// first, each once.
func (t *goType) structs() []pathType {
	var out []pathType
	seen := map[*goType]bool{}
	queue := []pathType{{"", t}}
	for len(queue) > 0 {
		pt := queue[0]
		queue = queue[1:]
		s := pt.t.level()
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, pathType{pt.path, s})
		for _, k := range s.keys {
			queue = append(queue, pathType{path.Join(pt.path, k), s.fields[k]})
		}
	}
	return out
}

type pathType struct {
	path string
	t    *goType
}
