// Package emit prints the Go model as Go source with jennifer. It decides
// nothing about names or types (package model does); it only spells them.
// Each builder below is one construct, and its comment shows what it emits.
package emit

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// Config places the generated packages.
type Config struct {
	// ImportPath is the output tree's import path; package crm is
	// ImportPath+"/crm" and the runtime ImportPath+"/b24".
	ImportPath string
	// Header is the first line of every file, without "// ".
	Header string
}

// Output is one generated file, its path relative to the output tree.
type Output struct {
	Path string
	Data []byte
}

// Package renders every file of pkg: a doc.go and one file per model.File.
func Package(cfg Config, pkg *model.Package) ([]Output, error) {
	e := newEmitter(cfg, pkg.Name)
	// The hand-written examples of the main packages (examples.go); the
	// others get one generated from a documented read.
	curated, err := e.exampleFiles(pkg.Name, packageIndex(pkg))
	if err != nil {
		return nil, err
	}
	var out []Output
	doc := e.newFile(pkg.Name)
	doc.PackageComment(packageDoc(pkg, len(curated) > 0))
	for _, st := range pkg.Shared {
		e.structDecls(doc, st)
	}
	b, err := render(doc)
	if err != nil {
		return nil, fmt.Errorf("%s/doc.go: %w", pkg.Name, err)
	}
	out = append(out, Output{Path: pkg.Name + "/doc.go", Data: b})
	out = append(out, curated...)
	if len(curated) == 0 && pkg.Example != nil {
		b, err := e.exampleFile(pkg)
		if err != nil {
			return nil, fmt.Errorf("%s/example_test.go: %w", pkg.Name, err)
		}
		out = append(out, Output{Path: pkg.Name + "/example_test.go", Data: b})
	}
	for _, file := range pkg.Files {
		f := e.newFile(pkg.Name)
		for _, ent := range file.Entities {
			e.entityDecls(f, ent)
		}
		for _, fn := range file.Funcs {
			e.funcDecls(f, fn)
		}
		b, err := render(f)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", pkg.Name, file.Name, err)
		}
		out = append(out, Output{Path: pkg.Name + "/" + file.Name, Data: b})
	}
	if len(pkg.V3Objects) > 0 {
		b, err := e.v3FieldsFile(pkg) // v3.go
		if err != nil {
			return nil, fmt.Errorf("%s/fields_v3_gen.go: %w", pkg.Name, err)
		}
		out = append(out, Output{Path: pkg.Name + "/fields_v3_gen.go", Data: b})
	}
	return out, nil
}

func packageDoc(pkg *model.Package, examples bool) string {
	var methods []string
	seen := map[string]bool{}
	for _, f := range pkg.Files {
		for _, fn := range f.Funcs {
			first := strings.SplitN(fn.Method, ".", 2)[0]
			if !seen[first] {
				seen[first] = true
				methods = append(methods, first)
			}
		}
	}
	if len(methods) == 0 {
		methods = []string{pkg.Name}
	}
	if pkg.Name == model.RootPackage {
		return "Package " + pkg.Name + " calls the core Bitrix24 REST methods whose names have a single segment (batch, methods, profile, scope, …)."
	}
	return "Package " + pkg.Name + " calls the Bitrix24 REST methods " + strings.Join(methods, ".*, ") + ".*, one function per documented method." +
		overview(pkg, examples) + howToRead(methods[0])
}

// howToRead closes every package doc: how a method's name maps to its
// Go names, the same in every package.
func howToRead(first string) string {
	return `

Method ` + first + `.x.get_y is function XGetY: the segments after the first
in CamelCase, inner capitals kept (landing.site.getList is SiteGetList in
package landing). Its parameters are XGetYParams; XGetYCommand is the same
call as a batch command (b24.Add); a list method also has XListAll (every
page) and, where the rows carry an ID, XListExport (read by ID, many pages
per request). Each function's doc links its page on apidocs.bitrix24.com
and lists the documented errors, which errors.Is matches (b24.ErrNotFound
and the other sentinels).`
}

