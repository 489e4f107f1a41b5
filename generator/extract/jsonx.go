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
	root, err := decodeOrdered(json.NewDecoder(bytes.NewReader(buf.Bytes())))
	if err != nil {
		return nil, nil, err
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

func decodeOrdered(dec *json.Decoder) (*jnode, error) {
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return decodeValue(dec, tok, 0)
}

func decodeValue(dec *json.Decoder, tok json.Token, depth int) (*jnode, error) {
	if depth > 200 {
		return nil, errors.New("example nested too deeply")
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &jnode{Kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				vt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec, vt, depth+1)
				if err != nil {
					return nil, err
				}
				n.Keys = append(n.Keys, key)
				n.Vals = append(n.Vals, v)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &jnode{Kind: 'a'}
			for dec.More() {
				vt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec, vt, depth+1)
				if err != nil {
					return nil, err
				}
				n.Vals = append(n.Vals, v)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &jnode{Kind: 's', Str: t}, nil
	case json.Number:
		s := string(t)
		return &jnode{Kind: 'n', Str: s, Float: strings.ContainsAny(s, ".eE")}, nil
	case bool:
		if t {
			return &jnode{Kind: 'b', Str: "true"}, nil
		}
		return &jnode{Kind: 'b', Str: "false"}, nil
	case nil:
		return &jnode{Kind: 'z'}, nil
	}
	return nil, io.ErrUnexpectedEOF
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
