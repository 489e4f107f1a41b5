package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// NewSpool makes fresh spool storage whose deliveries are leased for lease,
// and returns a func that opens a Spool on it, as another process would.
type NewSpool func(t *testing.T, lease time.Duration) (open func() Spool)

// nothingDue checks that no delivery is handed out within d.
func nothingDue(t *testing.T, s Spool, d time.Duration, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	id, _, err := s.Next(ctx)
	if err == nil {
		t.Fatalf("%s: Next handed out %q", why, id)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: Next = %v, want the context's deadline", why, err)
	}
}

func next(t *testing.T, s Spool, within time.Duration) (string, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	id, body, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return id, body
}

// SpoolSemantics runs the spool's contract.
func SpoolSemantics(t *testing.T, newSpool NewSpool) {
	ctx := context.Background()
	t.Run("put then another process takes it, ack ends it", func(t *testing.T) {
		open := newSpool(t, time.Second)
		receiver, worker := open(), open()
		if err := receiver.Put(ctx, "d1", []byte(`{"event":"ONCRMDEALADD"}`)); err != nil {
			t.Fatal(err)
		}
		id, body := next(t, worker, 5*time.Second)
		if id != "d1" || string(body) != `{"event":"ONCRMDEALADD"}` {
			t.Fatalf("Next = %q, %q", id, body)
		}
		if err := worker.Ack(ctx, id); err != nil {
			t.Fatal(err)
		}
		nothingDue(t, worker, 1500*time.Millisecond, "after Ack, past the lease")
	})
	t.Run("dedup by id", func(t *testing.T) {
		open := newSpool(t, time.Second)
		s := open()
		for range 3 {
			if err := s.Put(ctx, "same", []byte("first")); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Put(ctx, "same", []byte("second")); err != nil {
			t.Fatal(err)
		}
		id, body := next(t, s, 5*time.Second)
		if id != "same" || string(body) != "first" {
			t.Fatalf("Next = %q, %q; want the first put", id, body)
		}
		nothingDue(t, s, 300*time.Millisecond, "a second Put of a stored id")
		s.Ack(ctx, id)
		// Handled and still within the dedup window: stored nothing.
		if err := s.Put(ctx, "same", []byte("again")); err != nil {
			t.Fatal(err)
		}
		nothingDue(t, s, 1500*time.Millisecond, "a Put of a handled id")
	})
	t.Run("redelivered after the lease runs out", func(t *testing.T) {
		open := newSpool(t, time.Second)
		dead, alive := open(), open()
		dead.Put(ctx, "r1", []byte("x"))
		start := time.Now()
		id, _ := next(t, dead, 5*time.Second)
		// The first worker dies without Ack; nobody gets it during the lease.
		nothingDue(t, alive, 500*time.Millisecond, "while the lease runs")
		id2, body := next(t, alive, 5*time.Second)
		if id2 != id || string(body) != "x" {
			t.Fatalf("redelivery = %q, %q; want %q", id2, body, id)
		}
		if el := time.Since(start); el < 900*time.Millisecond {
			t.Fatalf("redelivered after %v, before the 1s lease ran out", el)
		}
		if err := alive.Ack(ctx, id2); err != nil {
			t.Fatal(err)
		}
		nothingDue(t, alive, 1500*time.Millisecond, "after the redelivery's Ack")
	})
	t.Run("a waiting Next ends with its context", func(t *testing.T) {
		open := newSpool(t, time.Second)
		s := open()
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, _, err := s.Next(cctx); done <- err }()
		time.Sleep(200 * time.Millisecond) // waiting on an empty spool
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Next = %v, want context.Canceled", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Next still waiting 2s after its context was cancelled: a worker told to stop keeps going")
		}
	})
	t.Run("concurrent workers take each delivery once", func(t *testing.T) {
		open := newSpool(t, 30*time.Second)
		const n = 200
		recv := open()
		for i := range n {
			if err := recv.Put(ctx, fmt.Sprintf("c%03d", i), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			w := open()
			wg.Go(func() {
				for {
					wctx, cancel := context.WithTimeout(ctx, time.Second)
					id, _, err := w.Next(wctx)
					cancel()
					if err != nil {
						if !errors.Is(err, context.DeadlineExceeded) {
							t.Error(err)
						}
						return
					}
					mu.Lock()
					seen[id]++
					mu.Unlock()
					if err := w.Ack(ctx, id); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d of %d deliveries handed out", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s handed out %d times within its lease", id, c)
			}
		}
	})
}
