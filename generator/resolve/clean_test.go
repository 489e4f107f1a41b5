package resolve

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestPlaceholderPattern(t *testing.T) {
	for _, tc := range []struct {
		name, want string // want "" = a real key
	}{
		{"UF_CRM_...", "UF_CRM_*"},
		{"PARENT_ID_...", "PARENT_ID_*"},
		{"UF_...", "UF_*"},
		{"UF_RPA_…", "UF_RPA_*"},
		{"ufCrm...", "ufCrm*"},
		{"parentId...", "parentId*"},
		{"UF_", "UF_*"},
		{`UF_\`, "UF_*"}, // **UF_\*** with the star taken for emphasis
		{`\`, "*"},
		{"UF_*", "UF_*"},
		{"UF_CRM_XXX", "UF_CRM_*"},
		{"PROPERTY_PropertyId", "PROPERTY_*"},
		{"{BOT_ID}", "{BOT_ID}"},
		{"/{BOT_ID/}", "{BOT_ID}"},
		{"<AREA_ID>", "<AREA_ID>"},
		{`\<chatId\>`, "<chatId>"},
		{`chat\<chatId\>`, "chat<chatId>"},
		{"upload{id}", "upload{id}"},
		{"#block<id>", "#block<id>"},
		{"<node selector>@<position>", "<node selector>@<position>"},
		// Real keys.
		{"UF_CRM_1", ""},
		{"UF_CRM_25534736", ""},
		{"ufCrm_1720019876534", ""},
		{"PARENT_ID_153", ""},
		{"PROPERTY_VALUES", ""},
		{"TIMESTAMP_X", ""},
		{"~DESCRIPTION", ""},
		{"=DELETED", ""},
		{">=DATE_CREATE", ""},
		{"TASKS_TASK|UF_CRM_TASK", ""},
		{"REST: readable commentitem data fields", ""},
		{"edit.originator", ""},
		{"fields", ""},
		{"_", ""},
		{"", ""},
	} {
		got, ok := placeholderPattern(tc.name)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("placeholderPattern(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Y", "Y", true},
		{"DEAL_STAGE", "DEAL_STAGE", true},
		{"42", "42", true},
		{"-1", "-1", true},
		{"S:Date", "S:Date", true},
		{"#shared#", "#shared#", true},
		{"Y/N", "Y/N", true},
		{`Bitrix\Crm\Integration\BizProc\Document\Quote`, `Bitrix\Crm\Integration\BizProc\Document\Quote`, true},
		{"!=", "!=", true},
		{">=", ">=", true},
		{"<", "<", true},
		{"%", "%", true},
		{"*", "*", true},
		{"UF_*", "UF_*", true},
		{"'UF_*'", "UF_*", true},
		{"'C'", "C", true},
		{`"Fri"`, "Fri", true},
		{`"%mol%"`, "%mol%", true},
		{`""`, "", true},
		{"Объект", "Объект", true},
		// Not literals.
		{`{ ENTITY_ID: "DEAL_STAGE" }`, "", false},
		{`{ ENTITY_ID: "DEAL_STAGE_{categoryId}" }`, "", false},
		{"{valueId: valueId, value: value}", "", false},
		{"[{valueId: valueId1, value: value1}, ..., {valueId: valueIdN, value: valueN}]", "", false},
		{"U{id}", "", false},
		{"SG{id}_A", "", false},
		{"DR<ID>", "", false},
		{"<OBJECT_TYPE>", "", false},
		{"PROPERTY_PropertyId", "", false},
		{"DYNAMIC_XXX", "", false},
		{"CO_", "", false}, // a prefix: "CO_12" is what is sent
		{"UF_CRM_...", "", false},
		{"if the deal is in the general funnel", "", false},
		{"", "", false},
		{`"a"b"`, "", false},
		{strings.Repeat("A", maxLiteral+1), "", false},
	} {
		got, ok := literal(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("literal(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestClean runs the stage on a deal page in the spec's wire form: the
// placeholder rows leave the fields for Placeholders, code "values" of the
// stage enum are dropped and reported, quoted literals are unquoted, and
// the input spec is left as it was.
func TestClean(t *testing.T) {
	in := &spec.Spec{
		Methods: []spec.Method{{
			Name: "crm.deal.add", Page: "api-reference/crm/deals/crm-deal-add.md",
			Params: []spec.Param{
				{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{
					{Name: "TITLE", Kind: spec.KindString},
					{Name: "STAGE_ID", Type: "crm_status", Kind: spec.KindEnum, Line: 72, Enum: []spec.EnumValue{
						{Value: `{ ENTITY_ID: "DEAL_STAGE" }`, Description: "general funnel"},
						{Value: `{ ENTITY_ID: "DEAL_STAGE_{categoryId}" }`},
					}},
					{Name: "UF_CRM_...", Kind: spec.KindAny, Line: 204, Description: "Custom fields. For example, UF_CRM_25534736."},
					{Name: "PARENT_ID_...", Type: "crm_entity", Kind: spec.KindInteger, Line: 209, Description: "Relationship fields."},
				}},
				{Name: "UF_", Kind: spec.KindAny, Line: 51, Description: "Custom fields UF_*."},
			},
			Result: &spec.Result{Shape: "object", Fields: []spec.Param{
				{Name: "ID", Kind: spec.KindInteger},
				{Name: "SEMANTICS", Kind: spec.KindEnum, Enum: []spec.EnumValue{{Value: `"S"`}, {Value: `""`}, {Value: "F"}}},
				{Name: "<AREA_ID>", Kind: spec.KindInteger, Line: 295},
			}},
		}},
		Events: []spec.Event{{
			Name: "ONIMBOTMESSAGEADD", Page: "ev.md",
			Fields: []spec.Param{{Name: "data", Kind: spec.KindObject, Fields: []spec.Param{
				{Name: "BOT", Kind: spec.KindObject, Fields: []spec.Param{
					{Name: "/{BOT_ID/}", Kind: spec.KindObject, Line: 237, Fields: []spec.Param{{Name: "BOT_ID", Kind: spec.KindInteger}}},
				}},
			}}},
		}},
	}
	before, _ := json.Marshal(in)
	out, problems := Resolve(in)
	if after, _ := json.Marshal(in); string(after) != string(before) {
		t.Fatal("Resolve changed its input")
	}

	m := out.Methods[0]
	fields := m.Params[0]
	if got := names(fields.Fields); !slices.Equal(got, []string{"TITLE", "STAGE_ID"}) {
		t.Errorf("fields = %q, want TITLE, STAGE_ID", got)
	}
	wantPH := []spec.Placeholder{
		{Pattern: "UF_CRM_*", Name: "UF_CRM_...", Kind: spec.KindAny, Line: 204, Description: "Custom fields. For example, UF_CRM_25534736.", Note: "custom fields"},
		{Pattern: "PARENT_ID_*", Name: "PARENT_ID_...", Type: "crm_entity", Kind: spec.KindInteger, Line: 209, Description: "Relationship fields.", Note: "relationship fields"},
	}
	if !reflect.DeepEqual(fields.Placeholders, wantPH) {
		t.Errorf("fields.Placeholders = %+v\nwant %+v", fields.Placeholders, wantPH)
	}
	if got := names(m.Params); !slices.Equal(got, []string{"fields"}) {
		t.Errorf("params = %q, want fields", got)
	}
	if len(m.Placeholders) != 1 || m.Placeholders[0].Pattern != "UF_*" {
		t.Errorf("method placeholders = %+v, want UF_*", m.Placeholders)
	}
	if stage := fields.Fields[1]; len(stage.Enum) != 0 {
		t.Errorf("STAGE_ID enum = %+v, want none", stage.Enum)
	}
	var values []string
	for _, v := range m.Result.Fields[1].Enum {
		values = append(values, v.Value)
	}
	if !slices.Equal(values, []string{"S", "", "F"}) {
		t.Errorf("SEMANTICS values = %q, want S, \"\", F", values)
	}
	if got := names(m.Result.Fields); !slices.Equal(got, []string{"ID", "SEMANTICS"}) {
		t.Errorf("result fields = %q", got)
	}
	if len(m.Result.Placeholders) != 1 || m.Result.Placeholders[0].Pattern != "<AREA_ID>" {
		t.Errorf("result placeholders = %+v, want <AREA_ID>", m.Result.Placeholders)
	}

	// The payload gains its envelope (event.go): data keeps its place by name.
	data := out.Events[0].Fields[slices.IndexFunc(out.Events[0].Fields, func(p spec.Param) bool { return p.Name == "data" })]
	bot := data.Fields[0]
	if len(bot.Fields) != 0 || len(bot.Placeholders) != 1 || bot.Placeholders[0].Pattern != "{BOT_ID}" ||
		len(bot.Placeholders[0].Fields) != 1 {
		t.Errorf("event BOT = %+v, want no fields and the {BOT_ID} placeholder with its fields", bot)
	}

	var got []string
	for _, p := range problems {
		if p.Kind == "enum-not-literal" {
			got = append(got, p.String())
		}
	}
	want := []string{
		`api-reference/crm/deals/crm-deal-add.md:72: enum-not-literal: crm.deal.add: STAGE_ID: enum value "{ ENTITY_ID: \"DEAL_STAGE\" }" is not a literal (code or a pattern): dropped`,
		`api-reference/crm/deals/crm-deal-add.md:72: enum-not-literal: crm.deal.add: STAGE_ID: enum value "{ ENTITY_ID: \"DEAL_STAGE_{categoryId}\" }" is not a literal (code or a pattern): dropped`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCleanKeepsUnchangedShared checks the copy-on-write: a method with
// nothing to clean keeps the very slices of the input.
func TestCleanKeepsUnchangedShared(t *testing.T) {
	ps := []spec.Param{{Name: "id", Kind: spec.KindInteger}, {Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{{Name: "TITLE"}}}}
	in := &spec.Spec{Methods: []spec.Method{{Name: "crm.deal.get", Params: ps}}}
	out, _ := Resolve(in)
	if &out.Methods[0].Params[0] != &ps[0] {
		t.Error("an unchanged parameter list was copied")
	}
}

// TestCleanCommittedSpec measures the stage on the committed spec: every
// placeholder the docs draw becomes a note, no member keeps a placeholder
// name, and the real values of the enums survive.
func TestCleanCommittedSpec(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	out, problems := Resolve(s)
	var rows, notes, dropped int
	var walk func(ps []spec.Param)
	walk = func(ps []spec.Param) {
		for _, p := range ps {
			if _, is := placeholderPattern(p.Name); is {
				t.Errorf("placeholder %q is still a field", p.Name)
			}
			notes += len(p.Placeholders)
			walk(p.Fields)
		}
	}
	var count func(ps []spec.Param)
	count = func(ps []spec.Param) {
		for _, p := range ps {
			if _, is := placeholderPattern(p.Name); is {
				rows++
				continue // nested rows of a placeholder go with it
			}
			count(p.Fields)
		}
	}
	for _, m := range s.Methods {
		count(m.Params)
		if m.Result != nil {
			count(m.Result.Fields)
		}
	}
	for _, ev := range s.Events {
		count(ev.Fields)
	}
	for _, m := range out.Methods {
		walk(m.Params)
		notes += len(m.Placeholders)
		if m.Result != nil {
			walk(m.Result.Fields)
			notes += len(m.Result.Placeholders)
		}
	}
	for _, ev := range out.Events {
		walk(ev.Fields)
	}
	for _, p := range problems {
		if p.Kind == "enum-not-literal" {
			dropped++
		}
	}
	t.Logf("placeholder rows %d, notes %d, enum values dropped %d", rows, notes, dropped)
	if rows == 0 || notes != rows {
		t.Errorf("placeholder rows %d, notes %d: want every row noted", rows, notes)
	}
	// The committed spec holds about 6,000 enum values; the non-literals
	// (74 when this was written) are code snippets and patterns such as
	// "SG{id}_A", "DYNAMIC_XXX" or the prefix "CO_". Many more would mean
	// the rule took real values.
	if dropped == 0 || dropped > 100 {
		t.Errorf("%d enum values dropped, want under 100", dropped)
	}
}

func names(ps []spec.Param) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestInlineYNBoolean: a boolean whose description gives Y and N in its
// running text gets them as its values (so model sends "Y"/"N"); one whose
// page says to pass true or false keeps JSON booleans.
func TestInlineYNBoolean(t *testing.T) {
	for _, tc := range []struct {
		desc string
		yn   bool
	}{
		{"Is the custom field multiple (Y — yes / N — no)", true},
		{"Flag Y/N - register the lead addition event", true},
		{"Whether the field is mandatory. Possible values: Y or N. Default is N", true},
		{"Should the linked element be added to the card.\n\nValues Y and N do not work. You must pass \"true\" or \"false\"", false},
		{"Whether the item is shown", false},
		{"Yes or No", false},
	} {
		s := &spec.Spec{Methods: []spec.Method{{Name: "test.thing.add", Version: 2, Page: "p.md",
			Params: []spec.Param{{Name: "MULTIPLE", Kind: spec.KindBoolean, Description: tc.desc}}}}}
		out, _ := Resolve(s)
		got := len(out.Methods[0].Params[0].Enum) == 2
		if got != tc.yn {
			t.Errorf("%q: Y/N values %v, want %v", tc.desc, got, tc.yn)
		}
		if len(s.Methods[0].Params[0].Enum) != 0 {
			t.Errorf("%q: Resolve changed its input", tc.desc)
		}
	}
}
