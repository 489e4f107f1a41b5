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
		if strings.HasPrefix(t, "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if strings.HasPrefix(t, "#|") {
			nested++
			t = t[2:]
		}
		if nested > 0 {
			if strings.HasSuffix(t, "|#") {
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
