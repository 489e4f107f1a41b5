package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// AnswersPath is where the documented answers go in the output tree: beside
// the b24test runtime, whose WithDocumentedAnswers serves them.
const AnswersPath = "b24test/documented_answers_gen.go"

// AnswersFile renders the documented answers into the output tree's
// b24test. They are Go string literals rather than an embedded JSON file so
// that every generated file carries the Code generated header, and pairs
// rather than a map literal so that gofmt does not align every line to the
// longest key (a new method would otherwise rewrite the whole file). Each
// entry is decoded only when a test calls its method.
//
//	func init() {
//		documentedSource = make(map[string]string, len(documentedAnswers))
//		for _, a := range documentedAnswers {
//			documentedSource[a[0]] = a[1]
//		}
//	}
//
//	// documentedAnswers holds …
//	var documentedAnswers = [][2]string{
//		{"crm.deal.get", `{"result":{"ID":"1"}}`},
//	}
func AnswersFile(cfg Config, answers []model.Answer) (Output, error) {
	f := jen.NewFilePathName(cfg.ImportPath+"/b24test", "b24test")
	f.HeaderComment(cfg.Header)
	f.Comment("init hands the answers to WithDocumentedAnswers (see documented.go).")
	f.Func().Id("init").Params().Block(
		jen.Id("documentedSource").Op("=").Make(jen.Map(jen.String()).String(), jen.Len(jen.Id("documentedAnswers"))),
		jen.For(jen.List(jen.Id("_"), jen.Id("a")).Op(":=").Range().Id("documentedAnswers")).Block(
			jen.Id("documentedSource").Index(jen.Id("a").Index(jen.Lit(0))).Op("=").Id("a").Index(jen.Lit(1)),
		),
	)
	f.Line()
	entries := make([]jen.Code, 0, len(answers))
	for _, a := range answers {
		entries = append(entries, jen.Line().Values(jen.Lit(a.Key), rawString(string(a.JSON))))
	}
	if len(entries) > 0 {
		entries = append(entries, jen.Line())
	}
	f.Comment(fmt.Sprintf("documentedAnswers holds the success response the docs show for %d methods, keyed by "+
		"lower-case method name (\"@3\" appended for REST 3.0).", len(answers)))
	f.Var().Id("documentedAnswers").Op("=").Index().Index(jen.Lit(2)).String().Values(entries...)
	b, err := render(f)
	if err != nil {
		return Output{}, fmt.Errorf("%s: %w", AnswersPath, err)
	}
	return Output{Path: AnswersPath, Data: b}, nil
}

// DocTestName is the test function DocTestFile writes in every package.
const DocTestName = "TestDocumentedAnswers"

// DocTestFile renders <pkg>/documented_test.go: one subtest per method,
// named by the REST method ("@3" appended for a REST 3.0 twin), that calls
// the generated function with its required parameters filled with plausible
// values against a b24test portal answering with the documented responses,
// and fails when the call or the decoding of its result fails. Methods
// whose docs show no response (not in answered, keyed by model.AnswerKey)
// skip. A list method's subtest also walks its iterators (All, and Export
// where generated) in nested subtests named DocTestAll and DocTestExport.
//
//	func TestDocumentedAnswers(t *testing.T) {
//		portal := b24test.NewPortal(t, b24test.WithDocumentedAnswers())
//		c, err := b24.NewWebhookClient(portal.WebhookURL(), b24.WithoutRateLimit(), b24.WithMaxRetries(0))
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Run("crm.deal.get", func(t *testing.T) {
//			if _, err := crm.DealGet(t.Context(), c, crm.DealGetParams{ID: 1}); err != nil {
//				t.Fatal(err)
//			}
//		})
//	}
func DocTestFile(cfg Config, pkg *model.Package, answered map[string]bool) (Output, error) {
	e := newEmitter(cfg, pkg.Name)
	testPkg := cfg.ImportPath + "/b24test"
	path := pkg.Name + "/documented_test.go"

	answers := false
	for _, file := range pkg.Files {
		for _, fn := range file.Funcs {
			answers = answers || answered[model.AnswerKey(fn.Method, fn.Version)]
		}
	}
	var body []jen.Code
	if answers { // else the portal and client would go unused
		body = append(body,
			jen.Id("portal").Op(":=").Qual(testPkg, "NewPortal").Call(jen.Id("t"), jen.Qual(testPkg, "WithDocumentedAnswers").Call()),
			jen.List(jen.Id("c"), jen.Err()).Op(":=").Qual(e.rt, "NewWebhookClient").Call(
				jen.Id("portal").Dot("WebhookURL").Call(), jen.Qual(e.rt, "WithoutRateLimit").Call(), jen.Qual(e.rt, "WithMaxRetries").Call(jen.Lit(0)),
				// Strict: a documented answer that does not fit its type
				// is a drift between the docs and the types, and fails.
				jen.Qual(e.rt, "WithStrictDecoding").Call()),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("t").Dot("Fatal").Call(jen.Err())),
		)
	}
	for _, file := range pkg.Files {
		for _, fn := range file.Funcs {
			name := fn.Key()
			var sub []jen.Code
			switch {
			case !answered[model.AnswerKey(fn.Method, fn.Version)]:
				sub = []jen.Code{jen.Id("t").Dot("Skip").Call(jen.Lit("no documented response"))}
			case fn.List == nil:
				sub = []jen.Code{e.docCall(fn, (&sampler{e: e, fn: fn, pkg: pkg}).structValue(fn.Params, 0))}
			default:
				sub = e.docListCalls(fn, (&sampler{e: e, fn: fn, pkg: pkg}).structValue(fn.Params, 0))
			}
			body = append(body, jen.Id("t").Dot("Run").Call(jen.Lit(name),
				jen.Func().Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(sub...)))
		}
	}

	f := e.newTestFile(pkg.Name)
	f.Comment(DocTestName + " calls every method of the package, its required parameters filled with " +
		"plausible values, against a fake portal answering with the responses the docs show, and checks " +
		"that each answer decodes into the method's result type.")
	f.Func().Id(DocTestName).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)
	b, err := render(f)
	if err != nil {
		return Output{}, fmt.Errorf("%s: %w", path, err)
	}
	return Output{Path: path, Data: b}, nil
}

