package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func method(name string, version int, params []spec.Param, result *spec.Result) spec.Method {
	return spec.Method{Name: name, Version: version, Page: "p/" + name + ".md", Scopes: []string{strings.Split(name, ".")[0]}, Params: params, Result: result}
}

func findFunc(m *Model, pkg, fn string) *Func {
	for _, p := range m.Packages {
		if p.Name != pkg {
			continue
		}
		for _, f := range p.Files {
			for _, x := range f.Funcs {
				if x.Name == fn {
					return x
				}
			}
		}
	}
	return nil
}

// identifiers lists every package-level name the model declares.
func identifiers(m *Model) map[string]bool {
	ids := map[string]bool{}
	for _, p := range m.Packages {
		for _, f := range p.Files {
			for _, fn := range f.Funcs {
				ids[p.Name+"."+fn.Name] = true
				for _, s := range fn.Structs {
					ids[p.Name+"."+s.Name] = true
					for _, fl := range s.Fields {
						ids[p.Name+"."+s.Name+"."+fl.Name] = true
					}
				}
				for _, e := range fn.Enums {
					ids[p.Name+"."+e.Name] = true
					for _, v := range e.Values {
						ids[p.Name+"."+v.Name] = true
					}
				}
			}
		}
	}
	return ids
}

var dealGet = method("crm.deal.get", 2,
	[]spec.Param{{Name: "id", Kind: spec.KindInteger, Required: true, Line: 27}},
	&spec.Result{Shape: "object", Fields: []spec.Param{
		{Name: "ID", Kind: spec.KindInteger},
		{Name: "STAGE", Kind: spec.KindEnum, Enum: []spec.EnumValue{{Value: "NEW"}, {Value: "WON"}}},
		{Name: "FM", Kind: spec.KindArray, Elem: spec.KindObject, Fields: []spec.Param{{Name: "VALUE", Kind: spec.KindString}}},
	}})

func TestBuildNamesAndTypes(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{
		dealGet,
		method("crm.deal.list", 2, []spec.Param{
			{Name: "filter", Kind: spec.KindObject},
			{Name: "order", Kind: spec.KindObject},
			{Name: "select", Kind: spec.KindArray, Elem: spec.KindString},
			{Name: "start", Kind: spec.KindInteger},
		}, &spec.Result{Shape: "array", Kind: spec.KindObject, Paginated: true, Fields: []spec.Param{{Name: "ID", Kind: spec.KindInteger}}}),
		method("tasks.task.get", 2, nil, &spec.Result{Shape: "object", Wrapper: "task", Fields: []spec.Param{{Name: "id", Kind: spec.KindInteger}}}),
		method("tasks.task.get", 3, nil, &spec.Result{Shape: "scalar", Kind: spec.KindBoolean}),
		method("tasks.task.list", 3, nil, nil),
		method("batch", 2, nil, nil),
	}}
	m, st, problems := Build(s, Options{ImportPath: "x/gen"})
	if st.Methods != 6 {
		t.Errorf("Methods = %d, want 6", st.Methods)
	}
	get := findFunc(m, "crm", "DealGet")
	if get == nil {
		t.Fatal("no crm.DealGet")
	}
	if !get.Idempotent || get.Version != 2 || get.Method != "crm.deal.get" {
		t.Errorf("DealGet = %+v", get)
	}
	if get.Result.Kind != Pointer || get.Result.Elem.Name != "DealGetResult" {
		t.Errorf("DealGet result = %+v, want *DealGetResult", get.Result)
	}
	if len(get.Required) != 1 || get.Required[0] != (RequiredCheck{"ID", "id", CheckZero, 27}) {
		t.Errorf("DealGet required = %+v", get.Required)
	}
	ids := identifiers(m)
	for _, want := range []string{
		"crm.DealGetParams", "crm.DealGetResult", "crm.DealGetResult.Fm", "crm.DealGetResultFm",
		"crm.DealGetResultStage", "crm.DealGetResultStageNew", "crm.DealListItem",
		"tasks.TaskGet", "tasks.TaskGetV3", "tasks.TaskGetTask", "tasks.TaskGetResult",
		"tasks.TaskList", // REST 3.0 without a REST 2 twin: no suffix
		"rest.Batch",
	} {
		if !ids[want] {
			t.Errorf("missing identifier %s", want)
		}
	}
	list := findFunc(m, "crm", "DealList")
	if list.List == nil || !list.List.Export || list.List.IDField != "ID" || list.List.ItemsKey != "" {
		t.Errorf("DealList list = %+v, want export by ID", list.List)
	}
	types := map[string]string{}
	for _, f := range list.Params.Fields {
		types[f.JSON] = typeString(f.Type)
	}
	want := map[string]string{"filter": "b24.Filter", "order": "b24.Order", "select": "[]string", "start": "b24.Opt[b24.Int]"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("DealList param %s: %s, want %s", k, types[k], v)
		}
	}
	if v3 := findFunc(m, "tasks", "TaskGetV3"); v3.Version != 3 || typeString(v3.Result) != "b24.Bool" || v3.Zero != ZeroBool {
		t.Errorf("TaskGetV3 = %+v", v3)
	}
	var raw int
	for _, p := range problems {
		if p.Kind == "raw-result" {
			raw++
		}
	}
	if raw != 2 {
		t.Errorf("raw-result problems = %d, want 2 (tasks.task.list, batch): %v", raw, problems)
	}
}

