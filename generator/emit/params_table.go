package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// ParamsPath is where the parameter schemas go in the output tree: beside
// the b24test runtime, which checks every request against them.
const ParamsPath = "b24test/method_params_gen.go"

// ParamsFile renders the methods' parameter schemas (model.ParamSchemas)
// into the output tree's b24test, as pairs of string literals for the same
// reasons as AnswersFile; each is decoded only when a test calls its
// method.
//
//	func init() {
//		methodParamsSource = make(map[string]string, len(methodParams))
//		for _, a := range methodParams {
//			methodParamsSource[a[0]] = a[1]
//		}
//	}
//
//	var methodParams = [][2]string{
//		{"disk.folder.uploadfile", `id:s!,data:o!,fileContent:c,rights:c,generateUniqueName:s`},
//	}
func ParamsFile(cfg Config, schemas []model.ParamSchema) (Output, error) {
	f := jen.NewFilePathName(cfg.ImportPath+"/b24test", "b24test")
	f.HeaderComment(cfg.Header)
	f.Comment("init hands the schemas to the request checks (see check.go).")
	f.Func().Id("init").Params().Block(
		jen.Id("methodParamsSource").Op("=").Make(jen.Map(jen.String()).String(), jen.Len(jen.Id("methodParams"))),
		jen.For(jen.List(jen.Id("_"), jen.Id("a")).Op(":=").Range().Id("methodParams")).Block(
			jen.Id("methodParamsSource").Index(jen.Id("a").Index(jen.Lit(0))).Op("=").Id("a").Index(jen.Lit(1)),
		),
		jen.Id("methodKeysSource").Op("=").Make(jen.Map(jen.String()).String(), jen.Len(jen.Id("methodKeys"))),
		jen.For(jen.List(jen.Id("_"), jen.Id("a")).Op(":=").Range().Id("methodKeys")).Block(
			jen.Id("methodKeysSource").Index(jen.Id("a").Index(jen.Lit(0))).Op("=").Id("a").Index(jen.Lit(1)),
		),
	)
	f.Line()
	entries := make([]jen.Code, 0, len(schemas)+1)
	for _, s := range schemas {
		entries = append(entries, jen.Line().Values(jen.Lit(s.Key), rawString(s.Code)))
	}
	if len(entries) > 0 {
		entries = append(entries, jen.Line())
	}
	var keyed []jen.Code
	for _, s := range schemas {
		if s.Keys != "" {
			keyed = append(keyed, jen.Line().Values(jen.Lit(s.Key), jen.Lit(s.Keys)))
		}
	}
	if len(keyed) > 0 {
		keyed = append(keyed, jen.Line())
	}
	f.Comment(fmt.Sprintf("methodKeys holds, for %d REST 2 lists whose rows are an entity with a fields page, the keys their "+
		"filter, select and order may name, in the entity's case (see check_keys.go).", len(keyed)/2))
	f.Var().Id("methodKeys").Op("=").Index().Index(jen.Lit(2)).String().Values(keyed...)
	f.Line()
	f.Comment(fmt.Sprintf("methodParams holds the documented parameters of %d methods, keyed by lower-case method "+
		"name (\"@3\" appended for REST 3.0), in the encoding of generator/model.ParamSchemas.", len(schemas)))
	f.Var().Id("methodParams").Op("=").Index().Index(jen.Lit(2)).String().Values(entries...)
	b, err := render(f)
	if err != nil {
		return Output{}, fmt.Errorf("%s: %w", ParamsPath, err)
	}
	return Output{Path: ParamsPath, Data: b}, nil
}
