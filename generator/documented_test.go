package generator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/b24gen/b24gen/generator/emit"
	"github.com/b24gen/b24gen/generator/model"
)

// docMissesFile lists the methods whose documented answer does not come
// back as a decoded result, with the error; TestDocumentedAnswersFull
// rewrites it with -update.
const docMissesFile = "testdata/documented_misses.txt"

// TestDocumentedAnswersFull is issue 5's proof for the fake portal: it
// generates the whole committed spec with DocTests into a fresh module and
// runs every package's TestDocumentedAnswers, which calls each generated
// function, its required parameters filled, against b24test's documented
// answers. At least 99% of the methods with a documented answer must
// return a decoded result without error; the failing methods must be the
// ones listed in testdata/documented_misses.txt, together with the list iterators
// (All, Export) that fail over the documented rows. Slow (about a minute on two cores):
// skipped with -short.
func TestDocumentedAnswersFull(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the full generate and the documented-answers run of every method")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	s := fullSpec(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/full\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Generate(s, Options{OutDir: filepath.Join(dir, "gen"), ImportPath: "example.com/full/gen", DocTests: true})
	if err != nil {
		t.Fatal(err)
	}
	answers := model.Answers(s, nil)

	start := time.Now()
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "-vet=off", "-timeout=5m", "-run", "^"+emit.DocTestName+"$", "./gen/...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output() // fails whenever a subtest fails: judged below
	t.Logf("go test ./gen/...: %v", time.Since(start))

	res, err := readTestJSON(out)
	if err != nil {
		t.Fatalf("reading go test -json: %v\n%s", err, firstLines(stderr.String(), 40))
	}
	if len(res.broken) > 0 {
		t.Fatalf("packages that did not build or run (go test: %v):\n%s\n%s", runErr,
			strings.Join(res.broken, "\n"), firstLines(stderr.String(), 40))
	}

	// Method subtests are named by the method; the iterator walks nested
	// in a list method's subtest have a "/" in their name.
	count := func(set map[string]bool, nested bool) int {
		n := 0
		for name := range set {
			if strings.Contains(name, "/") == nested {
				n++
			}
		}
		return n
	}
	failedSet := map[string]bool{}
	for name := range res.failed {
		failedSet[name] = true
	}
	pass, fail, skip := count(res.passed, false), count(failedSet, false), count(res.skipped, false)
	iterPass, iterFail := count(res.passed, true), count(failedSet, true)
	// A request the fake portal refuses (b24test's checks against the
	// documented parameters) never reaches its answer: it is a generated
	// parameter type the page contradicts, not an answer that does not
	// decode. Those are listed with the misses but left out of the share.
	refused := 0
	for name, msg := range res.failed {
		if !strings.Contains(name, "/") && refusedRequest.MatchString(msg) {
			refused++
		}
	}
	t.Logf("methods %d, with a documented answer %d: passed %d, failed %d (%.2f%% of those whose request the portal took); "+
		"request refused by the portal's checks %d; skipped (no documented response) %d",
		rep.Methods, len(answers), pass, fail, pct(pass, fail-refused), refused, skip)
	t.Logf("list iterators (All, Export) walked over the documented rows: passed %d, failed %d", iterPass, iterFail)
	if pass+fail+skip != rep.Methods {
		t.Errorf("%d subtests ran for %d generated methods", pass+fail+skip, rep.Methods)
	}
	if pass+fail != len(answers) {
		t.Errorf("%d methods were called against %d documented answers", pass+fail, len(answers))
	}
	if len(answers) == 0 || pct(pass, fail-refused) < 99 {
		t.Errorf("documented answers decoded: %d of %d, want ≥ 99%% (see %s)", pass, pass+fail, docMissesFile)
	}

	editFullRun(t, goBin, dir)

	var misses []string
	for name, msg := range res.failed {
		misses = append(misses, name+": "+msg)
	}
	slices.Sort(misses)
	text := fmt.Sprintf("# Methods whose documented answer, served by b24test.WithDocumentedAnswers, does not come back\n"+
		"# from the generated function as a decoded result. Written by TestDocumentedAnswersFull\n"+
		"# (go test ./generator -run TestDocumentedAnswersFull -update); do not edit.\n"+
		"# %d methods, %d with a documented answer: %d pass, %d fail; %d skipped (no documented response).\n"+
		"# Of the failures, %d are requests b24test refuses as the portal would (a generated parameter type\n"+
		"# the page contradicts, such as a slice for a parameter the page shows as an object).\n"+
		"# List iterators walked over the documented rows (<method>/all, <method>/export): %d pass, %d fail.\n",
		rep.Methods, len(answers), pass, fail, skip, refused, iterPass, iterFail)
	for _, m := range misses {
		text += m + "\n"
	}
	if *update {
		if err := os.WriteFile(docMissesFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(docMissesFile)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	// The set of failing methods must match; the error texts beside them
	// are there to read, and may change wording without failing this.
	if diff := cmp.Diff(missNames(string(want)), missNames(text)); diff != "" {
		t.Errorf("the failing methods differ from %s (-file +now; run with -update if intended):\n%s\nnow:\n%s",
			docMissesFile, diff, strings.Join(misses, "\n"))
	}
}

// refusedRequest matches the error of a call b24test refused for its
// parameters (templates/b24test/check.go).
var refusedRequest = regexp.MustCompile(`b24test: [^ ]+: (required parameter|one of the parameters|parameter \S+ (must be|is not documented))`)

// missNames are the subtest names of a misses file's entries (the text
// before ": " on each line that is not a comment).
func missNames(text string) []string {
	out := []string{}
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			name, _, _ := strings.Cut(line, ": ")
			out = append(out, name)
		}
	}
	return out
}

