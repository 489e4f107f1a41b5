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
