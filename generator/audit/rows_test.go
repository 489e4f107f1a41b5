package audit

import (
	"os"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestRowsFoundCorpus measures the committed spec against the docs at
// B24_DOCS and logs the figures (b24gen report prints them too).
func TestRowsFoundCorpus(t *testing.T) {
	docs, s := corpus(t)
	r, err := CountRowsFound(docs, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rows found: %d of %d (%.1f%%)", r.Found, r.Rows, 100*float64(r.Found)/float64(r.Rows))
	if os.Getenv("AUDIT_MISSES") != "" {
		for _, m := range r.Misses {
			t.Logf("%s:%d %s %s", m.Page, m.Line, m.Method, m.Name)
		}
	}
}

// corpus is the docs at B24_DOCS and the committed spec; the test skips
// without them.
func corpus(t *testing.T) (string, *spec.Spec) {
	t.Helper()
	docs := os.Getenv("B24_DOCS")
	if docs == "" {
		t.Skip("B24_DOCS is not set: the audit needs a docs checkout")
	}
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return docs, s
}

// TestParamRows reads a page in the docs' markup: the header row is not a
// row, tabs and nested tables count, error tables and everything from the
// code examples on do not.
func TestParamRows(t *testing.T) {
	page := "# Add test.thing.add\n\n## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **fields***\n[`object`](x.md) | Fields ||\n|#\n\n" +
		"{% list tabs %}\n\n- Lead\n\n    #|\n    || **Name**\n    `type` | **Description** ||\n    || **TITLE**\n    [`string`](x.md) | Title ||\n    |#\n\n{% endlist %}\n\n" +
		"#|\n|| **Code** | **Description** ||\n|| `ERR` | An error ||\n|#\n\n## Code Examples\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **after** | not read ||\n|#\n"
	var got []string
	for _, r := range paramRows(page) {
		got = append(got, r.name)
	}
	if want := []string{"fields", "TITLE"}; !slices.Equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	m := &spec.Method{Name: "test.thing.add", Params: []spec.Param{{Name: "fields", Fields: []spec.Param{{Name: "TITLE"}}}}}
	names := treeNames(m)
	if !names[normName("fields.TITLE")] || names["after"] {
		t.Fatalf("tree names = %v", names)
	}
}
