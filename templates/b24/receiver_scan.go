package b24

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// This file finds the application token of a delivery without decoding the
// delivery: no form tree, no JSON values, no allocation that grows with the
// body. Only once the token has matched is the body decoded, so an
// unauthenticated request costs little more than reading its body.

// Names the scan looks for, as the portal writes them.
const (
	formTokenKey = "auth[application_token]"
	authKey      = "auth"
	tokenKey     = "application_token"
)

// errAmbiguousAuth refuses a body carrying two auth blocks or two tokens:
// the block a handler sees must be the one whose token was checked.
var errAmbiguousAuth = errors.New("more than one auth block or application token")

// located is what the scan found in a body whose token is not yet checked.
type located struct {
	json  bool
	token []byte // the token as sent (unescaped for forms); nil when absent

	// Form bodies: the raw (still escaped) value of the last "event" pair,
	// and whether a later pair made "event" a list or map.
	eventRaw       []byte
	eventContainer bool

	// JSON bodies: the span of the single auth block's value.
	auth []byte
}

// locateToken scans body for the token, in a form body or (when the content
// type says so, or the body starts with "{") a JSON one.
func locateToken(isJSON bool, body []byte) (*located, error) {
	if isJSON {
		return locateJSONToken(body)
	}
	return locateFormToken(body)
}

// locateFormToken walks the pairs of a form body, decoding at most the first
// few bytes of each key: enough to tell auth[application_token] from the
// rest. Keys that would replace the token (a bare "auth", or
// auth[application_token][…]) and a second token are refused.
func locateFormToken(body []byte) (*located, error) {
	l := &located{}
	var tokenRaw []byte
	tokens := 0
	var kbuf [len(formTokenKey) + 1]byte
	for rest := body; len(rest) > 0; {
		var pair []byte
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			pair, rest = rest, nil
		}
		if len(pair) == 0 {
			continue
		}
		rawKey, rawVal := pair, []byte(nil)
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			rawKey, rawVal = pair[:i], pair[i+1:]
		}
		n, complete := unescapePrefix(&kbuf, rawKey)
		key := kbuf[:n]
		switch {
		case complete && string(key) == formTokenKey:
			tokens++
			tokenRaw = rawVal
		case complete && string(key) == authKey,
			n == len(kbuf) && string(key) == formTokenKey+"[":
			return nil, errAmbiguousAuth
		case complete && string(key) == "event":
			l.eventRaw, l.eventContainer = rawVal, false
		case n >= len("event[") && string(key[:len("event[")]) == "event[":
			l.eventContainer = true
		}
	}
	if tokens > 1 {
		return nil, errAmbiguousAuth
	}
	if tokens == 1 {
		l.token = unescapeValue(tokenRaw)
	}
	return l, nil
}

// unescapePrefix query-unescapes the start of raw into buf ("+" is a space)
// and reports how many bytes it wrote and whether that is all of raw. A bad
// escape stops it (complete false): the full decode reports it later.
func unescapePrefix(buf *[len(formTokenKey) + 1]byte, raw []byte) (n int, complete bool) {
	i := 0
	for ; i < len(raw) && n < len(buf); n++ {
		switch c := raw[i]; c {
		case '+':
			buf[n] = ' '
			i++
		case '%':
			if i+2 >= len(raw) {
				return n, false
			}
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return n, false
			}
			buf[n] = h<<4 | lo
			i += 3
		default:
			buf[n] = c
			i++
		}
	}
	return n, i == len(raw)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeValue query-unescapes a value; nil when it holds a bad escape (a
// token that cannot be read is no token).
func unescapeValue(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	out, ok := appendUnescaped(out, raw)
	if !ok {
		return nil
	}
	return out
}

// appendUnescaped appends the query-unescaped raw to dst, as url.QueryUnescape
// reads it; ok is false on a bad or truncated escape.
func appendUnescaped[S ~string | ~[]byte](dst []byte, raw S) ([]byte, bool) {
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case '+':
			dst = append(dst, ' ')
			i++
		case '%':
			if i+2 >= len(raw) {
				return dst, false
			}
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, h<<4|lo)
			i += 3
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, true
}

