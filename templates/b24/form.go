package b24

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Limits on what DecodeForm accepts. A delivery from Bitrix24 is a few dozen
// keys, three levels deep; anything far beyond that is not a real delivery and
// must not be allowed to cost memory or CPU.
const (
	maxFormDepth = 32     // bracket segments after the base name
	maxFormPairs = 10_000 // key=value pairs in one body
	maxKeyInErr  = 80     // bytes of a key quoted in an error message
)

// DecodeForm decodes an application/x-www-form-urlencoded body whose keys use
// PHP's bracket syntax, the way Bitrix24 sends outgoing webhooks:
//
//	data[FIELDS][ID]=759&auth[domain]=x&a[]=1&a[]=2&b[0]=x&b[1]=y
//
// becomes nested map[string]any values. A level whose keys are exactly
// 0, 1, … n-1 (written as numbers or as []) becomes a []any; any other level
// (sparse or mixed keys) stays a map. Every leaf is a string. When a key is
// assigned twice, the later assignment wins, as in PHP.
//
// Malformed keys (unbalanced brackets, an empty name, text after a closing
// bracket), bad percent-escapes and bodies beyond the depth and size limits
// are errors naming the offending key; values never appear in errors.
func DecodeForm(body string) (map[string]any, error) {
	root := &formNode{}
	pairs := 0
	var path []string // reused across pairs
	for rest := body; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue // "a=1&&b=2": PHP skips empty pairs too
		}
		pairs++
		if pairs > maxFormPairs {
			return nil, fmt.Errorf("form: more than %d keys", maxFormPairs)
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("form: key %s (pair %d): bad percent-escape", quoteKey(rawKey), pairs)
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, fmt.Errorf("form: value of key %s (pair %d): bad percent-escape", quoteKey(key), pairs)
		}
		path, err = splitFormKey(key, path[:0])
		if err != nil {
			return nil, fmt.Errorf("form: key %s (pair %d): %w", quoteKey(key), pairs, err)
		}
		root.set(path, val)
	}
	return root.mapTree(), nil
}

// splitFormKey appends the segments of "a[b][][c]" to path: "a", "b", "",
// "c", where "" stands for []. It reads a key as text (DecodeForm) or as
// bytes (the typed one-pass decoder), with the same rules and errors.
func splitFormKey[S ~string | ~[]byte](key S, path []S) ([]S, error) {
	open := indexByte(key, '[')
	if open < 0 {
		if len(key) == 0 {
			return nil, errors.New("empty name")
		}
		if indexByte(key, ']') >= 0 {
			return nil, errors.New(`unbalanced "]"`)
		}
		return append(path, key), nil
	}
	base := key[:open]
	if len(base) == 0 {
		return nil, errors.New("empty name before [")
	}
	if indexByte(base, ']') >= 0 {
		return nil, errors.New(`unbalanced "]"`)
	}
	path = append(path, base)
	for rest := key[open:]; len(rest) > 0; {
		if rest[0] != '[' {
			return nil, errors.New(`text after "]"`)
		}
		end := indexByte(rest, ']')
		if end < 0 {
			return nil, errors.New(`unbalanced "["`)
		}
		seg := rest[1:end]
		if indexByte(seg, '[') >= 0 {
			return nil, errors.New(`"[" inside brackets`)
		}
		if len(path) > maxFormDepth {
			return nil, fmt.Errorf("deeper than %d levels", maxFormDepth)
		}
		path = append(path, seg)
		rest = rest[end+1:]
	}
	return path, nil
}

