package resolve

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
)

var update = flag.Bool("update", false, "rewrite testdata/resolved.golden.json")

// TestResolvedGolden holds the resolve stage's output at its boundary: the
// gadget family of testdata/docs (a fields page, get, list and add, each
// with a trap its page names) extracted, then resolved. The golden shows
// what resolve decides and model only names: the entity and its write
// form (no read-only field), the per-field evidence, the keyed-by-id map,
// the example's extra key, the Y/N flags, and the problems reported. After
// a deliberate change, rerun with -update and read the diff.
func TestResolvedGolden(t *testing.T) {
	s, err := extract.Dir(filepath.Join("testdata", "docs"), extract.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, problems := Resolve(s)
	var buf bytes.Buffer
	data, err := out.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(data)
	buf.WriteString("\n// problems\n")
	for _, p := range problems {
		fmt.Fprintf(&buf, "%s:%d: %s: %s\n", p.File, p.Line, p.Kind, p.Message)
	}
	golden := filepath.Join("testdata", "resolved.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestResolvedGolden -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the resolved spec of testdata/docs differs from %s: rerun with -update if the change is meant, and read the diff", golden)
		got := filepath.Join(t.TempDir(), "resolved.json")
		_ = os.WriteFile(got, buf.Bytes(), 0o644)
		t.Logf("diff %s %s", golden, got)
	}
}