// locateJSONToken walks the top level of a JSON object, skipping values
// without decoding them, to find the auth block and, in it, the token. Keys
// are matched as encoding/json matches them, case-insensitively, so a second
// block or token spelled "AUTH" or "Application_Token" is refused rather than
// allowed to stand in for the checked one when the body is decoded.
func locateJSONToken(body []byte) (*located, error) {
	l := &located{json: true}
	s := jsonScan{b: body}
	auths := 0
	err := s.object(func(key []byte, val []byte) error {
		if jsonKeyFolds(key, authKey) {
			auths++
			l.auth = val
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if auths > 1 {
		return nil, errAmbiguousAuth
	}
	if s.skipSpace(); s.i != len(s.b) {
		return nil, errors.New("JSON body: data after the object")
	}
	inner := jsonScan{b: l.auth}
	if inner.skipSpace(); inner.i >= len(inner.b) || inner.b[inner.i] != '{' {
		return l, nil // auth absent, [] or not an object: no token
	}
	var tok []byte
	tokens := 0
	if err := inner.object(func(key []byte, val []byte) error {
		if jsonKeyFolds(key, tokenKey) {
			tokens++
			tok = val
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if tokens > 1 {
		return nil, errAmbiguousAuth
	}
	if tokens == 1 {
		var v String
		if v.UnmarshalJSON(tok) == nil && v != "" {
			l.token = []byte(v)
		}
	}
	return l, nil
}

// jsonKeyFolds reports whether the raw JSON key (quotes included) names
// want under encoding/json's case-insensitive matching. Escaped keys are
// unescaped when short enough to possibly match.
func jsonKeyFolds(raw []byte, want string) bool {
	raw = raw[1 : len(raw)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw, []byte(want))
	}
	if len(raw) > 12*len(want) { // every character a surrogate pair escape at most
		return false
	}
	var buf [128]byte
	out := buf[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return false
		}
		switch raw[i+1] {
		case 'u':
			if i+6 > len(raw) {
				return false
			}
			var r rune
			for _, h := range raw[i+2 : i+6] {
				v, ok := unhex(h)
				if !ok {
					return false
				}
				r = r<<4 | rune(v)
			}
			out = utf8.AppendRune(out, r) // a lone surrogate becomes U+FFFD, as in encoding/json
			i += 6
		case 'n', 't', 'r', 'b', 'f':
			out = append(out, ' ') // never part of a name we look for
			i += 2
		default:
			out = append(out, raw[i+1])
			i += 2
		}
	}
	return strings.EqualFold(string(out), want)
}

// jsonScan walks JSON text without building values. It checks structure
// only as far as it needs to find the keys; encoding/json validates fully
// when the body is decoded after the token has matched.
type jsonScan struct {
	b []byte
	i int
}

var errJSONSyntax = errors.New("JSON body: malformed")

func (s *jsonScan) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object walks an object at s.i, calling f with each raw key (quoted) and
// raw value.
func (s *jsonScan) object(f func(key, val []byte) error) error {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errors.New("JSON body: not an object")
	}
	s.i++
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		start := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := s.b[start:s.i]
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errJSONSyntax
		}
		s.i++
		s.skipSpace()
		vstart := s.i
		if err := s.value(); err != nil {
			return err
		}
		if err := f(key, s.b[vstart:s.i]); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return errJSONSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// str skips a string literal at s.i.
func (s *jsonScan) str() error {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return errJSONSyntax
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return nil
		}
	}
	return errJSONSyntax
}

// value skips one value at s.i. Nesting is followed with a counter, not
// recursion, so depth costs nothing.
func (s *jsonScan) value() error {
	depth := 0
	for {
		s.skipSpace()
		if s.i >= len(s.b) {
			return errJSONSyntax
		}
		switch c := s.b[s.i]; {
		case c == '"':
			if err := s.str(); err != nil {
				return err
			}
		case c == '{' || c == '[':
			depth++
			s.i++
			continue
		case c == '}' || c == ']':
			if depth == 0 {
				return errJSONSyntax
			}
			depth--
			s.i++
		case c == ',' || c == ':':
			if depth == 0 {
				return errJSONSyntax
			}
			s.i++
			continue
		default: // a number, true, false or null
			start := s.i
			for s.i < len(s.b) && !isJSONDelim(s.b[s.i]) {
				s.i++
			}
			if s.i == start {
				return errJSONSyntax
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
