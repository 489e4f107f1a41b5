package emit

import (
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// exampleFile renders the package's runnable example: the fake portal of
// b24test answers the chosen method with the response its docs page shows,
// and the generated function calls it and decodes the answer.
func (e *emitter) exampleFile(pkg *model.Package) ([]byte, error) {
	fn := pkg.Example
	f := e.newTestFile(pkg.Name)
	f.Add(e.exampleFunc(fn, pkg.Name))
	return render(f)
}

// exampleFunc emits one runnable example.
//
//	func ExampleDealGet() {
//		portal := b24test.Start()
//		defer portal.Close()
//		portal.AnswerRaw("crm.deal.get", json.RawMessage("{…}"))
//		c, err := b24.NewWebhookClient(portal.WebhookURL())
//		if err != nil {
//			fmt.Println(err)
//			return
//		}
//		_, err = crm.DealGet(context.Background(), c, crm.DealGetParams{ID: 1})
//		fmt.Println(err)
//		// Output: <nil>
//	}
func (e *emitter) exampleFunc(fn *model.Func, pkgName string) jen.Code {
	testPkg := e.cfg.ImportPath + "/b24test"
	params := jen.Dict{}
	for _, r := range fn.Required {
		switch r.Test {
		case model.CheckEmptyString:
			params[jen.Id(r.Field)] = jen.Lit("1")
		case model.CheckZero:
			params[jen.Id(r.Field)] = jen.Lit(1)
		}
	}
	return jen.Add(comment([]string{"Example" + fn.Name + " calls " + fn.Method + " on a fake portal (b24test) that answers with the response the docs show, and prints the type of the decoded result."})).Line().
		Func().Id("Example"+fn.Name).Params().Block(
		jen.Id("portal").Op(":=").Qual(testPkg, "Start").Call(),
		jen.Defer().Id("portal").Dot("Close").Call(),
		jen.Id("portal").Dot("AnswerRaw").Call(jen.Lit(fn.Method), jen.Qual("encoding/json", "RawMessage").Call(rawString(string(fn.Example)))),
		jen.Line(),
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Qual(e.rt, "NewWebhookClient").Call(jen.Id("portal").Dot("WebhookURL").Call()),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Qual("fmt", "Println").Call(jen.Err()),
			jen.Return(),
		),
		jen.List(jen.Id("res"), jen.Err()).Op(":=").Qual(e.path, fn.Name).Call(
			jen.Qual("context", "Background").Call(), jen.Id("c"), jen.Qual(e.path, fn.Params.Name).Values(params)),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Qual("fmt", "Println").Call(jen.Err()),
			jen.Return(),
		),
		jen.Qual("fmt", "Printf").Call(jen.Lit("%T\n"), jen.Id("res")),
		jen.Comment("Output: "+goTypeString(fn.Result, pkgName)),
	)
}

// rawString spells s as a raw string literal when it can be one, which
// keeps a JSON example readable.
func rawString(s string) jen.Code {
	if strings.ContainsAny(s, "`\r") {
		return jen.Lit(s)
	}
	return jen.Op("`" + s + "`")
}

// goTypeString spells t as fmt's %T prints it from outside package pkg.
func goTypeString(t *model.Type, pkg string) string {
	switch t.Kind {
	case model.Builtin:
		return t.Name
	case model.Qual:
		if t.Pkg == model.RuntimePkg {
			return "b24." + t.Name
		}
		return t.Pkg[strings.LastIndex(t.Pkg, "/")+1:] + "." + t.Name
	case model.Named:
		return pkg + "." + t.Name
	case model.Slice:
		return "[]" + goTypeString(t.Elem, pkg)
	case model.Map:
		return "map[string]" + goTypeString(t.Elem, pkg)
	case model.Pointer:
		return "*" + goTypeString(t.Elem, pkg)
	case model.Opt:
		return "b24.Opt[" + goTypeString(t.Elem, pkg) + "]"
	}
	return strconv.Itoa(int(t.Kind))
}
