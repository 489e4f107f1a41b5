package model

import (
	"strings"

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

// placeholderItems writes each pattern once, with its note (resolve's
// first sentence of the description): "UF_CRM_* (custom fields)".
func placeholderItems(ph []spec.Placeholder) []string {
	var items []string
	seen := map[string]bool{}
	for _, p := range ph {
		if seen[p.Pattern] {
			continue
		}
		seen[p.Pattern] = true
		item := p.Pattern
		if d := p.Note; d != "" {
			item += " (" + d + ")"
		}
		items = append(items, item)
	}
	return items
}

// joinAnd joins items as prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