// indexByte is strings.IndexByte and bytes.IndexByte in one: form keys are
// short, so a loop costs nothing.
func indexByte[S ~string | ~[]byte](s S, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// formNode is one level of a tree being decoded: a leaf string or a container.
type formNode struct {
	leaf bool
	val  string
	kids map[string]*formNode
	next int // index that [] assigns next: one past the largest numeric key, as PHP does
}

func (n *formNode) set(path []string, val string) {
	cur := n
	for i, seg := range path {
		if seg == "" {
			seg = strconv.Itoa(cur.next)
		}
		if k, ok := formIndex(seg); ok && k >= cur.next {
			cur.next = k + 1
		}
		if cur.kids == nil {
			cur.kids = make(map[string]*formNode)
		}
		if i == len(path)-1 {
			cur.kids[seg] = &formNode{leaf: true, val: val}
			return
		}
		child := cur.kids[seg]
		if child == nil || child.leaf {
			child = &formNode{} // a container replaces an earlier scalar, as in PHP
			cur.kids[seg] = child
		}
		cur = child
	}
}

// tree converts the node into map[string]any / []any / string.
func (n *formNode) tree() any {
	if n.leaf {
		return n.val
	}
	if isFormList(n.kids) {
		list := make([]any, len(n.kids))
		for k, child := range n.kids {
			i, _ := formIndex(k)
			list[i] = child.tree()
		}
		return list
	}
	return n.mapTree()
}

// mapTree converts a container into a map whatever its keys; the top level of
// a form is always a map.
func (n *formNode) mapTree() map[string]any {
	m := make(map[string]any, len(n.kids))
	for k, child := range n.kids {
		m[k] = child.tree()
	}
	return m
}

// isFormList reports whether keys are exactly "0".."n-1".
func isFormList(kids map[string]*formNode) bool {
	if len(kids) == 0 {
		return false
	}
	for k := range kids {
		i, ok := formIndex(k)
		if !ok || i >= len(kids) {
			return false
		}
	}
	return true // n distinct keys, each in [0,n): all of them present
}

// formIndex parses a canonical non-negative decimal ("0", "17", not "01" or "+1"),
// the only keys PHP treats as integers.
func formIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func quoteKey(k string) string {
	if len(k) > maxKeyInErr {
		return strconv.Quote(k[:maxKeyInErr]) + "…"
	}
	return strconv.Quote(k)
}

// EncodeForm encodes v the way PHP's http_build_query does, so Bitrix24 reads
// it back as the same structure: nested keys as a[b][0]=…, brackets and every
// byte but letters, digits and -_. percent-encoded, space as +.
//
// v is a map (any key type that is a string or an integer), a slice, a struct
// or anything encoding/json can encode; types with their own JSON form (Int,
// Bool, Time, Opt, json.RawMessage…) are encoded as they appear in JSON, so a
// batch command says the same as the JSON body would. Keys are sorted
// (numeric keys numerically) for a deterministic result.
//
// Scalars: true is "1" and false "0" (as in PHP); numbers never use an
// exponent and integers have no ".0"; nil is an empty value ("a="), where PHP
// drops the key, because Bitrix24 reads an empty value as "clear this field".
// Empty maps and lists produce nothing, as in PHP.
//
// EncodeForm never fails: a value it cannot encode is left empty and a key it
// cannot write (empty, or holding a bracket) is skipped. MarshalForm reports
// those problems instead.
func EncodeForm(v any) string {
	s, _ := MarshalForm(v)
	return s
}

// MarshalForm is EncodeForm that reports the first problem met: a top-level
// value that is not a map, list or struct, a key that is empty or holds a
// bracket, a value encoding/json cannot encode, or a NaN or infinite number.
// The string returned alongside an error is EncodeForm's best effort.
func MarshalForm(v any) (string, error) {
	e := formEncoder{}
	tree, err := formTree(v)
	if err != nil {
		e.fail(err)
	}
	switch t := tree.(type) {
	case map[string]any:
		e.writeMap("", t)
	case []any:
		e.writeList("", t)
	case nil:
		// nothing to encode
	default:
		e.fail(fmt.Errorf("form: cannot encode %T at the top level: want a map, list or struct", v))
	}
	return e.b.String(), e.err
}

type formEncoder struct {
	b   strings.Builder
	err error
}

func (e *formEncoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// writeMap writes m's entries; prefix is the already-encoded key of m ("" at the top).
func (e *formEncoder) writeMap(prefix string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return formKeyLess(keys[i], keys[j]) })
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, "[]") {
			e.fail(fmt.Errorf("form: key %s under %s cannot be written in bracket form", quoteKey(k), quoteKey(prefix)))
			continue
		}
		e.write(formChildKey(prefix, k), m[k])
	}
}