// typeString spells a type as Go would, for assertions.
func typeString(t *Type) string {
	switch t.Kind {
	case Qual:
		if t.Pkg == RuntimePkg {
			return "b24." + t.Name
		}
		return t.Pkg + "." + t.Name
	case Slice:
		return "[]" + typeString(t.Elem)
	case Map:
		return "map[string]" + typeString(t.Elem)
	case Pointer:
		return "*" + typeString(t.Elem)
	case Opt:
		return "b24.Opt[" + typeString(t.Elem) + "]"
	}
	return t.Name
}

// A method added to the docs must not rename anything already generated.
func TestBuildStableWhenMethodsAreAdded(t *testing.T) {
	base := &spec.Spec{Methods: []spec.Method{dealGet,
		method("crm.deal.add", 2, []spec.Param{{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{{Name: "TITLE", Kind: spec.KindString}}}}, &spec.Result{Shape: "scalar", Kind: spec.KindInteger}),
	}}
	before, _, _ := Build(base, Options{})
	grown := &spec.Spec{Methods: append([]spec.Method{
		// Siblings, a REST 3.0 twin, a method sorting first.
		method("crm.deal.update", 2, []spec.Param{{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{{Name: "TITLE", Kind: spec.KindString}}}}, nil),
		method("crm.deal.get", 3, []spec.Param{{Name: "id", Kind: spec.KindInteger}}, &spec.Result{Shape: "object", Fields: []spec.Param{{Name: "id", Kind: spec.KindInteger}}}),
		method("crm.a.get", 2, nil, &spec.Result{Shape: "object", Fields: []spec.Param{{Name: "FM", Kind: spec.KindObject, Fields: []spec.Param{{Name: "X", Kind: spec.KindString}}}}}),
		method("crm.deal", 2, nil, &spec.Result{Shape: "object", Fields: []spec.Param{{Name: "x", Kind: spec.KindString}}}),
	}, base.Methods...)}
	after, _, _ := Build(grown, Options{})
	got := identifiers(after)
	for id := range identifiers(before) {
		if !got[id] {
			t.Errorf("identifier %s disappeared when methods were added", id)
		}
	}
}

func TestBuildScopes(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{dealGet, method("tasks.task.get", 2, nil, nil)}}
	m, st, _ := Build(s, Options{Scopes: []string{"CRM"}})
	if st.Methods != 1 || len(m.Packages) != 1 || m.Packages[0].Name != "crm" {
		t.Errorf("scopes crm: %d methods in %d packages", st.Methods, len(m.Packages))
	}
}

