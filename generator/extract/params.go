package extract

import (
	"regexp"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

type tableKind int

const (
	tOther  tableKind = iota
	tParams           // rows of **name** + `type` | description
	tErrors           // rows of code | message | description
)

// tableInfo is a YFM table classified by its shape.
type tableInfo struct {
	Kind      tableKind
	Rows      []tableRow // data rows (header removed)
	Header    []string   // header cells, plain text; nil when the table has none
	SplitType bool       // the type sits in its own column (name | type | description)
	// Typed is true when the table has a type at all: its header names one,
	// or most rows carry one. Tables of names and descriptions only (scope
	// lists, some result tables) are read, but their rows are not "untyped".
	Typed bool
	Line  int

	params []rawParam // parsed rows, filled by pageCtx.rowsOf
	rowIdx []int      // params[k] is Rows[rowIdx[k]]
}

var (
	// A parameter name cell: **name** with the required marker either as a
	// trailing "*" ("**id***"), "^*^" after or inside the bold.
	nameCellRe = regexp.MustCompile(`^\s*\*\*(.+?)\*\*(\*+|\s*\^\*\^)?`)
	// More bold names after the first: "**REPORT_ID*** \| **ID***" (aliases).
	aliasRe = regexp.MustCompile(`^\s*(?:\\?\||or|или|/|,)?\s*\*\*[^*]+\*\*(?:\*+|\^\*\^)?`)
	// A type cell that holds nothing but a (linked) code token or two.
	typeOnlyRe = regexp.MustCompile("^\\s*(\\[?`[^`]+`\\]?(\\([^)]*\\))?[\\s,|/]*(or|of|или)?\\s*)+$")
)

func isBoldOrCodeOnly(cell string) bool {
	s := boldRe.ReplaceAllString(cell, "")
	for _, t := range codeTokens(s) {
		s = strings.Replace(s, "`"+t+"`", "", 1)
	}
	s = linkRe.ReplaceAllString(s, "")
	return strings.Trim(s, " \t\r\n*/,|") == "" && strings.Contains(cell, "**")
}

func classifyTable(rows []tableRow, line int) tableInfo {
	ti := tableInfo{Line: line}
	if len(rows) == 0 {
		return ti
	}
	data := rows
	header := true
	for _, c := range rows[0].Cells {
		if !isBoldOrCodeOnly(c) {
			header = false
			break
		}
	}
	if header && len(rows[0].Cells) > 1 {
		for _, c := range rows[0].Cells {
			ti.Header = append(ti.Header, plainText(c))
		}
		data = rows[1:]
	}
	ti.Rows = data
	if len(data) == 0 {
		return ti
	}
	named, typed, split, splitCandidates := 0, 0, 0, 0
	for _, r := range data {
		if len(r.Cells) == 0 {
			continue
		}
		m := nameCellRe.FindStringSubmatchIndex(r.Cells[0])
		if m == nil {
			continue
		}
		named++
		if strings.Contains(r.Cells[0][m[1]:], "`") {
			typed++
		}
		if len(r.Cells) >= 3 && strings.TrimSpace(r.Cells[0][m[1]:]) == "" {
			splitCandidates++
			if typeOnlyRe.MatchString(r.Cells[1]) {
				split++
			}
		}
	}
	if named*2 >= len(data) && named > 0 {
		ti.Kind = tParams
		ti.SplitType = split > 0 && split*2 >= splitCandidates
		ti.Typed = ti.SplitType || header && strings.Contains(rows[0].Cells[0], "`") || typed*2 >= named
		return ti
	}
	if ti.Header != nil {
		coded := 0
		for _, r := range data {
			if len(r.Cells) >= 2 && (strings.Contains(r.Cells[0], "`") || strings.Contains(r.Cells[1], "`")) {
				coded++
			}
		}
		// A header naming a code column marks an error table even when
		// its rows hold no code token ("Empty value | Access denied").
		if _, named := errorColumns(ti.Header); named || coded*2 >= len(data) && coded > 0 {
			ti.Kind = tErrors
		}
	}
	return ti
}

// rawParam is a parameter row before nesting: dotted names and anchors are
// resolved by the page pass.
type rawParam struct {
	spec.Param
	Anchors []string // in-page anchors the row links to (type first)
	Untyped bool
}

var nameUnescaper = strings.NewReplacer("\\_", "_", "`", "", "\\*", "*")

// parseParamRow reads one row of a parameters table.
func parseParamRow(r tableRow, split bool) (rawParam, bool) {
	if len(r.Cells) == 0 {
		return rawParam{}, false
	}
	first := r.Cells[0]
	m := nameCellRe.FindStringSubmatchIndex(first)
	if m == nil {
		return rawParam{}, false
	}
	name := first[m[2]:m[3]]
	required := m[4] >= 0
	if strings.Contains(name, "^*^") {
		required = true
		name = strings.ReplaceAll(name, "^*^", "")
	}
	name = nameUnescaper.Replace(strings.TrimSpace(name))
	// "**name***" where the marker landed inside: "**name*" + "**"
	if strings.HasSuffix(name, "*") && !strings.HasSuffix(name, ".*") && !strings.HasSuffix(name, "_*") {
		name = strings.TrimSpace(strings.TrimRight(name, "*"))
		required = true
	}
	typeMD := first[m[1]:]
	for {
		a := aliasRe.FindStringIndex(typeMD)
		if a == nil {
			break
		}
		typeMD = typeMD[a[1]:]
	}
	descIdx := 1
	if split && len(r.Cells) >= 3 && strings.TrimSpace(typeMD) == "" {
		typeMD = r.Cells[1]
		descIdx = 2
	}
	// A row whose type sits under the name in its description cell would be
	// misread; the type is the part of the name cell after the bold only.
	desc := ""
	if len(r.Cells) > descIdx {
		desc = strings.Join(r.Cells[descIdx:], "\n")
	}
	p := rawParam{}
	p.Name = name
	p.Required = required
	p.Line = r.Line
	p.Type = normaliseTypeText(plainText(typeMD))
	p.Description = plainDoc(desc)
	typeAnchors := inPageAnchors(typeMD)
	structured := false
	if len(typeAnchors) > 0 {
		p.Ref = typeAnchors[0]
		structured = true
	} else if m := linkRe.FindStringSubmatch(typeMD); m != nil && strings.Contains(m[2], "#") && !strings.Contains(m[2], "data-types") {
		// [`deal[]`](crm-deal-get.md#deal): a structure another page
		// describes. (data-types pages describe scalar types too.)
		structured = true
	}
	if len(typeAnchors) == 0 {
		p.Link = typeLink(typeMD)
	}
	p.Anchors = append(typeAnchors, inPageAnchors(dropFencesAndTables(desc))...)
	p.Enum = enumValues(desc)
	if p.Enum == nil {
		p.Enum = nestedTableValues(desc)
	}
	p.Default = defaultValue(desc)
	p.Deprecated = mentionsDeprecated(desc)
	if p.Type == "" {
		p.Untyped = true
	}
	p.Kind, p.Elem = kindOf(p.Type, structured, p.Enum)
	if p.Kind == spec.KindObject || p.Kind == spec.KindArray && p.Elem == spec.KindObject {
		// "where: - `field_n` — field name": a format legend, not values.
		p.Enum = nil
	}
	return p, true
}

// normaliseTypeText tidies the type as written: "array of string",
// "integer | string". It keeps the documented spelling.
func normaliseTypeText(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, ",;|")
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' && !strings.ContainsAny(s[1:len(s)-1], "[] ") {
		// "[`object`]": link brackets without a target.
		s = s[1 : len(s)-1]
	}
	return s
}

