package b24test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator/model"
	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/request_misses.txt")

// requestMissesFile lists the documented request examples the default checks
// refuse, with the portal's answer; TestDocumentedRequestsPass rewrites it
// with -update.
const requestMissesFile = "testdata/request_misses.txt"

// TestDocumentedRequestsPass runs every documented request example of the
// committed spec (the JSON body of a page's cURL example) through the checks
// the generated tree's b24test makes, built from the same spec by
// model.ParamSchemas. At least 99% must pass the default checks, and the
// misses must be the ones listed in testdata/request_misses.txt. The strict
// checks' share is logged: it is why unknown names are not checked by default.
func TestDocumentedRequestsPass(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	s, _ = resolve.Resolve(s) // as the generator does before emitting the schemas
	src := map[string]string{}
	size := 0
	for _, ps := range model.ParamSchemas(s, nil) {
		src[ps.Key] = ps.Code
		size += len(ps.Key) + len(ps.Code)
	}
	withSchemas(t, src)
	t.Logf("%d schemas, %d bytes of keys and codes", len(src), size)

	var total, strictFail int
	var misses []string
	seen := map[string]bool{}
	for i := range s.Methods {
		m := &s.Methods[i]
		key := documentedKey(m.Name, m.Version)
		if len(m.RequestExample) == 0 || seen[key] {
			continue
		}
		params, ok := decodeBody(m.RequestExample)
		if !ok {
			continue // not an object: nothing a JSON POST would send
		}
		seen[key] = true
		total++
		on := &Portal{checks: checksOn}
		if e := on.checkRequest(m.Name, m.Version, params); e != nil {
			misses = append(misses, fmt.Sprintf("%s\t%s: %s", key, e.Code, e.Description))
		}
		strict := &Portal{checks: checksStrict}
		if strict.checkRequest(m.Name, m.Version, params) != nil {
			strictFail++
		}
	}
	slices.Sort(misses)
	pass := float64(total-len(misses)) / float64(total)
	t.Logf("default checks: %d of %d documented request examples pass (%.2f%%); strict: %d fail (%.2f%% pass)",
		total-len(misses), total, 100*pass, strictFail, 100*float64(total-strictFail)/float64(total))
	if pass < 0.99 {
		t.Errorf("only %.2f%% of the documented request examples pass, want ≥ 99%%", 100*pass)
	}
	// Each line is "key<TAB>answer<TAB># reason"; the reasons are written
	// by hand and kept across -update.
	prev, _ := os.ReadFile(requestMissesFile)
	reasons := map[string]string{}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(prev)), "\n") {
		entry, reason, _ := strings.Cut(line, "\t# ")
		if entry == "" {
			continue
		}
		want = append(want, entry)
		key, _, _ := strings.Cut(entry, "\t")
		reasons[key] = reason
	}
	if *update {
		var b strings.Builder
		for _, m := range misses {
			key, _, _ := strings.Cut(m, "\t")
			r := reasons[key]
			if r == "" {
				r = "TODO: say why the docs and the check disagree"
			}
			fmt.Fprintf(&b, "%s\t# %s\n", m, r)
		}
		if err := os.WriteFile(requestMissesFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(prev) == 0 {
		t.Fatalf("%s is missing or empty (run with -update to write it)", requestMissesFile)
	}
	if !slices.Equal(misses, want) {
		t.Errorf("the refused examples differ from %s (rerun with -update and review the diff):\n%s",
			requestMissesFile, strings.Join(misses, "\n"))
	}
	for k, r := range reasons {
		if strings.HasPrefix(r, "TODO") || r == "" {
			t.Errorf("%s: %s has no reason", requestMissesFile, k)
		}
	}
}

// withSchemas fills the schema registry the way a generated tree's
// method_params_gen.go does, for one test.
func withSchemas(t *testing.T, src map[string]string) {
	t.Helper()
	saved := methodParamsSource
	methodParamsSource = src
	schemaMu.Lock()
	clear(schemaCache)
	schemaMu.Unlock()
	t.Cleanup(func() {
		methodParamsSource = saved
		schemaMu.Lock()
		clear(schemaCache)
		schemaMu.Unlock()
	})
}

// decodeBody reads a JSON body the way the portal's readParams does.
func decodeBody(raw []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}
