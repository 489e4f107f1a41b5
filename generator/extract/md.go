package extract

import (
	"regexp"
	"strings"
)

// Small helpers that read Markdown fragments (table cells, blockquotes) as
// plain text. Cells are short; a regexp pass is enough and much cheaper than
// a second goldmark parse per cell.

var (
	linkRe      = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)
	boldRe      = regexp.MustCompile(`\*\*([^*]*(?:\*[^*]+)*)\*\*`)
	directiveRe = regexp.MustCompile(`\{%[^%]*%\}`)
	spaceRe     = regexp.MustCompile(`[ \t\r\n]+`)
	htmlTagRe   = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
)

// plainText turns a Markdown fragment into one line of plain text: links keep
// their text, emphasis and code marks go, fenced code and nested tables are
// dropped, whitespace is collapsed.
func plainText(md string) string {
	if md == "" {
		return ""
	}
	md = dropFencesAndTables(md)
	md = directiveRe.ReplaceAllString(md, "")
	md = linkRe.ReplaceAllStringFunc(md, func(m string) string {
		sub := linkRe.FindStringSubmatch(m)
		if sub[1] == "{#T}" {
			return ""
		}
		return sub[1]
	})
	md = htmlTagRe.ReplaceAllString(md, " ")
	md = strings.NewReplacer("**", "", "`", "", "\\|", "|", "^*^", "", "\\_", "_", "\\*", "*").Replace(md)
	md = stripAttrs(md)
	return strings.TrimSpace(spaceRe.ReplaceAllString(md, " "))
}

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
	var out []string
	for _, m := range linkRe.FindAllStringSubmatch(md, -1) {
		if strings.HasPrefix(m[2], "#") && len(m[2]) > 1 {
			out = append(out, m[2][1:])
		}
	}
	return out
}
