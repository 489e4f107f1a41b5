package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
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

// chunkedServer answers body without a Content-Length (chunked), so the
// client cannot size its buffer or refuse an oversized answer up front.
func chunkedServer(t testing.TB, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for b := body; len(b) > 0; {
			n := min(len(b), 1<<20)
			w.Write(b[:n])
			w.(http.Flusher).Flush() // no Content-Length: chunked
			b = b[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestChunkedAnswerBounded reads a 100 MB answer sent chunked, and refuses a
// 300 MB one: the first costs at most 2.25x its size, the second no more
// than the limit (256 MiB) plus a little, instead of growing a buffer past
// the limit by doubling before refusing.
func TestChunkedAnswerBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 MB and 300 MB")
	}
	ctx := context.Background()
	body := bigAnswer(100 << 20)
	c, err := b24.NewWebhookClient(chunkedServer(t, body).URL+"/rest/1/abcdef123/", b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	var resp *b24.Response
	got := allocatedBy(func() { resp, err = c.Call(ctx, &b24.Request{Method: "crm.deal.list"}) })
	if err != nil || len(resp.Result) < 100<<20 {
		t.Fatalf("100 MB chunked answer: %v", err)
	}
	ratio := float64(got) / float64(len(body))
	t.Logf("100 MB chunked answer: Call allocated %d bytes (%.2fx)", got, ratio)
	if ratio > 2.25 {
		t.Errorf("a chunked answer allocated %.2fx its size, want at most 2.25x", ratio)
	}
	resp, body = nil, nil

	huge := bigAnswer(300 << 20)
	c2, err := b24.NewWebhookClient(chunkedServer(t, huge).URL+"/rest/1/abcdef123/", b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	got = allocatedBy(func() { _, err = c2.Call(ctx, &b24.Request{Method: "crm.deal.list"}) })
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a 300 MB answer was not refused: %v", err)
	}
	t.Logf("300 MB chunked answer: refused after allocating %d bytes (limit %d)", got, 256<<20)
	if limit := uint64(256<<20) + 64<<20; got > limit {
		t.Errorf("refusing a 300 MB answer allocated %d bytes, want at most %d", got, limit)
	}
}
