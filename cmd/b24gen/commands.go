package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/generator"
	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/generator/model"
	"github.com/b24gen/b24gen/spec"
)

func runExtract(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("extract", stderr)
	docs := fs.String("docs", "", "docs checkout (the directory holding api-reference/)")
	out := fs.String("o", "", "write the spec to this file instead of stdout")
	verbose := fs.Bool("v", false, "print every problem, not only the counts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *docs == "" {
		return usageError{"-docs is required"}
	}
	s, err := extract.Dir(*docs, extract.Options{})
	if err != nil {
		return err
	}
	printProblems(stderr, s.Problems, *verbose)
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	return writeFileAtomic(*out, data)
}

// defaultImportPath is the import path of this repository's generated/.
const defaultImportPath = "github.com/b24gen/b24gen/generated"

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("generate", stderr)
	specPath := fs.String("spec", "", "spec JSON file (default: the embedded spec)")
	docs := fs.String("docs", "", "docs checkout to extract from instead of a spec")
	out := fs.String("out", "generated", "output directory")
	pkg := fs.String("pkg", "", "import path of the output directory (default: the module path of the go.mod above -out, joined with -out's path below it)")
	scopes := fs.String("scopes", "", "comma-separated permission scopes: keep the methods whose pages list any of them (default: all);\n"+
		"a method of another package that needs one of them comes along (crm brings userfieldconfig.* and sign.b2e.*), and a note names it")
	docTests := fs.Bool("doctests", false, "also write a test per package that calls every method against the fake portal's documented answers")
	verbose := fs.Bool("v", false, "list every problem met in the docs, not only their number")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pkg == "" {
		inferred, modFile, err := inferImportPath(*out)
		if err != nil {
			return err
		}
		*pkg = inferred
		if inferred != defaultImportPath {
			fmt.Fprintf(stderr, "b24gen: import path %s, from the module of %s (-pkg sets another)\n", inferred, modFile)
		}
	}
	s, err := loadSpec(*specPath, *docs)
	if err != nil {
		return err
	}
	rep, err := generator.Generate(s, generator.Options{
		OutDir:     *out,
		ImportPath: *pkg,
		Scopes:     splitList(*scopes),
		DocTests:   *docTests,
	})
	if err != nil {
		return err
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stderr, "b24gen: %s\n", n)
	}
	if note := scopeNote(s, splitList(*scopes)); note != "" {
		fmt.Fprintf(stderr, "b24gen: %s\n", note)
	}
	if *verbose {
		printProblems(stderr, rep.Problems, true)
	}
	fmt.Fprintf(stdout, "b24gen: %d methods in %d files written to %s%s\n", rep.Methods, rep.Files, *out, problemSummary(len(rep.Problems), *verbose))
	return nil
}

// inferImportPath finds the import path of the output directory: the
// module path in the nearest go.mod at or above out, joined with out's
// path below that go.mod's directory. Outside any module it stops with an
// error that asks for -pkg, so a tree is never bound to another module's
// path (this repository's, say) by default.
func inferImportPath(out string) (importPath, modFile string, err error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", "", err
	}
	for dir := abs; ; {
		modFile = filepath.Join(dir, "go.mod")
		data, err := os.ReadFile(modFile)
		if err == nil {
			mod := modulePath(data)
			if mod == "" {
				return "", "", fmt.Errorf("%s has no module line: give the output's import path with -pkg", modFile)
			}
			rel, err := filepath.Rel(dir, abs)
			if err != nil {
				return "", "", err
			}
			return path.Join(mod, filepath.ToSlash(rel)), modFile, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", usageError{fmt.Sprintf("-out %s is in no Go module (no go.mod in it or above it): give the output's import path with -pkg, such as -pkg example.com/myapp/bitrix", out)}
		}
		dir = parent
	}
}

// modulePath reads the module line of a go.mod ("module example.com/m",
// possibly quoted, possibly with a comment); "" when there is none.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}

// problemSummary is the tail of generate's one line: the problems are what
// the docs got wrong and the generator worked around, not a failure, and
// their number is the one `b24gen report` prints.
func problemSummary(n int, verbose bool) string {
	switch {
	case n == 0:
		return ""
	case verbose:
		return fmt.Sprintf("; %d problems in the docs worked around (listed above)", n)
	}
	return fmt.Sprintf("; %d problems in the docs worked around (b24gen report counts them by kind, -v lists them)", n)
}

// scopeNote names the packages -scopes brought in beyond the scopes' own
// names: -scopes selects by the permission a method needs, and a page such
// as userfieldconfig.add lists crm among its scopes. Empty without -scopes.
func scopeNote(s *spec.Spec, scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	named := map[string]bool{}
	for _, sc := range scopes {
		named[model.PackageName(strings.ToLower(sc)+".x")] = true
	}
	extra := map[string]int{}
	for i := range s.Methods {
		m := &s.Methods[i]
		pkg := model.PackageName(m.Name)
		if named[pkg] || !hasScope(m.Scopes, scopes) {
			continue
		}
		extra[pkg]++
	}
	if len(extra) == 0 {
		return ""
	}
	var parts []string
	for _, pkg := range slices.Sorted(maps.Keys(extra)) {
		parts = append(parts, fmt.Sprintf("%s (%d)", pkg, extra[pkg]))
	}
	return fmt.Sprintf("-scopes %s also generated %s: their methods need one of these scopes (methods per package in brackets)",
		strings.Join(scopes, ","), strings.Join(parts, ", "))
}

func hasScope(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(w)) {
				return true
			}
		}
	}
	return false
}

func runDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", stderr)
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError{"diff needs two arguments: OLD NEW"}
	}
	old, err := loadEither(fs.Arg(0))
	if err != nil {
		return err
	}
	new, err := loadEither(fs.Arg(1))
	if err != nil {
		return err
	}
	changes := spec.Diff(old, new)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if changes == nil {
			changes = []spec.Change{}
		}
		return enc.Encode(changes)
	}
	return spec.WriteChangelog(stdout, changes)
}

// loadSpec picks the spec source: -docs extracts, -spec loads a file, and
// neither means the spec embedded in the binary.
func loadSpec(specPath, docs string) (*spec.Spec, error) {
	switch {
	case specPath != "" && docs != "":
		return nil, usageError{"-spec and -docs are mutually exclusive"}
	case docs != "":
		return extract.Dir(docs, extract.Options{})
	case specPath != "":
		return spec.Load(specPath)
	default:
		return spec.Embedded()
	}
}

// loadEither reads a spec file, or extracts a docs directory.
func loadEither(path string) (*spec.Spec, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return extract.Dir(path, extract.Options{})
	}
	return spec.Load(path)
}

// printProblems prints a count per kind, or every problem when verbose.
func printProblems(w io.Writer, problems []spec.Problem, verbose bool) {
	if len(problems) == 0 {
		return
	}
	if verbose {
		for _, p := range problems {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	byKind := problemCounts(problems)
	fmt.Fprintf(w, "%d problems (-v lists them):", len(problems))
	for _, kc := range byKind {
		fmt.Fprintf(w, " %s %d;", kc.Kind, kc.Count)
	}
	fmt.Fprintln(w)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// writeFileAtomic writes through a temporary file in the same directory
// and renames it into place, so a failed run never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