func TestBuildDeprecatedLinks(t *testing.T) {
	old := dealGet
	old.Deprecated, old.ReplacedBy = true, "crm.item.get"
	other := method("tasks.task.old", 2, nil, nil)
	other.Deprecated, other.ReplacedBy = true, "crm.item.get"
	gone := method("tasks.task.older", 2, nil, nil)
	gone.Deprecated, gone.ReplacedBy = true, "no.such.method"
	s := &spec.Spec{Methods: []spec.Method{old, other, gone, method("crm.item.get", 2, nil, nil)}}
	m, _, _ := Build(s, Options{ImportPath: "x/gen"})
	for _, tc := range []struct{ pkg, fn, want string }{
		{"crm", "DealGet", "Deprecated: use [ItemGet] (crm.item.get)."},
		{"tasks", "TaskOld", "Deprecated: use [x/gen/crm.ItemGet] (crm.item.get)."},
		{"tasks", "TaskOlder", "Deprecated: use no.such.method."},
	} {
		f := findFunc(m, tc.pkg, tc.fn)
		if last := f.Doc[len(f.Doc)-1]; last != tc.want {
			t.Errorf("%s.%s: last doc paragraph %q, want %q", tc.pkg, tc.fn, last, tc.want)
		}
	}
}

func TestBuildParamTypes(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{method("crm.x.add", 2, []spec.Param{
		{Name: "code", Kind: spec.KindString, Required: true},
		{Name: "ids", Kind: spec.KindArray, Elem: spec.KindInteger, Required: true},
		{Name: "sort", Kind: spec.KindInteger, Required: true},
		{Name: "active", Kind: spec.KindBoolean, Type: "char", SentAsYN: true},
		{Name: "flag", Kind: spec.KindBoolean, Type: "boolean"},
		// "boolean" in the type column, Y/N in the values: sent as "Y"/"N"
		// (crm.quote.userfield.update's MANDATORY).
		{Name: "mandatory", Kind: spec.KindBoolean, Type: "boolean", Enum: []spec.EnumValue{{Value: "Y"}, {Value: "N"}}},
		{Name: "when", Kind: spec.KindDateTime},
		{Name: "day", Kind: spec.KindDate},
		{Name: "photo", Kind: spec.KindFile},
		{Name: "kind", Kind: spec.KindEnum, Type: "string", Enum: []spec.EnumValue{{Value: "a"}, {Value: "b"}}},
		{Name: "fields", Kind: spec.KindObject, Required: true, Fields: []spec.Param{{Name: "TITLE", Kind: spec.KindString}}},
		{Name: "params", Kind: spec.KindObject, Fields: []spec.Param{{Name: "X", Kind: spec.KindString}}},
		{Name: "bad key\"", Kind: spec.KindString},
	}, nil)}}
	m, st, problems := Build(s, Options{})
	f := findFunc(m, "crm", "XAdd")
	got := map[string]string{}
	for _, fl := range f.Params.Fields {
		got[fl.JSON] = typeString(fl.Type)
	}
	want := map[string]string{
		"code": "string", "ids": "[]b24.Int", "sort": "b24.Int",
		"active": "b24.Opt[b24.Bool]", "flag": "b24.Opt[bool]", "mandatory": "b24.Opt[b24.Bool]",
		"when": "b24.Opt[b24.Time]", "day": "b24.Opt[b24.Date]", "photo": "any",
		"kind": "b24.Opt[XAddParamsKind]", "fields": "XAddParamsFields", "params": "*XAddParamsParams",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("param %s: %s, want %s", k, got[k], v)
		}
	}
	if _, ok := got["bad key\""]; ok || !hasKind(problems, "bad-key") {
		t.Errorf("a key that cannot be a tag must be dropped and reported")
	}
	// sort is required but 0 may be meant: not checked; ids and code are.
	var checks []string
	for _, r := range f.Required {
		checks = append(checks, r.Param)
	}
	if strings.Join(checks, ",") != "code,ids" {
		t.Errorf("required checks %v, want code,ids", checks)
	}
	if st.ParamsRaw != 1 || st.ParamsTyped != 13 {
		t.Errorf("params typed/raw = %d/%d, want 13/1", st.ParamsTyped, st.ParamsRaw)
	}
}