// docCall calls fn with params and fails the test on an error.
//
//	if _, err := crm.DealGet(t.Context(), c, crm.DealGetParams{ID: 1}); err != nil {
//		t.Fatal(err)
//	}
func (e *emitter) docCall(fn *model.Func, params jen.Code) jen.Code {
	return jen.If(
		jen.List(jen.Id("_"), jen.Err()).Op(":=").Qual(e.path, fn.Name).Call(jen.Id("t").Dot("Context").Call(), jen.Id("c"), params),
		jen.Err().Op("!=").Nil(),
	).Block(jen.Id("t").Dot("Fatal").Call(jen.Err()))
}

// DocIteratorTests name the nested subtests that walk a list method's
// iterators over the documented rows.
const (
	DocTestAll    = "all"
	DocTestExport = "export"
)

// docListCalls calls a list method, then walks its iterators in nested
// subtests, so a list whose rows sit elsewhere than the iterator looks
// shows up apart from the call itself.
//
//	p := crm.DealListParams{}
//	if _, err := crm.DealList(t.Context(), c, p); err != nil {
//		t.Fatal(err)
//	}
//	t.Run("all", func(t *testing.T) {
//		for _, err := range crm.DealListAll(t.Context(), c, p) {
//			if err != nil {
//				t.Fatal(err)
//			}
//		}
//	})
func (e *emitter) docListCalls(fn *model.Func, params jen.Code) []jen.Code {
	walk := func(name, fnName string) jen.Code {
		return jen.Id("t").Dot("Run").Call(jen.Lit(name), jen.Func().Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
			jen.For(jen.List(jen.Id("_"), jen.Err()).Op(":=").Range().Qual(e.path, fnName).Call(
				jen.Id("t").Dot("Context").Call(), jen.Id("c"), jen.Id("p"))).Block(
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("t").Dot("Fatal").Call(jen.Err())),
			),
		))
	}
	code := []jen.Code{
		jen.Id("p").Op(":=").Add(params),
		e.docCall(fn, jen.Id("p")),
		walk(DocTestAll, fn.All),
	}
	if fn.List.Export {
		code = append(code, walk(DocTestExport, fn.Export))
	}
	return code
}

// sampler spells plausible non-zero values of a method's parameter types,
// from outside the package: 1 for numbers, "x" for strings, true for
// flags, the first documented constant of an enum, a one-element slice or
// map, and structs with their required fields filled (nested structs whose
// fields are all optional, such as write forms, filled in full).
type sampler struct {
	e   *emitter
	fn  *model.Func
	pkg *model.Package
}

// maxSampleDepth bounds the nesting of filled structs.
const maxSampleDepth = 6

