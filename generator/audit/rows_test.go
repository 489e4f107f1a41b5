package audit

import (
	"os"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestRowsFoundCorpus measures the committed spec against the docs at
// B24_DOCS and logs the figures (b24gen report prints them too).
func TestRowsFoundCorpus(t *testing.T) {
	docs := os.Getenv("B24_DOCS")
	if docs == "" {
		t.Skip("B24_DOCS is not set: the corpus audit needs a docs checkout")
	}
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
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