// docTestRun is what go test -json reported for the documented-answers
// subtests, keyed by subtest name (the REST method, "@3" for REST 3.0).
type docTestRun struct {
	passed, skipped map[string]bool
	failed          map[string]string // the subtest's failure message
	broken          []string          // packages that failed to build or failed outside a subtest
}

// logPrefix is the file:line go test puts before a t.Fatal message.
var logPrefix = regexp.MustCompile(`^\s*\w+_test\.go:\d+: `)

func readTestJSON(out []byte) (*docTestRun, error) { return readTestRun(out, emit.DocTestName) }

// readTestRun reads the subtests of the test function name from a go test
// -json stream.
func readTestRun(out []byte, name string) (*docTestRun, error) {
	res := &docTestRun{passed: map[string]bool{}, skipped: map[string]bool{}, failed: map[string]string{}}
	logs := map[string][]string{}  // t.Fatal messages by subtest
	other := map[string][]string{} // any other output by subtest
	prefix := name + "/"
	failedTests := map[string]bool{} // package + test, to tell a package failure from its subtests'
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Action, Package, Test, Output, ImportPath string
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("%v in %q", err, firstLines(sc.Text(), 1))
		}
		name, isSub := strings.CutPrefix(ev.Test, prefix)
		switch {
		case ev.Action == "build-fail":
			res.broken = append(res.broken, ev.ImportPath+": build failed")
		case ev.Action == "build-output":
			res.broken = append(res.broken, "  "+strings.TrimRight(ev.Output, "\n"))
		case ev.Action == "output" && isSub:
			line := strings.TrimRight(ev.Output, "\n")
			switch {
			case logPrefix.MatchString(line):
				logs[name] = append(logs[name], logPrefix.ReplaceAllString(line, ""))
			case !strings.HasPrefix(strings.TrimSpace(line), "=== ") && !strings.HasPrefix(strings.TrimSpace(line), "--- "):
				other[name] = append(other[name], strings.TrimSpace(line)) // a panic, say
			}
		case ev.Action == "pass" && isSub:
			res.passed[name] = true
		case ev.Action == "skip" && isSub:
			res.skipped[name] = true
		case ev.Action == "fail" && isSub:
			msg := logs[name]
			if len(msg) == 0 {
				msg = other[name][:min(len(other[name]), 3)]
			}
			res.failed[name] = strings.Join(msg, "; ")
			failedTests[ev.Package] = true
		case ev.Action == "fail" && ev.Test == "" && !failedTests[ev.Package]:
			// A package failing with no failed subtest: a panic, a build
			// failure or a broken test function.
			res.broken = append(res.broken, ev.Package+": failed outside the documented-answers subtests")
		}
	}
	return res, sc.Err()
}

