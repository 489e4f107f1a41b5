package extract

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/b24gen/b24gen/spec"
	"github.com/google/go-cmp/cmp"
)

func TestSplitTable(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want [][]string
	}{
		{"rows and cells", "#|\n|| **a** | b ||\n|| c | d ||\n|#", [][]string{{"**a**", "b"}, {"c", "d"}}},
		{"escaped pipe", "#|\n|| a \\| b | c ||\n|#", [][]string{{"a | b", "c"}}},
		{"pipe in code span", "#|\n|| `a|b` | c ||\n|#", [][]string{{"`a|b`", "c"}}},
		{"pipe in fenced code", "#|\n|| a | x\n```\n{ \"a\": \"x | y\" }\n```\n||\n|#", [][]string{{"a", "x\n```\n{ \"a\": \"x | y\" }\n```"}}},
		{"nested table", "#|\n|| a | see:\n#|\n||X|Y||\n|#\nend ||\n|| b | c ||\n|#", [][]string{{"a", "see:\n#|\n||X|Y||\n|#\nend"}, {"b", "c"}}},
		{"multi-line cell", "#|\n|| **id***\n[`integer`](x.md) | one\n\ntwo ||\n|#", [][]string{{"**id***\n[`integer`](x.md)", "one\n\ntwo"}}},
		{"unclosed row", "#|\n|| a | b", [][]string{{"a", "b"}}},
		{"empty", "#|\n|#", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			for _, r := range splitTable(tt.raw, nil) {
				got = append(got, r.Cells)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("splitTable(%q) (-want +got):\n%s", tt.raw, d)
			}
		})
	}
}

func TestSplitTableLines(t *testing.T) {
	raw := "#|\n|| a | b ||\n|| c\nmore | d ||\n|| e | f ||\n|#"
	rows := splitTable(raw, []int{10, 11, 12, 13, 14, 15})
	var got []int
	for _, r := range rows {
		got = append(got, r.Line)
	}
	if d := cmp.Diff([]int{11, 12, 14}, got); d != "" {
		t.Errorf("row lines (-want +got):\n%s", d)
	}
}

func TestCleanJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1, // one` + "\n" + `"b": 2,}`, `{"a":1,"b":2}`},
		{`{"a": [1, 2, ...], "b": "x // not a comment"}`, `{"a":[1,2],"b":"x // not a comment"}`},
		{`{"a": {…}, /* c */ "b": null}`, `{"a":{},"b":null}`},
		{"[{\"a\": 1}\n{\"a\": 2}]", `[{"a":1},{"a":2}]`},
		{`{"path": "C:\Mail\new"}`, `{"path":"C:\\Mail\new"}`},
		{`{..., "a": 1}`, `{"a":1}`},
		{"{\n  # a comment\n  \"a\": \"#1\"\n}", `{"a":"#1"}`},
	}
	for _, tt := range tests {
		raw, _, err := parseExample(tt.in)
		if err != nil {
			t.Errorf("parseExample(%q): %v (cleaned: %q)", tt.in, err, cleanJSON(tt.in))
			continue
		}
		if string(raw) != tt.want {
			t.Errorf("parseExample(%q) = %s, want %s", tt.in, raw, tt.want)
		}
	}
	for _, bad := range []string{`{"a": undefined}`, `{"a": "unterminated` + "\n}", `{"a" 1}`} {
		if _, _, err := parseExample(bad); err == nil {
			t.Errorf("parseExample(%q) succeeded; want an error", bad)
		}
	}
}

