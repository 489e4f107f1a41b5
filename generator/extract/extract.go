// Package extract reads the Bitrix24 REST API reference — Markdown in the
// Diplodoc/YFM dialect — and returns it as a spec.Spec.
//
// A page is read in three steps: the YFM directives that change which lines
// the page is made of ({% include %}, {% if %}) are resolved at line level
// (preprocess.go); goldmark, with our block parsers for #| … |# tables and
// {% … %} directives, turns the result into a flat list of blocks
// (blocks.go); the page analysis (page.go) finds the method or events on it
// from the structure — the H1's method name, the scope blockquote, the shape
// of the tables, the code-example tabs and the JSON examples — never from
// English prose, so other language editions read the same way.
//
// Every problem is reported with its file and line and the run goes on.
package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/b24gen/b24gen/spec"
)

// Options tune Dir. The output does not depend on them.
type Options struct {
	// Workers is the number of pages read in parallel; 0 means GOMAXPROCS.
	Workers int
}

// Dir reads a docs checkout (the directory holding api-reference/,
// _includes/ and SOURCE.txt) and returns its spec, sorted: methods by name
// then version, events by name, problems by file and line. The source
// language is SOURCE.txt's "language:", else "ru" when most method titles
// are Cyrillic, else "en". A page or directory that cannot be read becomes
// a problem; Dir fails when root itself is unusable or holds no method
// page at all.
func Dir(root string, opt Options) (*spec.Spec, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("docs directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("docs directory %s: not a directory", root)
	}
	var pages []string
	var unreadable []spec.Problem
	err = fs.WalkDir(docsFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			// A directory that cannot be listed: its pages are missing
			// from the spec, which the problem says.
			unreadable = append(unreadable, spec.Problem{File: p, Kind: "unreadable", Message: "directory not read, its pages are missing: " + pathError(err)})
			return nil
		}
		if d.IsDir() {
			if name := d.Name(); p != "." && (strings.HasPrefix(name, ".") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("docs directory %s: %w", root, err)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("docs directory %s: no Markdown pages under it%s; is it the docs root (the directory holding api-reference/)?", root, unreadableNote(unreadable))
	}
	sort.Strings(pages)

	source, langDeclared := readSource(root)
	s := &spec.Spec{Source: source, Methods: []spec.Method{}, Events: []spec.Event{}, Stats: &spec.Stats{}}
	inc := newIncludeCache(root)

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		res      *PageResult
		problems []spec.Problem
	}
	results := make([]result, len(pages))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(pages) {
					return
				}
				p := pages[i]
				src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
				if err != nil {
					results[i] = result{problems: []spec.Problem{{File: p, Kind: "unreadable-page", Message: pathError(err)}}}
					continue
				}
				res, probs := Page(p, src, inc.get)
				results[i] = result{res, probs}
			}
		}()
	}
	wg.Wait()

	for _, r := range results {
		s.Problems = append(s.Problems, r.problems...)
		if r.res == nil {
			continue
		}
		s.Methods = append(s.Methods, r.res.Methods...)
		s.Events = append(s.Events, r.res.Events...)
		s.Objects = append(s.Objects, r.res.Objects...)
		addStats(s.Stats, r.res.Stats)
	}
	s.Problems = append(s.Problems, unreadable...)
	s.Problems = append(s.Problems, dedupe(s)...)
	s.Objects = append(s.Objects, linkedObjects(root, s, inc)...)
	sortProblems(s.Problems) // dedupe sorted the rest and keeps its order
	if len(s.Methods) == 0 {
		// An empty spec would replace a good one (extract -o) or
		// generate nothing: this is not the docs tree.
		return nil, fmt.Errorf("docs directory %s: no method pages among its %d Markdown pages%s; is it the docs root (the directory holding api-reference/)?", root, len(pages), unreadableNote(unreadable))
	}
	if !langDeclared && mostlyCyrillic(s.Methods) {
		s.Source.Language = "ru" // the original edition, without a SOURCE.txt saying so
	}
	return s, nil
}

// docsFS opens the docs tree for the walk; tests replace it, since
// permissions do not make a directory unreadable to root.
var docsFS = func(root string) fs.FS { return os.DirFS(root) }

// unreadableNote names the directories that could not be listed, for an
// error saying no pages were found.
func unreadableNote(probs []spec.Problem) string {
	switch len(probs) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (directory %s could not be read: %s)", probs[0].File, strings.TrimPrefix(probs[0].Message, "directory not read, its pages are missing: "))
	}
	return fmt.Sprintf(" (%d directories could not be read, %s first)", len(probs), probs[0].File)
}

