package b24_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// The client's bucket keeps a burst of calls under the portal's limit: the
// portal enforces the same bucket and never has to refuse.
func TestClientBucketMatchesPortal(t *testing.T) {
	const burst, rate, calls = 5, 40.0, 15
	p := b24test.NewPortal(t, b24test.WithRateLimit(burst, rate))
	p.Answer("crm.deal.get", 1)
	// The client keeps a little under the portal's bucket (one request of
	// burst, a tenth of rate): requests it releases on time can still reach
	// the portal bunched when the machine is loaded, and equal buckets would
	// then measure the scheduler, not the client.
	c, _ := newClient(t, p, b24.WithRateLimit(burst-1, rate*0.9))
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.CallMethod(context.Background(), "crm.deal.get", nil, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 11 calls beyond the client's burst drain at 36/s: at least 300 ms.
	if el := time.Since(start); el < 240*time.Millisecond {
		t.Errorf("%d calls took %v: the bucket let them through too fast", calls, el)
	}
	// Without the client's bucket the portal refuses about 10 of them (see
	// the next test); with it, none, bar a rare one on scheduling jitter.
	if n := p.Limited(); n > 2 {
		t.Errorf("portal refused %d calls; the client bucket should prevent that", n)
	}
}

// Without a client bucket the portal refuses; the client retries every
// refused call (the requests did not run) until all succeed.
func TestPortalBucketRefusalsAreRetried(t *testing.T) {
	p := b24test.NewPortal(t, b24test.WithRateLimit(3, 200))
	p.Answer("crm.deal.add", 1)
	c, _ := newClient(t, p, b24.WithRetry(b24.RetryPolicy{MaxRetries: 20, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond}))
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for range 15 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.CallMethod(context.Background(), "crm.deal.add", nil, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p.Limited() == 0 {
		t.Error("the portal never refused: the test proves nothing")
	}
	if n := p.Ran("crm.deal.add"); n != 15 {
		t.Errorf("writes ran %d times, want 15", n)
	}
}

// A bucket wait that would outlast the context fails at once.
func TestBucketWaitRespectsDeadline(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("x.y", 1)
	c, _ := newClient(t, p, b24.WithRateLimit(1, 1))
	if err := c.CallMethod(context.Background(), "x.y", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.CallMethod(ctx, "x.y", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 40*time.Millisecond {
		t.Errorf("waited %v for a slot that comes after the deadline", time.Since(start))
	}
	if n := p.Requests("x.y"); n != 1 {
		t.Errorf("requests = %d", n)
	}
	// The slot given back: after a second the bucket has room again.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if err := c.CallMethod(ctx2, "x.y", nil, nil); err != nil {
		t.Fatal(err)
	}
}
