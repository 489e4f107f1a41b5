package model

import (
	"bytes"
	"cmp"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// ParamSchema is one method's documented parameters, encoded for the fake
// portal of the generated tree, which checks each request against it
// (templates/b24test/check.go decodes the encoding).
type ParamSchema struct {
	Key     string // AnswerKey(Method, Version)
	Method  string
	Version int
	Code    string
	// Keys are the request keys of the entity a REST 2 list's rows are
	// (entityRequestKeys), comma-separated: what its filter, select and
	// order may name, in the entity's case. Empty for other methods.
	Keys string
}

// ParamSchemas returns the parameter schemas of the methods Build generates
// for these scopes, sorted by Key; methods that document no parameters have
// none. Names differing only in case share a key, as in Answers.
//
// The encoding is one string per method, small because it is compiled into
// every user's test binary:
//
//	list  = param *( "," param )
//	param = name [ ":" shape ] [ "?" group | "!" [ group ] ] [ "=" code ] [ "~" code ] [ "{" list "}" ]
//
// name is the wire key, a trailing "*" meaning a prefix (the docs'
// UF_CRM_... rows; "*" alone admits any key); shape is o (object), c (list or object: PHP's array), s
// (scalar) or absent (anything); "!" marks it required and group, a digit,
// puts it in a set of which one is enough ("?" group: an optional member
// of such a set); "=" is the code the page
// documents for its absence, "~" the code for a wrong shape; "{…}" holds
// an object's fields. The characters \ , : ! ? = ~ { } * are escaped with \.
//
// Shapes come from the documented kind, refined by the page's own request
// example where the type token is PHP's loose "array" or the example
// contradicts it: disk.folder.uploadfile's "data" is documented as an array
// and shown as {"NAME": …}, so the portal wants an object.
func ParamSchemas(s *spec.Spec, scopes []string) []ParamSchema {
	seen := map[string]bool{}
	var out []ParamSchema
	for _, m := range selectMethods(s, scopes, func(string, int, string, string) {}) {
		key := AnswerKey(m.Name, m.Version)
		if seen[key] || len(m.Params) == 0 {
			continue
		}
		seen[key] = true
		var ex map[string]json.RawMessage
		if len(m.RequestExample) > 0 {
			_ = json.Unmarshal(m.RequestExample, &ex) // no example: shapes from the table alone
		}
		var b strings.Builder
		w := &schemaWriter{b: &b, s: s, m: m, partial: isPartialWrite(m.Name), nested: nestedNames(ex)}
		w.list(m.Params, m.Placeholders, ex, 0)
		out = append(out, ParamSchema{Key: key, Method: m.Name, Version: m.Version, Code: b.String(), Keys: entityRequestKeys(s, m)})
	}
	slices.SortFunc(out, func(a, c ParamSchema) int { return strings.Compare(a.Key, c.Key) })
	return out
}

// entityRequestKeys lists, for a REST 2 method with a filter, select or
// order whose results are an entity with a *.fields page, every key of
// that entity as requests spell it (RequestName, else the read key),
// sorted and comma-joined; "" otherwise. The fake portal's strict checks
// refuse any other key there, so a filter in the wrong case (crm.item's
// "STAGE_ID" for "stageId") fails a test instead of matching no row.
func entityRequestKeys(s *spec.Spec, m *spec.Method) string {
	if m.Version == 3 || m.Result == nil || m.Result.Entity == "" ||
		!hasAnyKey(m.Params, "filter") && !hasAnyKey(m.Params, "select") && !hasAnyKey(m.Params, "order") {
		return ""
	}
	for i := range s.Entities {
		e := &s.Entities[i]
		if e.Family != m.Result.Entity || !hasFieldsPage(e) {
			continue
		}
		var keys []string
		for _, f := range e.Fields {
			if k := cmp.Or(f.RequestName, f.Name); !dynamicKeyName(k) && !strings.ContainsAny(k, ",\\") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return strings.Join(slices.Compact(keys), ",")
	}
	return ""
}

// maxSchemaDepth bounds the nesting written; deeper levels are not checked.
const maxSchemaDepth = 4

// schemaWriter writes one method's schema.
type schemaWriter struct {
	b *strings.Builder
	s *spec.Spec
	m *spec.Method
	// partial is true for updates: the nested tables they share with add
	// mark what a new record needs, not what a change must carry.
	partial bool
	// nested holds the keys the request example shows below its top level.
	nested map[string]bool
	// inFilter is true below a list's filter: its table lists the fields
	// one may filter by (some copied from add, required there), and a
	// condition is never required.
	inFilter bool
}

func (w *schemaWriter) list(params []spec.Param, patterns []spec.Placeholder, ex map[string]json.RawMessage, depth int) {
	b, m := w.b, w.m
	groups := requiredGroups(params)
	first := true
	// Pattern rows (UF_CRM_*, {BOT_ID}) admit the keys they stand for, in
	// strict mode: a prefix, or any key when the pattern starts variable.
	for _, ph := range patterns {
		if !first {
			b.WriteByte(',')
		}
		first = false
		prefix, _, _ := strings.Cut(ph.Pattern, "*")
		if i := strings.IndexAny(prefix, "{<"); i >= 0 {
			prefix = prefix[:i]
		}
		writeEscaped(b, prefix)
		b.WriteByte('*')
	}
	for i := range params {
		p := &params[i]
		name, prefix := wireName(p.Name)
		if name == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeEscaped(b, name)
		if prefix {
			b.WriteByte('*')
		}
		ev := lookupFold(ex, p.Name)
		shape := paramShape(p, ev)
		if shape != 0 {
			b.WriteByte(':')
			b.WriteByte(shape)
		}
		required := p.Required && !prefix && !(depth > 0 && w.partial) && !w.inFilter
		if required && depth == 0 && ev == nil && w.nested[strings.ToLower(p.Name)] {
			// The table flattened a nested row (crm.currency.add's DECIMALS
			// sits in fields): the example shows it one level down.
			required = false
		}
		if !required && groups[i] > 0 {
			b.WriteByte('?') // an optional stand-in for required ones
			b.WriteByte(byte('0' + groups[i]))
		}
		if required {
			b.WriteByte('!')
			if g := groups[i]; g > 0 {
				b.WriteByte(byte('0' + g))
			}
			if code, ok := documentedCode(m, p.Name, missingRE); ok {
				b.WriteByte('=')
				writeEscaped(b, code)
			}
		}
		if shape == 'o' || shape == 'c' {
			if code, ok := documentedCode(m, p.Name, shapeRE); ok {
				b.WriteByte('~')
				writeEscaped(b, code)
			}
		}
		fields := w.writeForm(p)
		if shape == 'o' && len(fields)+len(p.Placeholders) > 0 && depth < maxSchemaDepth && !fieldsFromRequest(p) {
			var sub map[string]json.RawMessage
			if len(ev) > 0 {
				_ = json.Unmarshal(ev, &sub)
			}
			if len(sub) > 0 && !anyField(sub, fields) {
				// A map keyed by data ({"page_code": {…}}): the fields
				// describe its values, which are not checked.
				continue
			}
			b.WriteByte('{')
			saved := w.inFilter
			w.inFilter = w.inFilter || strings.EqualFold(p.Name, "filter")
			w.list(fields, p.Placeholders, sub, depth+1)
			w.inFilter = saved
			b.WriteByte('}')
		}
	}
}

// writeForm is what an object parameter takes: its own rows, and where it
// is an entity's write form (the "fields" of add and update), every field
// of that form too. The generated function sends any of them, so the fake
// portal must take them: tasks.task.add's page lists three rows and links
// the rest ("description of all task fields"), and its own example sends
// deadline.
func (w *schemaWriter) writeForm(p *spec.Param) []spec.Param {
	if p.Entity == "" {
		return p.Fields
	}
	for i := range w.s.Entities {
		e := &w.s.Entities[i]
		if e.Family != p.Entity || (e.Version == 3) != (w.m.Version == 3) {
			continue
		}
		out := slices.Clone(p.Fields)
		for _, f := range e.Input {
			if !slices.ContainsFunc(out, func(have spec.Param) bool { return strings.EqualFold(have.Name, f.Name) }) {
				out = append(out, f)
			}
		}
		return out
	}
	return p.Fields
}

// isPartialWrite reports whether method changes a record in part: its
// last segment starts with "update".
func isPartialWrite(method string) bool {
	last := method[strings.LastIndexByte(method, '.')+1:]
	return strings.HasPrefix(strings.ToLower(last), "update")
}

// nestedNames collects the lower-case keys of ex's objects below the top
// level.
func nestedNames(ex map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	var walk func(raw json.RawMessage, depth int)
	walk = func(raw json.RawMessage, depth int) {
		if depth > maxSchemaDepth {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			for k, v := range obj {
				out[strings.ToLower(k)] = true
				walk(v, depth+1)
			}
			return
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, v := range list {
				walk(v, depth+1)
			}
		}
	}
	for _, v := range ex {
		walk(v, 1)
	}
	return out
}

// anyField reports whether obj holds one of the documented fields.
func anyField(obj map[string]json.RawMessage, fields []spec.Param) bool {
	for _, f := range fields {
		if lookupFold(obj, f.Name) != nil {
			return true
		}
	}
	return false
}

// wireName cleans a documented name: placeholder rows ("UF_CRM_...",
// "PARENT_ID_…", "UF_*") become prefixes; a name with spaces or brackets
// is prose, not a key, and is left out.
func wireName(name string) (string, bool) {
	n := strings.TrimSpace(name)
	prefix := false
	for _, suf := range []string{"...", "…", "*", "\\", "xxx", "XXX"} {
		if t, ok := strings.CutSuffix(n, suf); ok && t != "" {
			n, prefix = t, true
			break
		}
	}
	if !strings.ContainsFunc(n, func(r rune) bool { return r < 128 && wordByte(byte(r)) && r != '_' }) ||
		strings.ContainsAny(n, " \t[]()<>{}|\"'") {
		return "", false
	}
	return n, prefix
}

func writeEscaped(b *strings.Builder, s string) {
	for _, r := range s {
		if strings.ContainsRune(`\,:!?=~{}*`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}

// paramShape is the JSON shape the portal needs for p, given the page's
// example value ev (nil when the example does not show p); 0 means any.
func paramShape(p *spec.Param, ev json.RawMessage) byte {
	got := exampleShape(ev)
	if isLocalized(*p) {
		return 0 // a text, or a text per language: either shape
	}
	switch p.Kind {
	case spec.KindObject:
		if got == 'l' {
			return 'c' // drawn as an object, shown as a list of them
		}
		return 'o'
	case spec.KindArray:
		if got == 'o' {
			return 'o' // PHP's associative array
		}
		return 'c'
	case spec.KindInteger, spec.KindNumber, spec.KindBoolean, spec.KindDate, spec.KindDateTime:
		if got == 'l' || got == 'o' {
			return 0
		}
		return 's'
	}
	// Strings, enums, files and untyped rows: pages carry JSON in strings
	// and files as [name, base64] pairs, so their shape is not checked.
	return 0
}

// exampleShape is 'o' for a non-empty object, 'l' for a non-empty list (or
// an object keyed 0..n-1, which PHP cannot tell from one), 0 otherwise.
func exampleShape(raw json.RawMessage) byte {
	t := bytes.TrimSpace(raw)
	if len(t) < 3 {
		return 0 // absent, scalar, [] or {}
	}
	switch t[0] {
	case '[':
		return 'l'
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(t, &m) != nil || len(m) == 0 {
			return 0
		}
		for i := range len(m) {
			if _, ok := m[itoa(i)]; !ok {
				return 'o'
			}
		}
		return 'l'
	}
	return 0
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func lookupFold(m map[string]json.RawMessage, name string) json.RawMessage {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// requiredGroups finds the parameters that stand in for each other: a
// page writes "Required if DIALOG_ID is not provided" or "At least one of
// IBLOCK_ID or IBLOCK_CODE" in one of them. A parameter whose description
// names a required one shares its group (1-9), and one of a group is
// enough; 0 means required on its own.
func requiredGroups(params []spec.Param) map[int]int {
	parent := map[int]int{}
	var find func(int) int
	find = func(i int) int {
		if p, ok := parent[i]; ok && p != i {
			r := find(p)
			parent[i] = r
			return r
		}
		return i
	}
	linked := map[int]bool{}
	for i := range params {
		for j := range params {
			// An optional parameter naming a required one stands in for it
			// (imbot.register's EVENT_HANDLER "is copied to EVENT_MESSAGE_ADD").
			if i == j || !params[j].Required || !mentions(params[i].Description, params[j].Name) {
				continue
			}
			parent[find(i)] = find(j)
			linked[i], linked[j] = true, true
		}
	}
	groups := map[int]int{}
	ids := map[int]int{}
	for i := range params {
		if !linked[i] {
			continue
		}
		r := find(i)
		if _, ok := ids[r]; !ok && len(ids) < 9 {
			ids[r] = len(ids) + 1
		}
		groups[i] = ids[r]
	}
	return groups
}

// mentions reports whether text names name as a whole word.
func mentions(text, name string) bool {
	if name == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !wordByte(text[j-1])) && (end == len(text) || !wordByte(text[end])) {
			return true
		}
		i = j + 1
	}
}

func wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

var (
	// missingRE matches error rows about an absent parameter.
	missingRE = regexp.MustCompile(`(?i)could not find value|required|missing|not (been )?(specified|passed|provided|set)|can(no|')t be empty|is empty|empty value`)
	// shapeRE matches error rows about a parameter of the wrong shape.
	shapeRE = regexp.MustCompile(`(?i)must be (an? )?(non[- ]empty )?(array|object|list)|is not an? (array|object)|should be an? (array|object)`)
)

// documentedCode finds the code the page documents for a problem with the
// parameter name: an error row matching re whose text names it ("Could not
// find value for parameter {id}", "The parameter 'fields' must be array").
// Codes that are not an error's (HTTP statuses shown as codes, "-") are
// skipped.
func documentedCode(m *spec.Method, name string, re *regexp.Regexp) (string, bool) {
	for _, e := range m.Errors {
		text := e.Message + " " + e.Description
		if !re.MatchString(text) || !mentions(text, name) {
			continue
		}
		code := strings.TrimSpace(e.Code)
		if code == "-" || code == "—" || code == "INVALID_REQUEST" || strings.HasPrefix(code, "BITRIX_REST_V3_EXCEPTION_INSUFFICIENT") {
			continue
		}
		return code, true
	}
	return "", false
}

// fieldsFromRequest reports an object whose fields only the page's request
// example shows (resolve's EvidenceRequest): one call's keys, not what the
// method takes, so they are not checked.
func fieldsFromRequest(p *spec.Param) bool {
	return len(p.Evidence) > 0 && p.Evidence[0].Kind == spec.EvidenceRequest && p.Evidence[0].Note == spec.RequestFields
}
