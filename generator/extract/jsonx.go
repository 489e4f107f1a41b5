package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The docs' JSON examples are mostly strict JSON; the rest carry "//"
// comments, "..." / "…" ellipses and trailing commas. cleanJSON removes those
// (outside strings only) so the text parses, keeping key order.

// cleanJSON returns the example with comments, ellipses and dangling commas
// removed.
func cleanJSON(src string) string {
	var out strings.Builder
	out.Grow(len(src))
	pendingComma := false
	last := byte(0) // last significant byte written
	emit := func(s string) {
		// A value right after another value: the comma between them is
		// missing ("}\n{" in a list of objects).
		if !pendingComma && (s[0] == '{' || s[0] == '[' || s[0] == '"') && (last == '}' || last == ']' || last == '"' || last >= '0' && last <= '9' || last == 'e' || last == 'l') {
			out.WriteByte(',')
			last = ','
		}
		if pendingComma {
			c := s[0]
			if c != '}' && c != ']' && c != ',' && last != '{' && last != '[' && last != ',' && last != 0 {
				out.WriteByte(',')
				last = ','
			}
			pendingComma = false
		}
		out.WriteString(s)
		last = s[len(s)-1]
	}
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"':
			// Copy the string, doubling backslashes that start no JSON
			// escape ("\M" in a pasted Windows path).
			var str strings.Builder
			str.WriteByte('"')
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					if j+1 < len(src) && strings.IndexByte(`"\/bfnrtu`, src[j+1]) >= 0 {
						str.WriteString(src[j : j+2])
						j += 2
						continue
					}
					str.WriteString(`\\`)
					j++
					continue
				}
				str.WriteByte(src[j])
				j++
			}
			if j < len(src) && src[j] == '"' {
				str.WriteByte('"')
				j++
			}
			// An unterminated string stops at the line end and stays
			// broken: the example is reported, not guessed at.
			emit(str.String())
			i = j
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			i = lineEnd(src, i)
		case c == '#' && (last == 0 || last == ',' || last == '{' || last == '[' || last == '}' || last == ']'):
			i = lineEnd(src, i)
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				i = len(src)
			} else {
				i += 2 + j + 2
			}
		case c == '.' && strings.HasPrefix(src[i:], ".."):
			for i < len(src) && src[i] == '.' {
				i++
			}
		case strings.HasPrefix(src[i:], "…"):
			i += len("…")
		case c == ',':
			if pendingComma {
				i++
				continue
			}
			pendingComma = true
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			out.WriteByte(c)
			i++
		default:
			emit(src[i : i+1])
			i++
		}
	}
	return out.String()
}

// parseExample parses a documented JSON example leniently and returns the
// compact strict JSON and its ordered tree.
func parseExample(src string) (json.RawMessage, *jnode, error) {
	data := []byte(src)
	if !json.Valid(data) {
		data = []byte(cleanJSON(src))
		if !json.Valid(data) {
			var se *json.SyntaxError
			err := json.Unmarshal(data, new(any))
			if errors.As(err, &se) {
				line := bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
				return nil, nil, &exampleError{Line: line, Err: err}
			}
			return nil, nil, &exampleError{Err: err}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, nil, err
	}
	jp := jsonParser{s: buf.Bytes()}
	root, err := jp.value(0)
	if err != nil {
		return nil, nil, &exampleError{Err: err}
	}
	return json.RawMessage(buf.Bytes()), root, nil
}

// exampleError is a JSON example that does not parse even leniently; Line
// counts from the example's first line (0).
type exampleError struct {
	Line int
	Err  error
}

func (e *exampleError) Error() string { return e.Err.Error() }

// jnode is a JSON value with object keys in document order.
type jnode struct {
	Kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	Keys  []string
	Vals  []*jnode // object values, or array elements
	Str   string   // string value, or number text
	Float bool     // number with a fraction or exponent
}

func (n *jnode) get(key string) *jnode {
	if n == nil || n.Kind != 'o' {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Vals[i]
		}
	}
	return nil
}

// jsonParser builds the ordered tree of compact, valid JSON (the output of
// json.Compact): no whitespace to skip, no syntax errors to report beyond
// nesting depth. It is several times faster than json.Decoder.Token.
type jsonParser struct {
	s []byte
	i int
}

