package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// EventsPkg is the Go package of the typed events.
const EventsPkg = "events"

// AuthType is the shared Go type of every delivery's "auth" block, an alias
// of the runtime's b24.EventAuth (which redacts the tokens when printed).
const AuthType = "Auth"

// Events is the typed events package.
type Events struct {
	Events []*Event // sorted by Go name
	// Stats count the payload fields (nested ones included) that got a
	// concrete Go type and those left raw.
	FieldsTyped, FieldsRaw int
}

// Event is one documented event with everything declared for it.
type Event struct {
	Name   string   // Go type: OnCrmDealUpdate
	Wire   string   // as the portal sends it: ONCRMDEALUPDATE
	Const  string   // the constant holding Wire: NameOnCrmDealUpdate
	File   string   // the generated file it goes to: crm_gen.go
	Doc    []string // paragraphs of the type's comment
	Struct *Struct  // the payload; Struct.Name == Name
	// Structs and Enums are the nested payload types, in declaration order.
	Structs []*Struct
	Enums   []*Enum
}

// BuildEvents turns the spec's events into the events package model.
// Names are stable: each event's Go name comes from its own record (the
// documented name, else its wire name), nested types from that name and the
// field path. Problems (derived names, types corrected by the example,
// assumed envelopes) are returned; they never stop the build.
// scopes keeps only events having any of them (empty keeps all).
func BuildEvents(s *spec.Spec, scopes []string) (*Events, []spec.Problem) {
	b := &builder{}
	out := &Events{}
	if s == nil {
		return out, nil
	}
	recs := make([]*spec.Event, 0, len(s.Events))
	seen := map[string]bool{}
	for i := range s.Events {
		ev := &s.Events[i]
		wire := strings.ToUpper(strings.TrimSpace(ev.Name))
		if wire == "" {
			b.problem(ev.Page, ev.Line, "event-no-name", "event without a name: skipped")
			continue
		}
		if !inScopes(ev.Scopes, scopes) {
			continue
		}
		if seen[wire] {
			b.problem(ev.Page, ev.Line, "event-duplicate", wire+": documented twice; the first record is used")
			continue
		}
		seen[wire] = true
		recs = append(recs, ev)
	}
	slices.SortFunc(recs, func(a, c *spec.Event) int { return cmp.Compare(strings.ToUpper(a.Name), strings.ToUpper(c.Name)) })

	// Every event name and its constant first, so a nested type never
	// takes an event's name; then the nested types, event by event.
	b.pool = NewPool("Extra", AuthType, "Receiver", "NewReceiver", "Fallback", "ServeHTTP", "EventName")
	b.vocab = NewVocabulary(s)
	vocab := b.vocab.eventWords()
	for _, ev := range recs {
		base, derived := b.eventGoName(ev, vocab)
		name := b.pool.Take(base)
		if name != base {
			b.problem(ev.Page, ev.Line, KindNameCollision,
				fmt.Sprintf("%s: Go name events.%s is taken; using %s", ev.Name, base, name))
		} else if derived != "" {
			b.problem(ev.Page, ev.Line, "event-name-derived", fmt.Sprintf("%s: %s; Go name %s", ev.Name, derived, name))
		}
		e := &Event{Name: name, Wire: strings.ToUpper(strings.TrimSpace(ev.Name)), File: eventFile(ev.Page)}
		e.Const = b.pool.Take("Name" + name)
		out.Events = append(out.Events, e)
	}
	for i, ev := range recs {
		b.event(ev, out.Events[i])
	}
	slices.SortFunc(out.Events, func(a, c *Event) int { return cmp.Compare(a.Name, c.Name) })
	out.FieldsTyped, out.FieldsRaw = b.stats.ResultFieldsTyped, b.stats.ResultFieldsRaw
	return out, b.problems
}

// event fills e from ev: the payload struct with the delivery envelope,
// nested types, and the doc comment.
func (b *builder) event(ev *spec.Event, e *Event) {
	b.m = &spec.Method{Name: e.Wire, Page: ev.Page, Line: ev.Line, Version: 2}
	b.f = &Func{}
	fields := ev.Fields // the envelope and the example's corrections are resolve's (event.go)

	st := &Struct{Name: e.Name, Extra: true}
	var auth *spec.Param
	var rest []spec.Param
	authAt := -1
	for _, p := range fields {
		if p.Name == "auth" {
			auth, authAt = &p, len(rest)
			continue
		}
		rest = append(rest, p)
	}
	b.fields(st, e.Name, rest, false, false)
	for _, f := range st.Fields {
		if f.Name == "EventName" { // the method every event has
			f.Name = "EventNameField"
			b.problem(ev.Page, ev.Line, KindNameCollision, e.Wire+": field EventName renamed EventNameField")
		}
	}
	if auth != nil {
		af := &Field{Name: "Auth", JSON: "auth", Type: named(AuthType), Doc: fieldDoc(spec.Param{Description: auth.Description})}
		if hasField(st, "Auth") {
			af.Name = "AuthBlock" // not reached with the docs as they are: "auth" is the only key spelled so
		}
		st.Fields = slices.Insert(st.Fields, authAt, af)
		b.stats.ResultFieldsTyped++
	}
	e.Struct = st
	e.Structs = b.f.Structs
	e.Enums = b.f.Enums
	e.Doc = eventDoc(ev, e)
}

