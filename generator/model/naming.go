package model

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// initialisms are words written in upper case inside Go names (Go's own
// convention: UserID, not UserId). Keys are lower case.
var initialisms = map[string]string{
	"acl": "ACL", "api": "API", "crm": "CRM", "css": "CSS", "dns": "DNS",
	"guid": "GUID", "html": "HTML", "http": "HTTP", "https": "HTTPS",
	"id": "ID", "ids": "IDs", "ip": "IP", "json": "JSON", "pdf": "PDF",
	"qr": "QR", "sip": "SIP", "sku": "SKU", "sms": "SMS", "sql": "SQL",
	"ssl": "SSL", "tls": "TLS", "ttl": "TTL", "ui": "UI", "uri": "URI",
	"url": "URL", "urls": "URLs", "utm": "UTM", "uuid": "UUID", "vat": "VAT",
	"xml": "XML",
}

// splitWords cuts an identifier as the docs spell it ("DATE_CREATE",
// "entityTypeId", "getList", "HTTPServer", "userIDs") into words. Any rune
// that is not a letter or digit separates words; a lower-to-upper change
// starts a new word; an upper-case run followed by a lower-case letter gives
// its last letter to the next word, except for a plural "s" ("IDs").
func splitWords(s string) []string {
	var words []string
	rs := []rune(s)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, string(rs[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := rs[i-1]
		switch {
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush(i)
			start = i
		case unicode.IsLower(r) && unicode.IsUpper(prev) && i-start >= 2:
			// "HTTPServer": the run HTTP ends before the S of Server, but
			// "IDs" keeps its plural s.
			if r == 's' && (i+1 == len(rs) || !unicode.IsLower(rs[i+1])) {
				continue
			}
			flush(i - 1)
			start = i - 1
		}
	}
	flush(len(rs))
	return words
}

// exportWord writes one word for an exported Go name: an initialism in
// upper case, an all-upper word ("TITLE") as "Title", anything else with its
// first letter raised and inner capitals kept ("productrows" →
// "Productrows").
func exportWord(w string) string {
	lw := strings.ToLower(w)
	if in, ok := initialisms[lw]; ok {
		return in
	}
	if w == strings.ToUpper(w) {
		w = lw
	}
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[n:]
}

// Exported turns a documented name into an exported Go identifier:
// "DATE_CREATE" → "DateCreate", "entityTypeId" → "EntityTypeID". Runes Go
// does not allow are dropped; a name that starts with a digit gets the
// prefix "N"; a name with no usable rune is "X".
func Exported(s string) string {
	return exportedWords(splitWords(s))
}

// operatorWords name the symbols of the filter operators the docs list as
// values (user.get's ">=", "!%"): the same words the runtime's operators use
// (b24.Ge, b24.NotIn), so a value written in symbols still gets a name
// rather than "X".
var operatorWords = []struct{ sym, word string }{
	{">=", "Ge"}, {"<=", "Le"}, {"!=", "Ne"}, {"!", "Not"}, {"=", "Eq"},
	{">", "Gt"}, {"<", "Lt"}, {"@", "In"}, {"%", "Like"},
}

// operatorName spells an operator value in words: "!@" → "NotIn", "=%" →
// "EqLike"; false when s is not made of operator symbols only.
func operatorName(s string) (string, bool) {
	var b strings.Builder
	for s != "" {
		found := false
		for _, o := range operatorWords {
			if strings.HasPrefix(s, o.sym) {
				b.WriteString(o.word)
				s = s[len(o.sym):]
				found = true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// exportedWords joins words into an exported identifier (see Exported).
func exportedWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(exportWord(w))
	}
	out := b.String()
	if out == "" {
		return "X"
	}
	if r, _ := utf8.DecodeRuneInString(out); !unicode.IsLetter(r) {
		out = "N" + out
	}
	return asciiOnly(out)
}

// asciiOnly keeps generated identifiers typeable: a letter outside ASCII
// (Cyrillic enum values exist in the docs) is written as its code point.
func asciiOnly(s string) string {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			goto slow
		}
	}
	return s
slow:
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
		} else {
			b.WriteString("U" + strconv.FormatInt(int64(r), 16))
		}
	}
	return b.String()
}

// FuncName is the Go function of a method: the segments after the first in
// CamelCase with inner capitals kept ("crm.deal.productrows.get" →
// "DealProductrowsGet", "landing.site.getList" → "SiteGetList"). A
// one-segment method ("batch", "profile") is named after that segment.
func FuncName(method string) string {
	segs := strings.Split(method, ".")
	if len(segs) > 1 {
		segs = segs[1:]
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(Exported(s))
	}
	return b.String()
}

// RootPackage is the package of one-segment methods (batch, methods,
// profile, scope, …): they are the REST core, not a family of their own.
const RootPackage = "rest"

