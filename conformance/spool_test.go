package conformance

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/events"
	"github.com/b24gen/b24gen/spec"
)

// Every documented event example, delivered to a receiver with a spool and
// dispatched by a worker (events.Receiver.WorkSpool), reaches its typed
// handler with the same value as a receiver without one gives, the auth
// block's tokens aside (the spool does not keep them).
func TestEventExamplesThroughSpool(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	inline := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	direct := newTypedRecorder(t, inline)
	spool := b24.NewMemorySpool(time.Minute)
	front := events.NewReceiver(testToken, b24.WithSpool(spool), b24.WithReceiverLogger(newLogger(&logs)))
	worker := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(&logs)))
	spooled := newTypedRecorder(t, worker)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go worker.WorkSpool(ctx, spool)

	compared := 0
	for i := range s.Events {
		ev := &s.Events[i]
		payload, ok := wireExample(ev)
		if !ok {
			continue
		}
		body := b24.EncodeForm(payload)
		if post(inline, formType, body) != http.StatusOK {
			continue // TestEventExamples reports it
		}
		want := direct.take(ev.Name)
		if code := post(front, formType, body); code != http.StatusOK {
			t.Errorf("%s: the receiver with a spool answered %d", ev.Name, code)
			continue
		}
		var got []any
		for deadline := time.Now().Add(5 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
			time.Sleep(200 * time.Microsecond)
			got = spooled.take(ev.Name)
		}
		if len(got) != 1 || len(want) != 1 {
			t.Errorf("%s: handled %d times through the spool, %d inline", ev.Name, len(got), len(want))
			continue
		}
		w, g := withoutTokens(want[0]), withoutTokens(got[0])
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s: through the spool\n%+v\ninline\n%+v", ev.Name, g, w)
			continue
		}
		compared++
	}
	t.Logf("event examples: %d decoded the same through the spool as inline", compared)
	if compared < 150 {
		t.Errorf("only %d events compared", compared)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs.String())
	}
}

// withoutTokens returns a copy of the typed event v (a pointer to a
// struct) with its auth block's credentials cleared.
func withoutTokens(v any) any {
	cp := reflect.New(reflect.TypeOf(v).Elem())
	cp.Elem().Set(reflect.ValueOf(v).Elem())
	if f := cp.Elem().FieldByName("Auth"); f.IsValid() && f.CanSet() {
		if a, ok := f.Interface().(b24.EventAuth); ok {
			a.AccessToken, a.RefreshToken, a.ApplicationToken = "", "", ""
			f.Set(reflect.ValueOf(a))
		}
	}
	return cp.Interface()
}
