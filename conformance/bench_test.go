package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/events"
)

// benchDeliver posts body to h b.N times and reports deliveries a second.
func benchDeliver(b *testing.B, h http.Handler, body string) {
	b.Helper()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(body))
		req.Header.Set("Content-Type", formType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTypedEventDecode is a form-encoded ONCRMDEALUPDATE through the
// typed receiver: token check, form decode, typed decode, handler call.
func BenchmarkTypedEventDecode(b *testing.B) {
	r := events.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(new(strings.Builder))))
	var sum int64
	r.OnCrmDealUpdate(func(_ context.Context, e *events.OnCrmDealUpdate) error {
		sum += int64(e.Data.Fields.ID)
		return nil
	})
	benchDeliver(b, r, dealUpdate(testToken, 759))
	if sum == 0 {
		b.Fatal("handler never saw the deal")
	}
}

// BenchmarkRawEventDecode is the same delivery through the untyped core
// receiver, for the cost of the typed decode.
func BenchmarkRawEventDecode(b *testing.B) {
	r := b24.NewReceiver(testToken, b24.WithReceiverLogger(newLogger(new(strings.Builder))))
	r.Handle("ONCRMDEALUPDATE", func(context.Context, *b24.Event) error { return nil })
	benchDeliver(b, r, dealUpdate(testToken, 759))
}
