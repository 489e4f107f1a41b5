package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingSpool wraps a MemorySpool, keeps what was put, and can fail or
// block Put.
type recordingSpool struct {
	*MemorySpool
	mu       sync.Mutex
	puts     map[string][]byte
	fail     error
	returned atomic.Bool // set just before Put returns nil
}

func newRecordingSpool(lease time.Duration) *recordingSpool {
	return &recordingSpool{MemorySpool: NewMemorySpool(lease), puts: map[string][]byte{}}
}

func (s *recordingSpool) Put(ctx context.Context, id string, body []byte) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	if err := s.MemorySpool.Put(ctx, id, body); err != nil {
		return err
	}
	s.mu.Lock()
	s.puts[id] = body
	s.mu.Unlock()
	s.returned.Store(true)
	return nil
}

// statusCheck is a ResponseWriter that records whether the spool's Put had
// returned when the status was written.
type statusCheck struct {
	*httptest.ResponseRecorder
	s          *recordingSpool
	putBefore  bool
	wroteCount int
}

func (w *statusCheck) WriteHeader(code int) {
	w.putBefore = w.s.returned.Load()
	w.wroteCount++
	w.ResponseRecorder.WriteHeader(code)
}

func TestSpoolReceiverStoresWithoutTokensThenDispatches(t *testing.T) {
	for _, tc := range []struct{ name, ctype, body string }{
		{"form", formType, formOf(t, dealUpdateDoc)},
		{"json", "application/json", dealUpdateDoc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := newRecordingSpool(time.Minute)
			r, logs := newTestReceiver(WithSpool(sp))
			var handled atomic.Int32
			var gotID string
			var got genDealUpdate
			HandleTyped(r, "ONCRMDEALUPDATE", func(ctx context.Context, e *genDealUpdate) error {
				handled.Add(1)
				gotID, got = DeliveryID(ctx), *e
				return nil
			})
			req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			w := &statusCheck{ResponseRecorder: httptest.NewRecorder(), s: sp}
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK || !w.putBefore || w.wroteCount != 1 {
				t.Fatalf("status %d (put returned before: %t, %d writes)", w.Code, w.putBefore, w.wroteCount)
			}
			if handled.Load() != 0 {
				t.Fatal("the handler ran in the request; with a spool it runs in the worker")
			}
			if len(sp.puts) != 1 {
				t.Fatalf("%d puts", len(sp.puts))
			}
			var id string
			var stored []byte
			for id, stored = range sp.puts {
			}
			assertNoSecrets(t, string(stored))
			for _, kept := range []string{`"member_id":"a223c6b3710f85df22e9377d6c4f7553"`, `"domain":"some-domain.bitrix24.com"`, `"ONCRMDEALUPDATE"`, `"759"`} {
				if !strings.Contains(string(stored), kept) {
					t.Errorf("stored delivery lacks %s: %s", kept, stored)
				}
			}
			if id != SpoolID(stored) || len(id) != 64 {
				t.Fatalf("id %q, want SpoolID of the stored bytes %q", id, SpoolID(stored))
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- r.WorkSpool(ctx, sp) }()
			waitFor(t, func() bool { return sp.Len() == 0 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("WorkSpool = %v", err)
			}
			if handled.Load() != 1 || gotID != id {
				t.Fatalf("handled %d times, DeliveryID %q (want %q)", handled.Load(), gotID, id)
			}
			if got.Data.Fields.ID != 759 || got.Auth.MemberID != "a223c6b3710f85df22e9377d6c4f7553" || got.Auth.Domain != "some-domain.bitrix24.com" {
				t.Fatalf("typed handler got %+v", got)
			}
			if got.Auth.AccessToken != "" || got.Auth.RefreshToken != "" || got.Auth.ApplicationToken != "" {
				t.Fatal("a spooled delivery handed a token to the handler")
			}
			assertNoSecrets(t, logs.String())
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// The same delivery, received twice (form and JSON alike), is one spool id.
func TestSpoolReceiverDedupByDelivery(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	r, _ := newTestReceiver(WithSpool(sp))
	form := formOf(t, dealUpdateDoc)
	for range 3 {
		if rec := deliver(r, formType, form); rec.Code != http.StatusOK {
			t.Fatal(rec.Code)
		}
	}
	other := strings.Replace(form, "759", "760", 1)
	if rec := deliver(r, formType, other); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	if sp.Len() != 2 || len(sp.puts) != 2 {
		t.Fatalf("spool holds %d deliveries (%d ids), want 2", sp.Len(), len(sp.puts))
	}
	// Another access token (a later copy) is still the same delivery.
	again := strings.Replace(form, testAccessToken, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 1)
	deliver(r, formType, again)
	if len(sp.puts) != 2 {
		t.Fatalf("a copy with another access token got its own id: %d ids", len(sp.puts))
	}
}

// When Put fails the portal gets 503, nothing is handled, and the log says
// why without a token.
func TestSpoolReceiverPutFails503(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	sp.fail = fmt.Errorf("connection refused (while storing %s)", testAppToken)
	r, logs := newTestReceiver(WithSpool(sp))
	var handled atomic.Int32
	r.Handle("ONCRMDEALUPDATE", func(context.Context, *Event) error { handled.Add(1); return nil })
	rec := deliver(r, formType, formOf(t, dealUpdateDoc))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if handled.Load() != 0 || sp.Len() != 0 {
		t.Fatal("a delivery whose put failed was handled or stored")
	}
	if !strings.Contains(logs.String(), "spool put failed") || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("log: %s", logs)
	}
	assertNoSecrets(t, logs.String())
	assertNoSecrets(t, rec.Body.String())
}

// A wrong token is refused before the spool sees anything.
func TestSpoolReceiverChecksTokenFirst(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	r, _ := newTestReceiver(WithSpool(sp))
	body := strings.Replace(formOf(t, dealUpdateDoc), testAppToken, "ffffffffffffffffffffffffffffffff", 1)
	if rec := deliver(r, formType, body); rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d", rec.Code)
	}
	if rec := deliver(r, formType, "event=ONCRMDEALUPDATE&auth[application_token]="+testAppToken+"&data[%ZZ]=1"); rec.Code != http.StatusBadRequest {
		t.Fatalf("malformed: status %d", rec.Code)
	}
	if sp.Len() != 0 {
		t.Fatal("a refused delivery was stored")
	}
}

// A worker that takes a delivery and dies before Ack: the delivery comes
// back after the lease and is handled; a handler that fails is retried.
func TestSpoolRedeliveryAfterLease(t *testing.T) {
	sp := newRecordingSpool(200 * time.Millisecond)
	r, _ := newTestReceiver(WithSpool(sp))
	var calls atomic.Int32
	var ids sync.Map
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *Event) error {
		n := calls.Add(1)
		ids.Store(DeliveryID(ctx), true)
		if n == 1 {
			return errors.New("first try fails")
		}
		return nil
	})
	deliver(r, formType, formOf(t, dealUpdateDoc))
	// The dead worker: takes it, never acks.
	id, _, err := sp.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.WorkSpool(ctx, sp)
	waitFor(t, func() bool { return sp.Len() == 0 })
	if el := time.Since(start); el < 2*200*time.Millisecond*9/10 {
		t.Errorf("handled after %v: before the dead worker's lease and the failed try's lease ran out", el)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d handler calls, want 2 (one failed)", calls.Load())
	}
	if _, ok := ids.Load(id); !ok {
		t.Fatalf("handler never saw DeliveryID %q", id)
	}
}

