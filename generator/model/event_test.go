package model

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestEventGoName(t *testing.T) {
	vocab := map[string]bool{"on": true, "im": true, "imbot": true, "bot": true, "message": true, "add": true,
		"reaction": true, "change": true, "context": true, "get": true, "join": true, "chat": true}
	cases := []struct {
		wire, doc, page string
		want            string
		derived         bool
	}{
		{"ONCRMDEALUPDATE", "onCrmDealUpdate", "api-reference/crm/deals/events/on-crm-deal-update.md", "OnCrmDealUpdate", false},
		{"CATALOG.PRICE.ON.ADD", "CATALOG.PRICE.ON.ADD", "api-reference/catalog/price/events/catalog-price-on-add.md", "CatalogPriceOnAdd", false},
		{"ONAPPINSTALL", "OnAppInstall", "x/on-app-install.md", "OnAppInstall", false},
		// No documented name: the page's file name spells the event.
		{"ONIMBOTJOINCHAT", "", "api-reference/chat-bots/outdated/chats/events/on-imbot-join-chat.md", "OnImbotJoinChat", true},
		// A documented name that is not the delivered one: not trusted.
		{"ONCRMLEADDELETE", "onLeadDelete", "api-reference/crm/leads/events/on-crm-lead-delete.md", "OnCrmLeadDelete", true},
		// Capitals alone on a page about several events: the docs' words.
		{"ONIMBOTV2REACTIONCHANGE", "ONIMBOTV2REACTIONCHANGE", "api-reference/chat-bots/chat-bots-v2/imbot.v2/events/events.md", "OnImbotV2ReactionChange", true},
		{"ONIMV2MESSAGEADD", "ONIMV2MESSAGEADD", "x/events.md", "OnImV2MessageAdd", true},
		{"ONIMBOTV2CONTEXTGET", "", "x/events.md", "OnImbotV2ContextGet", true},
		// Letters no word covers stay together as one word.
		{"ONQWXZADD", "", "x/events.md", "OnQwxzAdd", true},
	}
	b := &builder{}
	for _, c := range cases {
		got, derived := b.eventGoName(&spec.Event{Name: c.wire, DocName: c.doc, Page: c.page}, vocab)
		if got != c.want || (derived != "") != c.derived {
			t.Errorf("eventGoName(%s, %q, %s) = %s, derived %q; want %s, derived %v", c.wire, c.doc, c.page, got, derived, c.want, c.derived)
		}
	}
}

