package emit

import (
	"embed"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/generator/model"
)

// The runnable examples of the main packages (crm, tasks, user, events) are
// written by hand, as a user would write them, in examples/<pkg>/*.go.txt:
// each is a whole external test file against this repository's import path.
// They are not compiled here (the .txt suffix) but in the generated tree.
//
// A docs edition other than the pinned one may lack a function, rename a
// field or type it differently, so each file states what it uses from the
// package, one "//b24gen:needs" line per fact, and is emitted only when
// the package's model has all of it; TestExamplesDeclareWhatTheyUse checks
// (with go/packages) that the lines cover every identifier a file uses.
//
//	//b24gen:needs func ItemGet ItemGetParams *ItemGetResult   the function, its params type and result
//	//b24gen:needs required ItemGet EntityTypeID ID           the required fields are among these
//	//b24gen:needs list TaskList Task                         TaskListAll exists, yielding Task
//	//b24gen:needs export ItemList Item                       ItemListExport too
//	//b24gen:needs fields Item ID:b24.Int Title:b24.String    struct fields and their types
//	//b24gen:needs extra ItemInput                            the struct keeps and sends Extra
//	//b24gen:needs enum TaskStatus TaskStatusN5               an enum and its constants
//	//b24gen:needs event OnCrmDealUpdate                      Receiver.OnCrmDealUpdate and its type
//
//go:embed examples
var examplesFS embed.FS

// exampleImportPath is the import path the example sources are written
// against; the emitter puts the output tree's in its place.
const exampleImportPath = "github.com/b24gen/b24gen/generated"

const needsPrefix = "//b24gen:needs "

// curatedExample is one hand-written example file.
type curatedExample struct {
	Name  string     // file name without the suffix: "item"
	Needs [][]string // one "//b24gen:needs" line each, split into words
	Body  string     // the source without the needs lines
}

// curatedExamples returns the example files written for package pkg.
func curatedExamples(pkg string) ([]curatedExample, error) {
	entries, err := fs.ReadDir(examplesFS, "examples/"+pkg)
	if err != nil {
		return nil, nil // no examples for this package
	}
	var out []curatedExample
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), "_test.go.txt")
		if !ok {
			continue
		}
		data, err := examplesFS.ReadFile("examples/" + pkg + "/" + ent.Name())
		if err != nil {
			return nil, err
		}
		ex := curatedExample{Name: name}
		var body strings.Builder
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, needsPrefix); ok {
				ex.Needs = append(ex.Needs, strings.Fields(rest))
				continue
			}
			body.WriteString(line)
		}
		ex.Body = body.String()
		out = append(out, ex)
	}
	return out, nil
}

// exampleIndex is what an example may use from a package: its functions,
// structs and enums by Go name, and the events a Receiver takes.
type exampleIndex struct {
	funcs   map[string]*model.Func
	structs map[string]*model.Struct
	enums   map[string]*model.Enum
	events  map[string]bool
}

func newExampleIndex() *exampleIndex {
	return &exampleIndex{funcs: map[string]*model.Func{}, structs: map[string]*model.Struct{}, enums: map[string]*model.Enum{}, events: map[string]bool{}}
}

func packageIndex(pkg *model.Package) *exampleIndex {
	ix := newExampleIndex()
	ix.addStructs(pkg.Shared)
	for _, f := range pkg.Files {
		for _, ent := range f.Entities {
			ix.addStructs(ent.Structs)
			ix.addEnums(ent.Enums)
		}
		for _, fn := range f.Funcs {
			ix.funcs[fn.Name] = fn
			ix.addStructs(fn.Structs)
			ix.addStructs([]*model.Struct{fn.Params})
			ix.addEnums(fn.Enums)
		}
	}
	return ix
}

func eventsIndex(evs *model.Events) *exampleIndex {
	ix := newExampleIndex()
	for _, ev := range evs.Events {
		ix.events[ev.Name] = true
		ix.addStructs([]*model.Struct{ev.Struct})
		ix.addStructs(ev.Structs)
		ix.addEnums(ev.Enums)
	}
	return ix
}

func (ix *exampleIndex) addStructs(sts []*model.Struct) {
	for _, st := range sts {
		if st != nil {
			ix.structs[st.Name] = st
		}
	}
}

