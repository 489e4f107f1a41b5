package b24test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/b24gen/b24gen/templates/b24"
)

// methodParamsSource holds each method's documented parameters, keyed by
// documentedKey, in the encoding generator/model.ParamSchemas describes.
// The generator fills it in the generated tree's b24test
// (method_params_gen.go); in the template it stays empty and no request is
// checked.
var methodParamsSource map[string]string

// WithoutRequestChecks turns off the checks of requests against the
// documented parameters, for tests that send what the docs do not show on
// purpose.
func WithoutRequestChecks() PortalOption { return func(p *Portal) { p.checks = checksOff } }

// WithStrictRequestChecks also refuses parameters the docs do not name
// (matched case-insensitively, as the portal matches keys). It is not the
// default because many pages under-document their parameters: a real
// portal accepts what such a page leaves out.
func WithStrictRequestChecks() PortalOption { return func(p *Portal) { p.checks = checksStrict } }

type checkLevel int

const (
	checksOn checkLevel = iota // shapes and required parameters
	checksOff
	checksStrict // and unknown names
)

// paramSpec is one decoded parameter of a schema.
type paramSpec struct {
	name      string
	prefix    bool // name is a prefix (UF_CRM_…)
	shape     byte // 'o' object, 'c' list or object, 's' scalar, 0 any
	required  bool
	group     byte // required parameters of one group stand in for each other
	missCode  *string
	shapeCode *string
	fields    []paramSpec
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[string][]paramSpec{}
)

// schemaFor decodes the schema of a method once; nil when it has none.
func schemaFor(method string, version int) []paramSpec {
	key := documentedKey(method, version)
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[key]; ok {
		return s
	}
	src, ok := methodParamsSource[key]
	if !ok {
		return nil
	}
	d := &schemaDecoder{s: src}
	s := d.list()
	schemaCache[key] = s
	return s
}

type schemaDecoder struct {
	s string
	i int
}

func (d *schemaDecoder) list() []paramSpec {
	var out []paramSpec
	for d.i < len(d.s) && d.s[d.i] != '}' {
		out = append(out, d.param())
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
		}
	}
	return out
}

// text reads up to the next unescaped marker.
func (d *schemaDecoder) text() string {
	var b strings.Builder
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c == '\\' && d.i+1 < len(d.s) {
			b.WriteByte(d.s[d.i+1])
			d.i += 2
			continue
		}
		if strings.IndexByte(`,:!?=~{}*`, c) >= 0 {
			break
		}
		b.WriteByte(c)
		d.i++
	}
	return b.String()
}

func (d *schemaDecoder) param() paramSpec {
	p := paramSpec{name: d.text()}
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case '*':
			p.prefix = true
			d.i++
		case ':':
			p.shape = d.s[d.i+1]
			d.i += 2
		case '!':
			p.required = true
			d.i++
			if d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9' {
				p.group = d.s[d.i]
				d.i++
			}
		case '?':
			if d.i+1 < len(d.s) {
				p.group = d.s[d.i+1]
			}
			d.i += 2
		case '=':
			d.i++
			c := d.text()
			p.missCode = &c
		case '~':
			d.i++
			c := d.text()
			p.shapeCode = &c
		case '{':
			d.i++
			p.fields = d.list()
			d.i++ // '}'
		default: // ',' or '}'
			return p
		}
	}
	return p
}

// problem is one way a request breaks its method's documented parameters.
type problem struct {
	field   string // fields[TITLE]
	kind    string // "missing", "shape", "unknown"
	code    string // the code the page documents for it, if any
	message string
}

// checkRequest checks params against the method's documented parameters
// and answers what the portal would for the first problem; nil when the
// request is fine or the method has no schema.
func (p *Portal) checkRequest(method string, version int, params map[string]any) *b24.APIError {
	if p.checks == checksOff {
		return nil
	}
	schema := schemaFor(method, version)
	if schema == nil {
		return nil
	}
	var probs []problem
	checkLevelParams(&probs, "", schema, params, p.checks == checksStrict)
	if p.checks == checksStrict {
		checkEntityKeys(&probs, method, version, params) // check_keys.go
	}
	if len(probs) == 0 {
		return nil
	}
	return requestError(method, version, probs)
}

// requestError renders problems as the portal's error: REST 2 answers the
// first with the code its page documents (the engine's 100 "Could not find
// value for parameter" for a missing one); REST 3.0 lists every problem
// under validation.
func requestError(method string, version int, probs []problem) *b24.APIError {
	if version == 3 {
		e := &b24.APIError{Status: 400, Code: "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
			Description: fmt.Sprintf("b24test: %s: %s", method, probs[0].message)}
		if probs[0].kind == "unknown" {
			e.Code = "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION"
		}
		for _, pr := range probs {
			e.Validation = append(e.Validation, b24.ValidationError{Field: pr.field, Message: pr.message})
		}
		return e
	}
	pr := probs[0]
	e := &b24.APIError{Status: 400, Code: pr.code}
	switch pr.kind {
	case "missing":
		if pr.code == "100" {
			// The engine's own wording, which clients match on.
			e.Description = fmt.Sprintf("Could not find value for parameter {%s} (b24test: %s: %s)", pr.field, method, pr.message)
			return e
		}
	}
	e.Description = fmt.Sprintf("b24test: %s: %s", method, pr.message)
	return e
}