// TestJSONParserMatchesEncodingJSON checks the ordered tree against
// encoding/json on the examples of the fixtures and a few edge cases.
func TestJSONParserMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":[1,2.5,-3e2,true,false,null,"x\"y\\u00e9"],"b":{},"c":[],"d":{"e":{"f":[{}]}}}`,
		`[]`, `"s"`, `12`, `{"ключ":"значение","":""}`,
	} {
		raw, root, err := parseExample(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, toAny(root)); d != "" {
			t.Errorf("%s (-encoding/json +ours):\n%s", in, d)
		}
	}
}

func toAny(n *jnode) any {
	switch n.Kind {
	case 'o':
		m := map[string]any{}
		for i, k := range n.Keys {
			m[k] = toAny(n.Vals[i])
		}
		return m
	case 'a':
		s := []any{}
		for _, v := range n.Vals {
			s = append(s, toAny(v))
		}
		return s
	case 's':
		return n.Str
	case 'n':
		var f float64
		_ = json.Unmarshal([]byte(n.Str), &f)
		return f
	case 'b':
		return n.Str == "true"
	}
	return nil
}

func TestKindOf(t *testing.T) {
	yn := []spec.EnumValue{{Value: "Y"}, {Value: "N"}}
	psf := []spec.EnumValue{{Value: "P"}, {Value: "S"}, {Value: "F"}}
	tests := []struct {
		typ        string
		refd       bool
		enum       []spec.EnumValue
		kind, elem spec.Kind
	}{
		{"integer", false, nil, spec.KindInteger, ""},
		{"int", false, nil, spec.KindInteger, ""},
		{"timestamp", false, nil, spec.KindInteger, ""},
		{"double", false, nil, spec.KindNumber, ""},
		{"boolean", false, nil, spec.KindBoolean, ""},
		{"char", false, yn, spec.KindBoolean, ""},
		{"char", false, psf, spec.KindEnum, ""},
		{"string", false, psf, spec.KindEnum, ""},
		{"date", false, nil, spec.KindDate, ""},
		{"datetime", false, nil, spec.KindDateTime, ""},
		{"object", false, nil, spec.KindObject, ""},
		{"array", false, nil, spec.KindArray, ""},
		{"string[]", false, nil, spec.KindArray, spec.KindString},
		{"array of integer", false, nil, spec.KindArray, spec.KindInteger},
		{"deal[]", true, nil, spec.KindArray, spec.KindObject},
		{"crm_multifield", false, nil, spec.KindArray, spec.KindObject},
		{"crm_status", false, nil, spec.KindString, ""},
		{"crm_company", false, nil, spec.KindInteger, ""},
		{"user", false, nil, spec.KindInteger, ""},
		{"catalog_product.id", false, nil, spec.KindInteger, ""},
		{"file", false, nil, spec.KindFile, ""},
		{"any", false, nil, spec.KindAny, ""},
		{"integer | string", false, nil, spec.KindAny, ""},
		{"integer | int", false, nil, spec.KindInteger, ""},
		{"string | null", false, nil, spec.KindString, ""},
		{"string boolean", false, nil, spec.KindAny, ""},
		{"integer (id)", false, nil, spec.KindInteger, ""},
		{"deal", true, nil, spec.KindObject, ""},
		{"deal", false, nil, spec.KindString, ""},
		{"", false, nil, spec.KindAny, ""},
		{"", true, nil, spec.KindObject, ""},
		{"array<object>", true, nil, spec.KindArray, spec.KindObject},
		{"array<integer>", false, nil, spec.KindArray, spec.KindInteger},
	}
	for _, tt := range tests {
		k, e := kindOf(tt.typ, tt.refd, tt.enum)
		if k != tt.kind || e != tt.elem {
			t.Errorf("kindOf(%q, %v, %v) = %s/%s, want %s/%s", tt.typ, tt.refd, tt.enum, k, e, tt.kind, tt.elem)
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[`integer`](../data-types.md) | x", "integer | x"},
		{"The **id** of [the deal](#deal).", "The id of the deal."},
		{"See [{#T}](./x.md).", "See ."},
		{"A [`deal[]`](#deal) list", "A deal[] list"},
		{"Text {.b24-info}", "Text"},
		{"code:\n```\nx\n```\nafter", "code: after"},
		{"Values:\n#|\n||A|B||\n|#\nend", "Values: end"},
		{"a<br>b", "a b"},
		{"`{...}` literal", "{...} literal"},
		{"Windows `C:\\\\Mail`", `Windows C:\Mail`},
		{"{% note info %}\nbody\n{% endnote %}", "body"},
	}
	for _, tt := range tests {
		if got := plainText(tt.in); got != tt.want {
			t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParamRow(t *testing.T) {
	tests := []struct {
		cells    []string
		split    bool
		name     string
		typ      string
		required bool
	}{
		{[]string{"**id***\n[`integer`](x.md)", "Id"}, false, "id", "integer", true},
		{[]string{"**id**^*^\n`integer`", "Id"}, false, "id", "integer", true},
		{[]string{"**id^*^**\n`integer`", "Id"}, false, "id", "integer", true},
		{[]string{"**weight****\n`integer`", "W"}, false, "weight", "integer", true},
		{[]string{"**REPORT_ID*** \\| **ID***\n[`integer`](x.md)", "Id"}, false, "REPORT_ID", "integer", true},
		{[]string{"**limit**", "`integer`", "Page size"}, true, "limit", "integer", false},
		{[]string{"**UF_...**", "Custom"}, false, "UF_...", "", false},
		{[]string{"**select**\n[`string[]`](x.md)", "Fields"}, false, "select", "string[]", false},
	}
	for _, tt := range tests {
		p, ok := parseParamRow(tableRow{Cells: tt.cells}, tt.split)
		if !ok || p.Name != tt.name || p.Type != tt.typ || p.Required != tt.required {
			t.Errorf("parseParamRow(%q) = %q %q required=%v ok=%v; want %q %q %v", tt.cells, p.Name, p.Type, p.Required, ok, tt.name, tt.typ, tt.required)
		}
	}
}

func TestPreprocessLines(t *testing.T) {
	includes := func(p string) ([]byte, error) {
		return []byte("# Title\n\ninc 1\ninc 2\n"), nil
	}
	src := "line 1\n  {% include notitle [x](inc.md) %}\nline 3\n{% if build == 'dev' %}\nsecret\n{% endif %}\nline 7\n"
	pp, probs := preprocess("api-reference/p.md", []byte(src), includes)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	wantSrc := "line 1\n  \n  inc 1\n  inc 2\nline 3\nline 7\n"
	if string(pp.src) != wantSrc {
		t.Errorf("src = %q, want %q", pp.src, wantSrc)
	}
	if d := cmp.Diff([]int{1, 2, 2, 2, 3, 7}, pp.lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]bool{false, true, true, true, false, false}, pp.included); d != "" {
		t.Errorf("included (-want +got):\n%s", d)
	}
}

func TestNoSecretsInOutput(t *testing.T) {
	// A page's example webhook URL carries a placeholder secret; the spec
	// keeps only the method name and the fact that a webhook is shown.
	src := []byte("# Get x test.x.get\n\n> Scope: [`x`](s.md)\n\n```bash\ncurl https://portal.example/rest/1/s3cr3tw3bh00k/test.x.get\n```\n")
	res, _ := Page("api-reference/x.md", src, nil)
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(res)
	if bytes.Contains(buf.Bytes(), []byte("s3cr3tw3bh00k")) {
		t.Errorf("the example's webhook secret leaked into the spec: %s", buf.Bytes())
	}
	if len(res.Methods) != 1 || !res.Methods[0].WebhookExample {
		t.Errorf("methods = %+v", res.Methods)
	}
}

