// Package receivertest runs the b24 receiver (templates/b24, the runtime
// every generated tree copies) over an adapter's spool: what a user wires
// with b24.WithSpool and Receiver.WorkSpool. Only the adapters' tests import
// it; the adapters themselves import no b24.
package receivertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// Tokens of the test deliveries; none may reach the spool.
const (
	AppToken     = "51856fefc120afa4b628cc82d3935cce"
	AccessToken  = "s6p6eclrvim6da22ft9ch94ekreb52lv"
	RefreshToken = "4s386p3q0tr8dy89xvmt96234v3dljg8"
	MemberID     = "a223c6b3710f85df22e9377d6c4f7553"
)

// Form is one ONCRMDEALUPDATE delivery for deal id, form-encoded with PHP
// bracket keys as the portal sends it.
func Form(id int) string {
	v := url.Values{}
	v.Set("event", "ONCRMDEALUPDATE")
	v.Set("event_handler_id", "201")
	v.Set("data[FIELDS][ID]", fmt.Sprint(id))
	v.Set("ts", "1736405807")
	v.Set("auth[access_token]", AccessToken)
	v.Set("auth[expires_in]", "3600")
	v.Set("auth[scope]", "crm")
	v.Set("auth[domain]", "some-domain.bitrix24.com")
	v.Set("auth[server_endpoint]", "https://oauth.bitrix.info/rest/")
	v.Set("auth[status]", "F")
	v.Set("auth[client_endpoint]", "https://some-domain.bitrix24.com/rest/")
	v.Set("auth[member_id]", MemberID)
	v.Set("auth[user_id]", "1")
	v.Set("auth[refresh_token]", RefreshToken)
	v.Set("auth[application_token]", AppToken)
	return v.Encode()
}

// DealUpdate is the part of the generated events.OnCrmDealUpdate the tests read.
type DealUpdate struct {
	Event string `json:"event"`
	Data  struct {
		Fields struct {
			ID b24.Int `json:"ID"`
		} `json:"FIELDS"`
	} `json:"data"`
	Auth b24.EventAuth `json:"auth"`
}

// Deliver posts body to h and returns the status.
func Deliver(h http.Handler, body string) int {
	req := httptest.NewRequest(http.MethodPost, "/b24/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Quiet is a logger that discards, for receivers whose logs are not read.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// OpenSpool opens the adapter's spool on fresh storage with the given
// lease; each call of the returned func is another process's handle on the
// same storage.
type OpenSpool func(t *testing.T, lease time.Duration) (open func() b24.Spool)

func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, tok := range []string{AppToken, AccessToken, RefreshToken} {
		if strings.Contains(s, tok) {
			t.Fatalf("%s holds a token: %s", what, s)
		}
	}
}

// handled counts handler calls per DeliveryID and deal id.
type handled struct {
	mu    sync.Mutex
	byID  map[string]int
	deals map[int64]int
}

func newHandled() *handled { return &handled{byID: map[string]int{}, deals: map[int64]int{}} }

func (h *handled) register(t *testing.T, r *b24.Receiver) {
	b24.HandleTyped(r, "ONCRMDEALUPDATE", func(ctx context.Context, e *DealUpdate) error {
		if e.Auth.AccessToken != "" || e.Auth.RefreshToken != "" || e.Auth.ApplicationToken != "" {
			t.Error("a spooled delivery handed a token to its handler")
		}
		if e.Auth.MemberID != MemberID {
			t.Errorf("handler got member_id %q", e.Auth.MemberID)
		}
		h.mu.Lock()
		h.byID[b24.DeliveryID(ctx)]++
		h.deals[int64(e.Data.Fields.ID)]++
		h.mu.Unlock()
		return nil
	})
}

func (h *handled) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.byID {
		n += c
	}
	return n
}

// work runs r.WorkSpool on s until want handler calls were made (or 20 s),
// then a quiet period, and stops it.
func work(t *testing.T, r *b24.Receiver, s b24.Spool, h *handled, want int, quiet time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.WorkSpool(ctx, s) }()
	deadline := time.Now().Add(20 * time.Second)
	for h.total() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(quiet)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("WorkSpool = %v", err)
	}
}

