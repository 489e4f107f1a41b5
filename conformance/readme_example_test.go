package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's tour is conformance/tour/main.go, shown from its package
// clause on: TestTourBuildsInItsOwnModule builds and runs that file, so the
// README may only show it as it is.
func TestReadmeShowsTheTour(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("tour", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	tour := string(src[strings.Index(string(src), "package main"):])
	if !strings.Contains(string(readme), "```go\n"+tour+"```\n") {
		t.Errorf("README.md does not show conformance/tour/main.go (from \"package main\" on) in a go block; paste it again")
	}
	// The tour is on the current API: the deprecated per-entity methods
	// (crm.deal.*) stay out of the README's code.
	for _, old := range []string{"crm.DealGet", "crm.DealAdd", "crm.DealList", "crm.ContactGet"} {
		if strings.Contains(string(readme), old) {
			t.Errorf("README.md still shows %s; the current API is crm.Item* with an entityTypeId", old)
		}
	}
}

// The b24 overview (what go doc and pkgsite show first) introduces each way
// in, webhooks, applications, REST 3.0, the receiver and the fake, and
// shows calls on current methods only.
func TestB24OverviewIntroducesEveryWayIn(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "templates", "b24", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	for _, want := range []string{"# Webhooks", "NewWebhookClient(", "# Applications", "NewApp(", "App.Client", "# REST 3.0", "TaskAddV3(",
		"WithIdempotencyKey(", "# Events", "NewReceiver(", "# Testing without a portal", "b24test.WithState()", "b24gen fake", "go test -run Example -v"} {
		if !strings.Contains(doc, want) {
			t.Errorf("templates/b24/doc.go does not mention %s", want)
		}
	}
	for _, old := range []string{"crm.Deal", "crm.Contact", `"crm.deal.`, `"crm.contact.`} {
		if strings.Contains(doc, old) {
			t.Errorf("templates/b24/doc.go still shows the deprecated %s", old)
		}
	}
}
