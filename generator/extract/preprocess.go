package extract

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The YFM directives that change which lines a page is made of — includes and
// conditional blocks — are resolved here, at line level, before goldmark sees
// the page. Everything else ({% note %}, {% list tabs %}, {% cut %}) is left
// in place for the block parser.
//
// Every output line remembers the page line it came from, so problems found
// later name the line a reader can open: an included line maps to the line of
// its {% include %} directive.

// maxIncludeDepth bounds nested includes; the corpus nests at most twice.
const maxIncludeDepth = 8

// maxPageBytes bounds a page after includes are inlined: a page including
// several files that each include several others grows exponentially. The
// largest page of the corpus is about 1 MB with its includes.
const maxPageBytes = 4 << 20

// maxIncludes bounds the include directives expanded for one page (the
// corpus needs at most a handful).
const maxIncludes = 64

var (
	includeRe = regexp.MustCompile(`^(\s*)\{%\s*include\s+(notitle\s+)?\[[^\]]*\]\(([^)\s]+)\)\s*%\}\s*$`)
	ifRe      = regexp.MustCompile(`^\s*\{%\s*if\s+(.*?)\s*%\}\s*$`)
	endifRe   = regexp.MustCompile(`^\s*\{%\s*endif\s*%\}\s*$`)
)

// preprocessed is a page after includes and conditionals are resolved.
type preprocessed struct {
	src      []byte
	lines    []int  // lines[i] is the page line (1-based) of output line i
	included []bool // included[i]: output line i came from an include
}

type preprocessor struct {
	page     string
	includes func(string) ([]byte, error)
	problems []spec.Problem
	out      bytes.Buffer
	lines    []int
	included []bool
	expanded int // include directives expanded so far
}

func preprocess(page string, src []byte, includes func(string) ([]byte, error)) (preprocessed, []spec.Problem) {
	p := &preprocessor{page: page, includes: includes}
	n := bytes.Count(src, []byte{'\n'}) + 1
	p.out.Grow(len(src) + len(src)/4)
	p.lines = make([]int, 0, n+n/4)
	p.included = make([]bool, 0, n+n/4)
	p.expand(page, src, "", 0, nil, false, 0)
	return preprocessed{src: p.out.Bytes(), lines: p.lines, included: p.included}, p.problems
}

// expand appends file's lines to the output. pageLine, when non-zero, is the
// page line every output line maps to (we are inside an include); indent is
// prepended to every line so an include inside a list item stays inside it.
func (p *preprocessor) expand(file string, src []byte, indent string, pageLine int, stack []string, notitle bool, depth int) {
	lines := splitLines(src)
	skipDepth := 0    // >0 while inside a dropped {% if %} block
	var ifKeep []bool // per open {% if %}: whether its content is kept
	firstIfLine := 0  // page line of the outermost open {% if %}
	titleDropped := !notitle
	inFence := false
	var tableIndent []int // indentation of each open #| table
	refs := linkDefinitions(lines)
	for i, line := range lines {
		lineNo := i + 1
		at := pageLine
		if at == 0 {
			at = lineNo
		}
		trimmed := strings.TrimSpace(line)
		if isFence(trimmed) {
			inFence = !inFence
		}
		directive := strings.Contains(line, "{%")
		if !inFence && directive {
			if m := ifRe.FindStringSubmatch(line); m != nil {
				keep := !devOnly(m[1])
				if len(ifKeep) == 0 {
					firstIfLine = at
				}
				ifKeep = append(ifKeep, keep)
				if !keep {
					skipDepth++
				}
				continue
			}
			if n := len(ifKeep); n > 0 && endifRe.MatchString(line) {
				if !ifKeep[n-1] {
					skipDepth--
				}
				ifKeep = ifKeep[:n-1]
				continue
			}
		}
		if skipDepth > 0 {
			continue
		}
		if !titleDropped && strings.HasPrefix(trimmed, "#") && !strings.HasPrefix(trimmed, "#|") {
			// notitle: the included file's first heading is not shown.
			titleDropped = true
			continue
		}
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			titleDropped = true // the file has no leading title
		}
		// A table indented into a list item sometimes has a line that is
		// not ("lazy"); Markdown would end the list item there and cut the
		// table. Indent such lines like the table's opening line.
		unindented := strings.TrimLeft(line, " ")
		spaces := len(line) - len(unindented)
		if !inFence && strings.HasPrefix(trimmed, "#|") {
			tableIndent = append(tableIndent, spaces)
		}
		if n := len(tableIndent); n > 0 && trimmed != "" {
			if want := tableIndent[n-1]; want > 0 && spaces < want && !strings.HasPrefix(line, "\t") {
				line = strings.Repeat(" ", want) + unindented
			}
		}
		if !inFence && strings.HasSuffix(trimmed, "|#") && len(tableIndent) > 0 {
			tableIndent = tableIndent[:len(tableIndent)-1]
		}
		if !inFence && directive {
			if m := includeRe.FindStringSubmatch(line); m != nil {
				p.include(file, m[3], indent+m[1], at, stack, m[2] != "", depth)
				continue
			}
		}
		if len(refs) > 0 && !inFence {
			line = inlineRefLinks(line, refs)
		}
		p.out.WriteString(indent)
		p.out.WriteString(line)
		p.out.WriteByte('\n')
		p.lines = append(p.lines, at)
		p.included = append(p.included, pageLine != 0)
	}
	if len(ifKeep) > 0 {
		p.problem(firstIfLine, "unclosed-if", fmt.Sprintf("{%% if %%} in %s has no {%% endif %%}; the block runs to the end of the file", file))
	}
}

