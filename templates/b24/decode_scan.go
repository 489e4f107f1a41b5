package b24

import (
	"encoding/json"
	"fmt"
)

// A small JSON scanner that splits an object into its members and a list
// into its elements in one pass, validating as it goes. DecodeObject and the
// tolerant decoder use it so that an object is read once, member by member,
// instead of once into the struct and once more into a map of keys.

// syntaxError is malformed JSON met by the scanner.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("b24: invalid JSON at offset %d: %s", e.off, e.msg)
}

// maxScanDepth bounds nesting as encoding/json does, so hostile input cannot
// exhaust the stack.
const maxScanDepth = 10000

func scanSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue returns the index just past the JSON value starting at data[i].
func scanValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return i, &syntaxError{i, "unexpected end of input"}
	}
	switch c := data[i]; {
	case c == '"':
		end, _, err := scanString(data, i)
		return end, err
	case c == '{':
		if depth >= maxScanDepth {
			return i, &syntaxError{i, "nested too deeply"}
		}
		i = scanSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(data) || data[i] != '"' {
				return i, &syntaxError{i, "want an object key"}
			}
			end, _, err := scanString(data, i)
			if err != nil {
				return end, err
			}
			i = scanSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return i, &syntaxError{i, "want ':' after an object key"}
			}
			if i, err = scanValue(data, scanSpace(data, i+1), depth+1); err != nil {
				return i, err
			}
			i = scanSpace(data, i)
			if i < len(data) && data[i] == ',' {
				i = scanSpace(data, i+1)
				continue
			}
			if i < len(data) && data[i] == '}' {
				return i + 1, nil
			}
			return i, &syntaxError{i, "want ',' or '}' in an object"}
		}
	case c == '[':
		if depth >= maxScanDepth {
			return i, &syntaxError{i, "nested too deeply"}
		}
		i = scanSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = scanValue(data, i, depth+1); err != nil {
				return i, err
			}
			i = scanSpace(data, i)
			if i < len(data) && data[i] == ',' {
				i = scanSpace(data, i+1)
				continue
			}
			if i < len(data) && data[i] == ']' {
				return i + 1, nil
			}
			return i, &syntaxError{i, "want ',' or ']' in a list"}
		}
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(data, i)
	}
	return i, &syntaxError{i, fmt.Sprintf("unexpected character %q", data[i])}
}

func scanLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, &syntaxError{i, "invalid literal"}
	}
	return i + len(lit), nil
}

// scanString reads the string literal at data[i] (the opening quote) and
// reports whether it holds escapes.
func scanString(data []byte, i int) (end int, escaped bool, err error) {
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			j++
			if j >= len(data) {
				return j, true, &syntaxError{j, "unterminated string"}
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-j < 5 || !isHex4(data[j+1:j+5]) {
					return j, true, &syntaxError{j, `invalid \u escape`}
				}
				j += 4
			default:
				return j, true, &syntaxError{j, "invalid escape"}
			}
		case c < 0x20:
			return j, escaped, &syntaxError{j, "control character in a string"}
		}
	}
	return len(data), escaped, &syntaxError{len(data), "unterminated string"}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber follows the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case digits() == 0:
		return start, &syntaxError{start, "invalid number"}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return start, &syntaxError{start, "invalid number"}
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return start, &syntaxError{start, "invalid number"}
		}
	}
	return i, nil
}

// eachMember calls fn for each member of the JSON object data (trimmed,
// starting with '{'), in the order they appear. key is the raw key text
// without quotes; escaped says it needs unquoting (see memberKey).
func eachMember(data []byte, fn func(key []byte, escaped bool, raw []byte) error) error {
	i := scanSpace(data, 1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return &syntaxError{i, "want an object key"}
		}
		kend, escaped, err := scanString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : kend-1]
		i = scanSpace(data, kend)
		if i >= len(data) || data[i] != ':' {
			return &syntaxError{i, "want ':' after an object key"}
		}
		vstart := scanSpace(data, i+1)
		vend, err := scanValue(data, vstart, 1)
		if err != nil {
			return err
		}
		if err := fn(key, escaped, data[vstart:vend]); err != nil {
			return err
		}
		i = scanSpace(data, vend)
		if i < len(data) && data[i] == ',' {
			i = scanSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return trailing(data, i+1)
		}
		return &syntaxError{i, "want ',' or '}' in an object"}
	}
}

// eachElement calls fn for each element of the JSON list data (trimmed,
// starting with '[').
func eachElement(data []byte, fn func(raw []byte) error) error {
	i := scanSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return trailing(data, i+1)
	}
	for {
		end, err := scanValue(data, i, 1)
		if err != nil {
			return err
		}
		if err := fn(data[i:end]); err != nil {
			return err
		}
		i = scanSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = scanSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == ']' {
			return trailing(data, i+1)
		}
		return &syntaxError{i, "want ',' or ']' in a list"}
	}
}

func trailing(data []byte, i int) error {
	if i = scanSpace(data, i); i != len(data) {
		return &syntaxError{i, "data after the value"}
	}
	return nil
}

// memberKey returns the text of a key eachMember passed.
func memberKey(key []byte, escaped bool) string {
	if !escaped {
		return string(key)
	}
	var s string
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	if json.Unmarshal(q, &s) != nil {
		return string(key) // not reached: scanString validated the escapes
	}
	return s
}