func (e *formEncoder) writeList(prefix string, l []any) {
	for i, v := range l {
		e.write(formChildKey(prefix, strconv.Itoa(i)), v)
	}
}

func (e *formEncoder) write(key string, v any) {
	switch t := v.(type) {
	case map[string]any:
		e.writeMap(key, t)
		return
	case []any:
		e.writeList(key, t)
		return
	}
	s, err := formScalar(v)
	if err != nil {
		e.fail(fmt.Errorf("form: key %s: %w", quoteKey(key), err))
	}
	if e.b.Len() > 0 {
		e.b.WriteByte('&')
	}
	e.b.WriteString(key)
	e.b.WriteByte('=')
	e.b.WriteString(phpURLEncode(s))
}

// formChildKey returns the encoded key of child k under the encoded key prefix.
func formChildKey(prefix, k string) string {
	if prefix == "" {
		return phpURLEncode(k)
	}
	return prefix + "%5B" + phpURLEncode(k) + "%5D"
}

// formKeyLess orders numeric keys numerically and before other keys, the rest
// byte-wise.
func formKeyLess(a, b string) bool {
	ai, aok := formIndex(a)
	bi, bok := formIndex(b)
	switch {
	case aok && bok:
		return ai < bi
	case aok != bok:
		return aok
	}
	return a < b
}

// formTree brings v to the shapes the encoder walks: map[string]any, []any,
// string, bool, json.Number, nil and the built-in numbers. Anything else goes
// through encoding/json, so tags, omitempty and custom marshalers apply.
func formTree(v any) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, json.Number,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		var first error
		for k, x := range t {
			y, err := formTree(x)
			if err != nil && first == nil {
				first = fmt.Errorf("form: key %s: %w", quoteKey(k), err)
			}
			out[k] = y
		}
		return out, first
	case []any:
		out := make([]any, len(t))
		var first error
		for i, x := range t {
			y, err := formTree(x)
			if err != nil && first == nil {
				first = fmt.Errorf("form: index %d: %w", i, err)
			}
			out[i] = y
		}
		return out, first
	case json.Marshaler, encoding.TextMarshaler:
		// fall through to the JSON round trip below
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber() // keep int64 IDs exact
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// formScalar renders a leaf value as PHP would.
func formScalar(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case bool:
		if t {
			return "1", nil
		}
		return "0", nil
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			return s, nil
		}
		f, err := t.Float64()
		if err != nil {
			return "", fmt.Errorf("bad number %s", quoteKey(s))
		}
		return formFloat(f, 64)
	case int:
		return strconv.FormatInt(int64(t), 10), nil
	case int8:
		return strconv.FormatInt(int64(t), 10), nil
	case int16:
		return strconv.FormatInt(int64(t), 10), nil
	case int32:
		return strconv.FormatInt(int64(t), 10), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float32:
		return formFloat(float64(t), 32)
	case float64:
		return formFloat(t, 64)
	}
	return "", fmt.Errorf("unsupported value of type %T", v)
}

func formFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("number %v has no form encoding", f)
	}
	return strconv.FormatFloat(f, 'f', -1, bits), nil
}

// phpURLEncode is PHP's urlencode (RFC 1738 as http_build_query uses it):
// letters, digits and "-_." stay, space becomes "+", every other byte %XX.
func phpURLEncode(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !phpUnreserved(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case phpUnreserved(c):
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func phpUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}
