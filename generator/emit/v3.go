package emit

import (
	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// REST 3.0 specifics of the emitted code: batch commands of their own type
// (b24.CommandV3, for b24.AddV3; b24.Add does not take them, so a REST 3.0
// command in a REST 2 batch does not compile), and list iterators that page
// with "pagination" and export by id.

// v3CommandFunc emits the REST 3.0 batch command of a method.
//
//	func TaskGetV3Command(p TaskGetV3Params) b24.CommandV3[*TaskGetV3Result] {
//		return b24.CommandV3[*TaskGetV3Result]{Request: b24.Request{Method: "tasks.task.get", Params: p, Version: 3, Idempotent: true}}
//	}
func (e *emitter) v3CommandFunc(fn *model.Func) jen.Code {
	doc := fn.Command + " is " + fn.Method + " (REST 3.0) as a command for a REST 3.0 batch (see b24.NewBatchV3 and b24.AddV3; a REST 2 batch does not take it); its result decodes as " + fn.Name + "'s does. Required parameters are not checked here: the portal reports them."
	return jen.Add(comment([]string{doc})).Line().
		Func().Id(fn.Command).Params(jen.Id("p").Id(fn.Params.Name)).
		Qual(e.rt, "CommandV3").Types(e.typ(fn.Result)).
		Block(jen.Return(jen.Qual(e.rt, "CommandV3").Types(e.typ(fn.Result)).Values(jen.Dict{jen.Id("Request"): e.request(fn)})))
}

// v3ListDocs are the doc comments of a REST 3.0 list's All and Export.
func v3ListDocs(fn *model.Func) (all, export string) {
	all = fn.All + " iterates over every row of " + fn.Method + " (REST 3.0), requesting page after page as the loop asks for more: pagination limit (the largest page the docs allow, unless p sets one) and offset, rows from result.items. It stops with an error instead of looping when a page repeats the one before."
	export = fn.Export + " reads every row of " + fn.Method + " (REST 3.0) by id: the filter in p plus [\"id\", \">\", last id], ordered by id, up to 1,000 rows a request; a [\"id\", \">\", n] condition in p is where it starts. Rows out of order, or a full page that does not move the cursor, stop it with an error instead of looping."
	return all, export
}

// v3FieldsFile emits the REST 3.0 field name constants of a package.
//
//	const (
//		// TaskV3ID is the REST 3.0 field "id": Task identifier.
//		TaskV3ID b24.OrderedField[int64] = "id"
//	)
func (e *emitter) v3FieldsFile(pkg *model.Package) ([]byte, error) {
	f := e.newFile(pkg.Name)
	for _, obj := range pkg.V3Objects {
		f.Add(comment(obj.Doc))
		f.Const().Defs(e.fieldConsts(obj.Consts)...)
		f.Line()
	}
	return render(f)
}

// v3SampleFilter is a plausible REST 3.0 filter for the documented-answer
// tests: b24.FilterV3{b24.Where("id", b24.OpGt, 0)}.
func v3SampleFilter(rt string) jen.Code {
	return jen.Qual(rt, "FilterV3").Values(jen.Qual(rt, "Where").Call(jen.Lit("id"), jen.Qual(rt, "OpGt"), jen.Lit(0)))
}