// TestReadTestJSON reads a hand-written go test -json stream: passes,
// skips, a failure with its message, a nested iterator walk, a panic, and
// a package that did not build.
func TestReadTestJSON(t *testing.T) {
	stream := `{"Action":"start","Package":"m/gen/crm"}
{"Action":"run","Package":"m/gen/crm","Test":"TestDocumentedAnswers"}
{"Action":"output","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.get","Output":"=== RUN   TestDocumentedAnswers/crm.deal.get\n"}
{"Action":"pass","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.get"}
{"Action":"output","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.add","Output":"    documented_test.go:20: b24: crm.deal.add: decoding the result: bad\n"}
{"Action":"output","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.add","Output":"--- FAIL: TestDocumentedAnswers/crm.deal.add (0.00s)\n"}
{"Action":"fail","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.add"}
{"Action":"skip","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.delete"}
{"Action":"pass","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.list/all"}
{"Action":"pass","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.list"}
{"Action":"output","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.update","Output":"panic: boom\n"}
{"Action":"fail","Package":"m/gen/crm","Test":"TestDocumentedAnswers/crm.deal.update"}
{"Action":"fail","Package":"m/gen/crm","Test":"TestDocumentedAnswers"}
{"Action":"fail","Package":"m/gen/crm"}
{"ImportPath":"m/gen/rpa_test [m/gen/rpa.test]","Action":"build-output","Output":"gen/rpa/documented_test.go:14:2: declared and not used: c\n"}
{"ImportPath":"m/gen/rpa_test [m/gen/rpa.test]","Action":"build-fail"}
{"Action":"fail","Package":"m/gen/rpa"}
{"Action":"fail","Package":"m/gen/user"}
`
	res, err := readTestJSON([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	want := &docTestRun{
		passed:  map[string]bool{"crm.deal.get": true, "crm.deal.list": true, "crm.deal.list/all": true},
		skipped: map[string]bool{"crm.deal.delete": true},
		failed: map[string]string{
			"crm.deal.add":    "b24: crm.deal.add: decoding the result: bad",
			"crm.deal.update": "panic: boom",
		},
		broken: []string{
			"  gen/rpa/documented_test.go:14:2: declared and not used: c",
			"m/gen/rpa_test [m/gen/rpa.test]: build failed",
			"m/gen/rpa: failed outside the documented-answers subtests",
			"m/gen/user: failed outside the documented-answers subtests",
		},
	}
	if diff := cmp.Diff(want, res, cmp.AllowUnexported(docTestRun{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := readTestJSON([]byte("not json\n")); err == nil {
		t.Error("a stream that is not JSON read without an error")
	}
}

// editMissesFile lists the entities whose edit test (emit.EditTestName)
// fails or skips, with the reason; editFloor is the measured number that pass.
const (
	editMissesFile = "testdata/edit_misses.txt"
	editFloor      = 96
)

// editFullRun is issue 19's proof of edit and send back, over the module
// TestDocumentedAnswersFull generated: every entity with a write form reads
// a value, takes Input(), changes one field and sends the update; the
// request b24test records must carry that field alone.
func editFullRun(t *testing.T, goBin, dir string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "-vet=off", "-timeout=5m", "-run", "^"+emit.EditTestName+"$", "./gen/...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	t.Logf("go test -run %s ./gen/...: %v", emit.EditTestName, time.Since(start))
	res, err := readTestRun(out, emit.EditTestName)
	if err != nil {
		t.Fatalf("reading go test -json: %v\n%s", err, firstLines(stderr.String(), 40))
	}
	if len(res.broken) > 0 {
		t.Fatalf("edit tests that did not build or run (go test: %v):\n%s\n%s", runErr,
			strings.Join(res.broken, "\n"), firstLines(stderr.String(), 40))
	}
	var misses []string
	for name, msg := range res.failed {
		misses = append(misses, name+": "+msg)
	}
	for name := range res.skipped {
		misses = append(misses, name+": skipped")
	}
	slices.Sort(misses)
	pass := len(res.passed)
	all := pass + len(res.failed) + len(res.skipped)
	t.Logf("edit and send back: %d of %d entities with a write form send exactly the changed field", pass, all)
	text := fmt.Sprintf("# Entities with a write form whose edit test (Input() of a read value, one field changed,\n"+
		"# the update sent to b24test) does not send exactly that field. Written by TestDocumentedAnswersFull; do not edit.\n"+
		"# %d entities with a write form: %d pass.\n", all, pass)
	for _, m := range misses {
		text += m + "\n"
	}
	if err := os.WriteFile(editMissesFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if all == 0 || pass < editFloor {
		t.Errorf("edit and send back: %d of %d entities pass, want ≥ %d (see %s)", pass, all, editFloor, editMissesFile)
	}
}
