package b24redis

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestBucketBurstThenRate checks the GCRA arithmetic exactly: with burst 5 at
// 10/s (T = 100ms) the first 5 reservations go at once and the k-th after
// them waits k·T, less the time that has passed since the first.
func TestBucketBurstThenRate(t *testing.T) {
	rdb := client(t)
	b, err := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const burst, rate = 5, 10.0
	const interval = 100 * time.Millisecond
	start := time.Now()
	var first time.Duration // when the first reservation returned
	for i := 1; i <= burst+5; i++ {
		before := time.Since(start)
		wait, err := b.Reserve(ctx, "portal.example", burst, rate)
		if err != nil {
			t.Fatal(err)
		}
		after := time.Since(start)
		if i == 1 {
			first = after
		}
		due := time.Duration(max(0, i-burst)) * interval
		// The server read its clock for the first reservation within
		// [0, first] and for this one within [before, after].
		lo, hi := due-after-time.Microsecond, due-before+first+time.Microsecond
		if due == 0 {
			lo, hi = 0, 0
		}
		if wait < max(lo, 0) || wait > hi {
			t.Errorf("reservation %d waits %v, want %v less the %v..%v elapsed", i, wait, due, before, after)
		}
	}
	// Another portal has its own bucket.
	if wait, err := b.Reserve(ctx, "other.example", burst, rate); err != nil || wait != 0 {
		t.Errorf("other portal's first reservation: wait %v, err %v; want 0, nil", wait, err)
	}
}

// TestBucketDrains checks that the bucket drains at the rate: after a full
// burst, waiting 2·T frees exactly two requests.
func TestBucketDrains(t *testing.T) {
	rdb := client(t)
	b, _ := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	ctx := context.Background()
	const burst, rate = 3, 20.0 // T = 50ms
	for range burst {
		if w, err := b.Reserve(ctx, "p", burst, rate); err != nil || w != 0 {
			t.Fatalf("burst reservation: wait %v, err %v", w, err)
		}
	}
	time.Sleep(110 * time.Millisecond) // a little over 2·T
	for i := range 2 {
		if w, err := b.Reserve(ctx, "p", burst, rate); err != nil || w != 0 {
			t.Fatalf("reservation %d after draining 2 intervals: wait %v, err %v; want 0", i, w, err)
		}
	}
	w, err := b.Reserve(ctx, "p", burst, rate)
	if err != nil || w <= 30*time.Millisecond || w > 50*time.Millisecond {
		t.Fatalf("third reservation after draining 2 intervals: wait %v, err %v; want 40..50ms", w, err)
	}
}

// TestBucketCancel checks that a cancelled reservation is given back: the
// next one waits as if it had never been taken.
func TestBucketCancel(t *testing.T) {
	rdb := client(t)
	b, _ := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	ctx := context.Background()
	const burst, rate = 2, 1.0 // T = 1s: elapsed time is small beside it
	for range burst {
		b.Reserve(ctx, "p", burst, rate)
	}
	w, _ := b.Reserve(ctx, "p", burst, rate)
	if w < 900*time.Millisecond {
		t.Fatalf("third reservation waits %v, want about 1s", w)
	}
	if err := b.Cancel(ctx, "p", burst, rate); err != nil {
		t.Fatal(err)
	}
	w2, _ := b.Reserve(ctx, "p", burst, rate)
	if w2 > w || w-w2 > 100*time.Millisecond {
		t.Fatalf("after Cancel the reservation waits %v, want the cancelled one's %v again", w2, w)
	}
	// Cancelling more than was reserved never makes credit beyond an empty bucket.
	for range 10 {
		b.Cancel(ctx, "p", burst, rate)
	}
	for i := range burst {
		if w, _ := b.Reserve(ctx, "p", burst, rate); w != 0 {
			t.Fatalf("reservation %d on an emptied bucket waits %v", i, w)
		}
	}
	if w, _ := b.Reserve(ctx, "p", burst, rate); w < 900*time.Millisecond {
		t.Fatalf("over-cancelling gave credit: reservation %d waits %v", burst+1, w)
	}
}

// TestBucketFill checks that Fill makes the bucket full from empty: the next
// request waits one interval, and Fill never shortens reservations already
// queued beyond full.
func TestBucketFill(t *testing.T) {
	rdb := client(t)
	b, _ := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	ctx := context.Background()
	const burst, rate = 50, 2.0 // the portal's standard bucket: T = 500ms
	if err := b.Fill(ctx, "p", burst, rate); err != nil {
		t.Fatal(err)
	}
	w, err := b.Reserve(ctx, "p", burst, rate)
	if err != nil || w < 490*time.Millisecond || w > 500*time.Millisecond {
		t.Fatalf("after Fill the next reservation waits %v (err %v), want 500ms", w, err)
	}
	for range 3 {
		b.Reserve(ctx, "p", burst, rate)
	}
	b.Fill(ctx, "p", burst, rate)
	w, _ = b.Reserve(ctx, "p", burst, rate)
	if w < 2400*time.Millisecond {
		t.Fatalf("Fill shortened queued reservations: the 5th after Fill waits %v, want 2.5s", w)
	}
}

// TestBucketConcurrent checks atomicity: 200 reservations from 20 goroutines
// get 200 distinct slots, burst of them free and the rest T apart.
func TestBucketConcurrent(t *testing.T) {
	rdb := client(t)
	b, _ := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	ctx := context.Background()
	const burst, rate, n = 10, 1000.0, 200 // T = 1ms
	start := time.Now()
	var mu sync.Mutex
	var dues []time.Duration
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range n / 20 {
				w, err := b.Reserve(ctx, "p", burst, rate)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				dues = append(dues, time.Since(start)+w)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var last time.Duration
	for _, d := range dues {
		last = max(last, d)
	}
	// The last slot is (n-burst)·T after the first; every slot is distinct,
	// so it cannot come earlier.
	if last < time.Duration(n-burst)*time.Millisecond {
		t.Fatalf("the last of %d concurrent reservations is due at %v, want at least %v", n, last, time.Duration(n-burst)*time.Millisecond)
	}
}

func TestBucketRejectsBadLimits(t *testing.T) {
	rdb := client(t)
	b, _ := NewBucket(rdb, WithPrefix(prefix(t, rdb)))
	ctx := context.Background()
	if _, err := b.Reserve(ctx, "p", 0, 2); err == nil {
		t.Error("burst 0: no error")
	}
	if _, err := b.Reserve(ctx, "p", 50, 0); err == nil {
		t.Error("rate 0: no error")
	}
}