// mostlyCyrillic reports whether most method titles are written in Cyrillic.
func mostlyCyrillic(ms []spec.Method) bool {
	n := 0
	for _, m := range ms {
		for _, r := range m.Title {
			if unicode.Is(unicode.Cyrillic, r) {
				n++
				break
			}
		}
	}
	return len(ms) > 0 && n*2 > len(ms)
}

// dedupe keeps the first record of each method key and event name (pages are
// read in path order) and reports the others.
func dedupe(s *spec.Spec) []spec.Problem {
	var probs []spec.Problem
	sortSpec(s)
	ms := s.Methods[:0]
	for i, m := range s.Methods {
		if i > 0 && s.Methods[i-1].Key() == m.Key() {
			prev := ms[len(ms)-1]
			probs = append(probs, spec.Problem{File: m.Page, Line: m.Line, Kind: "duplicate",
				Message: fmt.Sprintf("%s (REST %d) is also documented by %s; keeping that page", m.Name, m.Version, prev.Page)})
			continue
		}
		ms = append(ms, m)
	}
	s.Methods = ms
	// Of two pages documenting one event, keep the one that describes the
	// payload best (a page mentioning the event in passing has no table).
	es := s.Events[:0]
	for i, e := range s.Events {
		if i > 0 && s.Events[i-1].Name == e.Name {
			prev := &es[len(es)-1]
			kept, dropped := *prev, e
			if eventWeight(e) > eventWeight(*prev) {
				kept, dropped = e, *prev
			}
			*prev = kept
			probs = append(probs, spec.Problem{File: dropped.Page, Line: dropped.Line, Kind: "duplicate",
				Message: fmt.Sprintf("event %s is also documented by %s; keeping that page", e.Name, kept.Page)})
			continue
		}
		es = append(es, e)
	}
	s.Events = es
	return probs
}

func eventWeight(e spec.Event) int {
	w := len(e.Fields)
	if len(e.Example) > 0 {
		w++
	}
	return w
}

func sortSpec(s *spec.Spec) {
	sort.SliceStable(s.Methods, func(i, j int) bool {
		a, b := s.Methods[i], s.Methods[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Page < b.Page
	})
	sort.SliceStable(s.Events, func(i, j int) bool {
		a, b := s.Events[i], s.Events[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Page < b.Page
	})
	sortProblems(s.Problems)
}

func addStats(dst *spec.Stats, s spec.Stats) {
	dst.Pages += s.Pages
	dst.MethodPages += s.MethodPages
	dst.EventPages += s.EventPages
	dst.Rows += s.Rows
	dst.RowsTyped += s.RowsTyped
	dst.RequiredFlags += s.RequiredFlags
	dst.Anchors += s.Anchors
	dst.AnchorsResolved += s.AnchorsResolved
	dst.ResponseExamples += s.ResponseExamples
	dst.ExamplesParsed += s.ExamplesParsed
	dst.ErrorTables += s.ErrorTables
}

// readSource reads SOURCE.txt ("repository:", "commit:", optional
// "language:" lines). The language is "en" unless the file says otherwise;
// langDeclared tells whether it has a language line at all (even empty).
func readSource(root string) (src spec.Source, langDeclared bool) {
	src = spec.Source{Language: "en"}
	data, err := os.ReadFile(filepath.Join(root, "SOURCE.txt"))
	if err != nil {
		return src, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(strings.ToLower(k)) {
		case "repository":
			src.Repository = v
		case "commit":
			src.Commit = v
		case "language", "lang":
			langDeclared = true
			if v != "" {
				src.Language = v
			}
		}
	}
	return src, langDeclared
}

// includeCache reads each included file once for all workers.
type includeCache struct {
	root string
	mu   sync.Mutex
	m    map[string]includeEntry
}

type includeEntry struct {
	data []byte
	err  error
}

func newIncludeCache(root string) *includeCache {
	return &includeCache{root: root, m: map[string]includeEntry{}}
}

func (c *includeCache) get(p string) ([]byte, error) {
	c.mu.Lock()
	e, ok := c.m[p]
	c.mu.Unlock()
	if ok {
		return e.data, e.err
	}
	if strings.HasPrefix(p, "..") || filepath.IsAbs(p) {
		e.err = errors.New("outside the docs directory")
	} else {
		e.data, e.err = os.ReadFile(filepath.Join(c.root, filepath.FromSlash(p)))
		if e.err != nil {
			e.err = errors.New(pathError(e.err))
		}
	}
	c.mu.Lock()
	c.m[p] = e
	c.mu.Unlock()
	return e.data, e.err
}

// pathError describes a file error without the machine's absolute path.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