func TestSegmentWords(t *testing.T) {
	vocab := map[string]bool{"on": true, "crm": true, "deal": true, "update": true, "de": true, "al": true, "call": true, "callback": true, "back": true}
	cases := map[string]string{
		"oncrmdealupdate": "on crm deal update", // fewest words: deal, not de+al
		"oncallback":      "on callback",
		"v2":              "v2",
		"onxyzupdate":     "on xyz update",
		"":                "",
	}
	for in, want := range cases {
		if got := strings.Join(segmentWords(in, vocab), " "); got != want {
			t.Errorf("segmentWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEventFile(t *testing.T) {
	for page, want := range map[string]string{
		"api-reference/crm/deals/events/on-crm-deal-update.md": "crm_gen.go",
		"api-reference/chat-bots/outdated/x.md":                "chatbots_gen.go",
		"api-reference/events/on-offline-event.md":             "events_gen.go",
		"on-app-install.md":                                    "misc_gen.go",
		"":                                                     "misc_gen.go",
	} {
		if got := eventFile(page); got != want {
			t.Errorf("eventFile(%q) = %s, want %s", page, got, want)
		}
	}
}

func evField(st *Struct, wire string) *Field {
	for _, f := range st.Fields {
		if f.JSON == wire {
			return f
		}
	}
	return nil
}

func evTypeString(t *Type) string {
	switch t.Kind {
	case Builtin, Named:
		return t.Name
	case Qual:
		return t.Pkg + "." + t.Name
	case Slice:
		return "[]" + evTypeString(t.Elem)
	case Map:
		return "map[string]" + evTypeString(t.Elem)
	case Pointer:
		return "*" + evTypeString(t.Elem)
	case Opt:
		return "Opt[" + evTypeString(t.Elem) + "]"
	}
	return "?"
}

func eventByWire(evs *Events, wire string) *Event {
	for _, e := range evs.Events {
		if e.Wire == wire {
			return e
		}
	}
	return nil
}

func TestBuildEvents(t *testing.T) {
	s := &spec.Spec{Events: []spec.Event{
		{Name: "ONCRMDEALUPDATE", DocName: "onCrmDealUpdate", Page: "api-reference/crm/deals/events/on-crm-deal-update.md", Line: 1, Scopes: []string{"crm"},
			Fields: []spec.Param{
				{Name: "event", Kind: spec.KindString},
				{Name: "data", Kind: spec.KindObject, Fields: []spec.Param{{Name: "FIELDS", Kind: spec.KindObject, Fields: []spec.Param{{Name: "ID", Kind: spec.KindInteger}}}}},
				{Name: "ts", Type: "timestamp", Kind: spec.KindInteger},
				{Name: "auth", Kind: spec.KindObject, Fields: []spec.Param{{Name: "domain", Kind: spec.KindString}}},
			}},
		// Only the data documented; a row typed by a structure name.
		{Name: "ONIMV2MESSAGEADD", Page: "api-reference/chat-bots/x/events.md", Line: 33, Scopes: []string{"im"},
			Fields:  []spec.Param{{Name: "chat", Type: "Chat", Kind: spec.KindString}, {Name: "language", Kind: spec.KindString}},
			Example: json.RawMessage(`{"chat": {"id": 5}, "language": "en"}`)},
		// Documented twice, and once without a name: reported, not fatal.
		{Name: "ONCRMDEALUPDATE", Page: "dup.md", Line: 9, Scopes: []string{"crm"}},
		{Name: "", Page: "noname.md", Line: 3},
		// The table says string, the example holds an object: the example wins.
		{Name: "ONTASKADD", DocName: "OnTaskAdd", Page: "api-reference/tasks/events-tasks/on-task-add.md", Scopes: []string{"task"},
			Fields:  []spec.Param{{Name: "data", Kind: spec.KindObject, Fields: []spec.Param{{Name: "FIELDS_AFTER", Kind: spec.KindString, Line: 80}}}},
			Example: json.RawMessage(`{"event": "ONTASKADD", "data": {"FIELDS_AFTER": {"ID": "7"}}}`)},
	}}
	evs, problems := buildEventsResolved(s, nil)
	if len(evs.Events) != 3 {
		t.Fatalf("%d events, want 3", len(evs.Events))
	}
	var kinds []string
	for _, p := range problems {
		kinds = append(kinds, p.Kind)
		if p.File == "" {
			t.Errorf("problem without a file: %v", p)
		}
	}
	for _, k := range []string{"event-duplicate", "event-no-name", "event-envelope", "event-name-derived", "type-from-example"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s problem reported; got %v", k, kinds)
		}
	}

	deal := eventByWire(evs, "ONCRMDEALUPDATE")
	if deal.Name != "OnCrmDealUpdate" || deal.Const != "NameOnCrmDealUpdate" || deal.File != "crm_gen.go" {
		t.Errorf("deal event named %s / %s in %s", deal.Name, deal.Const, deal.File)
	}
	var wires, goTypes []string
	for _, f := range deal.Struct.Fields {
		wires = append(wires, f.JSON)
		goTypes = append(goTypes, evTypeString(f.Type))
	}
	if want := []string{"event", "event_handler_id", "data", "ts", "auth"}; !reflect.DeepEqual(wires, want) {
		t.Errorf("envelope keys %v, want %v (missing ones added, in the pages' order)", wires, want)
	}
	if want := []string{"b24.String", "b24.Int", "OnCrmDealUpdateData", "b24.Time", "Auth"}; !reflect.DeepEqual(goTypes, want) {
		t.Errorf("envelope types %v, want %v", goTypes, want)
	}
	if !deal.Struct.Extra {
		t.Error("the payload struct does not keep unknown keys")
	}
	if !strings.Contains(strings.Join(deal.Doc, "\n"), "https://apidocs.bitrix24.com/api-reference/crm/deals/events/on-crm-deal-update.html") ||
		!strings.Contains(strings.Join(deal.Doc, "\n"), "Scope: crm.") {
		t.Errorf("doc lacks the link or the scope: %q", deal.Doc)
	}
	var names []string
	for _, st := range deal.Structs {
		names = append(names, st.Name)
	}
	if want := []string{"OnCrmDealUpdateData", "OnCrmDealUpdateDataFields"}; !reflect.DeepEqual(names, want) {
		t.Errorf("nested types %v, want %v (no struct for auth: it is the shared Auth)", names, want)
	}

	im := eventByWire(evs, "ONIMV2MESSAGEADD")
	data := evField(im.Struct, "data")
	if data == nil || data.Type.Kind != Named {
		t.Fatalf("data-only page: no data struct in %+v", im.Struct.Fields)
	}
	var dataSt *Struct
	for _, st := range im.Structs {
		if st.Name == data.Type.Name {
			dataSt = st
		}
	}
	if f := evField(dataSt, "chat"); f == nil || evTypeString(f.Type) != "encoding/json.RawMessage" {
		t.Errorf("chat (type token Chat) should stay raw JSON, got %+v", f)
	}
	if f := evField(dataSt, "language"); f == nil || evTypeString(f.Type) != "b24.String" {
		t.Errorf("language: %+v", f)
	}

	task := eventByWire(evs, "ONTASKADD")
	for _, st := range task.Structs {
		if f := evField(st, "FIELDS_AFTER"); f != nil && evTypeString(f.Type) == "b24.String" {
			t.Errorf("FIELDS_AFTER kept the table's string type although the example holds an object")
		}
	}

	// Deterministic: the same spec gives the same model.
	again, _ := buildEventsResolved(s, nil)
	if !reflect.DeepEqual(evs, again) {
		t.Error("two builds of one spec differ")
	}
	// Scopes select events.
	crm, _ := buildEventsResolved(s, []string{"crm"})
	if len(crm.Events) != 1 || crm.Events[0].Wire != "ONCRMDEALUPDATE" {
		t.Errorf("scopes crm: %d events", len(crm.Events))
	}
	if none, _ := BuildEvents(nil, nil); len(none.Events) != 0 {
		t.Error("nil spec gave events")
	}
}

// TestEventsStable checks that adding an event renames none of the others.
func TestEventsStable(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Skip("no embedded spec:", err)
	}
	before, _ := buildEventsResolved(s, nil)
	if len(before.Events) < 200 {
		t.Errorf("%d events from the embedded spec, want ≥ 200", len(before.Events))
	}
	grown := *s
	grown.Events = append(slices.Clone(s.Events), spec.Event{Name: "ONCRMDEALUPDATEDATA", DocName: "onCrmDealUpdateData", Page: "api-reference/crm/x/on-crm-deal-update-data.md"})
	after, _ := buildEventsResolved(&grown, nil)
	names := map[string]string{}
	for _, e := range after.Events {
		names[e.Wire] = e.Name
	}
	for _, e := range before.Events {
		if names[e.Wire] != e.Name {
			t.Errorf("%s was %s, is %s after adding an event", e.Wire, e.Name, names[e.Wire])
		}
	}
}
