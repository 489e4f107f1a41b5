package b24

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every event payload example in the docs, posted the way Bitrix24 posts it
// (form-encoded, PHP brackets), must reach its handler with the right name and
// with data equal to what PHP would have sent.
func TestReceiverDeliversDocsEventExamples(t *testing.T) {
	dir := docsDir(t)
	examples := docsEventExamples(t, filepath.Join(dir, "api-reference"))
	if len(examples) < 150 {
		t.Fatalf("only %d event examples found: the corpus layout changed?", len(examples))
	}
	r, logs := newTestReceiver()
	delivered, failed := 0, 0
	for _, ex := range examples {
		var got *Event
		r.HandleFallback(func(_ context.Context, e *Event) error { got = e; return nil })
		ex.tree["auth"] = withToken(ex.tree["auth"])
		rec := deliver(r, formType, EncodeForm(ex.tree))
		if rec.Code != 200 || got == nil {
			failed++
			t.Errorf("%s: status %d, handler called %v", ex.where, rec.Code, got != nil)
			continue
		}
		name, _ := ex.tree["event"].(string)
		if got.Name != strings.ToUpper(name) {
			t.Errorf("%s: event %q, want %q", ex.where, got.Name, strings.ToUpper(name))
		}
		var data any
		if len(got.Data) > 0 {
			if err := json.Unmarshal(got.Data, &data); err != nil {
				t.Errorf("%s: Data %s: %v", ex.where, got.Data, err)
			}
		}
		if want := phpWire(ex.tree["data"]); !reflect.DeepEqual(data, want) {
			t.Errorf("%s: data\n got %v\nwant %v", ex.where, data, want)
			failed++
			continue
		}
		delivered++
	}
	t.Logf("%d event examples delivered intact, %d failed", delivered, failed)
	assertNoSecrets(t, logs.String())
}

type eventExample struct {
	where string
	tree  map[string]any
}

var (
	jsonBlockRE = regexp.MustCompile("(?s)```(?:json|js|javascript)?\\s*\\n(\\{.*?\\n\\s*\\})\\s*\\n\\s*```")
	lineComment = regexp.MustCompile(`(?m)\s//[^\n"]*$`)
	trailComma  = regexp.MustCompile(`,(\s*[}\]])`)
)

// docsEventExamples collects the JSON blocks that look like deliveries: an
// object with an "event" string and an "auth" object.
func docsEventExamples(t *testing.T, root string) []eventExample {
	var out []eventExample
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), `"event"`) {
			return err
		}
		for i, m := range jsonBlockRE.FindAllSubmatch(b, -1) {
			src := lineComment.ReplaceAllString(string(m[1]), "")
			src = trailComma.ReplaceAllString(src, "$1")
			var tree map[string]any
			if json.Unmarshal([]byte(src), &tree) != nil {
				continue
			}
			if _, ok := tree["event"].(string); !ok {
				continue
			}
			if _, ok := tree["auth"].(map[string]any); !ok {
				continue
			}
			rel, _ := filepath.Rel(root, path)
			out = append(out, eventExample{where: rel + "#" + strconv.Itoa(i), tree: tree})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func withToken(auth any) any {
	m, _ := auth.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["application_token"] = testAppToken
	return m
}

// phpWire models, independently of the codec, what a JSON value becomes
// after PHP sends it as a form and the receiver reads it back: scalars turn
// into strings (true "1", false "0", null ""), empty arrays and objects vanish,
// and arrays keyed 0..n-1 are lists.
func phpWire(v any) any {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		m := map[string]any{}
		for i, x := range t {
			m[strconv.Itoa(i)] = x
		}
		return phpWire(m)
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if w := phpWire(x); w != nil {
				out[k] = w
			}
		}
		if len(out) == 0 {
			return nil
		}
		list := make([]any, len(out))
		for k, x := range out {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(out) || strconv.Itoa(i) != k {
				return out
			}
			list[i] = x
		}
		return list
	}
	return v
}
