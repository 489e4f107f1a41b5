package conformance

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/events"
	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/event_misses.txt")

// testToken is the application token every test delivery carries.
const testToken = "c0nf0rmanceAppT0ken77"

// typedRecorder registers a handler for every typed registration method of
// events.Receiver (found by reflection, so no event is left out) and
// records what each handler received, by the event's wire name.
type typedRecorder struct {
	mu  sync.Mutex
	got map[string][]any // wire name → decoded payloads (*events.OnX)
	// methods maps a wire name to the registration method's name.
	methods map[string]string
}

func newTypedRecorder(t testing.TB, r *events.Receiver) *typedRecorder {
	t.Helper()
	rec := &typedRecorder{got: map[string][]any{}, methods: map[string]string{}}
	rv := reflect.ValueOf(r)
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for i := range rv.NumMethod() {
		m := rv.Type().Method(i)
		ft := m.Type // includes the receiver
		if ft.NumIn() != 2 || ft.In(1).Kind() != reflect.Func {
			continue
		}
		h := ft.In(1)
		if h.NumIn() != 2 || h.In(0) != ctxType || h.NumOut() != 1 || h.Out(0) != errType || h.In(1).Kind() != reflect.Pointer {
			continue
		}
		payload := h.In(1)
		if payload.Elem().Kind() != reflect.Struct {
			continue // Fallback's *b24.Event is a struct too; excluded below
		}
		if payload == reflect.TypeFor[*b24.Event]() {
			continue
		}
		named, ok := reflect.New(payload.Elem()).Interface().(interface{ EventName() string })
		if !ok {
			t.Errorf("%s: payload type %s has no EventName method", m.Name, payload.Elem().Name())
			continue
		}
		wire := named.EventName()
		if m.Name != payload.Elem().Name() {
			t.Errorf("registration %s takes *%s: want the method named after its payload type", m.Name, payload.Elem().Name())
		}
		rec.methods[wire] = m.Name
		fn := reflect.MakeFunc(h, func(args []reflect.Value) []reflect.Value {
			rec.mu.Lock()
			rec.got[wire] = append(rec.got[wire], args[1].Interface())
			rec.mu.Unlock()
			return []reflect.Value{reflect.Zero(errType)}
		})
		rv.Method(i).Call([]reflect.Value{fn})
	}
	return rec
}

func (rec *typedRecorder) take(wire string) []any {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got[wire]
	delete(rec.got, wire)
	return got
}

