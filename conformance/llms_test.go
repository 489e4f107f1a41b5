package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// llmsImports are the packages llms.txt's go blocks may use; the wrapper
// imports them all and keeps each used.
var llmsImports = []struct{ path, use string }{
	{"context", "context.Background"},
	{"errors", "errors.Is"},
	{"fmt", "fmt.Println"},
	{"os", "os.Getenv"},
	{"testing", "testing.Short"},
	{generatedPath + "b24", "b24.Some[int]"},
	{generatedPath + "b24test", "b24test.Start"},
	{generatedPath + "crm", "crm.ItemGet"},
	{generatedPath + "tasks", "tasks.TaskGet"},
	{generatedPath + "user", "user.Current"},
	{generatedPath + "events", "events.NewReceiver"},
}

// Every go block of llms.txt compiles: each is a function body, put in a
// function with ctx, client and t in scope and type-checked against the
// generated packages. An error points at the line of llms.txt (a //line
// directive), and a statement left in an inline code span, where nothing
// checks it, fails the test too.
func TestLLMSTxtSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the type-check of llms.txt's go blocks")
	}
	data, err := os.ReadFile(filepath.Join("..", "llms.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("package conformance\n\nimport (\n")
	for _, imp := range llmsImports {
		fmt.Fprintf(&src, "\t%q\n", imp.path)
	}
	src.WriteString(")\n\nvar (\n")
	for _, imp := range llmsImports {
		fmt.Fprintf(&src, "\t_ = %s\n", imp.use)
	}
	src.WriteString(")\n")
	blocks := 0
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```go" {
			if strings.Contains(lines[i], "```") {
				continue
			}
			for _, span := range regexp.MustCompile("`[^`]*`").FindAllString(lines[i], -1) {
				if strings.Contains(span, ":=") || regexp.MustCompile(`\berr = `).MatchString(span) {
					t.Errorf("llms.txt:%d: the statement %s is in an inline code span, which nothing type-checks; put it in a go block", i+1, span)
				}
			}
			continue
		}
		blocks++
		fmt.Fprintf(&src, "\nfunc llmsSnippet%d(ctx context.Context, client *b24.Client, t *testing.T) error {\n//line llms.txt:%d\n", blocks, i+2)
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			src.WriteString(lines[i] + "\n")
		}
		src.WriteString("\treturn nil\n}\n")
	}
	if blocks < 8 {
		t.Fatalf("llms.txt has %d go blocks; the test reads ```go ... ``` fences", blocks)
	}
	// The wrapper is the only non-test file of package conformance, given
	// to go/packages as an overlay: the generated packages are imported as
	// a user's program imports them.
	file, err := filepath.Abs("llms_snippets.go")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := packages.Load(&packages.Config{
		Mode:    packages.NeedName | packages.NeedTypes | packages.NeedSyntax,
		Dir:     ".",
		Overlay: map[string][]byte{file: []byte(src.String())},
	}, "file="+file)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 {
		t.Fatalf("loaded %d packages for the snippets", len(pkgs))
	}
	for _, e := range pkgs[0].Errors {
		t.Errorf("%s", e)
	}
}
