// Package model turns a spec.Spec into a Go-typed model: Go names, Go types
// and packages for every method. All naming decisions live here (see
// naming.go); the emit stage only prints what this package decided. Model
// never imports jennifer and never reads Markdown.
package model

import "github.com/b24gen/b24gen/spec"

// RuntimePkg stands for the runtime package (b24) in Type.Pkg; the emitter
// maps it to the output tree's import path.
const RuntimePkg = "b24"

// TypeKind says how a Type is spelled in Go.
type TypeKind int

const (
	Builtin TypeKind = iota // Name: string, int64, float64, bool, any
	Qual                    // Pkg.Name: b24.Int, json.RawMessage, time.Time
	Named                   // a type declared in the same package
	Slice                   // []Elem
	Map                     // map[string]Elem
	Pointer                 // *Elem
	Opt                     // b24.Opt[Elem]
)

// Type is a Go type expression.
type Type struct {
	Kind TypeKind
	Pkg  string // import path for Qual, or RuntimePkg
	Name string // Builtin, Qual and Named
	Elem *Type  // Slice, Map, Pointer, Opt
}

// Shorthands for the types the model uses.
var (
	tString  = &Type{Kind: Builtin, Name: "string"}
	tInt64   = &Type{Kind: Builtin, Name: "int64"}
	tFloat64 = &Type{Kind: Builtin, Name: "float64"}
	tBool    = &Type{Kind: Builtin, Name: "bool"}
	tAny     = &Type{Kind: Builtin, Name: "any"}
	tRaw     = &Type{Kind: Qual, Pkg: "encoding/json", Name: "RawMessage"}
)

func runtime(name string) *Type         { return &Type{Kind: Qual, Pkg: RuntimePkg, Name: name} }
func named(name string) *Type           { return &Type{Kind: Named, Name: name} }
func sliceOf(t *Type) *Type             { return &Type{Kind: Slice, Elem: t} }
func pointerTo(t *Type) *Type           { return &Type{Kind: Pointer, Elem: t} }
func optOf(t *Type) *Type               { return &Type{Kind: Opt, Elem: t} }
func mapOf(elem *Type) *Type            { return &Type{Kind: Map, Elem: elem} }
func (t *Type) isBuiltin(n string) bool { return t.Kind == Builtin && t.Name == n }

// isRuntime reports the runtime type b24.<n>.
func (t *Type) isRuntime(n string) bool { return t.Kind == Qual && t.Pkg == RuntimePkg && t.Name == n }

// nilable reports the types whose zero value is nil and so means "not
// sent": slices, maps (b24.Filter and b24.Order among them) and any.
func (t *Type) nilable() bool {
	return t.Kind == Slice || t.Kind == Map || t.isBuiltin("any") || t.isRuntime("Filter") || t.isRuntime("Order") || t.isRuntime("FilterV3")
}

// Raw reports whether t leaves the value untyped: any or json.RawMessage,
// optional or not. A slice or map of any counts as typed: the docs gave the
// JSON shape (array, object) and the Go type holds the user to it.
func (t *Type) Raw() bool {
	switch t.Kind {
	case Builtin:
		return t.Name == "any"
	case Qual:
		return t.Pkg == "encoding/json" && t.Name == "RawMessage"
	case Pointer, Opt:
		return t.Elem.Raw()
	}
	return false
}

// Model is the whole generated API.
type Model struct {
	Repository string // docs repository, for the generated-code header
	Commit     string
	Packages   []*Package // sorted by Name
}

// Package is one generated Go package: the methods sharing a first segment.
type Package struct {
	Name  string  // Go package name and directory
	Files []*File // sorted by Name
	// Shared are types used by several methods of the package (FieldInfo),
	// declared in its doc.go.
	Shared []*Struct
	// V3Objects are the REST 3.0 objects of the package's fields-rest-v3
	// page, as field name constants (v3.go), declared in fields_v3_gen.go.
	V3Objects []*V3Object
	// Example is the method shown in the package's runnable example (a
	// REST 2 read with a documented response), or nil.
	Example *Func
}

// File is one generated source file: the methods sharing a second segment
// ("crm.deal.*" → "deal_gen.go"), so a new method never moves another.
type File struct {
	Name string
	// Entities are the entity types of the families whose methods the
	// file holds, declared before the functions.
	Entities []*Entity
	Funcs    []*Func // sorted by method name, then version
}