func hasField(st *Struct, name string) bool {
	for _, f := range st.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func eventDoc(ev *spec.Event, e *Event) []string {
	first := e.Name + " is the payload of the event " + e.Wire
	if ev.DocName != "" && ev.DocName != e.Wire && !strings.EqualFold(ev.DocName, e.Name) {
		first += " (" + ev.DocName + " in the docs)"
	}
	doc := []string{first + "."}
	what := strings.TrimSpace(ev.Summary)
	if what == "" {
		what = strings.TrimSpace(ev.Title)
	}
	doc = append(doc, paragraphs(what)...)
	if who := whoLine(ev.Scopes, ev.Access, "subscribe"); who != "" {
		doc = append(doc, who)
	}
	doc = append(doc, "Register a handler with [Receiver."+e.Name+"].")
	if ev.Page != "" {
		doc = append(doc, "See "+docsURL(ev.Page))
	}
	return doc
}

// eventFile groups events by the docs section of their page
// ("api-reference/crm/deals/events/…" → "crm_gen.go"), so a new event
// never moves another to a different file.
func eventFile(page string) string {
	segs := strings.Split(strings.TrimPrefix(page, "api-reference/"), "/")
	seg := ""
	if len(segs) > 1 {
		seg = segs[0]
	}
	return genFileName(seg)
}

// eventGoName names an event's Go type from its documented name
// ("onCrmDealUpdate" → "OnCrmDealUpdate", "CATALOG.PRICE.ON.ADD" →
// "CatalogPriceOnAdd"): the docs' own capitals, no initialisms, so the name
// reads as the docs spell the event. When the docs give no name, or one that
// is not the delivered name, or one in capitals alone, the words come from
// the page's file name when it spells the event ("on-imbot-join-chat.md"),
// else from the words other events' names use. derived says why the name
// was not taken as documented ("" when it was).
func (b *builder) eventGoName(ev *spec.Event, vocab map[string]bool) (name, derived string) {
	wire := strings.ToUpper(strings.TrimSpace(ev.Name))
	doc := strings.TrimSpace(ev.DocName)
	switch {
	case doc == "":
		derived = "no documented name"
	case !strings.EqualFold(doc, wire):
		derived = fmt.Sprintf("documented name %s is not the delivered name", doc)
	}
	if derived == "" && hasLower(doc) {
		return camelFromDoc(doc), ""
	}
	if derived == "" && strings.ContainsAny(doc, "._-") {
		// "CATALOG.PRICE.ON.ADD": the separators give the words.
		return camelFromDoc(doc), ""
	}
	// Capitals alone (or no usable name): find the words.
	if words := pageWords(ev.Page, wire); words != nil {
		return joinWords(words), cmp.Or(derived, "documented name has no word boundaries; words from the page's file name")
	}
	return joinWords(segmentWords(strings.ToLower(alnum(wire)), vocab)),
		cmp.Or(derived, "documented name has no word boundaries; words the docs use in other names")
}

func hasLower(s string) bool {
	return strings.IndexFunc(s, unicode.IsLower) >= 0
}

// alnum keeps the ASCII letters and digits of s.
func alnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// camelFromDoc raises the first letter of every part between separators
// and keeps the docs' inner capitals; all-capital parts become Title case.
func camelFromDoc(doc string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(doc, func(r rune) bool {
		return r >= utf8.RuneSelf || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		if part == strings.ToUpper(part) {
			part = strings.ToLower(part)
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	out := b.String()
	if out == "" {
		return "X"
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "N" + out
	}
	return out
}

// pageWords returns the words of the page's file name when, joined, they
// spell the wire name ("on-external-call-back-start" for
// ONEXTERNALCALLBACKSTART); nil otherwise.
func pageWords(page, wire string) []string {
	base := page[strings.LastIndex(page, "/")+1:]
	base = strings.TrimSuffix(base, ".md")
	words := strings.FieldsFunc(base, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	if len(words) == 0 || !strings.EqualFold(strings.Join(words, ""), alnum(wire)) {
		return nil
	}
	return words
}

func joinWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		w = strings.ToLower(w)
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	if b.Len() == 0 {
		return "X"
	}
	out := b.String()
	if out[0] >= '0' && out[0] <= '9' {
		out = "N" + out
	}
	return out
}
