package b24

import (
	"bytes"
	"encoding/json"
)

// Localized is a text the portal keeps per language: a user field's
// EDIT_FORM_LABEL is {"en": "Region", "de": "Region"} from *.userfield.get
// and a plain "Region" from a list filtered by LANG. A plain text is kept
// under the key "" (the language the portal chose), so both forms read the
// same way: l.In("en"), or l.Text() for whichever there is.
type Localized map[string]string

// In returns the text in language lang, or "" when there is none.
func (l Localized) In(lang string) string { return l[lang] }

// Text returns the text as the portal sent it when it sent one text, else
// the English text, else any text (the smallest language code first).
func (l Localized) Text() string {
	if s, ok := l[""]; ok {
		return s
	}
	if s, ok := l["en"]; ok {
		return s
	}
	first := ""
	for lang := range l {
		if first == "" || lang < first {
			first = lang
		}
	}
	return l[first]
}

// UnmarshalJSON reads an object of texts by language, a plain text, or an
// empty form (null, "", [], false) as no text.
func (l *Localized) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = Localized{"": s}
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var m map[string]String
		if err := json.Unmarshal(b, &m); err != nil {
			return valueError("Localized", b, "an object of texts by language, or a text")
		}
		out := make(Localized, len(m))
		for k, v := range m {
			out[k] = string(v)
		}
		*l = out
		return nil
	}
	return valueError("Localized", b, "an object of texts by language, or a text")
}

// MarshalJSON sends a plain text back as a text and the rest as an object.
func (l Localized) MarshalJSON() ([]byte, error) {
	if s, ok := l[""]; ok && len(l) == 1 {
		return json.Marshal(s)
	}
	return json.Marshal(map[string]string(l))
}
