package b24

import (
	"encoding/json"
	"errors"
	"strconv"
)

// topLevelMember finds key among the members of the JSON object obj without
// decoding the rest: Export reads every row's id this way, which is several
// times cheaper than a map decode. Keys are compared after unquoting, so an
// escaped key still matches. obj comes from encoding/json (already valid);
// malformed input is an error, never a panic.
func topLevelMember(obj []byte, key string) (json.RawMessage, bool, error) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, errNotObject
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) {
			return nil, false, errTruncated
		}
		if obj[i] == '}' {
			return nil, false, nil
		}
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, false, errTruncated
		}
		end, escaped, err := skipString(obj, i)
		if err != nil {
			return nil, false, err
		}
		name := obj[i+1 : end-1]
		match := string(name) == key
		if escaped {
			s, err := strconv.Unquote(string(obj[i:end]))
			match = err == nil && s == key
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, errTruncated
		}
		i = skipSpace(obj, i+1)
		vend, err := skipValue(obj, i)
		if err != nil {
			return nil, false, err
		}
		if match {
			return json.RawMessage(obj[i:vend]), true, nil
		}
		i = vend
	}
}

var (
	errNotObject = errors.New("not a JSON object")
	errTruncated = errors.New("malformed or truncated JSON")
)

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, nil
		}
	}
	return 0, false, errTruncated
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	switch b[i] {
	case '"':
		end, _, err := skipString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errTruncated
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errTruncated
	}
	return j, nil
}
