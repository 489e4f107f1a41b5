package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/tools/go/packages"
)

// llms.txt tells coding assistants which names to use; a name it gives
// that the tree does not declare would send them astray. Every pkg.Name in
// its code spans must exist in the generated package it names.
func TestLLMSTxtNamesExist(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the type-check of the packages llms.txt names")
	}
	data, err := os.ReadFile(filepath.Join("..", "llms.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`\b(crm|tasks|user|events|b24|b24test|landing)\.([A-Z][A-Za-z0-9]*)`)
	wanted := map[string][]string{}
	for _, span := range regexp.MustCompile("`[^`]*`").FindAll(data, -1) {
		for _, m := range ref.FindAllSubmatch(span, -1) {
			wanted[string(m[1])] = append(wanted[string(m[1])], string(m[2]))
		}
	}
	if len(wanted) < 5 {
		t.Fatalf("found names of %d packages in llms.txt: the pattern is broken", len(wanted))
	}
	var patterns []string
	for pkg := range wanted {
		patterns = append(patterns, generatedPath+pkg)
	}
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedTypes, Dir: ".."}, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			t.Fatalf("%s: %v", p.PkgPath, p.Errors)
		}
		for _, name := range wanted[p.Name] {
			if p.Types.Scope().Lookup(name) == nil {
				t.Errorf("llms.txt names %s.%s, which %s does not declare", p.Name, name, p.PkgPath)
			}
		}
	}
}