var enumItemRe = regexp.MustCompile("^\\s*[-*+]\\s+`([^`]+)`\\s*(?:—|–|-|:|=|−)\\s*(.*)$")

// enumValues reads "- `X` — meaning" list items of a description.
func enumValues(desc string) []spec.EnumValue {
	if !strings.Contains(desc, "`") {
		return nil
	}
	var out []spec.EnumValue
	seen := map[string]bool{}
	inFence := false
	// Code written before the list: the placeholders a legend explains.
	var before strings.Builder // fenced code
	var spans []string         // code spans
	for _, line := range strings.Split(desc, "\n") {
		if len(out) == 0 && !enumItemRe.MatchString(line) {
			if inFence || isFence(strings.TrimSpace(line)) {
				before.WriteString(line + "\n")
			} else {
				spans = append(spans, codeTokens(line)...)
			}
		}
		if isFence(strings.TrimSpace(line)) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		t := strings.TrimLeft(line, " \t")
		if len(t) < 2 || (t[0] != '-' && t[0] != '*' && t[0] != '+') || !strings.Contains(t, "`") {
			continue
		}
		m := enumItemRe.FindStringSubmatch(line)
		if m == nil || seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		out = append(out, spec.EnumValue{Value: m[1], Description: plainText(m[2])})
	}
	// "format {entityTypeName} #{id}, where - `entityTypeName` — …": the
	// list explains placeholders of code shown before it, it lists no values.
	code := before.String()
	for _, e := range out {
		if containsIdent(code, e.Value) {
			return nil
		}
		for _, sp := range spans {
			// `Y` mentioned before "- `Y` — yes" is a value; `{entityTypeName} #{id}`
			// is a template whose parts the list explains.
			if sp != e.Value && containsIdent(sp, e.Value) {
				return nil
			}
		}
	}
	return out
}

