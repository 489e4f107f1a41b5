package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// benchDeal is a typical small result.
type benchDeal struct {
	ID          string `json:"ID"`
	TITLE       string `json:"TITLE"`
	OPPORTUNITY string `json:"OPPORTUNITY"`
	STAGEID     string `json:"STAGE_ID"`
}

const benchAnswer = `{"result":{"ID":"42","TITLE":"Deal #42","OPPORTUNITY":"1000000.00","STAGE_ID":"NEW"},` +
	`"time":{"start":1724916859.421475,"finish":1724916859.471588,"duration":0.05011296272277832,"processing":0.010200977325439453,"date_start":"2024-08-29T10:34:19+03:00","date_finish":"2024-08-29T10:34:19+03:00","operating_reset_at":1724917459,"operating":0}}`

// benchServer answers every POST with benchAnswer, like a portal would.
func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
}

// plainCall is the baseline: net/http + encoding/json doing the same POST and
// decoding the same answer, with nothing else.
func plainCall(b *testing.B, hc *http.Client, url string, params any) {
	body, err := json.Marshal(params)
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var env struct {
		Result benchDeal       `json:"result"`
		Time   json.RawMessage `json:"time"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if env.Result.ID != "42" {
		b.Fatal(env.Result)
	}
}

// clientCall is the same call through Client.CallMethod: bucket (with room
// to spare), method gate, envelope with timing, typed decode.
func clientCall(b *testing.B, c *b24.Client, params any) {
	var d benchDeal
	if err := c.CallMethod(context.Background(), "crm.deal.get", params, &d, b24.WithIdempotent(true)); err != nil {
		b.Fatal(err)
	}
	if d.ID != "42" {
		b.Fatal(d)
	}
}

func BenchmarkCallPlainHTTP(b *testing.B) {
	srv := benchServer(b)
	hc := benchHTTPClient()
	params := map[string]any{"id": 42}
	b.ReportAllocs()
	for b.Loop() {
		plainCall(b, hc, srv.URL+"/rest/1/abcdef123/crm.deal.get", params)
	}
}

func BenchmarkCallClient(b *testing.B) {
	srv := benchServer(b)
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/abcdef123/", b24.WithHTTPClient(benchHTTPClient()), b24.WithRateLimit(1<<30, 1e9))
	if err != nil {
		b.Fatal(err)
	}
	params := map[string]any{"id": 42}
	b.ReportAllocs()
	for b.Loop() {
		clientCall(b, c, params)
	}
}

// BenchmarkCallOverhead makes both calls in every iteration, so a
// busy machine slows both alike, and reports the client's time over the
// baseline's as "ratio" (the target is at most 1.15).
func BenchmarkCallOverhead(b *testing.B) {
	srv := benchServer(b)
	hc := benchHTTPClient()
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/abcdef123/", b24.WithHTTPClient(benchHTTPClient()), b24.WithRateLimit(1<<30, 1e9))
	if err != nil {
		b.Fatal(err)
	}
	url := srv.URL + "/rest/1/abcdef123/crm.deal.get"
	params := map[string]any{"id": 42}
	var plain, client time.Duration
	n := 0
	for b.Loop() {
		// Swap the order every iteration: whichever goes first pays for
		// waking the server up.
		if n%2 == 0 {
			t0 := time.Now()
			plainCall(b, hc, url, params)
			t1 := time.Now()
			clientCall(b, c, params)
			plain, client = plain+t1.Sub(t0), client+time.Since(t1)
		} else {
			t0 := time.Now()
			clientCall(b, c, params)
			t1 := time.Now()
			plainCall(b, hc, url, params)
			client, plain = client+t1.Sub(t0), plain+time.Since(t1)
		}
		n++
	}
	b.ReportMetric(float64(plain.Nanoseconds())/float64(n), "plain-ns/call")
	b.ReportMetric(float64(client.Nanoseconds())/float64(n), "client-ns/call")
	b.ReportMetric(float64(client)/float64(plain), "ratio")
}

// The benchmarks below measure the way a portal meters: against b24test
// with the cloud's bucket (burst 50, 2 requests a second) and 2 ms of server
// work per executed command, the flags ../shared/tools/portal is measured
// with. They report wall time per read (ns/op), the HTTP requests and 503s
// per read, and fail if a row is missing or an error reached the caller.

// BenchmarkExport20k: Export of 20,000 rows. The sequential floor of one
// chain of batches is 400 commands × 2 ms = 0.8 s; id segments read at once
// go under it.
func BenchmarkExport20k(b *testing.B) { benchMetered(b, 20000, b24.Export[row]) }

// BenchmarkExport100k: Export of 100,000 rows (41 requests fit the burst).
func BenchmarkExport100k(b *testing.B) { benchMetered(b, 100000, b24.Export[row]) }

// BenchmarkList5k: List (start/next) of 5,000 rows: one page, then the 99
// remaining offsets in 2 batch requests instead of 99 page requests, which
// the bucket would stretch to 25 s.
func BenchmarkList5k(b *testing.B) { benchMetered(b, 5000, b24.List[row]) }

// benchMetered reads rows through read (List or Export) from a metered
// portal, with a fresh portal and client (an empty bucket) per iteration.
func benchMetered(b *testing.B, rows int,
	read func(context.Context, b24.Caller, b24.Request, b24.ListSpec, ...b24.CallOption) iter.Seq2[row, error]) {
	data := makeRows(rows)
	var requests, limited int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := b24test.NewPortal(b, b24test.WithStandardLimits(), b24test.WithServerCost(2*time.Millisecond))
		p.ServeList("crm.deal.list", data, b24test.ListOptions{})
		c, err := b24.NewWebhookClient(p.WebhookURL())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n := 0
		var last b24.Int
		for r, err := range read(context.Background(), c, b24.Request{Method: "crm.deal.list", Params: map[string]any{"select": []string{"ID", "TITLE"}}}, b24.ListSpec{}) {
			if err != nil {
				b.Fatalf("reading failed after %d rows: %v", n, err)
			}
			if r.ID <= last {
				b.Fatalf("row %d: id %d after %d", n, r.ID, last)
			}
			last = r.ID
			n++
		}
		b.StopTimer()
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
		requests += p.Requests("crm.deal.list") + p.Requests("batch")
		limited += p.Limited()
		p.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(limited)/float64(b.N), "503s/op")
}