// post delivers body to h as the portal does and returns the status.
func post(h http.Handler, contentType, body string) int {
	req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// wireExample returns an event's documented example as the portal would
// deliver it to us: the envelope around it when the page shows only the
// data, the event name, and our application token.
func wireExample(ev *spec.Event) (map[string]any, bool) {
	p, ok := resolve.EventExample(ev)
	if !ok {
		return nil, false
	}
	if _, ok := p["event"]; !ok {
		p["event"] = ev.Name
	}
	auth, _ := p["auth"].(map[string]any)
	if auth == nil {
		auth = map[string]any{}
		p["auth"] = auth
	}
	auth["application_token"] = testToken
	return p, true
}

// deliveredFields returns ev's documented fields as they are delivered:
// under "data" when the page documents only the data (as the model does).
func deliveredFields(ev *spec.Event) []spec.Param {
	for _, f := range ev.Fields {
		if f.Name == "event" || f.Name == "data" || f.Name == "auth" {
			return ev.Fields
		}
	}
	return []spec.Param{{Name: "data", Kind: spec.KindObject, Fields: ev.Fields}}
}

// TestEventExamples delivers every parseable event example of the embedded
// spec, form-encoded as the portal sends it, to a typed events.Receiver,
// and checks that it reaches its typed handler, decoded, with every
// documented field the example holds populated. The events that miss are
// listed with the reason in testdata/event_misses.txt (-update rewrites it).
func TestEventExamples(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	rec := newTypedRecorder(t, r)
	if len(rec.methods) < 200 {
		t.Errorf("events.Receiver has %d typed registrations; want one per documented event (≥200)", len(rec.methods))
	}
	var fallback []string
	r.Fallback(func(_ context.Context, e *b24.Event) error {
		fallback = append(fallback, e.Name)
		return nil
	})

	var misses []string
	examples, passed, checked := 0, 0, 0
	for i := range s.Events {
		ev := &s.Events[i]
		if _, ok := rec.methods[ev.Name]; !ok {
			t.Errorf("%s (%s): no typed registration on events.Receiver", ev.Name, ev.Page)
			continue
		}
		payload, ok := wireExample(ev)
		if !ok {
			continue
		}
		examples++
		body := b24.EncodeForm(payload)
		logs.Reset()
		status := post(r, "application/x-www-form-urlencoded", body)
		got := rec.take(ev.Name)
		if status != http.StatusOK || len(got) != 1 {
			reason := strings.TrimSpace(logs.String())
			if i := strings.Index(reason, "error="); i >= 0 {
				reason = reason[i:]
			}
			misses = append(misses, fmt.Sprintf("%s: not decoded (status %d): %s", ev.Name, status, reason))
			continue
		}
		// What the portal's form carries (empty values and lists dropped,
		// scalars as strings) is what the struct can hold.
		delivered, err := b24.DecodeForm(body)
		if err != nil {
			t.Fatalf("%s: the form we encoded does not decode: %v", ev.Name, err)
		}
		var eventMisses []string
		n := checkFields(ev.Name, deliveredFields(ev), delivered, reflect.ValueOf(got[0]), &eventMisses)
		checked += n
		if len(eventMisses) > 0 {
			misses = append(misses, eventMisses...)
			continue
		}
		passed++
	}
	if len(fallback) > 0 {
		t.Errorf("documented events reached the fallback instead of their typed handler: %v", fallback)
	}
	rate := float64(passed) / float64(max(examples, 1))
	t.Logf("event examples: %d delivered, %d decoded with every documented field populated (%.1f%%), %d documented fields checked",
		examples, passed, 100*rate, checked)
	if examples < 150 {
		t.Errorf("only %d event examples in the spec; the extractor lost some", examples)
	}
	if rate < 0.99 {
		t.Errorf("%.1f%% of the event examples decode fully; want ≥ 99%%", 100*rate)
	}
	compareMisses(t, misses)
}

// checkFields walks the documented fields present in the delivered tree
// and reports those the decoded value v does not hold. It returns how many
// fields it checked.
func checkFields(path string, doc []spec.Param, delivered any, v reflect.Value, misses *[]string) int {
	obj, ok := delivered.(map[string]any)
	if !ok {
		return 0
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			*misses = append(*misses, path+": nil where the delivery has an object")
			return 0
		}
		v = v.Elem()
	}
	n := 0
	for _, p := range doc {
		val, present := obj[p.Name]
		if !present || emptyDelivered(val) {
			continue
		}
		n++
		fp := path + "." + p.Name
		if v.Kind() != reflect.Struct {
			*misses = append(*misses, fp+": decoded into "+v.Type().String()+", not a struct")
			continue
		}
		fv, found := fieldByTag(v, p.Name)
		if !found {
			// The shared Auth has its own encoding (no tags): its JSON must
			// hold the key. Elsewhere a key that only Extra holds is a miss.
			if m, isM := v.Interface().(json.Marshaler); isM && v.Type() == reflect.TypeFor[events.Auth]() {
				if !marshalHolds(m, p.Name) {
					*misses = append(*misses, fp+": "+v.Type().String()+" drops it")
				}
				continue
			}
			*misses = append(*misses, fp+": no field of "+v.Type().String()+" has this key")
			continue
		}
		// An object is judged by its fields (all of them may be zero forms).
		isObject := fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[b24.Time]() && fv.Type() != reflect.TypeFor[b24.Date]()
		if !isObject && fv.IsZero() && !zeroForm(val) {
			*misses = append(*misses, fmt.Sprintf("%s: delivered %s, field %s is empty", fp, short(val), fv.Type()))
			continue
		}
		if len(p.Fields) == 0 {
			continue
		}
		switch fv.Kind() {
		case reflect.Struct, reflect.Pointer:
			n += checkFields(fp, p.Fields, val, fv, misses)
		case reflect.Slice:
			if list, isList := val.([]any); isList && fv.Type().Elem().Kind() == reflect.Struct {
				for i := 0; i < len(list) && i < fv.Len(); i++ {
					n += checkFields(fmt.Sprintf("%s[%d]", fp, i), p.Fields, list[i], fv.Index(i), misses)
				}
			}
		}
	}
	return n
}