func TestEnumValues(t *testing.T) {
	tests := []struct {
		desc string
		want []string
	}{
		{"Stage. Possible values:\n- `P` — in progress\n- `S` — success", []string{"P", "S"}},
		{"Set it to `Y` when done. Possible values:\n- `Y` — yes\n- `N` — no", []string{"Y", "N"}},
		{"Generated as `{entityTypeName} #{id}`, where\n- `entityTypeName` — entity name\n- `id` — item id", nil},
		{"Format:\n```\n{ field_n: value_n }\n```\nwhere\n- `field_n` — field name", nil},
		{"Values:\n#|\n||CODE|Name||\n||CALL|Call||\n|#", nil}, // nested tables are read by nestedTableValues
		{"A list:\n- `A`: first\n- `A` — again\n- plain item", []string{"A"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range enumValues(tt.desc) {
			got = append(got, e.Value)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("enumValues(%q) (-want +got):\n%s", tt.desc, d)
		}
	}
}

func TestIndexFold(t *testing.T) {
	tests := []struct {
		s, sub string
		want   int
	}{
		{"The Default is `x`", "default", 4},
		{"\xb4По умолчанию `0`", "по умолчанию", 1},
		{"KELVIN \u212a default", "default", 11},
		{"nothing", "default", -1},
	}
	for _, tt := range tests {
		if got := indexFold(tt.s, tt.sub); got != tt.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.want)
		}
	}
	if got := defaultValue("\xb4По умолчанию `0`."); got != "0" {
		t.Errorf("defaultValue with invalid UTF-8 = %q", got)
	}
}