type emitter struct {
	cfg  Config
	rt   string // runtime import path
	path string // this package's import path
}

// newEmitter returns the emitter of the output package pkg ("crm").
func newEmitter(cfg Config, pkg string) *emitter {
	return &emitter{cfg: cfg, rt: cfg.ImportPath + "/" + model.RuntimePkg, path: cfg.ImportPath + "/" + pkg}
}

// newFile starts a file of the package, named name.
func (e *emitter) newFile(name string) *jen.File {
	f := jen.NewFilePathName(e.path, name)
	f.HeaderComment(e.cfg.Header)
	return f
}

// newTestFile starts a file of the package's external test package
// (name_test), so that its code reads as user code.
func (e *emitter) newTestFile(name string) *jen.File {
	f := jen.NewFilePathName(e.path+"_test", name+"_test")
	f.HeaderComment(e.cfg.Header)
	return f
}

func render(f *jen.File) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// funcDecls adds everything one method declares, in a fixed order: the
// function, its batch command, the list iterators, then its types.
func (e *emitter) funcDecls(f *jen.File, fn *model.Func) {
	f.Add(e.callFunc(fn))
	f.Line()
	f.Add(e.commandFunc(fn))
	f.Line()
	if fn.List != nil {
		allDoc := fn.All + " iterates over every row of " + fn.Method + ", requesting page after page (start/next) as the loop asks for more."
		exportDoc := fn.Export + " reads every row of " + fn.Method + " by ID (start=-1, filter >ID, ordered by ID), many pages per batch call: the fast way to read a large list. The filter in p still applies; its order is replaced."
		if fn.Version == 3 {
			allDoc, exportDoc = v3ListDocs(fn) // v3.go
		}
		f.Add(e.listFunc(fn, fn.All, "List", allDoc))
		f.Line()
		if fn.List.Export {
			f.Add(e.listFunc(fn, fn.Export, "Export", exportDoc))
			f.Line()
		}
	}
	for _, st := range fn.Structs {
		e.structDecls(f, st)
		if st == fn.Params && len(fn.Required) > 0 {
			f.Add(e.validateFunc(fn))
			f.Line()
		}
	}
	for _, en := range fn.Enums {
		f.Add(e.enumDecl(en))
		f.Line()
	}
}

// entityDecls adds an entity's types: the entity, its write form, then
// their nested structs and enums.
func (e *emitter) entityDecls(f *jen.File, ent *model.Entity) {
	for _, st := range ent.Structs {
		e.structDecls(f, st)
		if st.Name == ent.Name && ent.Input != "" {
			f.Add(inputMethod(e.rt, ent)) // presence.go
			f.Line()
		}
	}
	for _, en := range ent.Enums {
		f.Add(e.enumDecl(en))
		f.Line()
	}
	if len(ent.Keys) > 0 {
		f.Add(comment([]string{"The typed REST 2 keys of " + ent.Name + ", for list filters (b24.Terms(" + ent.Keys[0].Name +
			".Eq(…))), select (b24.Columns) and order: each as " + ent.Family + " spells it, typed by what the field holds."}))
		f.Const().Defs(e.fieldConsts(ent.Keys)...)
		f.Line()
	}
}

// fieldConsts spells field name constants, typed by their runtime key or
// field type:
//
//	// DealKeyStageID is the crm.deal field "STAGE_ID" in REST 2 filters, ….
//	DealKeyStageID b24.TextKey = "STAGE_ID"
func (e *emitter) fieldConsts(cs []*model.FieldConst) []jen.Code {
	var defs []jen.Code
	for _, c := range cs {
		t := jen.Qual(e.rt, c.Type.Name)
		if c.Type.Elem != nil {
			t = t.Types(e.typ(c.Type.Elem))
		}
		defs = append(defs, jen.Add(comment(c.Doc)).Line().Id(c.Name).Add(t).Op("=").Lit(c.Wire))
	}
	return defs
}

