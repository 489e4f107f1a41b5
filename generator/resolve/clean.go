package resolve

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// clean takes out of the data what the pages show that is not data:
//
//   - placeholder rows, whose name is a pattern for keys ("UF_CRM_...",
//     "PARENT_ID_...", "{BOT_ID}", "<AREA_ID>"), move from the fields to
//     the Placeholders of the object that holds them, so model notes them
//     on Extra instead of declaring a member no portal sends;
//   - enum "values" that are no literal (a filter written as code,
//     `{ ENTITY_ID: "DEAL_STAGE" }`, or a pattern, "U{id}") are dropped and
//     reported; quoted literals ("'C'", `"Fri"`) lose their quotes.
//
// Both are told by their shape alone, never by the docs' language.
func (r *resolver) clean() {
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		c := cleaner{r: r, file: m.Page, what: m.Name}
		if ps, ph, ok := c.params(m.Params); ok {
			m.Params = ps
			m.Placeholders = append(append([]spec.Placeholder(nil), m.Placeholders...), ph...)
		}
		if m.Result != nil {
			if fs, ph, ok := c.params(m.Result.Fields); ok {
				res := *m.Result
				res.Fields = fs
				res.Placeholders = append(append([]spec.Placeholder(nil), res.Placeholders...), ph...)
				m.Result = &res
			}
		}
	}
	for i := range r.s.Events {
		ev := &r.s.Events[i]
		c := cleaner{r: r, file: ev.Page, what: ev.Name}
		if fs, ph, ok := c.params(ev.Fields); ok {
			ev.Fields = fs
			// The payload's top level is the delivery envelope: no page
			// draws a placeholder there, and there is no Extra to note it on.
			for _, p := range ph {
				r.problem(ev.Page, p.Line, KindPlaceholderDrop,
					fmt.Sprintf("%s: placeholder row %q at the payload's top level: dropped", ev.Name, p.Name))
			}
		}
	}
}

// cleaner walks the params of one method or event.
type cleaner struct {
	r    *resolver
	file string
	what string // method or event name, for problems
}

// params returns ps without its placeholder rows, with those rows as
// Placeholders, and its enums and nested fields cleaned. ok is false when
// nothing changed; then ps is returned as is, so unchanged records stay
// shared with the input and changed ones are copies.
func (c cleaner) params(ps []spec.Param) (out []spec.Param, ph []spec.Placeholder, ok bool) {
	for i, p := range ps {
		if pattern, is := placeholderPattern(p.Name); is {
			if !ok {
				out, ok = append([]spec.Param(nil), ps[:i]...), true
			}
			// The value's own fields are cleaned too; a placeholder
			// inside a placeholder (landing.block.updateCards) is left
			// to the outer one's note.
			fields, _, _ := c.params(p.Fields)
			ph = append(ph, spec.Placeholder{
				Pattern: pattern, Name: p.Name, Description: p.Description, Line: p.Line, Note: firstSentence(p.Description),
				Kind: p.Kind, Type: p.Type, Fields: fields,
			})
			continue
		}
		q, changed := c.param(p)
		if changed && !ok {
			out, ok = append([]spec.Param(nil), ps[:i]...), true
		}
		if ok {
			out = append(out, q)
		}
	}
	if !ok {
		return ps, nil, false
	}
	return out, ph, true
}

// param cleans p's enum and nested fields; changed says whether q differs.
func (c cleaner) param(p spec.Param) (q spec.Param, changed bool) {
	if fs, ph, ok := c.params(p.Fields); ok {
		p.Fields = fs
		p.Placeholders = append(append([]spec.Placeholder(nil), p.Placeholders...), ph...)
		changed = true
	}
	if vs, ok := c.enum(p); ok {
		p.Enum = vs
		changed = true
	}
	if p.Kind == spec.KindBoolean && len(p.Enum) == 0 && inlineYN(p.Description) {
		// "(`Y` — yes / `N` — no)" in the prose lists the values as a
		// list would: the portal reads "Y"/"N", not true/false.
		p.Enum = []spec.EnumValue{{Value: "Y"}, {Value: "N"}}
		changed = true
	}
	return p, changed
}

var (
	// Y and N as words of their own: "(Y — yes / N — no)", "Flag Y/N",
	// "Possible values: Y or N".
	inlineY = regexp.MustCompile(`(^|[^\p{L}\p{N}_])Y([^\p{L}\p{N}_]|$)`)
	inlineN = regexp.MustCompile(`(^|[^\p{L}\p{N}_])N([^\p{L}\p{N}_]|$)`)
	// A page that names true or false besides ("Y and N do not work,
	// pass true or false") means JSON booleans.
	inlineTrue = regexp.MustCompile(`(?i)\b(true|false)\b`)
)

// inlineYN reports whether a description gives Y and N as the values in
// its running text, and not true or false.
func inlineYN(desc string) bool {
	return inlineY.MatchString(desc) && inlineN.MatchString(desc) && !inlineTrue.MatchString(desc)
}

// enum returns p's enum values with the non-literals dropped (and
// reported) and quoted literals unquoted; ok is false when none changed.
func (c cleaner) enum(p spec.Param) (out []spec.EnumValue, ok bool) {
	for i, v := range p.Enum {
		lit, isLit := literal(v.Value)
		if isLit && lit == v.Value {
			if ok {
				out = append(out, v)
			}
			continue
		}
		if !ok {
			out, ok = append([]spec.EnumValue(nil), p.Enum[:i]...), true
		}
		if !isLit {
			c.r.problem(c.file, p.Line, KindEnumNotLiteral,
				fmt.Sprintf("%s: %s: enum value %q is not a literal (code or a pattern): dropped", c.what, p.Name, v.Value))
			continue
		}
		v.Value = lit
		out = append(out, v)
	}
	return out, ok
}