func TestMergeElementRows(t *testing.T) {
	in := []spec.Param{
		{Name: "items", Type: "array", Kind: spec.KindArray},
		{Name: "items[]", Type: "object", Kind: spec.KindObject, Fields: []spec.Param{{Name: "id", Kind: spec.KindInteger}}},
		{Name: "tags[]", Type: "string", Kind: spec.KindString},
		{Name: "title", Kind: spec.KindString},
	}
	got := mergeElementRows(in)
	want := []spec.Param{
		{Name: "items", Type: "array", Kind: spec.KindArray, Elem: spec.KindObject, Fields: []spec.Param{{Name: "id", Kind: spec.KindInteger}}},
		{Name: "tags", Type: "string", Kind: spec.KindArray, Elem: spec.KindString},
		{Name: "title", Kind: spec.KindString},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mergeElementRows (-want +got):\n%s", d)
	}
}

func TestNestDotted(t *testing.T) {
	in := []spec.Param{
		{Name: "fields", Kind: spec.KindObject, Required: true},
		{Name: "fields.TITLE", Kind: spec.KindString},
		{Name: "data.FIELDS.ID", Kind: spec.KindInteger},
		{Name: "UF_...", Kind: spec.KindAny},
	}
	got := nestDotted(in)
	want := []spec.Param{
		{Name: "fields", Kind: spec.KindObject, Required: true, Fields: []spec.Param{{Name: "TITLE", Kind: spec.KindString}}},
		{Name: "data", Kind: spec.KindObject, Fields: []spec.Param{{Name: "FIELDS", Kind: spec.KindObject, Fields: []spec.Param{{Name: "ID", Kind: spec.KindInteger}}}}},
		{Name: "UF_...", Kind: spec.KindAny},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("nestDotted (-want +got):\n%s", d)
	}
}

func TestCollapseFences(t *testing.T) {
	src := "# T\n\n- tab\n\n    ```json\n    {\"a\": 1}\n\n    ```\n\n#|\n|| **a** | x\n```\ncode in a cell\n```\n||\n|#\n\n```\nunclosed\n"
	n := 0
	for range splitLines([]byte(src)) {
		n++
	}
	pp := preprocessed{src: []byte(src), lines: make([]int, n), included: make([]bool, n)}
	for i := range pp.lines {
		pp.lines[i] = i + 1
	}
	got, fs := collapseFences(pp)
	if fs == nil || len(fs.bodies) != 1 || fs.bodies[0] != "    {\"a\": 1}\n\n" {
		t.Fatalf("bodies = %q", fs.bodies)
	}
	want := "# T\n\n- tab\n\n    ```json\n    " + codeMarker + "0\n    ```\n\n#|\n|| **a** | x\n```\ncode in a cell\n```\n||\n|#\n\n```\nunclosed\n"
	if string(got.src) != want {
		t.Errorf("collapsed =\n%q\nwant\n%q", got.src, want)
	}
	if got.lines[5] != 6 || got.lines[6] != 8 {
		t.Errorf("line map around the placeholder = %v", got.lines[4:8])
	}
	blocks := parseBlocks(pp)
	var code []string
	for _, b := range blocks {
		if b.Kind == bCode {
			code = append(code, b.Raw)
		}
	}
	if len(code) != 2 || code[0] != "    {\"a\": 1}\n\n" || code[1] != "unclosed\n" {
		t.Errorf("code blocks = %q", code)
	}
}
