package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/b24gen/b24gen/generator"
	"github.com/b24gen/b24gen/generator/extract"
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
	pkg := fs.String("pkg", defaultImportPath, "import path of the output directory")
	scopes := fs.String("scopes", "", "comma-separated scopes to generate (default: all)")
	docTests := fs.Bool("doctests", false, "also write a test per package that calls every method against the fake portal's documented answers")
	verbose := fs.Bool("v", false, "print every problem, not only the counts")
	if err := parseFlags(fs, args); err != nil {
		return err
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
	printProblems(stderr, rep.Problems, *verbose)
	fmt.Fprintf(stdout, "b24gen: %d methods in %d files written to %s\n", rep.Methods, rep.Files, *out)
	return nil
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
