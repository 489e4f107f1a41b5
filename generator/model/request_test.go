package model

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// The refinement (resolve's) reaches the generated types and the stats: a
// list the table left open becomes []b24.Int, an object a struct; the
// strict count sees the difference.
func TestBuildRefinesFromRequestExample(t *testing.T) {
	params := []spec.Param{
		{Name: "USERS", Kind: spec.KindArray, Required: true},
		{Name: "pagination", Kind: spec.KindObject},
		{Name: "filter", Kind: spec.KindObject},
	}
	m := method("im.chat.add", 2, params, nil)
	before, st0, _ := buildResolved(&spec.Spec{Methods: []spec.Method{m}}, Options{})
	m.RequestExample = json.RawMessage(`{"USERS":[1,2],"pagination":{"limit":10},"filter":{">ID":1}}`)
	after, st, probs := buildResolved(&spec.Spec{Methods: []spec.Method{m}}, Options{})

	fields := func(mdl *Model) map[string]string {
		out := map[string]string{}
		for _, fl := range findFunc(mdl, "im", "ChatAdd").Params.Fields {
			out[fl.JSON] = typeString(fl.Type)
		}
		return out
	}
	if got := fields(before)["USERS"]; got != "[]any" {
		t.Errorf("without example: USERS is %s, want []any", got)
	}
	got := fields(after)
	for key, want := range map[string]string{"USERS": "[]b24.Int", "pagination": "*ChatAddParamsPagination", "filter": "b24.Filter"} {
		if got[key] != want {
			t.Errorf("%s is %s, want %s", key, got[key], want)
		}
	}
	// USERS and pagination turn strict, and pagination.limit is a new, strict field.
	if st.ParamsStrict != st0.ParamsStrict+3 {
		t.Errorf("ParamsStrict = %d, want %d+3", st.ParamsStrict, st0.ParamsStrict)
	}
	if hasKind(probs, "untyped-list") || hasKind(probs, "untyped-object") {
		t.Errorf("problems still report untyped params: %v", probs)
	}
}

func TestStrictType(t *testing.T) {
	for _, tc := range []struct {
		t    *Type
		want bool
	}{
		{tString, true},
		{sliceOf(tInt64), true},
		{optOf(runtime("Bool")), true},
		{runtime("Filter"), true},
		{tAny, false},
		{tRaw, false},
		{sliceOf(tAny), false},
		{mapOf(tAny), false},
		{pointerTo(sliceOf(tRaw)), false},
	} {
		if got := tc.t.strict(); got != tc.want {
			t.Errorf("strict(%s) = %v, want %v", typeString(tc.t), got, tc.want)
		}
	}
}