// reservedPackages are names a method family may not take as its package:
// Go keywords are added below; the rest are packages the output tree or
// generated code already uses.
var reservedPackages = map[string]bool{
	"b24": true, "b24test": true, "events": true, RootPackage: true,
	"context": true, "json": true, "iter": true, "time": true,
	"errors": true, "fmt": true, "http": true, "strings": true,
	"main": true, "internal": true, "testdata": true, "vendor": true,
}

// PackageName is the Go package of a method: its first segment lower-cased
// with everything but ASCII letters and digits removed
// ("sonet_group.create" → "sonetgroup"). One-segment methods go to
// RootPackage. A name that is a Go keyword or a reserved package gets the
// suffix "api" ("b24" → "b24api"); one that starts with a digit gets the
// prefix "p".
func PackageName(method string) string {
	segs := strings.Split(method, ".")
	if len(segs) == 1 {
		return RootPackage
	}
	var b strings.Builder
	for _, r := range strings.ToLower(segs[0]) {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	name := b.String()
	if name == "" {
		name = "x"
	}
	if unicode.IsDigit(rune(name[0])) {
		name = "p" + name
	}
	if token.IsKeyword(name) || reservedPackages[name] {
		name += "api"
	}
	return name
}

// Pool hands out identifiers unique within one Go package. The first to ask
// for a name gets it; later askers get the name with "_2", "_3", …, so
// the order of asking (sorted, in the model) decides, never map order.
type Pool struct{ used map[string]bool }

// NewPool returns an empty pool with the given names already taken.
func NewPool(taken ...string) *Pool {
	p := &Pool{used: map[string]bool{}}
	for _, t := range taken {
		p.used[t] = true
	}
	return p
}

// Take returns name, or name_N for the smallest N ≥ 2 not yet taken, and
// marks the result taken.
func (p *Pool) Take(name string) string {
	if !p.used[name] {
		p.used[name] = true
		return name
	}
	for n := 2; ; n++ {
		c := name + "_" + strconv.Itoa(n)
		if !p.used[c] {
			p.used[c] = true
			return c
		}
	}
}

// Has reports whether name is taken.
func (p *Pool) Has(name string) bool { return p.used[name] }

// Vocabulary is the words the spec itself writes apart, used to cut names
// the docs write in one piece: "TASKID" and "Taskid" → "TaskID" because
// "taskId" is written elsewhere, "commentitem" → "CommentItem" because of
// "COMMENT_ITEM". The words come from the spec, never from a dictionary,
// so they follow the docs in every language edition.
type Vocabulary struct {
	// words are the lower-case words seen as one word of a name made of
	// several: a camel- or snake-cased key ("taskId", "COMMENT_ITEM"), a
	// camel-cased method segment ("getList"), an event's documented name
	// ("onCrmDealUpdate"). Only these cut an identifier.
	words map[string]bool
	// pairs count how often two words stand next to each other in such a
	// name ("task id" in "taskId", "TASK_ID"): a one-piece word is
	// cut only at joins the docs show, so "within" never becomes
	// "with"+"in".
	pairs map[[2]string]int
	// spelt are the words of keys spelt in descriptions and examples
	// only; with words they cut identifiers, never event names.
	spelt map[string]bool
	// names are words the docs use whole without showing where they break:
	// lower-case method segments ("productrows", "imbot") and the words of
	// the event pages' file names. With words they cut event names in
	// capitals alone (ONIMBOTJOINCHAT), where any word the docs use helps.
	names map[string]bool
}

// NewVocabulary collects the vocabulary of s.
func NewVocabulary(s *spec.Spec) *Vocabulary {
	v := &Vocabulary{words: map[string]bool{}, pairs: map[[2]string]int{}, names: map[string]bool{}, spelt: map[string]bool{}}
	add := func(set map[string]bool, w string) {
		w = strings.ToLower(w)
		if len(w) >= 2 && alnum(w) == w && !allDigits(w) {
			set[w] = true
		}
	}
	// A name made of several words gives each; a name in one piece gives
	// nothing: it is what the vocabulary is there to cut.
	// Names with white space are prose ("REST: readable commentitem data
	// fields" is a key of a manifest, not a spelling of its words).
	spell := func(name string, into map[string]bool) {
		ws := splitWords(name)
		if len(ws) < 2 || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
			return
		}
		prev := ""
		for _, w := range ws {
			w = strings.ToLower(strings.TrimRightFunc(w, unicode.IsDigit))
			add(into, w)
			if prev != "" && w != "" {
				v.pairs[[2]string{prev, w}]++
			}
			prev = w
		}
	}
	// Prose and examples spell the same keys: the more evidence, the
	// less a name depends on one row somewhere.
	prose := func(text string) {
		for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
			return r >= utf8.RuneSelf || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
		}) {
			spell(tok, v.spelt)
		}
	}
	split := func(name string) { spell(name, v.words) }
	var walk func(ps []spec.Param)
	walk = func(ps []spec.Param) {
		for _, p := range ps {
			split(p.Name)
			prose(p.Description)
			walk(p.Fields)
		}
	}
	for _, m := range s.Methods {
		walk(m.Params)
		prose(string(m.RequestExample))
		if m.Result != nil {
			walk(m.Result.Fields)
			prose(string(m.Result.Example))
		}
		for _, seg := range strings.Split(m.Name, ".") {
			if hasLower(seg) && seg != strings.ToLower(seg) {
				split(seg)
			} else {
				add(v.names, seg)
			}
		}
	}
	for _, ev := range s.Events {
		walk(ev.Fields)
		prose(string(ev.Example))
		if hasLower(ev.DocName) {
			split(ev.DocName)
		}
		base := ev.Page[strings.LastIndex(ev.Page, "/")+1:]
		for _, w := range strings.FieldsFunc(strings.TrimSuffix(base, ".md"), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			add(v.names, w)
		}
	}
	for _, e := range s.Entities {
		walk(e.Fields)
	}
	return v
}