// structValue spells a literal of st with its required fields (those
// without omitzero) filled.
//
//	crm.DealAddParams{Fields: crm.DealAddParamsFields{TITLE: "x"}}
func (s *sampler) structValue(st *model.Struct, depth int) jen.Code {
	d := jen.Dict{}
	// A nested struct whose fields are all optional (an entity's write
	// form) may still need some of them on the portal (the fields a page
	// marks required, which b24test checks): fill them all.
	all := depth > 0 && allOptional(st)
	if depth < maxSampleDepth {
		for _, f := range st.Fields {
			if all || !f.OmitZero {
				d[jen.Id(f.Name)] = s.value(f.Type, depth+1)
			}
		}
	}
	return jen.Qual(s.e.path, st.Name).Values(d)
}

// value spells a plausible value of t.
func (s *sampler) value(t *model.Type, depth int) jen.Code {
	switch t.Kind {
	case model.Builtin:
		switch t.Name {
		case "string", "any":
			return jen.Lit("x")
		case "bool":
			return jen.True()
		default:
			return jen.Lit(1)
		}
	case model.Qual:
		switch {
		case t.Pkg == model.RuntimePkg && (t.Name == "Time" || t.Name == "Date"):
			return jen.Qual(s.e.rt, t.Name).Values(jen.Dict{jen.Id("Time"): sampleTime()})
		case t.Pkg == model.RuntimePkg && t.Name == "Bool":
			return jen.True()
		case t.Pkg == model.RuntimePkg && t.Name == "String":
			return jen.Lit("x")
		case t.Pkg == model.RuntimePkg && (t.Name == "Int" || t.Name == "Number"):
			return jen.Lit(1)
		case t.Pkg == model.RuntimePkg && t.Name == "Filter":
			return jen.Qual(s.e.rt, "Filter").Values(jen.Dict{jen.Lit("x"): jen.Lit("x")})
		case t.Pkg == model.RuntimePkg && t.Name == "FilterV3":
			return v3SampleFilter(s.e.rt) // v3.go
		case t.Pkg == model.RuntimePkg && t.Name == "Order":
			return jen.Qual(s.e.rt, "Order").Values(jen.Qual(s.e.rt, "Asc").Call(jen.Lit("ID")))
		case t.Pkg == "encoding/json" && t.Name == "RawMessage":
			return jen.Qual("encoding/json", "RawMessage").Call(jen.Lit(`"x"`))
		case t.Pkg == "time" && t.Name == "Time":
			return sampleTime()
		}
		return jen.Op("*").New(s.e.typ(t))
	case model.Named:
		for _, en := range s.fn.Enums {
			if en.Name != t.Name {
				continue
			}
			if len(en.Values) > 0 {
				return jen.Qual(s.e.path, en.Values[0].Name)
			}
			if en.Underlying.Name == "int64" {
				return jen.Qual(s.e.path, en.Name).Call(jen.Lit(1))
			}
			return jen.Qual(s.e.path, en.Name).Call(jen.Lit("x"))
		}
		if st := s.findStruct(t.Name); st != nil {
			return s.structValue(st, depth)
		}
		return jen.Op("*").New(s.e.typ(t))
	case model.Slice:
		return s.e.typ(t).Values(s.value(t.Elem, depth))
	case model.Map:
		return s.e.typ(t).Values(jen.Dict{jen.Lit("x"): s.value(t.Elem, depth)})
	case model.Pointer:
		if t.Elem.Kind == model.Named && s.findStruct(t.Elem.Name) != nil {
			return jen.Op("&").Add(s.value(t.Elem, depth))
		}
		return jen.New(s.e.typ(t.Elem))
	case model.Opt:
		return jen.Qual(s.e.rt, "Some").Types(s.e.typ(t.Elem)).Call(s.value(t.Elem, depth))
	}
	return jen.Nil()
}

func (s *sampler) findStruct(name string) *model.Struct {
	for _, st := range s.fn.Structs {
		if st.Name == name {
			return st
		}
	}
	for _, st := range s.pkg.Shared {
		if st.Name == name {
			return st
		}
	}
	for _, file := range s.pkg.Files {
		for _, e := range file.Entities {
			for _, st := range e.Structs {
				if st.Name == name {
					return st
				}
			}
		}
	}
	return nil
}

// allOptional reports whether every field of st is omitzero.
func allOptional(st *model.Struct) bool {
	for _, f := range st.Fields {
		if !f.OmitZero {
			return false
		}
	}
	return len(st.Fields) > 0
}

func sampleTime() jen.Code {
	return jen.Qual("time", "Date").Call(jen.Lit(2025), jen.Qual("time", "January"), jen.Lit(2),
		jen.Lit(3), jen.Lit(4), jen.Lit(5), jen.Lit(0), jen.Qual("time", "UTC"))
}
