package extract

import (
	"regexp"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// eventTokenRe is an event name as headings spell it: "onCrmDealUpdate",
// "ONIMV2MESSAGEADD", "OnTaskAdd", "CATALOG.MEASURE.ON.ADD".
var eventTokenRe = regexp.MustCompile(`(?:^|[\s(«"'“])((?:on|On|ON)[A-Z][A-Za-z0-9_]*|[A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*\.ON\.[A-Z0-9_.]+|ON[A-Z0-9_]{3,})(?:$|[\s)»"'”,:;.])`)

// eventSection is a part of the page documenting one event.
type eventSection struct {
	heading  int // the heading naming the event (the H1 for one-event pages)
	name     string
	from, to int // block range of the section
	payload  int // the payload example, -1 when none
}

// sameEvent reports whether all payload examples send the same event.
func sameEvent(pc *pageCtx, payloads []int) bool {
	first := strings.ToUpper(pc.example(payloads[0]).root.get("event").Str)
	for _, p := range payloads[1:] {
		if strings.ToUpper(pc.example(p).root.get("event").Str) != first {
			return false
		}
	}
	return true
}

// readEvents makes one record per documented event. A page documents either
// one event (named by its H1) or several, each under a heading that is the
// event's name; the payload's "event" value names the event when present.
func (pc *pageCtx) readEvents(h1 int, payloads []int) {
	hb := pc.blocks[h1]
	h := pc.readHeader(h1, "")
	var sections []eventSection
	for i, b := range pc.blocks {
		if b.Kind == bHeading && b.Level >= 2 && b.Level <= 3 {
			if tok := lastMatch(eventTokenRe, b.Text); tok != "" && len(tok)*2 >= len(strings.TrimSpace(b.Text)) {
				sections = append(sections, eventSection{heading: i, name: tok, from: i + 1, payload: -1})
			}
		}
	}
	if len(sections) >= 2 {
		for k := range sections {
			sections[k].to = len(pc.blocks)
			if k+1 < len(sections) {
				sections[k].to = sections[k+1].heading
			}
		}
	} else if len(payloads) > 1 && !sameEvent(pc, payloads) {
		// Several payloads without event headings: one event per payload,
		// named by the heading above it.
		sections = sections[:0]
		for k, pi := range payloads {
			sec := eventSection{heading: h1, from: pi, to: len(pc.blocks), payload: pi}
			if k+1 < len(payloads) {
				sec.to = payloads[k+1]
			}
			for j := pi - 1; j > h1; j-- {
				if pc.blocks[j].Kind == bHeading {
					sec.heading = j
					sec.name = lastMatch(eventTokenRe, pc.blocks[j].Text)
					break
				}
			}
			sections = append(sections, sec)
		}
	} else {
		if len(payloads) == 0 && !eventTokenRe.MatchString(hb.Text) {
			return // not an event page
		}
		sec := eventSection{heading: h1, name: lastMatch(eventTokenRe, hb.Text), from: h1 + 1, to: len(pc.blocks), payload: -1}
		if len(payloads) > 0 {
			sec.payload = payloads[0] // several payloads of one event are variants
		}
		if sec.name == "" && sec.payload < 0 {
			return
		}
		sections = []eventSection{sec}
	}
	seen := map[string]bool{}
	for _, sec := range sections {
		if sec.payload < 0 {
			for i := sec.from; i < sec.to; i++ {
				if pc.blocks[i].Kind == bCode {
					if e := pc.example(i); e != nil && e.root != nil && e.root.Kind == 'o' {
						sec.payload = i
						break
					}
				}
			}
		}
		hd := pc.blocks[sec.heading]
		name := strings.ToUpper(sec.name)
		var ex *jsonExample
		if sec.payload >= 0 {
			ex = pc.example(sec.payload)
			if v := ex.root.get("event"); v != nil && v.Kind == 's' && v.Str != "" {
				name = strings.ToUpper(v.Str)
				if sec.name != "" && !strings.EqualFold(sec.name, v.Str) {
					pc.problem(hd.Line, "name-conflict", "heading names event %s but the payload sends %s; using %s", sec.name, v.Str, name)
				}
			}
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		title := strings.TrimSpace(strings.Replace(hd.Text, sec.name, "", 1))
		ev := spec.Event{Name: name, Title: title, DocName: sec.name, Page: pc.path, Line: hd.Line,
			Summary: h.summary, Scopes: h.scopes, Access: h.access, Deprecated: h.deprecated}
		if ex != nil {
			ev.Example = ex.raw
		}
		for i := sec.from; i < sec.to; i++ {
			if pc.blocks[i].Kind == bTable && pc.table(i).Kind == tParams && (sec.heading != h1 || !pc.isSubTable(i)) {
				ev.Fields = pc.build(pc.rowsOf(i), map[int]bool{})
				break
			}
		}
		if ev.Fields == nil && ex != nil {
			ev.Fields = fieldsFromJSON(ex.root, 0)
		}
		if ex != nil {
			fillKinds(ev.Fields, ex.root, 0)
		}
		if ev.Fields == nil {
			ev.Fields = []spec.Param{}
			pc.problem(hd.Line, "no-payload", "event %s: no payload table or JSON example", name)
		}
		pc.events = append(pc.events, ev)
	}
	pc.stats.EventPages = 1
}