// containsIdent reports whether id occurs in s not as part of a longer
// identifier.
func containsIdent(s, id string) bool {
	isIdent := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i+len(id) <= len(s); {
		j := strings.Index(s[i:], id)
		if j < 0 {
			return false
		}
		at := i + j
		end := at + len(id)
		if (at == 0 || !isIdent(s[at-1])) && (end == len(s) || !isIdent(s[end])) {
			return true
		}
		i = at + 1
	}
	return false
}

// nestedTableValues reads the values of a table nested in a description:
//
//	#|
//	||SOURCE_ID|Name||
//	||CALL|Call||
//	|#
//
// The first row is the header; a value is a first cell that is a single
// token (code marks allowed).
func nestedTableValues(desc string) []spec.EnumValue {
	start := strings.Index(desc, "#|")
	if start < 0 {
		return nil
	}
	end := strings.Index(desc[start:], "|#")
	if end < 0 {
		return nil
	}
	rows := splitTable(desc[start:start+end+2], nil)
	if len(rows) < 2 {
		return nil
	}
	var out []spec.EnumValue
	for _, r := range rows[1:] {
		if len(r.Cells) < 2 {
			return nil
		}
		v := strings.Trim(strings.TrimSpace(r.Cells[0]), "`*")
		if v == "" || strings.ContainsAny(v, " \t\n|") {
			return nil // not a list of values
		}
		out = append(out, spec.EnumValue{Value: v, Description: plainText(r.Cells[1])})
	}
	return out
}

// defaultWords are the spellings of "default" in the docs' languages.
var defaultWords = []string{"default", "по умолчанию", "standard", "predeterminad", "padrão", "par défaut", "默认"}

var defaultValueRe = regexp.MustCompile("`([^`]+)`")

// indexFold is strings.Index ignoring case, with an index into s itself
// (strings.ToLower(s) may not be as long as s: invalid UTF-8, "K").
func indexFold(s, substr string) int {
	if substr == "" {
		return 0
	}
	first := substr[0] // lower case: ASCII letters fold by | 0x20
	for i := 0; i+len(substr) <= len(s); i++ {
		c := s[i]
		if first < 0x80 && c|0x20 != first && c != first || first >= 0x80 && c != first {
			continue
		}
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return i
		}
	}
	return -1
}