// checkLevelParams checks one object level: params against specs, under
// path ("" at the top, "fields" below it).
func checkLevelParams(probs *[]problem, path string, specs []paramSpec, params map[string]any, strict bool) {
	groups := map[byte][]string{}
	var order []byte // groups in documented order, for a stable answer
	met := map[byte]bool{}
	for i := range specs {
		s := &specs[i]
		if s.prefix {
			continue
		}
		v, present := lookupParam(params, s.name)
		if present && v == nil {
			present = false // null is how an unset value arrives
		}
		if str, ok := v.(string); ok && str == "" && (s.shape == 'o' || s.shape == 'c') {
			// "key=" is how a form spells an empty array.
			present = false
		}
		field := joinPath(path, s.name)
		if !present {
			if s.required && s.group == 0 {
				*probs = append(*probs, problem{field: field, kind: "missing", code: codeOr(s.missCode, "100"),
					message: fmt.Sprintf("required parameter %s is missing", field)})
			}
			if s.required && s.group != 0 {
				if len(groups[s.group]) == 0 {
					order = append(order, s.group)
				}
				groups[s.group] = append(groups[s.group], field)
			}
			continue
		}
		if s.group != 0 {
			met[s.group] = true
		}
		if msg, ok := shapeProblem(s.shape, v); !ok {
			*probs = append(*probs, problem{field: field, kind: "shape", code: codeOr(s.shapeCode, "INVALID_ARG_VALUE"),
				message: fmt.Sprintf("parameter %s must be %s, got %s", field, msg, describe(v))})
			continue
		}
		if m, ok := v.(map[string]any); ok && s.shape == 'o' && len(s.fields) > 0 {
			checkLevelParams(probs, field, s.fields, m, strict)
		}
	}
	for _, g := range order {
		if names := groups[g]; !met[g] {
			*probs = append(*probs, problem{field: names[0], kind: "missing", code: "100",
				message: fmt.Sprintf("one of the parameters %s is required", strings.Join(names, ", "))})
		}
	}
	if strict && len(specs) > 0 {
		for k := range params {
			if path == "" && strings.EqualFold(k, "auth") {
				continue // every method takes the OAuth token
			}
			if !knownName(specs, k) {
				field := joinPath(path, k)
				*probs = append(*probs, problem{field: field, kind: "unknown", code: "INVALID_ARG_VALUE",
					message: fmt.Sprintf("parameter %s is not documented", field)})
			}
		}
	}
}

func codeOr(c *string, def string) string {
	if c != nil {
		return *c
	}
	return def
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "[" + name + "]"
}

// lookupParam finds name in params as the portal does: exact key first,
// then ignoring case.
func lookupParam(params map[string]any, name string) (any, bool) {
	if v, ok := params[name]; ok {
		return v, true
	}
	for k, v := range params {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func knownName(specs []paramSpec, key string) bool {
	for _, s := range specs {
		if s.prefix && len(key) >= len(s.name) && strings.EqualFold(key[:len(s.name)], s.name) {
			return true
		}
		if !s.prefix && strings.EqualFold(key, s.name) {
			return true
		}
	}
	return false
}

// shapeProblem checks v against shape; on a mismatch it names what was
// wanted.
func shapeProblem(shape byte, v any) (string, bool) {
	switch shape {
	case 'o':
		// PHP cannot tell {} from [], so an empty list is an empty object.
		if isList(v) && !isEmptyContainer(v) {
			return "an object", false
		}
		if !isContainer(v) {
			return "an object", false
		}
	case 'c':
		if !isContainer(v) {
			return "an array", false
		}
	case 's':
		if isContainer(v) {
			return "a single value", false
		}
	}
	return "", true
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func isEmptyContainer(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// isList reports whether v is a list as PHP sees one: a JSON array, or an
// object keyed "0".."n-1".
func isList(v any) bool {
	switch t := v.(type) {
	case []any:
		return true
	case map[string]any:
		if len(t) == 0 {
			return false
		}
		for i := range len(t) {
			if _, ok := t[strconv.Itoa(i)]; !ok {
				return false
			}
		}
		return true
	}
	return false
}

// describe names the shape of v for an error message.
func describe(v any) string {
	switch {
	case isList(v):
		return "an array"
	case isContainer(v):
		return "an object"
	}
	raw, err := json.Marshal(v)
	if err != nil || len(raw) > 40 {
		return "a single value"
	}
	return "the value " + string(raw)
}

// WithStrictDecoding makes the clients [Portal.Client] returns decode
// strictly (b24.WithStrictDecoding): a value that does not fit its Go type
// fails the call instead of landing in Extra, so a test notices a result
// its types do not hold.
func WithStrictDecoding() PortalOption {
	return func(p *Portal) { p.clientOpts = append(p.clientOpts, b24.WithStrictDecoding()) }
}

// Client returns a webhook client of the portal, made with the options
// given to the portal (WithStrictDecoding) and then opts.
func (p *Portal) Client(opts ...b24.Option) (*b24.Client, error) {
	return b24.NewWebhookClient(p.WebhookURL(), append(append([]b24.Option(nil), p.clientOpts...), opts...)...)
}