func (v *Vocabulary) word(w string) bool { return v.words[w] || v.spelt[w] }

// eventWords is every word the docs use, to cut event names (see names).
func (v *Vocabulary) eventWords() map[string]bool {
	all := make(map[string]bool, len(v.words)+len(v.names))
	for w := range v.words {
		all[w] = true
	}
	for w := range v.names {
		all[w] = true
	}
	return all
}

// Words cuts a documented name into words as splitWords does, then cuts
// each word the docs write in one piece ("TASKID", "commentitem") into the
// vocabulary's words, when they cover all of its letters and the word is
// not itself one the docs write apart ("address" stays whole even though
// "add" and "ress" might be words). A nil Vocabulary cuts like splitWords.
func (v *Vocabulary) Words(s string) []string {
	words := splitWords(s)
	if v == nil {
		return words
	}
	var out []string
	for _, w := range words {
		out = append(out, v.cut(w)...)
	}
	return out
}

// minPair is how often the docs must show a join before a word is cut
// there: once is too thin a piece of evidence to rename by, and names
// should not flip when a page elsewhere adds one key.
const minPair = 2

// minApart is how often the docs must write a word they also write whole
// as two before it is cut: a habit, not a slip.
const minApart = 5

// minCut is the shortest word worth cutting: shorter ones ("datex",
// "ufcrm") are too often one word, or two the docs never name.
const minCut = 5

// cut returns w's pieces: the fewest vocabulary words that spell it, each
// join one the docs show; w itself when there are none.
func (v *Vocabulary) cut(w string) []string {
	lw := strings.ToLower(w)
	letters := strings.TrimRightFunc(lw, unicode.IsDigit)
	if len(letters) < minCut || initialisms[letters] != "" || alnum(lw) != lw {
		return []string{w}
	}
	if v.word(letters) {
		// A word the docs write whole is cut only where they write it
		// apart too, and often: "userfield" beside "userField" and
		// USER_FIELD (59 times) is UserField; "address" stays whole. Five keeps
		// both snapshots alike: the older writes "my company" apart 6 times.
		if pieces := v.apart(letters); pieces != nil {
			if digits := lw[len(letters):]; digits != "" {
				pieces = append(pieces, digits)
			}
			return pieces
		}
		return []string{w}
	}
	if pieces := v.joined(letters, ""); len(pieces) > 1 {
		if digits := lw[len(letters):]; digits != "" {
			pieces = append(pieces, digits) // "itemid2" → ItemID2
		}
		return pieces
	}
	return []string{w}
}

// apart returns the two words the docs most often write s as, apart
// (at least minApart times); nil when they do not.
func (v *Vocabulary) apart(s string) []string {
	var best []string
	most := minApart - 1
	for j := len(s) - 2; j >= 2; j-- {
		a, b := s[:j], s[j:]
		if n := v.pairs[[2]string{a, b}]; n > most && v.word(a) && v.word(b) {
			best, most = []string{a, b}, n
		}
	}
	return best
}

// joined spells s with the fewest words, the first following prev as the
// docs show; ties go to the longer first word. nil when s cannot be spelt.
func (v *Vocabulary) joined(s, prev string) []string {
	if s == "" {
		return []string{}
	}
	var best []string
	for j := len(s); j >= 2; j-- {
		w := s[:j]
		if !v.word(w) || prev != "" && v.pairs[[2]string{prev, w}] < minPair {
			continue
		}
		rest := v.joined(s[j:], w)
		if rest != nil && (best == nil || 1+len(rest) < len(best)) {
			best = append([]string{w}, rest...)
		}
	}
	return best
}