func hasKind(ps []spec.Problem, kind string) bool {
	for _, p := range ps {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

func TestBuildFollowsTheExample(t *testing.T) {
	withExample := func(name string, r spec.Result, example string) spec.Method {
		r.Example = []byte(example)
		return method(name, 2, nil, &r)
	}
	s := &spec.Spec{Methods: []spec.Method{
		// A list drawn as a scalar: the example's rows win.
		withExample("crm.a.list", spec.Result{Shape: "scalar", Kind: spec.KindString, Paginated: true},
			`{"result":[{"ID":"1","NAME":"x"},{"ID":2,"NAME":"y","SORT":10}]}`),
		// A documented flag that holds "E": retyped as text.
		withExample("crm.b.get", spec.Result{Shape: "object", Fields: []spec.Param{
			{Name: "FLAG", Kind: spec.KindBoolean}, {Name: "ID", Kind: spec.KindInteger}}},
			`{"result":{"FLAG":"E","ID":"7"}}`),
		// A fields method: a map of descriptors.
		withExample("crm.c.fields", spec.Result{Shape: "object", Fields: []spec.Param{{Name: "ID", Kind: spec.KindInteger}}},
			`{"result":{"ID":{"type":"integer","isRequired":false},"TITLE":{"type":"string","isRequired":true}}}`),
		// Rows keyed by ID where a list is documented: left raw.
		withExample("crm.d.list", spec.Result{Shape: "array", Kind: spec.KindObject, Fields: []spec.Param{{Name: "ID", Kind: spec.KindInteger}}},
			`{"result":{"1":{"ID":1},"2":{"ID":2}}}`),
	}}
	m, _, problems := buildResolved(s, Options{})
	a := findFunc(m, "crm", "AList")
	if typeString(a.Result) != "[]AListItem" || a.List == nil || a.List.IDField != "ID" {
		t.Errorf("crm.a.list: result %s, list %+v", typeString(a.Result), a.List)
	}
	b := findFunc(m, "crm", "BGet")
	got := map[string]string{}
	for _, f := range b.Structs[len(b.Structs)-1].Fields {
		got[f.JSON] = typeString(f.Type)
	}
	if got["FLAG"] != "b24.String" || got["ID"] != "b24.Int" {
		t.Errorf("crm.b.get fields %v, want FLAG b24.String (from the example), ID b24.Int", got)
	}
	if c := findFunc(m, "crm", "CFields"); typeString(c.Result) != "map[string]FieldInfo" {
		t.Errorf("crm.c.fields result %s, want map[string]FieldInfo", typeString(c.Result))
	}
	if len(m.Packages[0].Shared) != 1 || m.Packages[0].Shared[0].Name != FieldInfo {
		t.Errorf("package crm does not declare FieldInfo once: %+v", m.Packages[0].Shared)
	}
	if d := findFunc(m, "crm", "DList"); typeString(d.Result) != "encoding/json.RawMessage" {
		t.Errorf("crm.d.list result %s, want raw", typeString(d.Result))
	}
	for _, kind := range []string{"shape-from-example", "type-from-example"} {
		if !hasKind(problems, kind) {
			t.Errorf("no %s problem reported", kind)
		}
	}
}

func TestBuildNestedRequiredChecks(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{method("tasks.task.add", 2, []spec.Param{
		{Name: "fields", Kind: spec.KindObject, Required: true, Fields: []spec.Param{
			{Name: "TITLE", Kind: spec.KindString, Required: true},
			{Name: "RESPONSIBLE_ID", Kind: spec.KindInteger, Required: true},
			{Name: "PRIORITY", Kind: spec.KindInteger, Required: true}, // 0 may be meant: not checked
			{Name: "DESCRIPTION", Kind: spec.KindString},
		}},
		// Optional parent: its required children are not checked.
		{Name: "params", Kind: spec.KindObject, Fields: []spec.Param{{Name: "X", Kind: spec.KindString, Required: true}}},
	}, nil)}}
	m, _, _ := Build(s, Options{})
	f := findFunc(m, "tasks", "TaskAdd")
	var got []string
	for _, r := range f.Required {
		got = append(got, r.Field+"="+r.Param)
	}
	if want := "Fields.Title=fields.TITLE Fields.ResponsibleID=fields.RESPONSIBLE_ID"; strings.Join(got, " ") != want {
		t.Errorf("checks %q, want %q", strings.Join(got, " "), want)
	}
}

// TestRequiredChecksSayWhatThePageSays: a "*" whose description adds a
// condition is not checked unconditionally (im.message.add's MESSAGE,
// required without ATTACH), and a required ID whose page gives 0 a meaning
// takes 0 (calendar.event.add's ownerId: 0 is the company calendar).
func TestRequiredChecksSayWhatThePageSays(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{method("im.x.add", 2, []spec.Param{
		{Name: "DIALOG_ID", Kind: spec.KindString, Required: true, Description: "Chat identifier"},
		{Name: "MESSAGE", Kind: spec.KindString, Required: true, Description: "The text of the message. Required if ATTACH is not provided."},
		{Name: "ATTACH", Kind: spec.KindArray, Elem: spec.KindAny},
		{Name: "ownerId", Kind: spec.KindInteger, Required: true, Description: "Identifier of the calendar owner.\n\nFor the company calendar, the ownerId parameter is set to 0"},
		{Name: "sectionId", Kind: spec.KindInteger, Required: true, Description: "Section identifier"},
	}, nil)}}
	m, _, _ := Build(s, Options{})
	f := findFunc(m, "im", "XAdd")
	var checks []string
	for _, r := range f.Required {
		checks = append(checks, r.Param)
	}
	if got := strings.Join(checks, ","); got != "DIALOG_ID,sectionId" {
		t.Errorf("required checks %v, want DIALOG_ID,sectionId", checks)
	}
}