// Func is one method record with everything declared for it.
type Func struct {
	Name       string // DealGet
	Method     string // crm.deal.get
	Version    int    // 2 or 3
	Idempotent bool
	Doc        []string // paragraphs; the first starts with Name

	Params *Struct // <Name>Params
	// The companions, named by model with the function (emit makes no
	// names): the batch command, and for lists the two iterators.
	Command     string          // DealGetCommand
	All, Export string          // DealListAll, DealListExport; "" unless a list
	Required    []RequiredCheck // checked before any request, in field order

	Result    *Type  // R in (R, error)
	ResultDoc string // why a result is raw, when it is
	// Zero is how to spell R's zero value in a return statement.
	Zero Zero

	// Decls are the types declared for this method (params, nested
	// structs, enums, result), in declaration order.
	Structs []*Struct
	Enums   []*Enum

	List *List // non-nil for paginated list methods

	// Example is the documented "result" of a success response, compact
	// JSON, when the page has one.
	Example []byte
}

// Key is the spec key of the method f calls (see spec.Method.Key):
// "crm.deal.get", "tasks.task.get@3".
func (f *Func) Key() string {
	return (&spec.Method{Name: f.Method, Version: f.Version}).Key()
}

// Zero names the zero-value expression of a result type.
type Zero int

const (
	ZeroNil    Zero = iota // pointers, slices, json.RawMessage
	ZeroNumber             // b24.Int, b24.Number, int enums: 0
	ZeroString             // b24.String, string enums: ""
	ZeroBool               // b24.Bool: false
	ZeroStruct             // b24.Time{}, b24.Date{}
)

// RequiredCheck is one required parameter the function checks.
type RequiredCheck struct {
	Field string // Go field path in the params struct: "ID", "Fields.Title"
	Param string // wire path, for b24.RequiredError: "id", "fields.TITLE"
	Test  Check
	Line  int // the line of the row that marks it required, in the method's page
}

// String names the test: what the function refuses.
func (c Check) String() string {
	switch c {
	case CheckEmptyString:
		return "empty string"
	case CheckZero:
		return "zero identifier"
	case CheckNil:
		return "nil"
	case CheckUnset:
		return "unset"
	}
	return "?"
}

// Check is how a missing required value is recognised.
type Check int

const (
	CheckEmptyString Check = iota // p.X == ""
	CheckZero                     // p.X == 0 (identifiers)
	CheckNil                      // p.X == nil (slices, maps, any)
	CheckUnset                    // !p.X.Set (b24.Opt: an entity's write form)
)

// List says how to page through a list method.
type List struct {
	Row      *Type  // element type of the rows
	ItemsKey string // key under result holding the rows; "" when result is the array
	IDField  string // "ID" or "id"; "" when the rows have none
	Export   bool   // filter+order accepted and rows carry an ID: fast export
	PageSize int    // REST 3.0: the largest page the docs allow (0: the runtime's default)
}

// Struct is a generated struct type.
type Struct struct {
	Name   string
	Doc    []string
	Fields []*Field
	// Extra adds `Extra b24.Fields` with MarshalJSON/UnmarshalJSON through
	// b24.EncodeObject/DecodeObject, so undocumented keys (UF_*) survive.
	Extra bool
	// ExtraDoc is the doc of the Extra field when the docs name the keys
	// it keeps (placeholder rows: UF_CRM_*, PARENT_ID_*); empty for the
	// default line.
	ExtraDoc []string
	// Presence embeds b24.Presence: a read type (a result, a row, an
	// entity, an event payload, their nested objects) records which
	// documented keys arrived, and its encoder writes only those.
	Presence bool
	// Baseline embeds b24.Baseline: an entity's write form built by the
	// read type's Input() sends only the fields changed since.
	Baseline bool
}

// ReadNames are the names a read type's embedded b24.Presence and its
// Input method take; WriteNames those of a write form's b24.Baseline. The
// field pools reserve them, so a documented key never collides with them.
var (
	ReadNames  = []string{"Presence", "Decoded", "Has", "IsNull", "Keys", "Input"}
	WriteNames = []string{"Baseline", "SendUnchanged"}
)

// Field is one struct field.
type Field struct {
	Name     string
	JSON     string // wire key, exactly as documented
	Type     *Type
	OmitZero bool     // `json:",omitzero"`: optional params
	Doc      []string // paragraphs
}

// Enum is a named type with one constant per documented value. Decoding
// accepts values the docs do not list.
type Enum struct {
	Name       string
	Doc        []string
	Underlying *Type // string or int64
	Values     []EnumValue
}

// EnumValue is one constant.
type EnumValue struct {
	Name  string
	Value string // Go literal source: "\"Y\"" or "3"
	Doc   string
}

// strict reports a type that says what it holds all the way down: neither
// any nor json.RawMessage, nor a slice or map of them.
func (t *Type) strict() bool {
	switch t.Kind {
	case Slice, Map, Pointer, Opt:
		return t.Elem.strict()
	}
	return !t.Raw()
}