// A stored delivery that does not decode (cut short) is logged and
// acked, not retried for ever.
func TestSpoolUndecodableIsAcked(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	r, logs := newTestReceiver(WithSpool(sp))
	HandleTyped(r, "ONCRMDEALUPDATE", func(ctx context.Context, e *genDealUpdate) error { return nil })
	body := `{"event":"ONCRMDEALUPDATE","data":{"FIELDS":{"ID":"1"}},"auth":{"member_id":"m"}`
	sp.Put(context.Background(), SpoolID([]byte(body)), []byte(body))
	if err := r.Dispatch(context.Background(), "x", []byte(body)); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("Dispatch = %v, want ErrUndecodable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.WorkSpool(ctx, sp)
	waitFor(t, func() bool { return sp.Len() == 0 })
	waitFor(t, func() bool { return strings.Contains(logs.String(), "does not decode; acked") })
}

// Many deliveries, several workers: each handled exactly once.
func TestSpoolManyWorkers(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	r, _ := newTestReceiver(WithSpool(sp))
	var mu sync.Mutex
	seen := map[string]int{}
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *Event) error {
		mu.Lock()
		seen[DeliveryID(ctx)]++
		mu.Unlock()
		return nil
	})
	const n = 500
	form := formOf(t, dealUpdateDoc)
	for i := range n {
		body := strings.Replace(form, "759", fmt.Sprint(10000+i), 1)
		if rec := deliver(r, formType, body); rec.Code != http.StatusOK {
			t.Fatal(rec.Code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { r.WorkSpool(ctx, sp) })
	}
	waitFor(t, func() bool { return sp.Len() == 0 })
	cancel()
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d handled", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s handled %d times", id, c)
		}
	}
}