// Exported is the package's Exported with words cut by the vocabulary:
// "TASKID" → "TaskID", "commentitem" → "CommentItem". Use it for
// identifiers made of wire keys: struct fields, nested types, enum
// constants. Function names keep FuncName's fixed rule.
func (v *Vocabulary) Exported(s string) string {
	if v == nil {
		return Exported(s)
	}
	return exportedWords(v.Words(s))
}

func allDigits(s string) bool {
	return strings.TrimFunc(s, unicode.IsDigit) == ""
}

// segmentWords cuts s (lower case, letters and digits) into the fewest
// vocabulary words. Letters no word covers are gathered into words of
// their own; a run of digits joins the word before it ("imbotv2" →
// "imbot", "v2" when "v" is unknown). Ties go to the longer first word, so
// the result does not depend on map order.
func segmentWords(s string, vocab map[string]bool) []string {
	const unknown = 100 // cost of one letter no word covers
	n := len(s)
	cost := make([]int, n+1)
	next := make([]int, n+1) // end of the piece starting at i
	for i := n - 1; i >= 0; i-- {
		best, bestEnd := cost[i+1]+unknown, i+1
		if s[i] >= '0' && s[i] <= '9' {
			best = cost[i+1] // digits are free: they join a neighbour
		}
		for j := n; j > i+1; j-- {
			if vocab[s[i:j]] && cost[j]+1 < best {
				best, bestEnd = cost[j]+1, j
			}
		}
		cost[i], next[i] = best, bestEnd
	}
	var words []string
	glue := false // the last word was built from uncovered letters
	for i := 0; i < n; i = next[i] {
		piece := s[i:next[i]]
		isWord := next[i]-i > 1 || vocab[piece]
		isDigit := piece[0] >= '0' && piece[0] <= '9'
		switch {
		case isDigit && len(words) > 0:
			words[len(words)-1] += piece
		case !isWord && glue && len(words) > 0:
			words[len(words)-1] += piece
		default:
			words = append(words, piece)
		}
		glue = !isWord && !isDigit
	}
	return words
}

// maxNestedName is the length past which the name of a nested type, its
// parent's name followed by its field's, is shortened (see NestedName).
const maxNestedName = 40

// NestedName names the type of the field (a Go field name) of the type
// parent: parent+field ("ItemGetResult" + "Item"), while that stays within
// maxNestedName. Past it, each level would add a word for ever
// (SiteFullExportResultItemsMyfirstsite2026ItemsBlock28175Nodes…), so the
// name is cut to its meaningful words, the first of these that fits and
// is free:
//   - the owner, the longest of owners (the method's function, the
//     package's entities and write forms) that parent starts with, then
//     parent's last word and the field: SiteFullExport + Item + Link;
//   - the owner and the field;
//   - the name's first word (or two, or three, when a shorter cut is
//     another's) and as many of its last words as fit, a word said twice
//     kept once: Documentgenerator + SequentNumberGenerator.
//
// When none fits, the long name stays: a readable name never takes
// another's place, and the same docs give the same names.
func NestedName(pool *Pool, owners []string, parent, field string) string {
	long := parent + field
	if len(long) <= maxNestedName {
		return long
	}
	owner := ""
	for _, o := range owners {
		if len(o) > len(owner) && len(o) < len(parent) && strings.HasPrefix(parent, o) {
			owner = o
		}
	}
	var candidates []string
	if owner != "" {
		if words := splitWords(parent[len(owner):]); len(words) >= 2 {
			candidates = append(candidates, owner+words[len(words)-1]+field)
		}
		candidates = append(candidates, owner+field)
	}
	for head := 1; head <= 3; head++ {
		candidates = append(candidates, cutWords(long, maxNestedName, head))
	}
	for _, c := range candidates {
		if c != "" && len(c) <= maxNestedName && len(c) < len(long) && !pool.Has(c) {
			return c
		}
	}
	return long
}

// cutWords shortens name to at most limit bytes: its first head words,
// then as many of its last words as fit, a word that came earlier
// dropped; "" when not even those and the last word fit.
func cutWords(name string, limit, head int) string {
	words := splitWords(name)
	if len(words) < head+1 {
		return ""
	}
	seen := map[string]bool{}
	out, size := "", 0
	for _, w := range words[:head] {
		seen[w] = true
		out += w
		size += len(w)
	}
	var tail []string // the last words, last first
	for i := len(words) - 1; i >= head; i-- {
		w := words[i]
		if size+len(w) > limit {
			break
		}
		tail = append(tail, w)
		size += len(w)
	}
	if len(tail) == 0 {
		return ""
	}
	for i := len(tail) - 1; i >= 0; i-- {
		if seen[tail[i]] && i != 0 {
			continue // said already: the last word always stays
		}
		seen[tail[i]] = true
		out += tail[i]
	}
	return out
}
