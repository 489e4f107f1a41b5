package extract

import (
	"regexp"
	"strings"
)

// Small helpers that read Markdown fragments (table cells, blockquotes) as
// plain text. Cells are short; a regexp pass is enough and much cheaper than
// a second goldmark parse per cell.

var (
	linkRe = regexp.MustCompile("!?\\[((?:`[^`]*`|[^\\]`])*)\\]\\(([^)\\s]*)(?:\\s+\"[^\"]*\")?\\)")
	boldRe = regexp.MustCompile(`\*\*([^*]*(?:\*[^*]+)*)\*\*`)
)

// plainText turns a Markdown fragment into one line of plain text: links keep
// their text, emphasis and code marks go, fenced code, nested tables, YFM
// directives, HTML tags and attribute lists are dropped, whitespace is
// collapsed. It is a single hand-written pass: it runs on every table cell
// of the corpus.
func plainText(md string) string {
	if md == "" {
		return ""
	}
	md = dropFencesAndTables(md)
	var b strings.Builder
	b.Grow(len(md))
	space := false
	put := func(c byte) {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			space = b.Len() > 0
			return
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	for i := 0; i < len(md); i++ {
		c := md[i]
		switch c {
		case '{':
			if strings.HasPrefix(md[i:], "{%") {
				if j := strings.Index(md[i:], "%}"); j >= 0 {
					i += j + 1
					space = b.Len() > 0
					continue
				}
			}
			if j := strings.IndexByte(md[i:], '}'); j > 2 && (md[i+1] == '#' || md[i+1] == '.') && isLetter(md[i+2]) && !strings.ContainsAny(md[i+1:i+j], " \t\n") {
				i += j // an attribute list: {#id}, {.class}, {#T}
				continue
			}
			put(c)
		case '!', '[':
			// [text](url) keeps text; ![alt](src) keeps alt.
			k := i
			if c == '!' {
				if i+1 >= len(md) || md[i+1] != '[' {
					put(c)
					continue
				}
				k++
			}
			end := closingBracket(md[k:])
			if end > 1 && k+end+1 < len(md) && md[k+end+1] == '[' {
				// [text][label]: a reference link whose label the file
				// does not define (defined ones are inlined by preprocess).
				if j := strings.IndexByte(md[k+end+1:], ']'); j > 0 && !strings.ContainsAny(md[k+end+2:k+end+1+j], " \t\n[`") {
					md = md[:k] + md[k+1:k+end] + md[k+end+2+j:]
					i = k - 1
					continue
				}
			}
			if end < 0 || k+end+1 >= len(md) || md[k+end+1] != '(' {
				put(c)
				continue
			}
			close := strings.IndexByte(md[k+end+1:], ')')
			if close < 0 {
				put(c)
				continue
			}
			text := md[k+1 : k+end]
			if text == "{#T}" {
				text = "" // an auto-title link: the title lives on the other page
			}
			for t := 0; t < len(text); t++ {
				switch {
				case text[t] == '`':
				case strings.HasPrefix(text[t:], "**"):
					t++
				default:
					put(text[t])
				}
			}
			i = k + end + 1 + close
		case '<':
			if i+1 < len(md) && (isLetter(md[i+1]) || md[i+1] == '/' && i+2 < len(md) && isLetter(md[i+2])) {
				if j := strings.IndexByte(md[i:], '>'); j > 0 {
					i += j
					space = b.Len() > 0
					continue
				}
			}
			put(c)
		case '`':
		case '*':
			if i+1 < len(md) && md[i+1] == '*' {
				i++
				continue
			}
			put(c)
		case '^':
			if strings.HasPrefix(md[i:], "^*^") {
				i += 2
				continue
			}
			put(c)
		case '\\':
			if i+1 < len(md) && strings.IndexByte("|_*`[]()#<>{}\\", md[i+1]) >= 0 {
				i++
				put(md[i])
				continue
			}
			put(c)
		default:
			put(c)
		}
	}
	return b.String()
}

// closingBracket returns the index of the "]" matching the "[" at s[0],
// skipping code spans and nested brackets ("[`deal[]`](#deal)"); -1 if none.
func closingBracket(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '`':
			if j := strings.IndexByte(s[i+1:], '`'); j >= 0 {
				i += j + 1
			}
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i
			}
		case '\n':
			if i+1 < len(s) && s[i+1] == '\n' {
				return -1 // links do not span paragraphs
			}
		}
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// dropFencesAndTables removes fenced code blocks and nested #| … |# tables.
func dropFencesAndTables(md string) string {
	if !strings.Contains(md, "```") && !strings.Contains(md, "#|") {
		return md
	}
	var b strings.Builder
	inFence := false
	nested := 0
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if isFence(t) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		opens, closes := tableMarks(t)
		if opens {
			nested++
		}
		if nested > 0 {
			if closes {
				nested--
			}
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// codeTokens returns the code spans of a Markdown fragment, in order.
func codeTokens(md string) []string {
	var out []string
	for {
		i := strings.IndexByte(md, '`')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(md[i+1:], '`')
		if j < 0 {
			return out
		}
		out = append(out, md[i+1:i+1+j])
		md = md[i+1+j+1:]
	}
}

// inPageAnchors returns the "#anchor" targets of the links in md, in order.
func inPageAnchors(md string) []string {
	if !strings.Contains(md, "](#") {
		return nil
	}
	var out []string
	for _, m := range linkRe.FindAllStringSubmatch(md, -1) {
		if strings.HasPrefix(m[2], "#") && len(m[2]) > 1 {
			out = append(out, m[2][1:])
		}
	}
	return out
}

// plainDoc turns a description cell into plain text that keeps the shape
// of the docs: paragraphs are separated by a blank line ("\n\n"), list items
// sit on lines of their own ("- item", "1. item"), nested items indented by
// two spaces per level. A list that follows its lead-in line directly (no
// blank line between, "Possible values:\n- a\n- b") stays attached to it
// by a single "\n". Inline markup goes as in plainText. Fenced code, nested
// tables, headings and YFM directive lines ({% note %}) end the paragraph
// they interrupt; their lines are dropped (headings keep their text).
//
// The block rules follow CommonMark as the docs' renderer applies them: a
// line that is not a list item continues the paragraph or item above it
// unless a blank line came first; after a blank line only an indented line
// still belongs to the item.
func plainDoc(md string) string {
	if md == "" {
		return ""
	}
	if !strings.ContainsAny(md, "\n") {
		return plainText(md) // most cells: one line, no structure
	}
	var d docBlocks
	var code *docBlock // the fenced block being read
	nested := 0
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimRight(line, " \t\r")
		t := strings.TrimLeft(line, " \t")
		switch {
		case isFence(t):
			if code == nil {
				code = d.code()
			} else {
				code = nil
				d.boundary()
			}
			continue
		case code != nil:
			code.lines = append(code.lines, line)
			continue
		case strings.HasPrefix(t, "#|"):
			nested++
			if strings.HasSuffix(t, "|#") && len(t) > 2 {
				nested--
			}
			d.boundary()
			continue
		case nested > 0:
			if strings.HasSuffix(t, "|#") {
				nested--
			}
			continue
		case t == "":
			d.blank = true
			continue
		case t == "-" || t == "*" || t == "+":
			d.cur = nil // an empty list item: nothing continues it
			continue
		case strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") && strings.Count(t, "{%") == 1:
			d.boundary() // {% note info %}, {% endnote %}, {% cut "…" %}
			continue
		}
		for strings.HasPrefix(t, ">") { // a blockquote reads as its text
			t = strings.TrimLeft(t[1:], " \t")
			line = t
		}
		if h := headingText(t); h != "" {
			d.boundary()
			d.prose(h)
			d.boundary()
			continue
		}
		indent := indentOf(line)
		if marker, text, ok := listMarker(t); ok && (marker[0] < '0' || marker[0] > '9' || marker == "1." || !d.inProse()) {
			d.item(indent, marker, text)
			continue
		}
		d.text(indent, t)
	}
	return d.String()
}

// docBlock is a paragraph, a list item or a fenced code block of a
// description, as raw Markdown lines.
type docBlock struct {
	item   bool
	code   bool
	depth  int    // nesting of a list item, 0 at the top
	marker string // "-" or "1."
	tight  bool   // joined to the block before by "\n", not "\n\n"
	lines  []string
}

// docBlocks collects the blocks of one description.
type docBlocks struct {
	blocks  []*docBlock
	cur     *docBlock // the block a plain line continues, nil after a boundary
	last    *docBlock // the open list's latest item, nil outside a list
	indents []int     // indentation of the open list levels
	blank   bool      // a blank line came since the last text line
}

func (d *docBlocks) inProse() bool { return d.cur != nil && !d.cur.item && !d.blank }

// boundary ends the current paragraph (a fence, a table, a directive).
func (d *docBlocks) boundary() {
	d.cur = nil
	d.blank = true
}

// code opens a fenced code block. The list around it stays open, but no
// text line continues the block.
func (d *docBlocks) code() *docBlock {
	b := &docBlock{code: true}
	d.blocks = append(d.blocks, b)
	d.cur, d.blank = nil, true
	return b
}

func (d *docBlocks) prose(text string) {
	d.last, d.indents = nil, nil
	b := &docBlock{lines: []string{text}}
	d.blocks = append(d.blocks, b)
	d.cur, d.blank = b, false
}

func (d *docBlocks) item(indent int, marker, text string) {
	// Close the levels indented deeper than this item; open a level when
	// it is indented past the current one.
	for len(d.indents) > 0 && d.indents[len(d.indents)-1] > indent+1 {
		d.indents = d.indents[:len(d.indents)-1]
	}
	if n := len(d.indents); n == 0 || indent >= d.indents[n-1]+2 {
		d.indents = append(d.indents, indent)
	}
	b := &docBlock{item: true, depth: len(d.indents) - 1, marker: marker, lines: []string{text}}
	// Items of one list are always a line apart; a list right under its
	// lead-in line stays with it.
	b.tight = (d.last != nil || d.cur != nil && !d.blank) && !d.blocks[len(d.blocks)-1].code
	d.blocks = append(d.blocks, b)
	d.cur, d.last, d.blank = b, b, false
}

func (d *docBlocks) text(indent int, t string) {
	switch {
	case d.cur != nil && !d.blank:
		d.cur.lines = append(d.cur.lines, t) // a lazy continuation line
	case d.last != nil && indent >= d.indents[len(d.indents)-1]+2:
		d.last.lines = append(d.last.lines, t) // an item's later paragraph
		d.cur = d.last
	default:
		d.prose(t)
		return
	}
	d.blank = false
}

// String renders the blocks; blocks whose text is empty once the markup is
// gone are left out.
func (d *docBlocks) String() string {
	var b strings.Builder
	for _, blk := range d.blocks {
		var text string
		if blk.code {
			text = codeText(blk.lines)
		} else {
			text = plainText(strings.Join(blk.lines, "\n"))
		}
		if text == "" {
			continue
		}
		if b.Len() > 0 {
			if blk.tight {
				b.WriteString("\n")
			} else {
				b.WriteString("\n\n")
			}
		}
		if blk.item {
			b.WriteString(strings.Repeat("  ", blk.depth))
			b.WriteString(blk.marker)
			b.WriteByte(' ')
		}
		b.WriteString(text)
	}
	return b.String()
}

// isFence reports whether a line (indentation trimmed) opens or closes a
// fenced code block. As in CommonMark, "```" followed by more backticks on
// the line ("```^\d+$```") is a code span, not a fence.
func isFence(t string) bool {
	if strings.HasPrefix(t, "~~~") {
		return true
	}
	rest, ok := strings.CutPrefix(t, "```")
	return ok && !strings.Contains(strings.TrimLeft(rest, "`"), "`")
}

// codeText renders the lines of a fenced block as they are, without their
// common indentation, each line led by a tab (a blank line too, so the
// block holds no "\n\n"): plain text that keeps its layout, which the
// generator turns into a godoc code block. Blank lines around it go.
func codeText(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	prefix, first := "", true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ws, false
		}
		for !strings.HasPrefix(ws, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteByte('\t')
		b.WriteString(strings.TrimPrefix(l, prefix))
	}
	return b.String()
}

// listMarker recognises a list item line ("- x", "* x", "+ x", "1. x",
// "2) x") and returns its marker ("-" for bullets, "N." for numbers) and
// its text.
func listMarker(t string) (marker, text string, ok bool) {
	if len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && (t[1] == ' ' || t[1] == '\t') {
		text = strings.TrimLeft(t[2:], " \t")
		return "-", text, text != ""
	}
	n := 0
	for n < len(t) && n < 9 && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n == 0 || n+1 >= len(t) || (t[n] != '.' && t[n] != ')') || (t[n+1] != ' ' && t[n+1] != '\t') {
		return "", "", false
	}
	text = strings.TrimLeft(t[n+2:], " \t")
	return t[:n] + ".", text, text != ""
}

// headingText returns the text of an ATX heading line ("### Title {#id}"),
// or "" when t is not one.
func headingText(t string) string {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n >= len(t) || t[n] != ' ' {
		return ""
	}
	return strings.TrimSpace(t[n:])
}

// indentOf counts the leading indentation of a line, a tab as four spaces.
func indentOf(line string) int {
	n := 0
	for _, c := range []byte(line) {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n
		}
	}
	return n
}
