package audit

import (
	"cmp"
	"regexp"
	"strings"
)

// This file is the audit's own reader of a docs page: a line scanner for
// YFM "#| … |#" tables that knows headings, code fences and nesting, and
// nothing else. It shares no code with generator/extract on purpose: where
// the two disagree, one of them is wrong.

// zone is the part of a page a table sits in, known from the heading above.
type zone int

const (
	zoneParams   zone = iota // before the code examples: the method's parameters
	zoneExamples             // the code examples: nothing there is audited
	zoneResult               // the response: the result fields
	zoneErrors               // the error handling: the error codes
)

// Known spellings of the H2/H3 headings that open a zone (the English and
// the original Russian edition). Matched as lower-case substrings.
var zoneWords = []struct {
	word string
	z    zone
}{
	{"example", zoneExamples}, {"пример", zoneExamples},
	{"error", zoneErrors}, {"ошибк", zoneErrors},
	{"response", zoneResult}, {"returned", zoneResult}, {"ответ", zoneResult}, {"возвраща", zoneResult},
}

// A page starts in the parameters' zone and no heading goes back to it:
// "### Parameter settings" under the response describes result fields.

// docTable is one "#| … |#" table as the page draws it.
type docTable struct {
	zone    zone
	line    int    // line of "#|"
	heading string // the nearest heading above, as written
	anchor  string // that heading's {#anchor}, if any
	// section is the anchor of the section the table sits in: the nearest
	// heading above with an {#anchor} or, without one, its slug, down to
	// the next heading of that level or above.
	section string
	header  []string // the header row's cell texts, plain and lower-case
	parent  *docRow  // the row whose cell holds this table, if nested
	rows    []*docRow
}

// docRow is one "|| … ||" row below a table's header.
type docRow struct {
	cells []string // raw cell texts
	line  int
	table *docTable
}

var (
	headingRe = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*(?:\{#([^}]+)\})?\s*$`)
	boldRe    = regexp.MustCompile(`\*\*(.+?)\*\*`)
	tickRe    = regexp.MustCompile("`([^`]+)`")
)

// readPage scans a page's own text (includes are not inlined) and returns
// its tables in order. Tables inside code fences are not tables.
func readPage(src string) []*docTable {
	var (
		tables  []*docTable
		open    []*docTable // the stack of open tables
		cur     []*docRow   // per open table: the row being read, or nil
		buf     []*strings.Builder
		z       = zoneParams
		heading string
		anchor  string
		fence   fences
		// the section being read and its heading's level
		section  string
		secLevel int
	)
	closeRow := func() {
		k := len(open) - 1
		r := cur[k]
		if r == nil {
			return
		}
		r.cells = splitCells(buf[k].String())
		t := open[k]
		if t.header == nil {
			t.header = headerCells(r.cells)
		} else {
			t.rows = append(t.rows, r)
		}
		cur[k], buf[k] = nil, nil
	}
	startRow := func(line int, text string) {
		k := len(open) - 1
		cur[k] = &docRow{line: line, table: open[k]}
		buf[k] = &strings.Builder{}
		buf[k].WriteString(text)
	}
	for i, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if fence.skip(t) {
			continue
		}
		if len(open) == 0 {
			if m := headingRe.FindStringSubmatch(t); m != nil && !strings.HasPrefix(t, "#|") {
				heading, anchor = m[2], m[3]
				if lv := len(m[1]); anchor != "" || lv <= secLevel || section == "" {
					section, secLevel = cmp.Or(anchor, slug(m[2])), lv
				}
				if nz, ok := headingZone(len(m[1]), m[2]); ok {
					z = nz
				}
				continue
			}
		}
		switch {
		case strings.HasPrefix(t, "#|") && !(len(t) > 2 && strings.HasSuffix(t, "|#")):
			nt := &docTable{zone: z, line: i + 1, heading: heading, anchor: anchor, section: section}
			if k := len(open) - 1; k >= 0 {
				nt.parent = cur[k]
			}
			tables = append(tables, nt)
			open, cur, buf = append(open, nt), append(cur, nil), append(buf, nil)
			continue
		case len(open) > 0 && strings.HasSuffix(t, "|#"):
			closeRow()
			k := len(open) - 1
			open, cur, buf = open[:k], cur[:k], buf[:k]
			continue
		}
		if len(open) == 0 {
			continue
		}
		k := len(open) - 1
		if strings.HasPrefix(t, "||") {
			if cur[k] != nil {
				closeRow()
			}
			rest := strings.TrimSpace(t[2:])
			if rest == "" {
				continue
			}
			startRow(i+1, rest)
			if strings.HasSuffix(rest, "||") {
				buf[k].Reset()
				buf[k].WriteString(strings.TrimSuffix(rest, "||"))
				closeRow()
			}
			continue
		}
		if cur[k] == nil {
			continue
		}
		buf[k].WriteString("\n")
		if strings.HasSuffix(t, "||") {
			buf[k].WriteString(strings.TrimSuffix(t, "||"))
			closeRow()
			continue
		}
		buf[k].WriteString(t)
	}
	return tables
}

// fences tracks code fences over a page's trimmed lines: nothing inside
// one is markup.
type fences struct{ in bool }

// skip reports whether line t is a fence or inside one.
func (f *fences) skip(t string) bool {
	if strings.HasPrefix(t, "```") {
		f.in = !f.in
		return true
	}
	return f.in
}

// headingZone says which zone a heading opens; H1 and deeper than H3 open
// none (an H4 under "Returned data" stays in it).
func headingZone(level int, text string) (zone, bool) {
	if level < 2 || level > 3 {
		return 0, false
	}
	low := strings.ToLower(text)
	for _, w := range zoneWords {
		if strings.Contains(low, w.word) {
			return w.z, true
		}
	}
	return 0, false
}

// splitCells splits a row's text at its cell bars: a "|" that is not
// escaped and not inside backticks.
func splitCells(s string) []string {
	var cells []string
	var b strings.Builder
	inTick := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '|':
			b.WriteByte('|')
			i++
			continue
		case c == '`':
			inTick = !inTick
		case c == '|' && !inTick:
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// headerCells is the plain lower-case text of each header cell: its bold
// words ("**Name**\n`type`" → "name").
func headerCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if m := boldRe.FindStringSubmatch(c); m != nil {
			c = m[1]
		}
		out[i] = strings.ToLower(strings.TrimSpace(strings.Trim(c, "`*")))
	}
	return out
}

