package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/b24gen/b24gen/spec"
)

// TestAuditCorpus audits the committed generated tree against the docs at
// B24_DOCS, rewrites testdata/audit_misses.txt (so a change in the misses
// shows in review) and fails below the floors.
func TestAuditCorpus(t *testing.T) {
	docs, s := corpus(t)
	a, err := Run(docs, s, os.DirFS("../../generated"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Families {
		n := a.ByFamily[f]
		if n == nil {
			continue
		}
		t.Logf("%-8s params %s, results %s, precision %s, errors %s", f, Ratio(n.ParamsOK, n.Params), Ratio(n.ResultsOK, n.Results), Ratio(n.Members-n.Invented, n.Members), Ratio(n.ErrorsOK, n.Errors))
	}
	if err := os.WriteFile("testdata/audit_misses.txt", []byte(a.MissesText()), 0o644); err != nil {
		t.Fatal(err)
	}
	for fam, f := range auditFloors {
		n := a.ByFamily[fam]
		if n == nil {
			t.Errorf("%s: no figures", fam)
			continue
		}
		checkFloor(t, fam+" params recall", n.ParamsOK, n.Params, f.params)
		checkFloor(t, fam+" result recall", n.ResultsOK, n.Results, f.results)
		checkFloor(t, fam+" precision", n.Members-n.Invented, n.Members, f.precision)
		checkFloor(t, fam+" error codes in doc comments", n.ErrorsOK, n.Errors, f.errors)
	}
}

// auditGoal is issue 21's: 98% of each figure for every family.
const auditGoal = 98

// auditFloors are the figures the tree must not fall below: the goal, or
// where we are below it, the measured value rounded down (raise them as
// fixes land; the misses file says what is left).
var auditFloors = map[string]struct{ params, results, precision, errors float64 }{
	"all":      {97, 85, 99, auditGoal},
	"crm":      {auditGoal, 91, 99, auditGoal},
	"tasks":    {auditGoal, 80, auditGoal, auditGoal},
	"im":       {95, 76, auditGoal, auditGoal},
	"disk":     {auditGoal, 91, auditGoal, auditGoal},
	"calendar": {96, 85, auditGoal, auditGoal},
	"user":     {auditGoal, 78, auditGoal, auditGoal},
	"events":   {0, 90, 95, 0},
}

func checkFloor(t *testing.T, what string, n, total int, floor float64) {
	t.Helper()
	if total == 0 {
		return
	}
	if got := 100 * float64(n) / float64(total); got < floor {
		t.Errorf("%s: %s, below the floor of %.0f%% (goal %d%%)", what, Ratio(n, total), floor, auditGoal)
	}
}

// TestAuditFixture audits a page in the docs' markup (tabs, a sub-table
// under its heading, a result object named by an anchor link, an error
// table with a status column and an empty code) against a small Go tree
// with one fault of each kind.
func TestAuditFixture(t *testing.T) {
	goSrc, err := os.ReadFile("testdata/fixture/thing_gen.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	gen := fstest.MapFS{"test/thing_gen.go": {Data: goSrc}}
	s := &spec.Spec{Methods: []spec.Method{{Name: "test.thing.add", Version: 2, Page: "thing-add.md"}}}
	a, err := Run("testdata/fixture", s, gen)
	if err != nil {
		t.Fatal(err)
	}
	got := a.ByFamily["test"]
	want := &Counts{Params: 5, ParamsOK: 2, Results: 4, ResultsOK: 4, Members: 8, Invented: 1, Justified: 1, Errors: 3, ErrorsOK: 1, Skipped: 1}
	if *got != *want {
		t.Errorf("counts = %+v\nwant     %+v", *got, *want)
	}
	var misses []string
	for _, m := range a.Misses {
		misses = append(misses, fmt.Sprintf("%d %s %s: %s", m.Line, m.What, m.Field, m.Reason))
	}
	wantMisses := []string{
		"0 member inventedKey: Go member of ThingInput has no row and the page never names it",
		"12 param useOriginalUfNames: documented Y/N, Go bool sends true/false",
		"30 param opportunity: documented double, Go b24.String (string)",
		"41 param stageId: absent from the Go",
		"94 error 100: not in the doc comment",
		"95 error (empty) Access denied: not in the doc comment",
	}
	if !slices.Equal(misses, wantMisses) {
		t.Errorf("misses:\n%s\nwant:\n%s", strings.Join(misses, "\n"), strings.Join(wantMisses, "\n"))
	}
}
