package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// The corpus tests read the pinned docs snapshot ($B24_DOCS, default
// ../shared/b24restdocs beside the module) and skip when it is absent.

var (
	corpusOnce sync.Once
	corpusSpec *spec.Spec
	corpusErr  error
)

func pinnedSpec(t *testing.T) *spec.Spec {
	t.Helper()
	root := docsRoot(t)
	corpusOnce.Do(func() { corpusSpec, corpusErr = Dir(root, Options{}) })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusSpec
}

// TestCorpusTargets asserts the extraction targets of issue 2 on the pinned
// snapshot (commit 5988ed13…).
func TestCorpusTargets(t *testing.T) {
	s := pinnedSpec(t)
	st := s.Stats
	t.Logf("methods %d, events %d, stats %+v, problems %d", len(s.Methods), len(s.Events), *st, len(s.Problems))

	if s.Source.Repository != "github.com/bitrix24/b24restdocs" || len(s.Source.Commit) != 40 || s.Source.Language != "en" {
		t.Errorf("source = %+v", s.Source)
	}
	if len(s.Methods) < 1650 {
		t.Errorf("method records = %d, want ≥ 1650", len(s.Methods))
	}
	if len(s.Events) < 200 {
		t.Errorf("event records = %d, want ≥ 200", len(s.Events))
	}
	if st.RowsTyped*100 < st.Rows*99 || st.Rows < 22000 {
		t.Errorf("typed rows %d of %d, want ≥ 99%% of ≥ 22000", st.RowsTyped, st.Rows)
	}
	if st.RequiredFlags < 3234 {
		t.Errorf("required flags = %d, want ≥ 3234", st.RequiredFlags)
	}
	if st.Anchors == 0 || st.AnchorsResolved != st.Anchors {
		t.Errorf("anchors resolved %d of %d, want all", st.AnchorsResolved, st.Anchors)
	}
	if st.ResponseExamples < 1500 || st.ExamplesParsed*100 < st.ResponseExamples*99 {
		t.Errorf("response examples parsed %d of %d, want ≥ 99%% of ≥ 1500", st.ExamplesParsed, st.ResponseExamples)
	}
	if st.ErrorTables < 1400 {
		t.Errorf("error tables = %d, want ≥ 1400", st.ErrorTables)
	}

	shapes, scopes, v3, withErrors, webhook, required := 0, 0, 0, 0, 0, 0
	for _, m := range s.Methods {
		if m.Result != nil && m.Result.Shape != "unknown" {
			shapes++
		}
		if len(m.Scopes) > 0 {
			scopes++
		}
		if m.Version == 3 {
			v3++
		}
		if len(m.Errors) > 0 {
			withErrors++
		}
		if m.WebhookExample {
			webhook++
		}
		walkParams(m.Params, func(p *spec.Param) {
			if p.Required {
				required++
			}
		})
	}
	t.Logf("result shapes %d, scopes %d, REST 3.0 %d, with errors %d, webhook examples %d, required params %d", shapes, scopes, v3, withErrors, webhook, required)
	if shapes < 1450 {
		t.Errorf("methods with a result shape = %d, want ≥ 1450", shapes)
	}
	if scopes < 1660 {
		t.Errorf("methods with scopes = %d, want ≥ 1660", scopes)
	}
	if v3 != 106 {
		t.Errorf("REST 3.0 methods = %d, want the corpus's 106", v3)
	}

	// Spot checks a reader can verify on the pages.
	byKey := map[string]spec.Method{}
	for _, m := range s.Methods {
		byKey[m.Key()] = m
	}
	deal := byKey["crm.deal.get"]
	if !deal.Deprecated || deal.ReplacedBy != "crm.item.get" || len(deal.Params) != 1 || !deal.Params[0].Required || deal.Result == nil || len(deal.Result.Fields) < 40 {
		t.Errorf("crm.deal.get = %+v", deal)
	}
	for _, name := range []string{"tasks.task.get", "tasks.task.get@3", "batch", "methods", "humanresources.employee.search@3"} {
		if _, ok := byKey[name]; !ok {
			t.Errorf("method %s missing", name)
		}
	}
	if m := byKey["tasks.task.get@3"]; m.Result == nil || m.Result.Wrapper != "item" {
		t.Errorf("tasks.task.get@3 result = %+v", m.Result)
	}
	if m := byKey["crm.item.list"]; m.Result == nil || m.Result.Wrapper != "items" || !m.Result.Paginated || m.Result.Shape != "array" {
		t.Errorf("crm.item.list result = %+v", m.Result)
	}
	var leadDelete *spec.Event
	for i := range s.Events {
		if s.Events[i].Name == "ONCRMLEADDELETE" {
			leadDelete = &s.Events[i]
		}
	}
	if leadDelete == nil || leadDelete.DocName != "onLeadDelete" {
		t.Errorf("ONCRMLEADDELETE (H1 onLeadDelete, payload ONCRMLEADDELETE) = %+v", leadDelete)
	}
}

func walkParams(ps []spec.Param, f func(*spec.Param)) {
	for i := range ps {
		f(&ps[i])
		walkParams(ps[i].Fields, f)
	}
}

// TestCorpusWorkers checks that the spec is byte-identical whatever the
// parallelism.
func TestCorpusWorkers(t *testing.T) {
	root := docsRoot(t)
	if testing.Short() {
		t.Skip("extracts the corpus twice")
	}
	one, err := Dir(root, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	many := pinnedSpec(t)
	a, b := marshal(t, one), marshal(t, many)
	if !bytes.Equal(a, b) {
		t.Errorf("Workers=1 and Workers=GOMAXPROCS give different specs (%d vs %d bytes)", len(a), len(b))
	}
}

// TestSnapshotDiff extracts the older snapshot too and checks changes
// verified by hand on the two trees:
//   - crm.quote.contact.add: page added (crm/quote/contacts/crm-quote-contact-add.md);
//   - catalog.catalog.add: page removed (catalog/catalog/catalog-catalog-add.md);
//   - ai.engine.list: the old page had no parameters table, the new one
//     documents filter and limit;
//   - calendar.event.update: host was `string`, required; now `integer`, optional;
//   - the lead-delete payload said ONLEADDELETE, now ONCRMLEADDELETE;
//   - disk.file.copyto is spelled disk.file.copyTo now: a rename, since the portal matches names case-insensitively.
func TestSnapshotDiff(t *testing.T) {
	newSpec := pinnedSpec(t)
	oldRoot := filepath.Join(filepath.Dir(docsRoot(t)), "b24restdocs-2026-01")
	if _, err := os.Stat(filepath.Join(oldRoot, "api-reference")); err != nil {
		t.Skipf("older snapshot not found at %s: %v", oldRoot, err)
	}
	oldSpec, err := Dir(oldRoot, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range spec.Diff(oldSpec, newSpec) {
		lines = append(lines, c.String())
	}
	all := strings.Join(lines, "\n")
	t.Logf("%d changes", len(lines))
	for _, want := range []string{
		"method added: crm.quote.contact.add",
		"method removed: catalog.catalog.add",
		"parameter added: ai.engine.list filter",
		"parameter added: ai.engine.list limit",
		"parameter retyped: calendar.event.update host",
		"parameter no longer required: calendar.event.update host",
		"event added: ONCRMLEADDELETE",
		"event removed: ONLEADDELETE",
		"method renamed: disk.file.copyTo (was disk.file.copyto)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diff lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("diff:\n%s", all)
	}
}