func (ix *exampleIndex) addEnums(ens []*model.Enum) {
	for _, en := range ens {
		ix.enums[en.Name] = en
	}
}

// missing returns the first need the index does not meet, or "".
func (ix *exampleIndex) missing(needs [][]string) string {
	for _, n := range needs {
		if why := ix.check(n); why != "" {
			return strings.Join(n, " ") + ": " + why
		}
	}
	return ""
}

func (ix *exampleIndex) check(n []string) string {
	if len(n) < 2 {
		return "malformed"
	}
	kind, name, args := n[0], n[1], n[2:]
	switch kind {
	case "func", "required", "list", "export":
		fn := ix.funcs[name]
		if fn == nil {
			return "no such function"
		}
		switch kind {
		case "func":
			if len(args) != 2 {
				return "malformed"
			}
			if fn.Params == nil || fn.Params.Name != args[0] {
				return "other params type"
			}
			if got := spellType(fn.Result); got != args[1] {
				return "result is " + got
			}
		case "required":
			for _, r := range fn.Required {
				if !slices.Contains(args, r.Field) {
					return "also requires " + r.Field
				}
			}
		case "list", "export":
			if fn.List == nil || kind == "export" && !fn.List.Export {
				return "no " + kind + " iterator"
			}
			if len(args) != 1 || spellType(fn.List.Row) != args[0] {
				return "rows are " + spellType(fn.List.Row)
			}
		}
	case "fields", "extra":
		st := ix.structs[name]
		if st == nil {
			return "no such struct"
		}
		if kind == "extra" {
			if !st.Extra {
				return "no Extra"
			}
			return ""
		}
		for _, a := range args {
			field, typ, ok := strings.Cut(a, ":")
			if !ok {
				return "malformed"
			}
			f := structField(st, field)
			if f == nil {
				return "no field " + field
			}
			if got := spellType(f.Type); got != typ {
				return field + " is " + got
			}
		}
	case "enum":
		en := ix.enums[name]
		if en == nil {
			return "no such enum"
		}
		for _, c := range args {
			if !slices.ContainsFunc(en.Values, func(v model.EnumValue) bool { return v.Name == c }) {
				return "no constant " + c
			}
		}
	case "event":
		if !ix.events[name] {
			return "no such event"
		}
	default:
		return "unknown need"
	}
	return ""
}

func structField(st *model.Struct, name string) *model.Field {
	for _, f := range st.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// spellType writes t as the example spells it from outside the package,
// without the package's own qualifier: *ItemGetResult, b24.Opt[b24.Int].
func spellType(t *model.Type) string {
	if t == nil {
		return "(none)"
	}
	switch t.Kind {
	case model.Builtin, model.Named:
		return t.Name
	case model.Qual:
		return path.Base(t.Pkg) + "." + t.Name
	case model.Slice:
		return "[]" + spellType(t.Elem)
	case model.Map:
		return "map[string]" + spellType(t.Elem)
	case model.Pointer:
		return "*" + spellType(t.Elem)
	case model.Opt:
		return "b24.Opt[" + spellType(t.Elem) + "]"
	}
	return fmt.Sprintf("(kind %d)", t.Kind)
}

// exampleFiles renders the curated examples of pkg that ix supports, each
// as pkg/example_<name>_test.go under the output tree's import path.
func (e *emitter) exampleFiles(pkg string, ix *exampleIndex) ([]Output, error) {
	exs, err := curatedExamples(pkg)
	if err != nil {
		return nil, err
	}
	var out []Output
	for _, ex := range exs {
		if ix.missing(ex.Needs) != "" {
			continue // this edition's package cannot run it
		}
		src := "// " + e.cfg.Header + "\n\n" +
			strings.ReplaceAll(ex.Body, `"`+exampleImportPath+`/`, `"`+e.cfg.ImportPath+`/`)
		b, err := format.Source([]byte(src))
		if err != nil {
			return nil, fmt.Errorf("%s/example_%s_test.go: %w", pkg, ex.Name, err)
		}
		out = append(out, Output{Path: pkg + "/example_" + ex.Name + "_test.go", Data: b})
	}
	return out, nil
}
