package model

import (
	"strings"
	"unicode"

	"github.com/b24gen/b24gen/spec"
)

// extraDoc is the doc of an Extra field that keeps the keys of documented
// placeholder rows: "Extra keeps the keys the docs do not list, among
// them UF_CRM_* (custom fields) and PARENT_ID_* (relationship fields)."
// Nil when there are none, for the default line.
func extraDoc(ph []spec.Placeholder) []string {
	items := placeholderItems(ph)
	if len(items) == 0 {
		return nil
	}
	return []string{"Extra keeps the keys the docs do not list, among them " + joinAnd(items) + "."}
}

// placeholderNote is the paragraph a struct without Extra (a method's
// parameters) gets for its placeholder rows: the keys cannot be sent
// through it, and the reader should know the docs name them.
func placeholderNote(ph []spec.Placeholder) []string {
	items := placeholderItems(ph)
	if len(items) == 0 {
		return nil
	}
	return []string{"The docs also name keys by a pattern, which have no field here: " + joinAnd(items) + "."}
}

// placeholderItems writes each pattern once, with the first sentence of
// its description: "UF_CRM_* (custom fields)".
func placeholderItems(ph []spec.Placeholder) []string {
	var items []string
	seen := map[string]bool{}
	for _, p := range ph {
		if seen[p.Pattern] {
			continue
		}
		seen[p.Pattern] = true
		item := p.Pattern
		if d := firstSentence(p.Description); d != "" {
			item += " (" + d + ")"
		}
		items = append(items, item)
	}
	return items
}

// maxNote bounds the description quoted for one pattern.
const maxNote = 80

// firstSentence is the description's first sentence without its full
// stop, its first letter lowered when the second is lower case ("Custom
// fields. For example, …" → "custom fields"), cut at a word past maxNote.
func firstSentence(d string) string {
	d = oneLine(strings.SplitN(d, "\n\n", 2)[0])
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSuffix(d, ".")
	if r := []rune(d); len(r) > maxNote {
		cut := string(r[:maxNote])
		if i := strings.LastIndexByte(cut, ' '); i > 0 {
			cut = cut[:i]
		}
		d = cut + "…"
	}
	if r := []rune(d); len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		d = strings.ToLower(string(r[0])) + string(r[1:])
	}
	return d
}

// joinAnd joins items as prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
