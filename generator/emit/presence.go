package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// inputMethod emits the conversion from an entity's read value to its
// write form, for editing a read value and sending it back. The runtime
// does the work (b24.FillInput): the read value's encoder already writes
// exactly what arrived, and the write form's decoder takes exactly the
// writable keys, so the generated side needs no per-field table.
//
//	// Input returns the write form of v: …
//	func (v Deal) Input() DealInput {
//		var in DealInput
//		b24.FillInput(v, &in)
//		return in
//	}
func inputMethod(rt string, ent *model.Entity) jen.Code {
	return jen.Add(comment([]string{"Input returns the write form of v for an update: the fields that arrived and " + ent.Input +
		" takes (read-only ones left out), and v's custom fields. It remembers them as its baseline, so the update " +
		"sends only the fields set differently afterwards; " + ent.Input + ".SendUnchanged sends them all."})).Line().
		Func().Params(jen.Id("v").Id(ent.Name)).Id("Input").Params().Id(ent.Input).Block(
		jen.Var().Id("in").Id(ent.Input),
		jen.Qual(rt, "FillInput").Call(jen.Id("v"), jen.Op("&").Id("in")),
		jen.Return(jen.Id("in")),
	)
}

// EditTestName is the test function EditTestFile writes in every package
// that has an entity with a write form.
const EditTestName = "TestEditSendsChanged"

