package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24test"
)

// The module is not published, so a user's program depends on a clone of
// it through a replace directive or a go.work file, as the README says.
// TestTourBuildsInItsOwnModule does exactly that with the README's tour
// (conformance/tour) in a temporary module beside nothing, both ways, and
// runs the program against the fake portal. Only the local module is
// used: GOPROXY=off proves the tour needs nothing from the network.
func TestTourBuildsInItsOwnModule(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("tour", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	gocmd := func(dir string, env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"GOTOOLCHAIN=local", "GOFLAGS=", "GOPROXY=off"}, env...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	newModule := func() string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/tour\n\ngo 1.26.0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}

	// The README's first way: require + replace, then tidy and build.
	withReplace := newModule()
	off := []string{"GOWORK=off"}
	gocmd(withReplace, off, "mod", "edit", "-require=github.com/b24gen/b24gen@v0.0.0", "-replace=github.com/b24gen/b24gen="+root)
	gocmd(withReplace, off, "mod", "tidy")
	gocmd(withReplace, off, "vet", ".")
	gocmd(withReplace, off, "build", "-o", "tour", ".")

	// The second: a workspace holding the program and the clone.
	withWork := newModule()
	gocmd(withWork, []string{"GOWORK="}, "work", "init", ".", root)
	gocmd(withWork, []string{"GOWORK="}, "build", "-o", "tour", ".")

	// The generator as a tool of the user's module (go get -tool needs a
	// published version): generate a scope into the module and build it.
	// go.sum is seeded from this repository's, which holds the hashes of
	// the generator's own dependencies, so tidy needs no checksum lookup.
	// (-short leaves it out: it builds the generator.)
	if !testing.Short() {
		sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(withReplace, "go.sum"), sum, 0o644); err != nil {
			t.Fatal(err)
		}
		gocmd(withReplace, off, "mod", "edit", "-tool=github.com/b24gen/b24gen/cmd/b24gen")
		gocmd(withReplace, off, "mod", "tidy")
		gocmd(withReplace, off, "tool", "b24gen", "generate", "-out", "bitrix", "-pkg", "example.com/tour/bitrix", "-scopes", "user")
		gocmd(withReplace, off, "vet", "./bitrix/...")
		if _, err := os.Stat(filepath.Join(withReplace, "bitrix", "user", "doc.go")); err != nil {
			t.Errorf("go tool b24gen generate -scopes user wrote no package user: %v", err)
		}
	}

	// Against the fake b24gen fake serves (records seeded from the docs'
	// examples, missing records answered as documented), twice: the
	// second run sees the deal the first one added.
	fake := b24test.NewPortal(t, b24test.WithState(), b24test.WithDocumentedAnswers())
	for run, want := range []string{
		"deal: 410 New Deal #1 1000000 EUR PREPARATION\nadded: 411\nbatch: 84 Vadim\nwon deals over 1000: 1 worth 5000\ndeal 999999: not found\n",
		"deal: 410 New Deal #1 1000000 EUR PREPARATION\nadded: 412\nbatch: 84 Vadim\nwon deals over 1000: 2 worth 10000\ndeal 999999: not found\n",
	} {
		if got := runTourOn(t, filepath.Join(withWork, "tour"), fake); got != want {
			t.Errorf("run %d against the stateful fake printed\n%s\nwant\n%s", run+1, got, want)
		}
	}

	for _, dir := range []string{withReplace, withWork} {
		got := runTour(t, filepath.Join(dir, "tour"))
		want := "deal: 410 Big deal 150000 USD NEW\n" +
			"added: 342\n" +
			"batch: 43 John\n" +
			"won deals over 1000: 2 worth 7000\n" +
			"deal 999999: not found\n"
		if got != want {
			t.Errorf("%s printed\n%s\nwant\n%s", dir, got, want)
		}
	}
}

// runTour runs the built tour against a fake portal: the deal and contact
// it reads, a list to export, the documented answers for the rest.
func runTour(t *testing.T, bin string) string {
	t.Helper()
	p := b24test.NewPortal(t, b24test.WithDocumentedAnswers())
	records := map[string]map[string]any{
		"2/410": {"id": 410, "title": "Big deal", "opportunity": "150000.00", "currencyId": "USD", "stageId": "NEW", "contactId": 43},
		"3/43":  {"id": 43, "name": "Anna"},
	}
	p.Handle("crm.item.get", func(params map[string]any) (any, error) {
		typ, _ := b24test.Int(params, "entityTypeId")
		id, _ := b24test.Int(params, "id")
		if r, ok := records[fmt.Sprint(typ, "/", id)]; ok {
			return map[string]any{"item": r}, nil
		}
		return nil, b24test.Errorf(400, "NOT_FOUND", "Element not found")
	})
	p.ServeList("crm.item.list", []map[string]any{
		{"id": 1, "title": "won small", "stageId": "WON", "opportunity": 900},
		{"id": 2, "title": "won", "stageId": "WON", "opportunity": 2000},
		{"id": 3, "title": "lost", "stageId": "LOSE", "opportunity": 8000},
		{"id": 4, "title": "won big", "stageId": "WON", "opportunity": 5000},
	}, b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	return runTourOn(t, bin, p)
}

// runTourOn runs the built tour against p and returns what it printed.
func runTourOn(t *testing.T, bin string, p *b24test.Portal) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "B24_WEBHOOK="+p.WebhookURL())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the tour failed: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// The custom field went out with the update, beside the typed one.
	sent := false
	for _, c := range p.Calls() {
		if c.Method == "crm.item.update" {
			f := b24test.Map(c.Params, "fields")
			sent = b24test.Str(f, "ufCrm_1_Source") == "README tour" && b24test.Str(f, "stageId") == "WON"
		}
	}
	if !sent {
		t.Errorf("crm.item.update did not send stageId and ufCrm_1_Source: %+v", p.Calls())
	}
	if strings.Contains(stdout.String()+stderr.String(), b24test.Secret) {
		t.Error("the tour printed the webhook secret")
	}
	return stdout.String()
}
