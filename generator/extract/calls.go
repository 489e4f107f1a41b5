package extract

import "strings"

// The code examples name the method they call in three ways: the REST URL
// (/rest/<user>/<secret>/crm.deal.get for a webhook, /rest/crm.deal.get for
// OAuth, /rest/api/… for REST 3.0), "method: 'crm.deal.get'" (JS SDK) and
// call('crm.deal.get', …) / callMethod(…) / Call(ctx, "…") (BX24.js, PHP,
// Go). These scanners find them without regexps: they run over every code
// block of the corpus.

type restCall struct {
	name    string
	v3      bool // /rest/api/…
	webhook bool // /rest/<user>/<secret>/<method>
}

// restURLs calls f for each REST URL in code.
func restURLs(code string, f func(restCall)) {
	for i := 0; i < len(code); {
		j := strings.Index(code[i:], "/rest/")
		if j < 0 {
			return
		}
		p := i + j + len("/rest/")
		i = p
		c := restCall{}
		if strings.HasPrefix(code[p:], "api/") {
			c.v3 = true
			p += len("api/")
		}
		end := p
		for end < len(code) && strings.IndexByte(" \t\r\n'\"?\\&#`)", code[end]) < 0 {
			end++
		}
		segs := strings.Split(strings.TrimSuffix(code[p:end], "/"), "/")
		switch len(segs) {
		case 1:
			c.name = segs[0]
		case 3:
			c.name = segs[2]
			c.webhook = true
		default:
			continue
		}
		c.name = strings.TrimSuffix(c.name, ".json")
		if isMethodName(c.name) {
			f(c)
		}
	}
}

// callNames calls f for each method named by "method: '…'" or a call(…).
func callNames(code string, f func(string)) {
	for i := 0; i < len(code); {
		j := strings.Index(code[i:], "method")
		if j < 0 {
			break
		}
		p := skipSpace(code, i+j+len("method"))
		i = i + j + len("method")
		if p < len(code) && code[p] == ':' {
			if name, ok := quotedName(code, skipSpace(code, p+1)); ok {
				f(name)
			}
		}
	}
	for i := 0; i < len(code); {
		j := strings.IndexByte(code[i:], '(')
		if j < 0 {
			return
		}
		open := i + j
		i = open + 1
		before := code[:open]
		if !(strings.HasSuffix(before, "call") || strings.HasSuffix(before, "Call") ||
			strings.HasSuffix(before, "callMethod") || strings.HasSuffix(before, "callListMethod") || strings.HasSuffix(before, "callBatch")) {
			continue
		}
		p := skipSpace(code, open+1)
		if strings.HasPrefix(code[p:], "ctx,") {
			p = skipSpace(code, p+len("ctx,"))
		}
		if name, ok := quotedName(code, p); ok {
			f(name)
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && isShellSpace(s[i]) {
		i++
	}
	return i
}

// quotedName reads 'name' or "name" at s[i:] when name is a method name.
func quotedName(s string, i int) (string, bool) {
	if i >= len(s) || s[i] != '\'' && s[i] != '"' {
		return "", false
	}
	q := s[i]
	end := strings.IndexByte(s[i+1:], q)
	if end < 0 {
		return "", false
	}
	name := s[i+1 : i+1+end]
	return name, isMethodName(name)
}

// isMethodName: a letter or "_", then letters, digits, "_" and dots, not
// ending in a dot.
func isMethodName(s string) bool {
	if s == "" || s[len(s)-1] == '.' {
		return false
	}
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case k > 0 && (c >= '0' && c <= '9' || c == '.'):
		default:
			return false
		}
	}
	return true
}
