package extract

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCurlBodies(t *testing.T) {
	for _, tc := range []struct {
		name, code string
		want       []string
	}{
		{"single quotes", `curl -X POST -d '{"a":1}' https://x/rest/1/s/m`, []string{`{"a":1}`}},
		{"multi-line body", "curl -X POST \\\n    -d '{\n  \"a\": 1\n}' \\\n  https://x", []string{"{\n  \"a\": 1\n}"}},
		{"date substitution", `-d '{"d":"'"$(date --date='-6 months' +%Y-%m-%d)"'"}'`, []string{`{"d":""}`}},
		{"variable in double quotes", `-d "{\"id\":\"$ID\",\"n\":2}"`, []string{`{"id":"","n":2}`}},
		{"--data-raw and --data=", `curl --data-raw '{"a":1}' --data='{"b":2}'`, []string{`{"a":1}`, `{"b":2}`}},
		{"headers are not bodies", `curl -H "Content-Type: application/json" -H "X-d: 1" https://x`, nil},
		{"unclosed quote", `curl -d '{"a":1}`, nil},
		{"escaped quote in unquoted text", `-d {\"a\":1}`, []string{`{"a":1}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := curlBodies(tc.code); !slices.Equal(got, tc.want) {
				t.Errorf("curlBodies(%q) = %q, want %q", tc.code, got, tc.want)
			}
		})
	}
}

func TestWithoutKey(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,"auth":"x","b":[1,{"auth":2}]}`: `{"a":1,"b":[1,{"auth":2}]}`,
		`{"auth":"x"}`:                          `{}`,
		`{"a":1}`:                               `{"a":1}`,
	} {
		if got := string(withoutKey([]byte(in), "auth")); got != want {
			t.Errorf("withoutKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestRequestExampleFixture reads a page whose webhook body is broken: the
// OAuth body stands in, without its token, and the other method's example
// is not taken.
func TestRequestExampleFixture(t *testing.T) {
	page := "api-reference/fixtures/request-example.md"
	src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Page(page, src, fixtureIncludes)
	if len(res.Methods) != 1 {
		t.Fatalf("got %d methods, want 1", len(res.Methods))
	}
	want := `{"fields":{"NAME":"Widget","DATE":""},"ids":[1,2]}`
	if got := string(res.Methods[0].RequestExample); got != want {
		t.Errorf("request example = %s, want %s", got, want)
	}
}

// TestRequestExamplesCorpus checks the request examples of the pinned
// snapshot: most webhook pages yield one, and none keeps an OAuth token.
func TestRequestExamplesCorpus(t *testing.T) {
	s := pinnedSpec(t)
	webhook, with := 0, 0
	for _, m := range s.Methods {
		if m.WebhookExample {
			webhook++
		}
		if len(m.RequestExample) > 0 {
			with++
			if m.RequestExample[0] != '{' {
				t.Errorf("%s: request example is not an object: %.40s", m.Name, m.RequestExample)
			}
			if strings.Contains(string(m.RequestExample), "put_access_token_here") {
				t.Errorf("%s: request example keeps the OAuth token: %s", m.Name, m.RequestExample)
			}
		}
	}
	t.Logf("%d of %d methods with a webhook example have a request example", with, webhook)
	if with*100 < webhook*85 {
		t.Errorf("only %d of %d webhook pages have a request example, want >= 85%%", with, webhook)
	}
}

// FuzzCurlBodies: any code is scanned without a panic, and a single-quoted
// body comes back exactly as written.
func FuzzCurlBodies(f *testing.F) {
	f.Add(`curl -d '{"a":"'"$(date)"'"}' https://x/rest/1/s/m`, `{"a":1}`)
	f.Add("--data=\"$(\\\n", "x")
	f.Fuzz(func(t *testing.T, code, body string) {
		curlBodies(code)
		if strings.Contains(body, "'") {
			return
		}
		got := curlBodies("curl -X POST -d '" + body + "' https://x")
		if len(got) != 1 || got[0] != body {
			t.Errorf("body %q read as %q", body, got)
		}
	})
}

// The Go example's struct is read as Go: the decoded struct's json tags
// (nested included, "-" and comments left out), its Go types as kinds, the
// key it unwraps first, and each field's page line.
func TestCodeFieldsFixture(t *testing.T) {
	page := "api-reference/fixtures/code-example.md"
	src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Page(page, src, fixtureIncludes)
	if len(res.Methods) != 1 {
		t.Fatalf("got %d methods, want 1", len(res.Methods))
	}
	m := res.Methods[0]
	var got []string
	for _, f := range m.CodeFields {
		s := f.Name + ":" + string(f.Kind)
		if f.Elem != "" {
			s += "/" + string(f.Elem)
		}
		for _, sub := range f.Fields {
			s += " " + sub.Name + ":" + string(sub.Kind)
		}
		got = append(got, s)
	}
	want := []string{"ID:integer", "CREATED_TIME:string", "STAGE_SEMANTIC_ID:string", "OWNER:object NAME:string", "TAGS:array/string"}
	if !slices.Equal(got, want) || m.CodeWrapper != "items" {
		t.Errorf("code fields %q under %q, want %q under \"items\"", got, m.CodeWrapper, want)
	}
	lines := strings.Split(string(src), "\n")
	for _, f := range m.CodeFields {
		if f.Line < 1 || !strings.Contains(lines[f.Line-1], `json:"`+f.Name) {
			t.Errorf("%s: line %d is not its row: %q", f.Name, f.Line, lines[max(f.Line-1, 0)])
		}
	}
}
