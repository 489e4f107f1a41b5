package extract

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Most method pages show the call as a cURL command through an incoming
// webhook, its parameters as the JSON body of `-d '{…}'`. That body is the
// page's only structured evidence of what the untyped parameters hold (the
// element kind of an array, the keys of an object), so the spec keeps it
// and the model refines the parameters the tables left open.

// requestExample returns the first JSON object body of a cURL example that
// calls name through a webhook URL, compact, or nil. Blocks are searched
// from index from (the examples' start); a body that does not parse even
// leniently is passed over. When no webhook body parses, the OAuth tab's
// body stands in, without its "auth" key: the parameters are the same.
func (pc *pageCtx) requestExample(name string, from int) json.RawMessage {
	var oauth json.RawMessage
	for i := max(from, 0); i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bCode || !strings.Contains(b.Raw, "-d") {
			continue
		}
		calls, webhook := false, false
		restURLs(b.Raw, func(c restCall) {
			if strings.EqualFold(c.name, name) {
				calls, webhook = true, webhook || c.webhook
			}
		})
		if !calls || !webhook && oauth != nil {
			continue
		}
		for _, body := range curlBodies(b.Raw) {
			body = strings.TrimSpace(body)
			if !strings.HasPrefix(body, "{") {
				continue
			}
			raw, root, err := parseExample(body)
			if err != nil || root == nil || root.Kind != 'o' {
				continue
			}
			if webhook {
				return raw
			}
			oauth = withoutKey(raw, "auth")
			break
		}
	}
	return oauth
}

// withoutKey returns the compact JSON object obj without its top-level
// member key, other members kept in order.
func withoutKey(obj json.RawMessage, key string) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	var members [][]byte
	dropped := false
	for dec.More() {
		start := dec.InputOffset()
		k, err := dec.Token()
		if err != nil {
			return obj
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj
		}
		if k == key {
			dropped = true
			continue
		}
		members = append(members, bytes.TrimLeft(obj[start:dec.InputOffset()], ","))
	}
	if !dropped {
		return obj
	}
	out := append([]byte{'{'}, bytes.Join(members, []byte{','})...)
	return append(out, '}')
}

// curlBodies returns the data arguments (-d, --data, --data-raw,
// --data-binary, --data-ascii) of the curl commands in code, as the shell
// would pass them, in order.
func curlBodies(code string) []string {
	var out []string
	for i := 0; i < len(code); {
		j := strings.IndexByte(code[i:], '-')
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		if p > 0 && !isShellSpace(code[p-1]) {
			continue // a dash inside a word: "Content-Type", "-X"'s value
		}
		opt := p
		for opt < len(code) && !isShellSpace(code[opt]) && code[opt] != '=' {
			opt++
		}
		switch code[p:opt] {
		case "-d", "--data", "--data-raw", "--data-binary", "--data-ascii":
		default:
			continue
		}
		if opt >= len(code) {
			break
		}
		word, end, ok := shellWord(code, opt+1)
		if ok {
			out = append(out, word)
		}
		i = max(end, i)
	}
	return out
}

func isShellSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// shellWord reads one shell word starting at or after i (leading blanks and
// backslash-newlines skipped): single-quoted text literally, double-quoted
// text with its escapes, unquoted text up to a blank. Parameter and command
// substitutions ($VAR, ${VAR}, $(…), `…`) expand to nothing: the docs use
// them for dates ("'"$(date …)"'"), whose JSON string then reads "". ok is
// false when a quote is never closed.
func shellWord(s string, i int) (word string, end int, ok bool) {
	for i < len(s) {
		if isShellSpace(s[i]) {
			i++
			continue
		}
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\n' {
			i += 2
			continue
		}
		break
	}
	var w strings.Builder
	for i < len(s) && !isShellSpace(s[i]) {
		switch c := s[i]; c {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", len(s), false
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			i++
			for i < len(s) && s[i] != '"' {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						w.WriteByte(s[i+1])
					}
					i += 2
				case s[i] == '$' || s[i] == '`':
					i = skipSubstitution(s, i)
				default:
					w.WriteByte(s[i])
					i++
				}
			}
			if i >= len(s) {
				return "", len(s), false
			}
			i++
		case '\\':
			if i+1 < len(s) {
				if s[i+1] != '\n' {
					w.WriteByte(s[i+1])
				}
				i += 2
			} else {
				i++
			}
		case '$', '`':
			i = skipSubstitution(s, i)
		default:
			w.WriteByte(c)
			i++
		}
	}
	return w.String(), i, true
}

// skipSubstitution returns the index after the substitution starting at i
// ($(…) with nesting, ${…}, $NAME, `…`); a lone "$" is kept out as well.
func skipSubstitution(s string, i int) int {
	if s[i] == '`' {
		if j := strings.IndexByte(s[i+1:], '`'); j >= 0 {
			return i + j + 2
		}
		return len(s)
	}
	i++ // '$'
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '(':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	case '{':
		if j := strings.IndexByte(s[i:], '}'); j >= 0 {
			return i + j + 1
		}
		return len(s)
	}
	for i < len(s) && (s[i] == '_' || isLetter(s[i]) || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	return i
}