// Without WithSpool the receiver handles in the request, as before.
func TestReceiverWithoutSpoolHandlesInline(t *testing.T) {
	r, _ := newTestReceiver()
	var handled atomic.Int32
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *Event) error {
		if DeliveryID(ctx) != "" {
			t.Error("DeliveryID outside a spooled dispatch")
		}
		handled.Add(1)
		return nil
	})
	if rec := deliver(r, formType, formOf(t, dealUpdateDoc)); rec.Code != http.StatusOK || handled.Load() != 1 {
		t.Fatalf("status %d, handled %d", rec.Code, handled.Load())
	}
}

func TestWithSpoolNil(t *testing.T) {
	r := NewReceiver(testAppToken, WithSpool(nil))
	if r.Err() == nil {
		t.Fatal("WithSpool(nil) accepted")
	}
}

// BenchmarkSpoolDeliveryMemory: ServeHTTP with the memory spool until a
// waiting worker's handler runs; p50 and p99 as metrics.
func BenchmarkSpoolDeliveryMemory(b *testing.B) {
	sp := NewMemorySpool(time.Minute)
	r := quietReceiver(testAppToken, WithSpool(sp))
	handled := make(chan struct{}, 1)
	r.Handle("ONCRMDEALUPDATE", func(context.Context, *Event) error { handled <- struct{}{}; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.WorkSpool(ctx, sp)
	form := formOf(b, dealUpdateDoc)
	lat := make([]time.Duration, 0, 1024)
	i := 0
	for b.Loop() {
		body := strings.Replace(form, "759", fmt.Sprint(i), 1)
		i++
		start := time.Now()
		if rec := deliver(r, formType, body); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
		<-handled
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// FuzzSpoolDelivery: whatever the body, a delivery the receiver answers 200
// is stored without the receiver's token or the auth block's credentials,
// under SpoolID of the stored bytes, and every stored delivery dispatches.
func FuzzSpoolDelivery(f *testing.F) {
	f.Add(0, formOf(f, dealUpdateDoc))
	f.Add(1, dealUpdateDoc)
	f.Add(0, "event=X&auth[application_token]="+testAppToken+"&auth[refresh_token]=r123&data[k]=r123")
	f.Add(1, `{"event":"X","Auth":{"application_token":"`+testAppToken+`","AccessToken":"a1234"},"token":"t","data":{"x":"a1234"}}`)
	types := []string{formType, "application/json", ""}
	f.Fuzz(func(t *testing.T, ct int, body string) {
		sp := newRecordingSpool(time.Minute)
		r := NewReceiver(testAppToken, WithReceiverLogger(slog.New(slog.DiscardHandler)), WithMaxBodyBytes(4096), WithSpool(sp))
		r.HandleFallback(func(_ context.Context, e *Event) error { return nil })
		rec := deliver(r, types[uint(ct)%uint(len(types))], body)
		switch rec.Code {
		case 200:
		case 400, 401, 413:
			if sp.Len() != 0 {
				t.Fatalf("status %d but stored", rec.Code)
			}
			return
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if len(sp.puts) != 1 {
			t.Fatalf("200 with %d puts", len(sp.puts))
		}
		for id, stored := range sp.puts {
			if id != SpoolID(stored) {
				t.Fatalf("id %s is not SpoolID of %s", id, stored)
			}
			if strings.Contains(string(stored), testAppToken) {
				t.Fatalf("the application token reached the spool: %s", stored)
			}
			var d struct {
				Auth map[string]any `json:"auth"`
			}
			json.Unmarshal(stored, &d)
			for k := range d.Auth {
				if isSecretKey(k) {
					t.Fatalf("auth[%s] reached the spool: %s", k, stored)
				}
			}
			if err := r.Dispatch(context.Background(), id, stored); err != nil {
				t.Fatalf("a stored delivery does not dispatch: %v\n%s", err, stored)
			}
		}
	})
}

// Keys that read one way in the delivery and another once stored with
// sorted keys are refused: in install mode the worker would serve the
// event with another portal's client.
func TestSpoolRefusesAmbiguousIdentity(t *testing.T) {
	sp := newRecordingSpool(time.Minute)
	r, _ := newTestReceiver(WithSpool(sp))
	for _, body := range []string{
		`{"event":"ONCRMDEALADD","auth":{"member_id":"portal-a","MEMBER_ID":"portal-b","application_token":"` + testAppToken + `"}}`,
		`{"event":"ONCRMDEALADD","EVENT":"ONCRMDEALDELETE","auth":{"application_token":"` + testAppToken + `"}}`,
		"event=ONCRMDEALADD&auth[application_token]=" + testAppToken + "&Auth[member_id]=portal-b",
	} {
		ct := formType
		if body[0] == '{' {
			ct = "application/json"
		}
		if rec := deliver(r, ct, body); rec.Code != http.StatusBadRequest {
			t.Errorf("status %d for %s, want 400", rec.Code, body)
		}
	}
	if sp.Len() != 0 {
		t.Fatal("an ambiguous delivery was stored")
	}
}