// structDecls adds a struct and, when it keeps unknown keys, its JSON
// methods.
func (e *emitter) structDecls(f *jen.File, st *model.Struct) {
	f.Add(e.structDecl(st))
	f.Line()
	if st.Extra {
		f.Add(e.unmarshalObject(st.Name))
		f.Line()
		f.Add(e.marshalObject(st.Name))
		f.Line()
	}
}

// comment renders doc paragraphs as a // comment, wrapped at about 80
// columns; list paragraphs (see model's paragraphs) become godoc lists, code
// lines (led by a tab) godoc code blocks, and other paragraphs that hold
// line breaks keep their lines.
//
//	// DealGet calls crm.deal.get.
//	//
//	// See https://…
func comment(paras []string) jen.Code {
	paras = trimBlankCode(paras)
	if len(paras) == 0 {
		return jen.Null()
	}
	var b strings.Builder
	prev := ""
	prose := false
	for _, p := range paras {
		prose = prose || paraKind(p) == "prose"
	}
	if !prose {
		// Godoc strips the indentation all lines share, so a comment of
		// only lists and code would lose it (gofmt makes it prose): an
		// unindented first line keeps the blocks what they are.
		b.WriteString("// …\n")
		prev = "prose"
	}
	for i, p := range paras {
		kind := paraKind(p)
		if b.Len() > 0 {
			switch {
			case kind == prev && kind != "prose":
				// Two lists of one kind, or two code blocks: godoc reads
				// indented paragraphs as one block anyway, and lists join
				// without the blank line that would make gofmt space
				// every item out.
				if kind != "code" {
					break
				}
				b.WriteString("//\n")
			case kind != "prose" && prev != "prose":
				// A list next to a code block (or to a list of the other
				// kind) would merge with it: godoc reads a run of indented
				// lines as one block, so the code would become text of
				// the last item. An unindented line keeps them apart.
				b.WriteString("//\n// …\n//\n")
			default:
				b.WriteString("//\n")
			}
		}
		prev = kind
		// gofmt turns '' and `` in a doc comment into curly quotes; the
		// comment says "" so that it is the same before and after gofmt.
		p = curlyQuotes.Replace(p)
		lines := strings.Split(p, "\n")
		for j, line := range lines {
			if strings.TrimSpace(line) == "" && strings.HasPrefix(p, "\t") {
				b.WriteString("//\n") // godoc's blank line, whatever spaces it held
				continue
			}
			if strings.HasPrefix(line, "\t") {
				// A code line, as godoc lays out code blocks.
				if j == 0 {
					line = unlistCode(line)
				}
				b.WriteString(strings.TrimRight("//"+line, " \t") + "\n")
				continue
			}
			if first, text, ok := listItem(line); ok {
				if j == 0 && first == nestedItem {
					// A nested item with no item above it would start an
					// indented block that is no list: it is a top one.
					first = "//   - "
				}
				// An item wraps with its continuation lines under its text,
				// as gofmt lays out doc-comment lists; no continuation line
				// may look like an item of its own.
				for i, l := range wrapItem(text, max(40, 77-len(first))) {
					if i == 0 {
						b.WriteString(first + l + "\n")
					} else {
						b.WriteString("//     " + l + "\n")
					}
				}
				continue
			}
			if len(lines) > 1 {
				// Other lines of a multi-line paragraph are kept as written.
				b.WriteString(strings.TrimRight("// "+line, " ") + "\n")
				continue
			}
			if i > 0 && i < len(paras)-1 && looksLikeHeading(line) {
				// Godoc would read a short capitalised line between two
				// paragraphs as a heading (and gofmt would make it "# …").
				line += "."
			}
			for _, l := range wrap(line, 76) {
				b.WriteString("// " + l + "\n")
			}
		}
	}
	return jen.Comment(strings.TrimSuffix(b.String(), "\n"))
}