func (p *preprocessor) include(from, target, indent string, at int, stack []string, notitle bool, depth int) {
	resolved := resolveIncludePath(from, target)
	if p.includes == nil {
		p.problem(at, "include-missing", fmt.Sprintf("include %q dropped: no include resolver", target))
		return
	}
	if depth >= maxIncludeDepth {
		p.problem(at, "include-cycle", fmt.Sprintf("include %q nested deeper than %d levels", resolved, maxIncludeDepth))
		return
	}
	for _, s := range stack {
		if s == resolved {
			p.problem(at, "include-cycle", fmt.Sprintf("include %q includes itself (via %s)", resolved, strings.Join(stack, " -> ")))
			return
		}
	}
	content, err := p.includes(resolved)
	if err != nil {
		p.problem(at, "include-missing", fmt.Sprintf("include %q: %v", resolved, err))
		return
	}
	p.expanded++
	if p.expanded > maxIncludes {
		if p.expanded == maxIncludes+1 {
			p.problem(at, "include-too-large", fmt.Sprintf("more than %d includes; the rest are dropped", maxIncludes))
		}
		return
	}
	if p.out.Len()+len(content) > maxPageBytes {
		p.problem(at, "include-too-large", fmt.Sprintf("include %q dropped: the page would exceed %d MB with its includes", resolved, maxPageBytes>>20))
		return
	}
	p.expand(resolved, content, indent, at, append(stack[:len(stack):len(stack)], resolved), notitle, depth+1)
}

func (p *preprocessor) problem(line int, kind, msg string) {
	p.problems = append(p.problems, spec.Problem{File: p.page, Line: line, Kind: kind, Message: msg})
}

// resolveIncludePath turns an include target into a path relative to the docs
// root: relative targets are relative to the including file, "/x" to the root.
func resolveIncludePath(from, target string) string {
	if i := strings.IndexAny(target, "#?"); i >= 0 {
		target = target[:i]
	}
	if strings.HasPrefix(target, "/") {
		return path.Clean(strings.TrimPrefix(target, "/"))
	}
	return path.Clean(path.Join(path.Dir(from), target))
}

// devOnly reports whether an {% if %} condition selects the internal (dev)
// build; those blocks hold unpublished drafts and are dropped. Any other
// condition is kept: the published site renders it.
func devOnly(cond string) bool {
	c := strings.ReplaceAll(cond, " ", "")
	return strings.Contains(c, "=='dev'") || strings.Contains(c, `=="dev"`)
}

// splitLines splits src into lines without their terminators ("\r\n" or
// "\n"); the lines are substrings of one string copy of src.
func splitLines(src []byte) []string {
	text := strings.TrimSuffix(string(src), "\n")
	if text == "" {
		return nil
	}
	lines := make([]string, 0, strings.Count(text, "\n")+1)
	for {
		line, rest, found := strings.Cut(text, "\n")
		lines = append(lines, strings.TrimSuffix(line, "\r"))
		if !found {
			return lines
		}
		text = rest
	}
}

// Older editions write links reference-style: "[`integer`][1]" with
// "[1]: ../data-types.md" at the end of the file. They are rewritten inline
// ("[`integer`](../data-types.md)") here, per file, so every later reading
// (type cells, anchors, links to other pages) sees one notation.
var (
	linkDefRe = regexp.MustCompile(`^\s{0,3}\[([^\]]+)\]:\s*(\S+)`)
	refLinkRe = regexp.MustCompile("\\[((?:`[^`]*`|[^\\]`\\[])+)\\]\\[([^\\]\\s]*)\\]")
)

// linkDefinitions collects a file's "[label]: url" lines (labels lower-cased,
// as Markdown matches them), outside code fences.
func linkDefinitions(lines []string) map[string]string {
	var defs map[string]string
	inFence := false
	for _, l := range lines {
		if isFence(strings.TrimSpace(l)) {
			inFence = !inFence
			continue
		}
		if inFence || !strings.Contains(l, "]:") {
			continue
		}
		if m := linkDefRe.FindStringSubmatch(l); m != nil {
			if defs == nil {
				defs = map[string]string{}
			}
			if _, dup := defs[strings.ToLower(m[1])]; !dup {
				defs[strings.ToLower(m[1])] = m[2]
			}
		}
	}
	return defs
}

// inlineRefLinks rewrites "[text][label]" (and "[text][]") with a defined
// label as "[text](url)"; undefined labels stay as written.
func inlineRefLinks(line string, defs map[string]string) string {
	if !strings.Contains(line, "][") {
		return line
	}
	return refLinkRe.ReplaceAllStringFunc(line, func(m string) string {
		sm := refLinkRe.FindStringSubmatch(m)
		label := sm[2]
		if label == "" {
			label = sm[1]
		}
		url, ok := defs[strings.ToLower(label)]
		if !ok {
			return m
		}
		return "[" + sm[1] + "](" + url + ")"
	})
}