// Header words of the first cell of a field table (the corpus's spellings).
var fieldHeaders = map[string]bool{
	"name": true, "parameter": true, "field": true, "fields": true,
	"название": true, "параметр": true, "поле": true, "имя": true,
}

// isFieldTable reports whether t lists fields: its header's first cell
// names them.
func (t *docTable) isFieldTable() bool {
	return len(t.header) > 0 && fieldHeaders[t.header[0]]
}

// name is the row's documented name: the first bold text of its first cell,
// unescaped, without the required star.
func (r *docRow) name() string {
	if len(r.cells) == 0 {
		return ""
	}
	// An escaped star ("**UF_\\***") is part of the name, not of the bold.
	m := boldRe.FindStringSubmatch(strings.ReplaceAll(r.cells[0], `\*`, "\x00"))
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(cleanName(m[1]), "\x00", "*")
}

// docType is the row's type token, lower-case: the first backticked text of
// its first cell after the name ("[`integer`](…)" → "integer").
func (r *docRow) docType() string {
	if len(r.cells) == 0 {
		return ""
	}
	c := r.cells[0]
	if loc := boldRe.FindStringIndex(c); loc != nil {
		c = c[loc[1]:]
	}
	if m := tickRe.FindStringSubmatch(c); m != nil {
		return strings.ToLower(strings.TrimSpace(m[1]))
	}
	return ""
}

// text is the row's whole text, cells joined.
func (r *docRow) text() string { return strings.Join(r.cells, " | ") }

// listsYN reports whether the row's text gives Y and N as its values and
// names no JSON boolean ("Y and N do not work, pass `true`").
func (r *docRow) listsYN() bool {
	t := r.text()
	return strings.Contains(t, "`Y`") && strings.Contains(t, "`N`") && !strings.Contains(strings.ToLower(t), "true")
}

// slug is a heading's implicit anchor: lower-case, words joined by "-",
// punctuation dropped ("textWithTranslation" → "textwithtranslation").
func slug(h string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(h) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r > 127:
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == ' ' || r == '-':
			dash = true
		}
	}
	return b.String()
}