// trimBlankCode drops the lines of a code paragraph that are blank to
// godoc (only spaces of any kind) at either end, and a code paragraph left
// empty: godoc would drop them, and gofmt the blank lines they leave.
func trimBlankCode(paras []string) []string {
	var out []string
	for _, p := range paras {
		if strings.HasPrefix(p, "\t") {
			lines := strings.Split(p, "\n")
			for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
				lines = lines[1:]
			}
			for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
				lines = lines[:len(lines)-1]
			}
			if len(lines) == 0 {
				continue
			}
			p = strings.Join(lines, "\n")
		}
		out = append(out, p)
	}
	return out
}

// paraKind says how comment lays a paragraph out: "code" (tab-led lines),
// "list" or "numbered" (list items, by their top-level marker), or "prose".
func paraKind(p string) string {
	first, _, _ := strings.Cut(p, "\n")
	if strings.HasPrefix(first, "\t") {
		return "code"
	}
	if prefix, _, ok := listItem(first); ok {
		if strings.HasPrefix(prefix, "//   - ") || prefix == nestedItem {
			return "list"
		}
		return "numbered"
	}
	return "prose"
}

// unlistCode keeps the first line of a code block from reading as a list
// item: godoc makes an indented block whose first line starts with "-",
// "1." or "0)" and a space a list (and gofmt rewrites it as one), so the
// space after such a marker becomes a no-break space, which looks the same
// in go doc but is no list marker's space.
func unlistCode(line string) string {
	code := strings.TrimLeft(line, " \t")
	n := 0
	if r, size := utf8.DecodeRuneInString(code); r == '-' || r == '*' || r == '+' || r == '•' {
		n = size
	} else {
		for n < len(code) && code[n] >= '0' && code[n] <= '9' {
			n++
		}
		if n == 0 || n == len(code) || code[n] != '.' && code[n] != ')' {
			return line
		}
		n++
	}
	if n == len(code) || code[n] != ' ' && code[n] != '\t' || strings.TrimSpace(code[n:]) == "" {
		return line
	}
	indent := line[:len(line)-len(code)]
	return indent + code[:n] + "\u00a0" + code[n+1:]
}

// curlyQuotes rewrites the pairs gofmt would turn into curly quotes.
var curlyQuotes = strings.NewReplacer("''", `""`, "``", `""`)

// looksLikeHeading reports whether a paragraph would be an implicit godoc
// heading: one line (as wrapped), starting with a capital, ending with a
// letter or digit, with no punctuation but ( ) , and inner dots.
func looksLikeHeading(p string) bool {
	if len(p) > 76 || p == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(p)
	last, _ := utf8.DecodeLastRuneInString(p)
	return unicode.IsUpper(first) && (unicode.IsLetter(last) || unicode.IsDigit(last)) &&
		!strings.ContainsAny(p, ";:!?+*/=[]{}_^°&§~%#@<\">\\") // go/doc/comment's list: a backquote is allowed
}

// listItem reads a list line of a doc paragraph: "  - text" or "  1. text",
// two more spaces for each nesting level, and returns the comment prefix of
// its first line and its text. Top-level items take gofmt's layout of
// doc-comment lists ("//   - ", "//  1. "). Godoc has no nested lists (gofmt
// would flatten them), so a nested item is a continuation line of its parent
// item that starts with "◦ ", which is no list marker:
//
//	//   - N — no, only to:
//	//     ◦ the responsible person
func listItem(line string) (first, text string, ok bool) {
	depth, marker, text, ok := model.ListLine(line)
	if !ok || depth == 0 {
		return "", "", false // a list paragraph indents even its top level
	}
	depth--
	num := ""
	if marker != "-" {
		num = marker
	}
	switch {
	case depth > 0 && num != "":
		return nestedItem, num + " " + text, true
	case depth > 0:
		return nestedItem, text, true
	case num != "":
		return "//  " + num + " ", text, true
	}
	return "//   - ", text, true
}

// nestedItem is the comment prefix of a nested list item.
const nestedItem = "//     ◦ "

