package model

import (
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestParamSchemas(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{
		{
			Name: "disk.folder.uploadFile", Version: 2, Scopes: []string{"disk"},
			Params: []spec.Param{
				{Name: "id", Kind: spec.KindInteger, Required: true},
				{Name: "data", Kind: spec.KindArray, Required: true}, // PHP's array, shown as an object
				{Name: "fileContent", Kind: spec.KindArray},
				{Name: "rights", Kind: spec.KindArray},
			},
			RequestExample: json.RawMessage(`{"id":8930,"data":{"NAME":"test.png"},"fileContent":["a","b"]}`),
			Errors:         []spec.ErrorDoc{{Code: "ERROR_ARGUMENT", Message: "Invalid value of parameter {Parameter #0}", Description: "Required parameter id is missing"}},
		},
		{
			Name: "crm.deal.update", Version: 2, Scopes: []string{"crm"},
			Params: []spec.Param{
				{Name: "id", Kind: spec.KindInteger, Required: true},
				{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{
					{Name: "TITLE", Kind: spec.KindString, Required: true}, // add's table: not needed for a change
					{Name: "UF_CRM_...", Kind: spec.KindAny},
				}},
			},
			Errors: []spec.ErrorDoc{{Code: "", Message: "The parameter 'fields' must be array"}},
		},
		{
			Name: "im.disk.folder.get", Version: 2, Scopes: []string{"im"},
			Params: []spec.Param{
				{Name: "CHAT_ID", Kind: spec.KindInteger, Required: true, Description: "Required if DIALOG_ID is not provided"},
				{Name: "DIALOG_ID", Kind: spec.KindString, Required: true},
			},
		},
		{Name: "user.current", Version: 2, Scopes: []string{"user"}}, // no params: no schema
		{Name: "crm.requisite.userfield.list", Version: 2, Scopes: []string{"crm"}, Params: []spec.Param{
			{Name: "filter", Kind: spec.KindObject, Fields: []spec.Param{{Name: "FIELD_NAME", Kind: spec.KindString, Required: true}}},
		}},
		{
			Name: "imbot.command.register", Version: 2, Scopes: []string{"imbot"},
			Params: []spec.Param{{Name: "LANG", Kind: spec.KindObject, Fields: []spec.Param{{Name: "TITLE", Kind: spec.KindString}},
				Placeholders: []spec.Placeholder{{Pattern: "UF_*"}}}},
			Placeholders: []spec.Placeholder{{Pattern: "{BOT_ID}"}}, // resolve moved the pattern rows here
		},
		{Name: "tasks.task.add", Version: 3, Scopes: []string{"task"}, Params: []spec.Param{
			{Name: "fields", Kind: spec.KindObject, Required: true, Fields: []spec.Param{{Name: "title", Kind: spec.KindString, Required: true}}},
		}},
	}}
	got := map[string]string{}
	var keys []string
	for _, ps := range ParamSchemas(s, nil) {
		got[ps.Key] = ps.Code
		keys = append(keys, ps.Key)
	}
	want := map[string]string{
		"disk.folder.uploadfile": "id:s!=ERROR_ARGUMENT,data:o!,fileContent:c,rights:c",
		// UF_CRM_... is a prefix; TITLE is not required in an update.
		"crm.deal.update":    "id:s!,fields:o~{TITLE,UF_CRM_*}",
		"im.disk.folder.get": "CHAT_ID:s!1,DIALOG_ID!1",
		"tasks.task.add@3":   "fields:o!{title!}",
		// A filter's conditions are never required.
		"crm.requisite.userfield.list": "filter:o{FIELD_NAME}",
		// A pattern that starts variable admits any key.
		"imbot.command.register": "*,LANG:o{UF_*,TITLE}",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("schemas for %v, want %d", keys, len(want))
	}
	wantOrder := []string{"crm.deal.update", "crm.requisite.userfield.list", "disk.folder.uploadfile", "im.disk.folder.get", "imbot.command.register", "tasks.task.add@3"}
	for i := range wantOrder {
		if i >= len(keys) || keys[i] != wantOrder[i] {
			t.Fatalf("order %v, want %v", keys, wantOrder)
		}
	}
}

func TestWireNameEscapes(t *testing.T) {
	s := &spec.Spec{Methods: []spec.Method{{Name: "x.y", Version: 2, Params: []spec.Param{
		{Name: "a,b", Kind: spec.KindString, Required: true},
		{Name: "select[]", Kind: spec.KindString}, // prose, not a key
		{Name: `\`, Kind: spec.KindString, Required: true},
	}}}}
	ps := ParamSchemas(s, nil)
	if len(ps) != 1 || ps[0].Code != `a\,b!` {
		t.Errorf("got %+v, want the one escaped name", ps)
	}
}