// placeholderPattern reports whether a documented row name is a pattern
// for keys rather than a key, and returns the pattern: the variable part
// as "*" when it is a suffix, else the name without its markup escapes.
// Names such as "UF_CRM_1", "~DESCRIPTION", "=DELETED" or
// "TASKS_TASK|UF_CRM_TASK" are keys the portal really sends.
func placeholderPattern(name string) (string, bool) {
	s := strings.TrimSpace(name)
	if s == "" {
		return "", false
	}
	// A trailing "\" is an escaped "*" whose star the markup took for
	// emphasis ("**UF_\***" renders as "UF_\").
	if strings.HasSuffix(s, `\`) {
		return unescape(strings.TrimSuffix(s, `\`)) + "*", true
	}
	s = unescape(s)
	for _, dots := range []string{"...", "…"} {
		if strings.HasSuffix(s, dots) {
			return strings.TrimRight(strings.TrimSuffix(s, dots), ".…") + "*", true
		}
	}
	if strings.HasSuffix(s, "*") {
		return s, true
	}
	if strings.ContainsAny(s, "{}") || hasAngled(s) {
		return s, true
	}
	head, last := "", s
	if i := strings.LastIndexByte(s, '_'); i >= 0 {
		head, last = s[:i+1], s[i+1:]
	}
	switch {
	case head == "":
		return "", false
	case last == "" && strings.IndexFunc(head, unicode.IsLetter) >= 0:
		// "UF_": a prefix alone.
		return s + "*", true
	case strings.EqualFold(last, "xxx") || strings.EqualFold(last, "xxxx"):
		// "UF_CRM_XXX": the letters stand for the part that varies.
		return head + "*", true
	case isUpperSnake(strings.TrimSuffix(head, "_")) && isCamelWord(last):
		// "PROPERTY_PropertyId": a constant prefix in capitals, then a
		// word in another convention that names what goes there.
		return head + "*", true
	}
	return "", false
}

// unescape drops the Markdown escapes left in a name: "\<chatId\>" →
// "<chatId>", "/{BOT_ID/}" → "{BOT_ID}".
func unescape(s string) string {
	s = strings.ReplaceAll(s, `\`, "")
	return strings.NewReplacer("/{", "{", "/}", "}").Replace(s)
}

// hasAngled reports a "<…>" that encloses a letter: "<AREA_ID>",
// "#block<id>"; not the operators "<", ">=" of a filter key.
func hasAngled(s string) bool {
	i := strings.IndexByte(s, '<')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(s[i:], '>')
	return j > 1 && strings.IndexFunc(s[i+1:i+j], unicode.IsLetter) >= 0
}

func isUpperSnake(s string) bool {
	if s == "" || !unicode.IsUpper(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// isCamelWord reports "PropertyId": an upper-case start, lower-case
// letters after it, ASCII letters and digits only.
func isCamelWord(s string) bool {
	if len(s) < 2 || !(s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	lower := false
	for _, r := range s[1:] {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return lower
}

// maxLiteral bounds an enum literal: the longest real values are class
// names ("Bitrix\Crm\Integration\BizProc\Document\SmartInvoice", 52).
const maxLiteral = 96

// literal reports whether a documented enum value is a literal the portal
// sends or accepts, and returns it unquoted ("'C'" → "C", `""` → ""). A
// literal is one token: an identifier, a number, a code such as "S:Date"
// or "#shared#", a class name, a filter operator ("!=", ">="), a wildcard
// ("*", "UF_*"). Not literals: anything with white space or braces or
// brackets (code, sentences, JSON), and patterns with a "<name>" or
// "{name}" part ("U{id}", "DR<ID>") or another placeholder's shape.
func literal(v string) (string, bool) {
	if len(v) >= 2 {
		if q := v[0]; (q == '"' || q == '\'' || q == '`') && v[len(v)-1] == q {
			inner := v[1 : len(v)-1]
			if strings.ContainsRune(inner, rune(q)) {
				return v, false
			}
			if inner == "" {
				return "", true
			}
			v = inner
		}
	}
	if v == "" || len(v) > maxLiteral || !utf8.ValidString(v) {
		return v, false
	}
	for _, r := range v {
		if unicode.IsSpace(r) || strings.ContainsRune("{}[]\"'`,;()", r) {
			return v, false
		}
		if !unicode.IsPrint(r) {
			return v, false
		}
	}
	if hasAngled(v) {
		return v, false
	}
	// A field-name pattern among the values ("PROPERTY_PropertyId",
	// "UF_CRM_..."); a trailing "*" is a real wildcard ("UF_*" in select).
	if _, is := placeholderPattern(v); is && !strings.HasSuffix(v, "*") {
		return v, false
	}
	return v, true
}

// maxNote bounds the description a placeholder's Note quotes.
const maxNote = 80

// firstSentence is the description's first sentence without its full
// stop, its first letter lowered when the second is lower case ("Custom
// fields. For example, …" → "custom fields"), cut at a word past maxNote.
func firstSentence(d string) string {
	d = strings.Join(strings.Fields(strings.SplitN(d, "\n\n", 2)[0]), " ")
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