// defaultValue finds the code value stated next to a "default" word.
func defaultValue(desc string) string {
	for _, w := range defaultWords {
		i := indexFold(desc, w)
		if i < 0 {
			continue
		}
		// The value follows within the same sentence.
		rest := desc[i+len(w):]
		if j := strings.IndexAny(rest, ".\n"); j >= 0 {
			rest = rest[:j]
		}
		if m := defaultValueRe.FindStringSubmatch(rest); m != nil {
			return m[1]
		}
		return ""
	}
	return ""
}

// deprecatedWords are the spellings of "deprecated" in the docs' languages.
var deprecatedWords = []string{"deprecated", "устарел", "устаревш", "veraltet", "obsolet", "obsolète", "已弃用"}

func mentionsDeprecated(s string) bool { return mentionsAny(s, deprecatedWords) }

// mentionsAny reports whether s contains one of words (lower case), case
// aside.
func mentionsAny(s string, words []string) bool {
	low := strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

// kindOf maps a documented type token to a Go-neutral kind. refd is true when
// the type links to an in-page anchor (a structure described on the page).
func kindOf(typ string, refd bool, enum []spec.EnumValue) (spec.Kind, spec.Kind) {
	t := strings.ToLower(strings.TrimSpace(typ))
	if t == "" {
		if refd {
			return spec.KindObject, ""
		}
		return spec.KindAny, ""
	}
	// "string | null", "integer null": null only says the value may be
	// absent.
	for _, null := range []string{" | null", "|null", " null", "null | ", "null|"} {
		if strings.Contains(t, null) {
			return kindOf(strings.Replace(t, null, "", 1), refd, enum)
		}
	}
	// "integer | string", "integer or string": the first alternative decides
	// unless the alternatives disagree, then the value is any.
	for _, sep := range []string{"|", " or ", " или ", "/"} {
		if strings.Contains(t, sep) && !strings.HasPrefix(t, "array") {
			parts := strings.Split(t, sep)
			k0, e0 := kindOf(parts[0], false, nil)
			for _, p := range parts[1:] {
				if k, _ := kindOf(p, false, nil); k != k0 {
					return spec.KindAny, ""
				}
			}
			return k0, e0
		}
	}
	if strings.HasSuffix(t, "[]") {
		e, _ := kindOf(strings.TrimSuffix(t, "[]"), refd, nil)
		return spec.KindArray, e
	}
	// "array<object>" (fields-rest-v3's accomplices): a list of the inner type.
	if head, inner, ok := strings.Cut(strings.TrimSuffix(t, ">"), "<"); ok && strings.HasSuffix(t, ">") {
		switch head {
		case "array", "list", "arr":
			e, _ := kindOf(inner, refd, nil)
			return spec.KindArray, e
		}
	}
	for _, pre := range []string{"array of ", "array of", "list of ", "массив "} {
		if strings.HasPrefix(t, pre) && len(t) > len(pre) {
			e, _ := kindOf(strings.TrimSpace(t[len(pre):]), refd, nil)
			return spec.KindArray, e
		}
	}
	if i := strings.IndexByte(t, ' '); i > 0 {
		// "string boolean": two type tokens side by side are alternatives.
		if words := strings.Fields(t); len(words) == 2 && basicTypes[words[0]] && basicTypes[words[1]] {
			return kindOf(words[0]+" | "+words[1], refd, enum)
		}
		// "integer (id)", "string, optional": the first word is the type.
		return kindOf(t[:i], refd, enum)
	}
	switch t {
	case "integer", "int", "int32", "int64", "uint", "long", "bigint", "unsigned", "number_int", "timestamp", "id", "uid", "sort":
		return spec.KindInteger, ""
	case "double", "float", "number", "decimal", "numeric", "money", "price", "percent":
		return spec.KindNumber, ""
	case "boolean", "bool", "bit":
		return spec.KindBoolean, ""
	case "char", "y/n", "yn":
		if isYN(enum) || len(enum) == 0 && t == "char" {
			return spec.KindBoolean, ""
		}
		return spec.KindEnum, ""
	case "date":
		return spec.KindDate, ""
	case "datetime", "date_time", "isodate", "iso_date", "date-time":
		return spec.KindDateTime, ""
	case "string", "text", "str", "varchar", "email", "url", "phone", "html", "uuid", "guid", "color", "code", "crm_status", "crm_currency", "currency", "lang", "language", "time":
		if len(enum) > 0 && t != "time" {
			return spec.KindEnum, ""
		}
		if t == "time" && refd {
			return spec.KindObject, ""
		}
		return spec.KindString, ""
	case "object", "obj", "map", "json", "struct", "dictionary", "hash", "assoc":
		return spec.KindObject, ""
	case "crm_multifield":
		return spec.KindArray, spec.KindObject
	case "array", "list", "arr", "multifield":
		return spec.KindArray, ""
	case "file", "attached_object", "disk_file", "crm_file", "binary", "base64", "file_content":
		return spec.KindFile, ""
	case "any", "mixed", "variant", "undefined", "crm_userfield", "userfield", "custom":
		return spec.KindAny, ""
	case "enum", "enumeration":
		return spec.KindEnum, ""
	case "user", "group", "department", "sonet_group", "task", "catalog_product", "iblock_section", "crm_entity":
		return spec.KindInteger, ""
	}
	if strings.HasPrefix(t, "crm_") || strings.HasSuffix(t, "_id") || strings.HasSuffix(t, ".id") {
		return spec.KindInteger, ""
	}
	if strings.HasPrefix(t, "int") {
		return spec.KindInteger, ""
	}
	if refd {
		return spec.KindObject, ""
	}
	if len(enum) > 0 {
		return spec.KindEnum, ""
	}
	return spec.KindString, ""
}

// basicTypes are the scalar type tokens of the docs' data-types page.
var basicTypes = map[string]bool{"string": true, "integer": true, "int": true, "boolean": true, "bool": true,
	"double": true, "float": true, "number": true, "date": true, "datetime": true, "object": true, "array": true, "file": true, "char": true}

func isYN(enum []spec.EnumValue) bool {
	if len(enum) == 0 || len(enum) > 2 {
		return false
	}
	for _, e := range enum {
		if e.Value != "Y" && e.Value != "N" {
			return false
		}
	}
	return true
}

// typeLink is the target of a type cell's link to a structure another page
// describes: a named type ([`catalog_measure[]`](../data-types.md#catalog_measure),
// [`item`](./object-fields.md)), not a basic one ([`object`](../data-types.md)
// is the generic type's description), and not a data-types page as a whole.
func typeLink(typeMD string) string {
	m := linkRe.FindStringSubmatch(typeMD)
	if m == nil {
		return ""
	}
	target := m[2]
	if strings.Contains(target, "://") || strings.HasPrefix(target, "#") {
		return ""
	}
	file, anchor, _ := strings.Cut(target, "#")
	if !strings.HasSuffix(file, ".md") || anchor == "" && strings.Contains(file, "data-types") {
		return ""
	}
	token := strings.ToLower(strings.Trim(plainText(m[1]), "` "))
	token = strings.TrimSuffix(token, "[]")
	if token == "" || basicTypes[token] || strings.Contains(token, ".") {
		// catalog_section.id, sale_paysystem_handler.CODE: a value of the
		// structure, not it
		return ""
	}
	// A token the docs read as a scalar names what the value refers to,
	// not its shape: crm_currency is a currency's code, crm_company an ID.
	if k, _ := kindOf(token, false, nil); k != spec.KindString || stringTokens[token] {
		return ""
	}
	return target
}

// stringTokens are the type tokens kindOf reads as strings by name (the
// others it reads as strings for want of a kind).
var stringTokens = map[string]bool{"string": true, "text": true, "str": true, "varchar": true, "email": true, "url": true,
	"phone": true, "html": true, "uuid": true, "guid": true, "color": true, "code": true, "crm_status": true,
	"crm_currency": true, "currency": true, "lang": true, "language": true, "time": true}