// wrapItem wraps the text of a list item like wrap, but never starts a
// continuation line with a word that godoc would read as a list marker
// ("-", "•", "2.", "3)"): such a word stays at the end of the line before.
func wrapItem(text string, width int) []string {
	return wrapWords(text, width, looksLikeMarker)
}

// looksLikeMarker reports whether a word, starting a line, would be a
// doc-comment list marker: "-", "*", "+", "•", or digits then "." or ")".
func looksLikeMarker(w string) bool {
	switch w {
	case "-", "*", "+", "•":
		return true
	}
	n := 0
	for n < len(w) && w[n] >= '0' && w[n] <= '9' {
		n++
	}
	return n > 0 && n == len(w)-1 && (w[n] == '.' || w[n] == ')')
}

// wrap breaks text at spaces into lines of at most width bytes (a longer
// word, such as a URL, gets a line of its own unless it follows a word as
// short as "See").
func wrap(text string, width int) []string {
	return wrapWords(text, width, nil)
}

// wrapWords fills lines of at most width bytes with the words of text; a
// word for which mustFollow is true never starts a line.
func wrapWords(text string, width int, mustFollow func(string) bool) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(text) {
		if cur.Len() > 8 && cur.Len()+1+len(w) > width && (mustFollow == nil || !mustFollow(w)) {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// typ spells a model type. Named types are qualified by the package's
// path, which jennifer leaves out inside the package itself, so the same
// spelling serves its own files and its external tests (crm.DealGetParams).
//
//	b24.Opt[int64], []DealListItem, map[string]any, *DealGetResult
func (e *emitter) typ(t *model.Type) *jen.Statement {
	switch t.Kind {
	case model.Builtin:
		return jen.Id(t.Name)
	case model.Qual:
		if t.Pkg == model.RuntimePkg {
			return jen.Qual(e.rt, t.Name)
		}
		return jen.Qual(t.Pkg, t.Name)
	case model.Named:
		return jen.Qual(e.path, t.Name)
	case model.Slice:
		return jen.Index().Add(e.typ(t.Elem))
	case model.Map:
		return jen.Map(jen.String()).Add(e.typ(t.Elem))
	case model.Pointer:
		return jen.Op("*").Add(e.typ(t.Elem))
	case model.Opt:
		return jen.Qual(e.rt, "Opt").Types(e.typ(t.Elem))
	}
	panic(fmt.Sprintf("emit: unknown type kind %d", t.Kind)) // a model bug, not bad input
}

// callFunc emits the method's function.
//
//	func DealGet(ctx context.Context, c b24.Caller, p DealGetParams, opts ...b24.CallOption) (*DealGetResult, error) {
//		if err := p.validate(); err != nil {
//			return nil, err
//		}
//		var out DealGetResult
//		if err := b24.Invoke(ctx, c, DealGetCommand(p).Request, &out, opts...); err != nil {
//			return nil, err
//		}
//		return &out, nil
//	}
func (e *emitter) callFunc(fn *model.Func) jen.Code {
	doc := append([]string{}, fn.Doc...)
	if fn.ResultDoc != "" {
		doc = insertBefore(doc, fn.ResultDoc)
	}
	outType := fn.Result
	ptr := fn.Result.Kind == model.Pointer
	if ptr {
		outType = fn.Result.Elem
	}
	zero := e.zero(fn.Zero, fn.Result)
	var body []jen.Code
	if len(fn.Required) > 0 {
		body = append(body, jen.If(jen.Err().Op(":=").Id("p").Dot("validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(zero, jen.Err())))
	}
	body = append(body,
		jen.Var().Id("out").Add(e.typ(outType)),
		jen.If(
			jen.Err().Op(":=").Qual(e.rt, "Invoke").Call(jen.Id("ctx"), jen.Id("c"),
				jen.Id(fn.Command).Call(jen.Id("p")).Dot("Request"), jen.Op("&").Id("out"), jen.Id("opts").Op("...")),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(zero, jen.Err())),
	)
	if ptr {
		body = append(body, jen.Return(jen.Op("&").Id("out"), jen.Nil()))
	} else {
		body = append(body, jen.Return(jen.Id("out"), jen.Nil()))
	}
	return jen.Add(comment(doc)).Line().
		Func().Id(fn.Name).Params(e.callParams(fn)...).
		Params(e.typ(fn.Result), jen.Error()).Block(body...)
}

// insertBefore puts para before the Deprecated: paragraph, if any, so
// godoc still sees Deprecated: as the last word.
func insertBefore(doc []string, para string) []string {
	if n := len(doc); n > 0 && strings.HasPrefix(doc[n-1], "Deprecated:") {
		return append(doc[:n-1:n-1], para, doc[n-1])
	}
	return append(doc, para)
}

func (e *emitter) callParams(fn *model.Func) []jen.Code {
	return []jen.Code{
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("c").Qual(e.rt, "Caller"),
		jen.Id("p").Id(fn.Params.Name),
		jen.Id("opts").Op("...").Qual(e.rt, "CallOption"),
	}
}

// zero spells the zero value of a result type.
//
//	nil, 0, "", false, b24.Time{}
func (e *emitter) zero(z model.Zero, t *model.Type) jen.Code {
	switch z {
	case model.ZeroNumber:
		return jen.Lit(0)
	case model.ZeroString:
		return jen.Lit("")
	case model.ZeroBool:
		return jen.False()
	case model.ZeroStruct:
		return e.typ(t).Values()
	}
	return jen.Nil()
}

// commandFunc emits the batch command of a method.
//
//	func DealGetCommand(p DealGetParams) b24.Command[*DealGetResult] {
//		return b24.Command[*DealGetResult]{Request: b24.Request{Method: "crm.deal.get", Params: p, Version: 2, Idempotent: true}}
//	}
//
// A composite literal rather than a call of b24.NewCommand: the call would be
// one more function instantiated per result type, in every package.
func (e *emitter) commandFunc(fn *model.Func) jen.Code {
	if fn.Version == 3 {
		return e.v3CommandFunc(fn) // v3.go
	}
	doc := fn.Command + " is " + fn.Method + " as a command for a batch (see b24.Add); its result decodes as " + fn.Name + "'s does. Required parameters are not checked here: the portal reports them."
	return jen.Add(comment([]string{doc})).Line().
		Func().Id(fn.Command).Params(jen.Id("p").Id(fn.Params.Name)).
		Qual(e.rt, "Command").Types(e.typ(fn.Result)).
		Block(jen.Return(jen.Qual(e.rt, "Command").Types(e.typ(fn.Result)).Values(jen.Dict{jen.Id("Request"): e.request(fn)})))
}

// request emits the request literal of a method.
//
//	b24.Request{Method: "crm.deal.get", Params: p, Version: 2, Idempotent: true}
func (e *emitter) request(fn *model.Func) jen.Code {
	d := jen.Dict{
		jen.Id("Method"):  jen.Lit(fn.Method),
		jen.Id("Params"):  jen.Id("p"),
		jen.Id("Version"): jen.Lit(fn.Version),
	}
	if fn.Idempotent {
		d[jen.Id("Idempotent")] = jen.True()
	}
	return jen.Qual(e.rt, "Request").Values(d)
}

// listFunc emits DealListAll (runtime "List") or DealListExport (runtime
// "Export").
//
//	func DealListAll(ctx context.Context, c b24.Caller, p DealListParams, opts ...b24.CallOption) iter.Seq2[DealListItem, error] {
//		return b24.List[DealListItem](ctx, c, DealListCommand(p).Request, b24.ListSpec{IDField: "ID"}, opts...)
//	}
func (e *emitter) listFunc(fn *model.Func, name, runtimeFunc, doc string) jen.Code {
	row := e.typ(fn.List.Row)
	ls := jen.Dict{}
	if fn.List.ItemsKey != "" {
		ls[jen.Id("ItemsKey")] = jen.Lit(fn.List.ItemsKey)
	}
	if fn.List.IDField != "" {
		ls[jen.Id("IDField")] = jen.Lit(fn.List.IDField)
	}
	if fn.List.PageSize > 0 {
		ls[jen.Id("PageSize")] = jen.Lit(fn.List.PageSize)
	}
	if fn.List.Export { // filter and order by id: All walks by id when it can
		ls[jen.Id("ByID")] = jen.True()
	}
	var body []jen.Code
	if len(fn.Required) > 0 {
		body = append(body, jen.If(jen.Err().Op(":=").Id("p").Dot("validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Func().Params(jen.Id("yield").Func().Params(row.Clone(), jen.Error()).Bool()).Block(
				jen.Var().Id("zero").Add(row.Clone()),
				jen.Id("yield").Call(jen.Id("zero"), jen.Err()),
			))))
	}
	body = append(body, jen.Return(jen.Qual(e.rt, runtimeFunc).Types(row.Clone()).Call(
		jen.Id("ctx"), jen.Id("c"), jen.Id(fn.Command).Call(jen.Id("p")).Dot("Request"),
		jen.Qual(e.rt, "ListSpec").Values(ls), jen.Id("opts").Op("..."))))
	return jen.Add(comment([]string{doc})).Line().
		Func().Id(name).Params(e.callParams(fn)...).
		Qual("iter", "Seq2").Types(row.Clone(), jen.Error()).Block(body...)
}

// validateFunc emits the required-parameter checks.
//
//	func (p *DealGetParams) validate() error {
//		if p.ID == 0 {
//			return &b24.RequiredError{Method: "crm.deal.get", Param: "id"}
//		}
//		return nil
//	}
func (e *emitter) validateFunc(fn *model.Func) jen.Code {
	var body []jen.Code
	for _, r := range fn.Required {
		sel := jen.Id("p")
		for _, part := range strings.Split(r.Field, ".") {
			sel = sel.Dot(part)
		}
		var cond *jen.Statement
		switch r.Test {
		case model.CheckEmptyString:
			cond = sel.Op("==").Lit("")
		case model.CheckZero:
			cond = sel.Op("==").Lit(0)
		case model.CheckNil:
			cond = sel.Op("==").Nil()
		case model.CheckUnset:
			cond = jen.Op("!").Add(sel.Dot("Set"))
		}
		body = append(body, jen.If(cond).Block(jen.Return(jen.Op("&").Qual(e.rt, "RequiredError").Values(jen.Dict{
			jen.Id("Method"): jen.Lit(fn.Method),
			jen.Id("Param"):  jen.Lit(r.Param),
		}))))
	}
	body = append(body, jen.Return(jen.Nil()))
	// A pointer receiver: a value receiver would make the compiler add a
	// pointer wrapper of it to every params type.
	return jen.Comment("validate reports the first required parameter left empty.").Line().
		Func().Params(jen.Id("p").Op("*").Id(fn.Params.Name)).Id("validate").Params().Error().Block(body...)
}

// structDecl emits a struct type.
//
//	type DealGetParams struct {
//		// ID is …
//		ID int64 `json:"id"`
//		Extra b24.Fields `json:"-"`
//	}
func (e *emitter) structDecl(st *model.Struct) jen.Code {
	var fields []jen.Code
	for _, f := range st.Fields {
		if len(f.Doc) > 0 {
			fields = append(fields, comment(f.Doc))
		}
		tag := f.JSON
		if f.OmitZero {
			tag += ",omitzero"
		}
		fields = append(fields, jen.Id(f.Name).Add(e.typ(f.Type)).Tag(map[string]string{"json": tag}))
	}
	if st.Presence {
		fields = append(fields, jen.Comment("Presence records which documented keys arrived (Has, IsNull, Keys); encoding writes those only."),
			jen.Qual(e.rt, "Presence").Tag(map[string]string{"json": "-"}))
	}
	if st.Baseline {
		fields = append(fields, jen.Comment("Baseline holds what the read value's Input gave, so that only the fields changed since are sent."),
			jen.Qual(e.rt, "Baseline").Tag(map[string]string{"json": "-"}))
	}
	if st.Extra {
		var doc jen.Code = jen.Comment("Extra keeps the keys the docs do not list (custom UF_* fields and the like).")
		if len(st.ExtraDoc) > 0 {
			doc = comment(st.ExtraDoc)
		}
		fields = append(fields, doc, jen.Id("Extra").Qual(e.rt, "Fields").Tag(map[string]string{"json": "-"}))
	}
	return jen.Add(comment(st.Doc)).Line().Type().Id(st.Name).Struct(fields...)
}

// unmarshalObject emits the decoder that keeps unknown keys.
//
//	func (v *Deal) UnmarshalJSON(data []byte) error {
//		type plain Deal
//		return b24.DecodeObject(data, (*plain)(v), &v.Extra)
//	}
func (e *emitter) unmarshalObject(name string) jen.Code {
	return jen.Comment("UnmarshalJSON decodes the documented keys and keeps the others in Extra.").Line().
		Func().Params(jen.Id("v").Op("*").Id(name)).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Type().Id("plain").Id(name),
		jen.Return(jen.Qual(e.rt, "DecodeObject").Call(jen.Id("data"), jen.Parens(jen.Op("*").Id("plain")).Parens(jen.Id("v")), jen.Op("&").Id("v").Dot("Extra"))),
	)
}

// marshalObject emits the encoder that writes Extra's keys too.
//
//	func (v Deal) MarshalJSON() ([]byte, error) {
//		type plain Deal
//		return b24.EncodeObject(plain(v), v.Extra)
//	}
func (e *emitter) marshalObject(name string) jen.Code {
	return jen.Comment("MarshalJSON encodes the documented keys and those in Extra.").Line().
		Func().Params(jen.Id("v").Id(name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Type().Id("plain").Id(name),
		jen.Return(jen.Qual(e.rt, "EncodeObject").Call(jen.Id("plain").Parens(jen.Id("v")), jen.Id("v").Dot("Extra"))),
	)
}

// enumDecl emits an enumeration: the type, its constants, and a decoder
// that takes any value (also a number for a string enum, and back).
//
//	type DealListOrderDir string
//
//	const (
//		DealListOrderDirAsc DealListOrderDir = "ASC"
//	)
//
//	func (v *DealListOrderDir) UnmarshalJSON(data []byte) error {
//		var s b24.String
//		if err := json.Unmarshal(data, &s); err != nil {
//			return err
//		}
//		*v = DealListOrderDir(s)
//		return nil
//	}
func (e *emitter) enumDecl(en *model.Enum) jen.Code {
	var consts []jen.Code
	for _, v := range en.Values {
		if v.Doc != "" {
			consts = append(consts, comment([]string{v.Doc}))
		}
		consts = append(consts, jen.Id(v.Name).Id(en.Name).Op("=").Op(v.Value))
	}
	tolerant := "String"
	if en.Underlying.Name == "int64" {
		tolerant = "Int"
	}
	code := jen.Add(comment(en.Doc)).Line().Type().Id(en.Name).Add(e.typ(en.Underlying)).Line().Line()
	if len(consts) > 0 {
		code.Comment("The documented values of " + en.Name + ".").Line().Const().Defs(consts...).Line().Line()
	}
	return code.Comment("UnmarshalJSON accepts every value, documented or not, as a string or a number.").Line().
		Func().Params(jen.Id("v").Op("*").Id(en.Name)).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Var().Id("s").Qual(e.rt, tolerant),
		jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("data"), jen.Op("&").Id("s")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Op("*").Id("v").Op("=").Id(en.Name).Parens(jen.Id("s")),
		jen.Return(jen.Nil()),
	)
}