func fieldByTag(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func marshalHolds(m json.Marshaler, key string) bool {
	b, err := m.MarshalJSON()
	if err != nil {
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return false
	}
	raw, ok := obj[key]
	return ok && !emptyJSON(raw)
}

func emptyJSON(raw json.RawMessage) bool {
	switch strings.TrimSpace(string(raw)) {
	case "", "null", `""`, "0", "false", "[]", "{}":
		return true
	}
	return false
}

// emptyDelivered reports values that carry nothing: the form drops empty
// lists and objects and sends null as "".
func emptyDelivered(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// zeroForm reports delivered text whose typed value is the zero value
// ("0", "N", "0.00", "0000-00-00 00:00:00"), so an empty field is right.
func zeroForm(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "n", "false", "0":
		return true
	}
	return strings.Trim(s, "0.-:T ") == ""
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		b = append(b[:37], "..."...)
	}
	return string(b)
}

// compareMisses checks the list of misses against the test-owned file, so
// a change in what decodes is seen in review.
func compareMisses(t *testing.T, misses []string) {
	t.Helper()
	slices.Sort(misses)
	text := "# Event examples that do not decode fully into their generated type.\n" +
		"# Written by `go test ./conformance -run TestEventExamples -update`; one line per miss.\n"
	for _, m := range misses {
		text += m + "\n"
	}
	file := filepath.Join("testdata", "event_misses.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./conformance -run TestEventExamples -update)", err)
	}
	if diff := cmp.Diff(string(want), text); diff != "" {
		t.Errorf("the event misses changed (-%s +now); if intended, run with -update:\n%s", file, diff)
	}
}

// TestEventExamplesOnePass: the typed route (a form decoded straight into
// the struct) gives, for every documented example, exactly what the raw
// route gives (form tree, JSON, the struct's UnmarshalJSON).
func TestEventExamplesOnePass(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	typed := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	rec := newTypedRecorder(t, typed)
	raw := b24.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	var last *b24.Event
	raw.HandleFallback(func(_ context.Context, e *b24.Event) error { last = e; return nil })
	compared := 0
	for i := range s.Events {
		ev := &s.Events[i]
		payload, ok := wireExample(ev)
		if !ok {
			continue
		}
		body := b24.EncodeForm(payload)
		if post(typed, "application/x-www-form-urlencoded", body) != http.StatusOK {
			continue // TestEventExamples reports it
		}
		got := rec.take(ev.Name)
		last = nil
		if len(got) != 1 || post(raw, "application/x-www-form-urlencoded", body) != http.StatusOK || last == nil {
			t.Errorf("%s: typed %d deliveries, raw route %v", ev.Name, len(got), last != nil)
			continue
		}
		want := reflect.New(reflect.TypeOf(got[0]).Elem())
		if err := last.Decode(want.Interface()); err != nil {
			t.Errorf("%s: raw route: %v", ev.Name, err)
			continue
		}
		if !reflect.DeepEqual(got[0], want.Interface()) {
			t.Errorf("%s: the one-pass decode differs from the tree route:\n%+v\n%+v", ev.Name, got[0], want.Interface())
		}
		compared++
	}
	if compared < 150 {
		t.Errorf("only %d examples compared", compared)
	}
	t.Logf("%d event examples: one-pass decode equal to the tree route", compared)
}
