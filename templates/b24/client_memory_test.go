package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// bigAnswer builds a ~size-byte envelope whose result is one long list.
func bigAnswer(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 1024)
	b.WriteString(`{"result":[`)
	row := `{"ID":"%d","TITLE":"` + string(bytes.Repeat([]byte("x"), 200)) + `"}`
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"ID":"`)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(row[len(`{"ID":"%d`):])
	}
	b.WriteString(`],"total":1,"time":{"start":1724916859.4,"finish":1724916859.5,"duration":0.1,"operating":0,"operating_reset_at":1724917459}}`)
	return b.Bytes()
}

func bigServer(t testing.TB, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// allocatedBy reports the bytes f allocates (TotalAlloc, all goroutines:
// the test server's share is small next to a 100 MB body it writes from
// one slice).
func allocatedBy(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLargeAnswerAllocatesNearBodySize reads a 100 MB answer: the body
// buffer is sized from Content-Length and the result is a sub-slice of it,
// so Call allocates about one body, and CallMethod into a json.RawMessage
// (which copies the result once) about two.
func TestLargeAnswerAllocatesNearBodySize(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 MB")
	}
	body := bigAnswer(100 << 20)
	srv := bigServer(t, body)
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/abcdef123/", b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var resp *b24.Response
	callBytes := allocatedBy(func() {
		resp, err = c.Call(ctx, &b24.Request{Method: "crm.deal.list"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != 1 || resp.Time == nil || resp.Time.OperatingResetAt.IsZero() || !json.Valid(resp.Result) || len(resp.Result) < 100<<20 {
		t.Fatalf("envelope not decoded: total %d, time %+v, result %d bytes", resp.Total, resp.Time, len(resp.Result))
	}
	resp = nil
	var raw json.RawMessage
	methodBytes := allocatedBy(func() {
		err = c.CallMethod(ctx, "crm.deal.list", nil, &raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	ratio := func(n uint64) float64 { return float64(n) / float64(len(body)) }
	t.Logf("body %d bytes: Call allocated %d (%.2fx), CallMethod into json.RawMessage %d (%.2fx)",
		len(body), callBytes, ratio(callBytes), methodBytes, ratio(methodBytes))
	if ratio(callBytes) > 1.5 {
		t.Errorf("Call allocated %.2fx the body size, want at most 1.5x", ratio(callBytes))
	}
	if ratio(methodBytes) > 2.5 {
		t.Errorf("CallMethod allocated %.2fx the body size, want at most 2.5x", ratio(methodBytes))
	}
}

// BenchmarkLargeAnswer reports the bytes allocated per 10 MB answer.
func BenchmarkLargeAnswer(b *testing.B) {
	body := bigAnswer(10 << 20)
	srv := bigServer(b, body)
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/abcdef123/", b24.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Call(context.Background(), &b24.Request{Method: "crm.deal.list"}); err != nil {
			b.Fatal(err)
		}
	}
}
