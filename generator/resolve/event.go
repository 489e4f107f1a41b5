package resolve

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// EnvelopeKeys are the top-level keys of every outgoing-webhook delivery,
// in the order the pages draw them.
var EnvelopeKeys = []string{"event", "event_handler_id", "data", "ts", "auth"}

// payloads gives every event its fields as they are delivered: the
// documented ones inside the envelope every delivery has, rows whose type
// names a structure left untyped, and the whole checked against the
// payload example.
func (r *resolver) payloads() {
	for i := range r.s.Events {
		ev := &r.s.Events[i]
		ev.Fields = r.payload(ev)
	}
}

// payload returns ev's top-level fields as delivered. A page that
// documents only the content of "data" (the older pages, and those that
// describe several events) gets the envelope around its fields.
func (r *resolver) payload(ev *spec.Event) []spec.Param {
	fields := slices.Clone(ev.Fields)
	for i := range fields {
		fields[i] = structTypeTokens(fields[i])
	}
	var example map[string]any
	if len(ev.Example) > 0 {
		if err := decodeNumbers(ev.Example, &example); err != nil {
			r.problem(ev.Page, ev.Line, KindEventExample, ev.Name+": payload example is not a JSON object: not used")
			example = nil
		}
	}
	wrapped := !hasAnyKey(fields, "event", "data", "auth")
	if wrapped && len(fields) > 0 {
		r.problem(ev.Page, ev.Line, KindEventEnvelope,
			ev.Name+": the page documents the payload without its envelope; its fields are typed as data's")
	}
	var data []spec.Param
	if wrapped {
		data, fields = fields, nil
		if example != nil && !hasAnyMapKey(example, "event", "data", "auth") {
			example = map[string]any{"data": example}
		}
	}
	// The envelope; documented rows win.
	env := map[string]spec.Param{
		"event":            {Name: "event", Kind: spec.KindString, Description: "The event's name as the portal sends it: " + strings.ToUpper(ev.Name) + "."},
		"event_handler_id": {Name: "event_handler_id", Kind: spec.KindInteger, Description: "Identifier of the event handler."},
		"data":             {Name: "data", Kind: spec.KindObject, Fields: data, Description: "The event's data."},
		"ts":               {Name: "ts", Kind: spec.KindDateTime, Description: "When the portal raised the event."},
		"auth":             {Name: "auth", Kind: spec.KindObject, Description: "Authorization data and the portal the event comes from."},
	}
	var out []spec.Param
	for _, k := range EnvelopeKeys {
		if !hasAnyKey(fields, k) {
			out = append(out, env[k])
		}
	}
	for _, p := range fields {
		if p.Name == "ts" && strings.EqualFold(strings.TrimSpace(p.Type), "timestamp") {
			// Unix seconds as a string: a date-time value reads them.
			p.Kind = spec.KindDateTime
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, c spec.Param) int { return cmp.Compare(envelopeRank(a.Name), envelopeRank(c.Name)) })
	if example != nil {
		x := &reconciler{r: r, m: &spec.Method{Name: strings.ToUpper(strings.TrimSpace(ev.Name)), Page: ev.Page, Line: ev.Line}, what: "payload field"}
		out = x.reconcileFields(out, example)
	}
	return out
}

// envelopeRank orders the envelope keys as the pages draw them, the
// others after them in documented order.
func envelopeRank(key string) int {
	if i := slices.Index(EnvelopeKeys, key); i >= 0 {
		return i
	}
	return len(EnvelopeKeys)
}

// hasAnyKey reports whether one of ps has one of the wire names keys.
func hasAnyKey(ps []spec.Param, keys ...string) bool {
	for _, p := range ps {
		if slices.Contains(keys, p.Name) {
			return true
		}
	}
	return false
}

func hasAnyMapKey(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// structTypeTokens leaves raw the rows whose type token names a structure
// documented elsewhere ("Chat", "User", "Message") while the extractor gave
// them a scalar kind: a scalar decoder would fail on the object they hold.
// Type tokens are identifiers, not prose, so this holds in every language
// edition.
func structTypeTokens(p spec.Param) spec.Param {
	if isStructToken(p.Type) {
		switch p.Kind {
		case spec.KindString, spec.KindInteger, spec.KindNumber, spec.KindBoolean:
			p.Kind = spec.KindAny
		}
	}
	if len(p.Fields) > 0 {
		p.Fields = slices.Clone(p.Fields)
		for i := range p.Fields {
			p.Fields[i] = structTypeTokens(p.Fields[i])
		}
	}
	return p
}

// isStructToken reports a type token that is one capitalised identifier
// and not a scalar type's name.
func isStructToken(t string) bool {
	t = strings.TrimSpace(t)
	r, _ := utf8.DecodeRuneInString(t)
	if t == "" || !unicode.IsUpper(r) {
		return false
	}
	for _, c := range t {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	switch strings.ToLower(t) {
	case "string", "integer", "int", "number", "double", "float", "boolean", "bool",
		"date", "datetime", "time", "timestamp", "char", "text":
		return false
	}
	return true
}

// EventExample returns ev's payload example as it is delivered: the whole
// payload, or, when the page shows only the content of "data", that content
// under "data". ok is false when the event has no usable example.
func EventExample(ev *spec.Event) (payload map[string]any, ok bool) {
	if len(ev.Example) == 0 {
		return nil, false
	}
	var ex map[string]any
	if err := decodeNumbers(ev.Example, &ex); err != nil || ex == nil {
		return nil, false
	}
	if !hasAnyMapKey(ex, "event", "data", "auth") {
		ex = map[string]any{"data": ex}
	}
	return ex, true
}
