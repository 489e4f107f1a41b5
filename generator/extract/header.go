package extract

import (
	"path"
	"regexp"
	"strings"
)

// header reads the scope blockquote, the summary and the deprecation note
// that follow an H1 (up to the next heading).
type header struct {
	scopes     []string
	access     string
	summary    string
	deprecated bool
	replacedBy string
}

func (pc *pageCtx) readHeader(h1 int, self string) header {
	var h header
	h.scopes = []string{}
	noteDepth := 0
	noteDeprecated := false
	cutDepth := 0 // a {% cut %} holds details, not the summary
	for i := h1 + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level <= 2 {
			break
		}
		switch b.Kind {
		case bBlockquote:
			if len(h.scopes) == 0 && h.access == "" {
				h.scopes, h.access = readScopeQuote(b.Raw)
			}
		case bDirective:
			switch b.Text {
			case "note":
				noteDepth++
				if noteDepth == 1 {
					noteDeprecated = deprecationNote(b.Args)
					if noteDeprecated {
						h.deprecated = true
					}
				}
			case "endnote":
				if noteDepth > 0 {
					noteDepth--
				}
				if noteDepth == 0 {
					noteDeprecated = false
				}
			case "cut":
				cutDepth++
			case "endcut":
				if cutDepth > 0 {
					cutDepth--
				}
			}
		case bParagraph:
			if noteDeprecated && h.replacedBy == "" {
				h.replacedBy = replacementIn(b.Raw, self)
			}
			if noteDepth == 0 && cutDepth == 0 && b.Depth == 0 && h.summary == "" && b.Tab == "" {
				h.summary = plainText(b.Raw)
			}
		}
	}
	// Pages under outdated/ and deprecated/ directories are deprecated as a
	// whole, whatever their notes say.
	for _, seg := range strings.Split(path.Dir(pc.path), "/") {
		if seg == "outdated" || seg == "deprecated" {
			h.deprecated = true
		}
	}
	return h
}

// haltedWords are note-title spellings of "development has been halted".
var haltedWords = []string{"halted", "discontinued", "no longer supported", "остановлен", "прекращен", "eingestellt"}

// deprecationNote reports whether a {% note %} (its arguments: type and
// title) announces that the page is deprecated: a warning or alert titled
// "deprecated" or "development halted" in a known language. A tip titled
// "Deprecated fields" is about fields, not the page.
func deprecationNote(args string) bool {
	typ, _, _ := strings.Cut(strings.TrimSpace(args), " ")
	if typ != "warning" && typ != "alert" {
		return false
	}
	title := noteTitle(args)
	return mentionsDeprecated(title) || mentionsAny(title, haltedWords)
}

func noteTitle(args string) string {
	if i := strings.IndexByte(args, '"'); i >= 0 {
		return strings.Trim(args[i:], `"`)
	}
	return ""
}

var methodTokenRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+$`)

// replacementIn finds the first method name a deprecation note points to:
// a link or code span whose text is a method name other than the page's own.
func replacementIn(md, self string) string {
	for _, m := range linkRe.FindAllStringSubmatch(md, -1) {
		t := strings.Trim(m[1], "`")
		if methodTokenRe.MatchString(t) && t != self {
			return t
		}
	}
	for _, t := range codeTokens(md) {
		if methodTokenRe.MatchString(t) && t != self {
			return t
		}
	}
	return ""
}

// readScopeQuote reads "> Scope: [`crm`](…)" and "> Who can …: …". The scope
// line is the one whose code spans link to the scopes page (or, failing
// that, the first line with code spans); the access line is the other one.
func readScopeQuote(raw string) ([]string, string) {
	scopes := []string{}
	access := ""
	scopeFound := false
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		toks := codeTokens(line)
		if strings.Contains(line, "scopes/") {
			// Only the code spans linked to the scopes page are scopes:
			// "module scope from `moduleId` (for example, [`crm`](…))".
			var linked []string
			for _, m := range linkRe.FindAllStringSubmatch(line, -1) {
				if strings.Contains(m[2], "scopes/") {
					linked = append(linked, codeTokens(m[1])...)
				}
			}
			if len(linked) > 0 {
				toks = linked
			}
		}
		if !scopeFound && len(toks) > 0 && (strings.Contains(line, "scopes/") || access == "" && len(scopes) == 0) {
			for _, t := range toks {
				t = strings.TrimSpace(t)
				if t != "" && !strings.ContainsAny(t, " ") {
					scopes = append(scopes, t)
				}
			}
			scopeFound = true
			continue
		}
		if access == "" {
			_, after, ok := strings.Cut(plainText(line), ":")
			if ok {
				access = strings.TrimSpace(after)
			} else {
				access = plainText(line)
			}
		}
	}
	return scopes, access
}