// Run checks the receiver over the spool: 200 after the put, what is
// stored, a worker in another process, redelivery after a worker died,
// deduplication by delivery, and 503 when the spool is down (down opens a
// spool whose server is unreachable).
func Run(t *testing.T, openSpool OpenSpool, down func(t *testing.T) b24.Spool) {
	ctx := context.Background()
	t.Run("put stripped, a worker elsewhere handles it", func(t *testing.T) {
		open := openSpool(t, 2*time.Second)
		recv := b24.NewReceiver(AppToken, b24.WithSpool(open()), b24.WithReceiverLogger(Quiet()))
		if code := Deliver(recv, Form(759)); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		// Another process's handle: takes it, checks the stored bytes, dies.
		dead := open()
		nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		id, body, err := dead.Next(nctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "the stored delivery", string(body))
		if id != b24.SpoolID(body) || !strings.Contains(string(body), MemberID) {
			t.Fatalf("stored %q under %q", body, id)
		}
		// The next worker gets it once the dead one's lease ran out.
		worker := b24.NewReceiver(AppToken, b24.WithReceiverLogger(Quiet()))
		h := newHandled()
		h.register(t, worker)
		start := time.Now()
		work(t, worker, open(), h, 1, 2500*time.Millisecond) // quiet past a lease: no second hand-out
		if el := time.Since(start); el < 1800*time.Millisecond {
			t.Errorf("handled within %v, before the dead worker's 2s lease ran out", el)
		}
		if h.byID[id] != 1 || h.deals[759] != 1 || len(h.byID) != 1 {
			t.Fatalf("handled %v (deals %v), want %s once", h.byID, h.deals, id)
		}
	})
	t.Run("dedup by delivery", func(t *testing.T) {
		open := openSpool(t, 30*time.Second)
		recv := b24.NewReceiver(AppToken, b24.WithSpool(open()), b24.WithReceiverLogger(Quiet()))
		for _, deal := range []int{1, 2, 1, 3, 2, 1} {
			if code := Deliver(recv, Form(deal)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
		worker := b24.NewReceiver(AppToken, b24.WithReceiverLogger(Quiet()))
		h := newHandled()
		h.register(t, worker)
		work(t, worker, open(), h, 3, 500*time.Millisecond)
		// Handled and acked, then received again: still stored once.
		Deliver(recv, Form(1))
		work(t, worker, open(), h, 3, 500*time.Millisecond)
		if len(h.deals) != 3 || h.deals[1] != 1 || h.deals[2] != 1 || h.deals[3] != 1 {
			t.Fatalf("deals handled %v, want 1, 2, 3 once each", h.deals)
		}
	})
	t.Run("several workers take each delivery once", func(t *testing.T) {
		open := openSpool(t, 30*time.Second)
		recv := b24.NewReceiver(AppToken, b24.WithSpool(open()), b24.WithReceiverLogger(Quiet()))
		const n = 200
		for i := range n {
			if code := Deliver(recv, Form(1000+i)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
		h := newHandled()
		var wg sync.WaitGroup
		for range 4 {
			worker := b24.NewReceiver(AppToken, b24.WithReceiverLogger(Quiet()))
			h.register(t, worker)
			s := open()
			wg.Go(func() { work(t, worker, s, h, n, 300*time.Millisecond) })
		}
		wg.Wait()
		if len(h.deals) != n || h.total() != n {
			t.Fatalf("%d deals, %d calls; want %d each", len(h.deals), h.total(), n)
		}
	})
	t.Run("spool down: 503", func(t *testing.T) {
		var logs strings.Builder
		var mu sync.Mutex
		recv := b24.NewReceiver(AppToken, b24.WithSpool(down(t)), b24.WithHandlerTimeout(2*time.Second),
			b24.WithReceiverLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
		if code := Deliver(recv, Form(5)); code != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", code)
		}
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(logs.String(), "spool put failed") {
			t.Fatalf("log: %s", logs.String())
		}
		noSecrets(t, "the log", logs.String())
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// BenchDelivery measures one delivery from the start of ServeHTTP (with the
// spool) to its handler running in a worker waiting on the spool (another
// handle on it), with p50 and p99 as custom metrics.
func BenchDelivery(b *testing.B, recvSpool, workSpool b24.Spool) {
	recv := b24.NewReceiver(AppToken, b24.WithSpool(recvSpool), b24.WithReceiverLogger(Quiet()))
	worker := b24.NewReceiver(AppToken, b24.WithReceiverLogger(Quiet()))
	got := make(chan int64, 1)
	b24.HandleTyped(worker, "ONCRMDEALUPDATE", func(ctx context.Context, e *DealUpdate) error {
		got <- int64(e.Data.Fields.ID)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go worker.WorkSpool(ctx, workSpool)
	lat := make([]time.Duration, 0, 1024)
	base := int(time.Now().UnixNano() % 1e9) // ids unique across runs sharing a dedup window
	i := 0
	for b.Loop() {
		id := base + i
		i++
		body := Form(id)
		start := time.Now()
		if code := Deliver(recv, body); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
		if g := <-got; g != int64(id) {
			b.Fatalf("handled deal %d, want %d", g, id)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
