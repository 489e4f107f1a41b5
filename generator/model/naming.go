package model

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
	var b strings.Builder
	for _, w := range splitWords(s) {
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
