package model

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestV3ListAndPageSize(t *testing.T) {
	items := &spec.Result{Shape: "array", Wrapper: "items"}
	page := func(desc string, fields ...spec.Param) spec.Param {
		return spec.Param{Name: "pagination", Kind: spec.KindObject, Description: desc, Fields: fields}
	}
	for _, c := range []struct {
		name string
		m    spec.Method
		list bool
		size int
	}{
		{"offset pages", spec.Method{Version: 3, Result: items, Params: []spec.Param{page("- page — page number\n- limit — default 50, maximum 1000\n- offset")}}, true, 1000},
		{"default only", spec.Method{Version: 3, Result: items, Params: []spec.Param{page("- limit — число записей, по умолчанию 50")}}, true, 0},
		{"limit field", spec.Method{Version: 3, Result: items, Params: []spec.Param{page("", spec.Param{Name: "limit", Description: "from 1 to 200. Default: 50"})}}, true, 200},
		{"cursor", spec.Method{Version: 3, Result: items, Params: []spec.Param{page("", spec.Param{Name: "limit"}, spec.Param{Name: "afterCursor"})}}, false, 0},
		{"REST 2", spec.Method{Version: 2, Result: items, Params: []spec.Param{page("")}}, false, 0},
		{"no pagination", spec.Method{Version: 3, Result: items}, false, 0},
		{"not items", spec.Method{Version: 3, Result: &spec.Result{Shape: "object"}, Params: []spec.Param{page("")}}, false, 0},
	} {
		if got := isV3List(&c.m); got != c.list {
			t.Errorf("%s: isV3List = %v", c.name, got)
		}
		if got := v3PageSize(&c.m); c.list && got != c.size {
			t.Errorf("%s: page size %d, want %d", c.name, got, c.size)
		}
	}
}

func TestV3ObjectNames(t *testing.T) {
	for anchor, want := range map[string]string{"taskdto": "TaskV3", "user": "UserV3", "task-chat": "TaskChatV3", "elapsed-time": "ElapsedTimeV3"} {
		if got := v3ObjectPrefix(anchor); got != want {
			t.Errorf("%s: %s, want %s", anchor, got, want)
		}
	}
	for _, c := range []struct {
		p    spec.Param
		want string
	}{
		{spec.Param{Kind: spec.KindInteger}, "OrderedField[int64]"},
		{spec.Param{Kind: spec.KindDateTime}, "OrderedField[time.Time]"},
		{spec.Param{Kind: spec.KindString}, "Field[string]"},
		{spec.Param{Kind: spec.KindEnum}, "Field[string]"},
		{spec.Param{Kind: spec.KindBoolean}, "Field[bool]"},
		{spec.Param{Kind: spec.KindObject, Ref: "user"}, "Relation"},
		{spec.Param{Kind: spec.KindArray, Ref: "user"}, "Relation"},
		{spec.Param{Kind: spec.KindArray}, "FieldPath"},
	} {
		typ := v3ConstType(c.p)
		got := typ.Name
		if typ.Elem != nil {
			elem := typ.Elem.Name
			if typ.Elem.Pkg != "" {
				elem = typ.Elem.Pkg + "." + elem
			}
			got += "[" + elem + "]"
		}
		if got != c.want {
			t.Errorf("%+v: %s, want %s", c.p, got, c.want)
		}
	}
}