// EditTestFile renders <pkg>/edit_test.go: one subtest per entity with a
// write form, named by the entity's family ("crm.deal"). Each decodes a read
// value in which every field of the write form arrived (the write form's
// sample, encoded), takes its Input(), changes one field, sends it through
// the family's update method (or, without one, the first method that takes
// the write form) to a b24test portal, and checks that the request the
// portal recorded carries that field and nothing else. It returns ok false
// when the package has no such entity.
//
//	t.Run("crm.deal", func(t *testing.T) {
//		portal, c := editPortal(t)
//		full, err := json.Marshal(crm.DealInput{Title: b24.Some("x"), …})
//		…
//		var v crm.Deal
//		if err := json.Unmarshal(full, &v); err != nil {
//			t.Fatal(err)
//		}
//		in := v.Input()
//		in.Title = b24.Some("changed")
//		p := crm.DealUpdateParams{ID: 1}
//		p.Fields = in
//		crm.DealUpdate(t.Context(), c, p)
//		editSent(t, portal, "crm.deal.update", "fields", "TITLE")
//	})
func EditTestFile(cfg Config, pkg *model.Package) (out Output, ok bool, err error) {
	e := newEmitter(cfg, pkg.Name)
	testPkg := cfg.ImportPath + "/b24test"
	path := pkg.Name + "/edit_test.go"
	var subs []jen.Code
	for _, file := range pkg.Files {
		for _, ent := range file.Entities {
			if ent.Input == "" {
				continue
			}
			name := ent.Family
			if ent.Version == 3 {
				name += " (REST 3.0)"
			}
			subs = append(subs, jen.Id("t").Dot("Run").Call(jen.Lit(name),
				jen.Func().Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(e.editCase(pkg, ent)...)))
		}
	}
	if len(subs) == 0 {
		return Output{}, false, nil
	}
	f := e.newTestFile(pkg.Name)
	f.Comment(EditTestName + " reads a value of every entity with a write form, takes its Input(), changes " +
		"one field and sends the update: the request must carry that field alone.")
	f.Func().Id(EditTestName).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(subs...)
	f.Line()
	f.Comment("editPortal starts a fake portal answering with the documented responses, and a client of it.")
	f.Func().Id("editPortal").Params(jen.Id("t").Op("*").Qual("testing", "T")).Params(jen.Op("*").Qual(testPkg, "Portal"), jen.Op("*").Qual(e.rt, "Client")).Block(
		jen.Id("portal").Op(":=").Qual(testPkg, "NewPortal").Call(jen.Id("t"), jen.Qual(testPkg, "WithDocumentedAnswers").Call()),
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Qual(e.rt, "NewWebhookClient").Call(
			jen.Id("portal").Dot("WebhookURL").Call(), jen.Qual(e.rt, "WithoutRateLimit").Call(), jen.Qual(e.rt, "WithMaxRetries").Call(jen.Lit(0))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("t").Dot("Fatal").Call(jen.Err())),
		jen.Return(jen.Id("portal"), jen.Id("c")),
	)
	f.Line()
	f.Comment("editSent checks that the last call of method the portal received carries, under key, the object {want: …} and no other key.")
	f.Func().Id("editSent").Params(jen.Id("t").Op("*").Qual("testing", "T"), jen.Id("portal").Op("*").Qual(testPkg, "Portal"),
		jen.List(jen.Id("method"), jen.Id("key"), jen.Id("want")).String(), jen.Id("callErr").Error()).Block(
		jen.Id("t").Dot("Helper").Call(),
		jen.Var().Id("sent").Map(jen.String()).Any(),
		jen.Id("found").Op(":=").False(),
		jen.For(jen.List(jen.Id("_"), jen.Id("call")).Op(":=").Range().Id("portal").Dot("Calls").Call()).Block(
			jen.If(jen.Qual("strings", "EqualFold").Call(jen.Id("call").Dot("Method"), jen.Id("method"))).Block(
				jen.List(jen.Id("sent"), jen.Id("_")).Op("=").Id("call").Dot("Params").Index(jen.Id("key")).Assert(jen.Map(jen.String()).Any()),
				jen.Id("found").Op("=").True(),
			),
		),
		jen.If(jen.Op("!").Id("found")).Block(
			jen.Id("t").Dot("Fatalf").Call(jen.Lit("%s was not sent (call error: %v)"), jen.Id("method"), jen.Id("callErr")),
		),
		jen.Id("keys").Op(":=").Qual("slices", "Sorted").Call(jen.Qual("maps", "Keys").Call(jen.Id("sent"))),
		jen.If(jen.Len(jen.Id("keys")).Op("!=").Lit(1).Op("||").Id("keys").Index(jen.Lit(0)).Op("!=").Id("want")).Block(
			jen.Id("t").Dot("Errorf").Call(jen.Lit("%s sent %s %v, want only %s"), jen.Id("method"), jen.Id("key"), jen.Id("keys"), jen.Id("want")),
		),
	)
	b, err := render(f)
	if err != nil {
		return Output{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return Output{Path: path, Data: b}, true, nil
}

// editCase is the body of one entity's subtest (see EditTestFile).
func (e *emitter) editCase(pkg *model.Package, ent *model.Entity) []jen.Code {
	var read, input *model.Struct
	for _, st := range ent.Structs {
		switch st.Name {
		case ent.Name:
			read = st
		case ent.Input:
			input = st
		}
	}
	fn, holder := editMethod(pkg, ent)
	skip := func(why string) []jen.Code { return []jen.Code{jen.Id("t").Dot("Skip").Call(jen.Lit(why))} }
	if read == nil || input == nil || fn == nil {
		return skip("no method takes " + ent.Input)
	}
	changed, value := editField(e, input)
	if changed == nil {
		return skip(ent.Input + " has no text, number or flag field to change")
	}
	s := &sampler{e: e, fn: fn, pkg: pkg}
	param := jen.Id("in")
	if holder.Type.Kind == model.Pointer {
		param = jen.Op("&").Id("in")
	}
	return []jen.Code{
		jen.List(jen.Id("portal"), jen.Id("c")).Op(":=").Id("editPortal").Call(jen.Id("t")),
		jen.Comment("A read value in which every field of the write form arrived."),
		jen.List(jen.Id("full"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(s.structValue(input, 1)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("t").Dot("Fatal").Call(jen.Err())),
		jen.Var().Id("v").Qual(e.path, ent.Name),
		jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("full"), jen.Op("&").Id("v")), jen.Err().Op("!=").Nil()).Block(
			jen.Id("t").Dot("Fatal").Call(jen.Err())),
		jen.Id("in").Op(":=").Id("v").Dot("Input").Call(),
		jen.Id("in").Dot(changed.Name).Op("=").Add(value),
		jen.Id("p").Op(":=").Add(s.structValue(fn.Params, 0)),
		jen.Id("p").Dot(holder.Name).Op("=").Add(param),
		jen.List(jen.Id("_"), jen.Err()).Op("=").Qual(e.path, fn.Name).Call(jen.Id("t").Dot("Context").Call(), jen.Id("c"), jen.Id("p")),
		jen.Id("editSent").Call(jen.Id("t"), jen.Id("portal"), jen.Lit(fn.Method), jen.Lit(holder.JSON), jen.Lit(changed.JSON), jen.Err()),
	}
}

// editMethod finds the method an edit is sent through: the family's update
// (REST 2 first), else the first method whose parameters hold the write
// form. holder is the parameter field that holds it.
func editMethod(pkg *model.Package, ent *model.Entity) (fn *model.Func, holder *model.Field) {
	var first *model.Func
	var firstHolder *model.Field
	for _, file := range pkg.Files {
		for _, f := range file.Funcs {
			if f.Params == nil {
				continue
			}
			for _, fl := range f.Params.Fields {
				t := fl.Type
				if t.Kind == model.Pointer {
					t = t.Elem
				}
				if t.Kind != model.Named || t.Name != ent.Input {
					continue
				}
				if f.Method == ent.Family+".update" && (fn == nil || f.Version < fn.Version) {
					fn, holder = f, fl
				}
				if first == nil {
					first, firstHolder = f, fl
				}
			}
		}
	}
	if fn == nil {
		return first, firstHolder
	}
	return fn, holder
}

// editField picks the field an edit changes: the write form's first text
// field, else its first number, else its first flag, else its first
// untyped one, with a value no sample holds.
func editField(e *emitter, in *model.Struct) (*model.Field, jen.Code) {
	kinds := []struct {
		match func(*model.Type) bool
		value func(*model.Type) jen.Code
	}{
		{func(t *model.Type) bool { return t.Kind == model.Builtin && t.Name == "string" },
			func(*model.Type) jen.Code { return jen.Lit("changed") }},
		{func(t *model.Type) bool {
			return t.Kind == model.Builtin && (t.Name == "int64" || t.Name == "int" || t.Name == "float64") ||
				t.Kind == model.Qual && t.Pkg == model.RuntimePkg && (t.Name == "Int" || t.Name == "Number")
		}, func(*model.Type) jen.Code { return jen.Lit(7) }},
		{func(t *model.Type) bool {
			return t.Kind == model.Builtin && t.Name == "bool" || t.Kind == model.Qual && t.Pkg == model.RuntimePkg && t.Name == "Bool"
		}, func(*model.Type) jen.Code { return jen.False() }},
	}
	for _, k := range kinds {
		for _, fl := range in.Fields {
			if fl.Type.Kind != model.Opt || !k.match(fl.Type.Elem) {
				continue
			}
			return fl, jen.Qual(e.rt, "Some").Types(e.typ(fl.Type.Elem)).Call(k.value(fl.Type.Elem))
		}
	}
	// A form the docs leave untyped (crm.documentgenerator.document): any field.
	for _, fl := range in.Fields {
		if fl.Type.Kind == model.Builtin && fl.Type.Name == "any" {
			return fl, jen.Lit("changed")
		}
	}
	return nil, nil
}