// TestSystemCodeWithItsOwnMeaningIsDocumented: a code of the shared
// system-errors table stays out of a page's comment where the page repeats
// the table's meaning, and is listed where the page gives it its own.
func TestSystemCodeWithItsOwnMeaningIsDocumented(t *testing.T) {
	system := spec.ErrorDoc{Code: "ACCESS_DENIED", Message: "REST API is available only on commercial plans", Status: 403}
	var ms []spec.Method
	for i := range 12 {
		m := method(fmt.Sprintf("tasks.thing%d.get", i), 2, nil, nil)
		m.Errors = []spec.ErrorDoc{system}
		ms = append(ms, m)
	}
	own := method("tasks.item.add", 2, nil, nil)
	own.Errors = []spec.ErrorDoc{{Code: "ACCESS_DENIED", Message: "Access denied", Description: "No permission to add items", Status: 400}, system}
	ms = append(ms, own)
	m, _, _ := Build(&spec.Spec{Methods: ms}, Options{ImportPath: "x/gen"})
	doc := strings.Join(findFunc(m, "tasks", "ItemAdd").Doc, "\n")
	if !strings.Contains(doc, "  - ACCESS_DENIED: No permission to add items") || strings.Contains(doc, "commercial plans") {
		t.Errorf("tasks.item.add's comment should list its own ACCESS_DENIED, not the system one:\n%s", doc)
	}
	if doc := strings.Join(findFunc(m, "tasks", "Thing0Get").Doc, "\n"); strings.Contains(doc, "ACCESS_DENIED") {
		t.Errorf("a page repeating the system table lists the code:\n%s", doc)
	}
}