var errTooDeep = errors.New("example nested deeper than 200 levels")

func (p *jsonParser) value(depth int) (*jnode, error) {
	if depth > 200 {
		return nil, errTooDeep
	}
	if p.i >= len(p.s) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := p.s[p.i]; c {
	case '{', '[':
		n := &jnode{Kind: 'o'}
		end := byte('}')
		if c == '[' {
			n.Kind, end = 'a', ']'
		}
		p.i++
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return n, nil
		}
		for p.i < len(p.s) {
			if n.Kind == 'o' {
				key, err := p.str()
				if err != nil {
					return nil, err
				}
				p.i++ // ':'
				n.Keys = append(n.Keys, key)
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Vals = append(n.Vals, v)
			if p.i >= len(p.s) {
				break
			}
			sep := p.s[p.i]
			p.i++
			if sep == end {
				return n, nil
			}
		}
		return nil, io.ErrUnexpectedEOF
	case '"':
		str, err := p.str()
		return &jnode{Kind: 's', Str: str}, err
	case 't':
		p.i += len("true")
		return &jnode{Kind: 'b', Str: "true"}, nil
	case 'f':
		p.i += len("false")
		return &jnode{Kind: 'b', Str: "false"}, nil
	case 'n':
		p.i += len("null")
		return &jnode{Kind: 'z'}, nil
	default:
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '}' && p.s[p.i] != ']' {
			p.i++
		}
		num := string(p.s[start:p.i])
		return &jnode{Kind: 'n', Str: num, Float: strings.ContainsAny(num, ".eE")}, nil
	}
}

// str reads the string at p.i, unescaping it when it has escapes.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.s) && p.s[p.i] != '"' {
		if p.s[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	p.i++
	if p.i > len(p.s) {
		return "", io.ErrUnexpectedEOF
	}
	raw := p.s[start:p.i]
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	err := json.Unmarshal(raw, &out)
	return out, err
}

// kindOfJSON is the kind a documented example value suggests.
func kindOfJSON(n *jnode) (spec.Kind, spec.Kind) {
	switch n.Kind {
	case 'o':
		return spec.KindObject, ""
	case 'a':
		if len(n.Vals) > 0 {
			e, _ := kindOfJSON(n.Vals[0])
			return spec.KindArray, e
		}
		return spec.KindArray, ""
	case 's':
		return spec.KindString, ""
	case 'n':
		if n.Float {
			return spec.KindNumber, ""
		}
		return spec.KindInteger, ""
	case 'b':
		return spec.KindBoolean, ""
	}
	return spec.KindAny, ""
}

// fieldsFromJSON describes an example object's keys as fields, nested.
func fieldsFromJSON(n *jnode, depth int) []spec.Param {
	if n == nil || depth > 8 {
		return nil
	}
	if n.Kind == 'a' && len(n.Vals) > 0 {
		n = n.Vals[0]
	}
	if n.Kind != 'o' {
		return nil
	}
	out := make([]spec.Param, 0, len(n.Keys))
	for i, k := range n.Keys {
		v := n.Vals[i]
		p := spec.Param{Name: k}
		p.Kind, p.Elem = kindOfJSON(v)
		if v.Kind == 'o' || v.Kind == 'a' {
			p.Fields = fieldsFromJSON(v, depth+1)
		}
		out = append(out, p)
	}
	return out
}

// fillKinds gives rows documented without a type the kind their value has
// in the example (n is the object, or array of objects, the rows describe).
func fillKinds(ps []spec.Param, n *jnode, depth int) {
	if n == nil || depth > 8 {
		return
	}
	if n.Kind == 'a' && len(n.Vals) > 0 {
		n = n.Vals[0]
	}
	if n.Kind != 'o' {
		return
	}
	for i := range ps {
		v := n.get(ps[i].Name)
		if v == nil {
			continue
		}
		if ps[i].Type == "" && (ps[i].Kind == spec.KindAny || ps[i].Kind == "") && v.Kind != 'z' {
			ps[i].Kind, ps[i].Elem = kindOfJSON(v)
		}
		fillKinds(ps[i].Fields, v, depth+1)
	}
}
