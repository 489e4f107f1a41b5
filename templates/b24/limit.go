package b24

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Default request-rate limits of a Bitrix24 cloud portal: the counter may
// reach 50 and drains by 2 a second; on Enterprise plans 250 and 5.
const (
	DefaultBurst          = 50
	DefaultPerSecond      = 2.0
	EnterpriseBurst       = 250
	EnterprisePerSecond   = 5.0
	defaultOperationWait  = 10 * time.Minute
	defaultOperationDelay = 10 * time.Second
)

// bucket is the client side of the portal's leaky bucket: each request adds
// one to a counter that drains at rate per second; a request that would take
// the counter past burst waits instead of being refused by the portal.
// Waiters reserve their slot before sleeping, so concurrent callers queue in
// order and the bucket is shared fairly by all calls of a client.
type bucket struct {
	mu    sync.Mutex
	burst float64
	rate  float64 // per second
	level float64
	last  time.Time
}

// bucketReserve is the fraction of a slot the client leaves unused, and
// bucketReserveMax caps it in time.
const (
	bucketReserve    = 0.25
	bucketReserveMax = 50 * time.Millisecond
)

func newBucket(burst int, perSecond float64) *bucket {
	return &bucket{burst: float64(burst), rate: perSecond}
}

// leak drains the counter up to now. Callers hold mu.
func (b *bucket) leak(now time.Time) {
	if !b.last.IsZero() {
		b.level -= now.Sub(b.last).Seconds() * b.rate
		if b.level < 0 {
			b.level = 0
		}
	}
	b.last = now
}

// wait takes one slot, sleeping until the counter has room; it gives the slot
// back and returns an error at once if the slot would come after ctx's
// deadline, or when ctx ends first.
//
// The bucket keeps a little in reserve (when burst allows): the portal
// counts a request when it arrives, a little later and with network jitter,
// and refuses on the slightest excess. The reserve, a quarter of a slot but
// at most 50 ms worth, absorbs that much jitter; it costs nothing at the
// steady rate, only that much time once, when the burst runs out.
func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	now := time.Now()
	b.leak(now)
	b.level++
	reserve := min(bucketReserve, bucketReserveMax.Seconds()*b.rate, b.burst-1)
	over := b.level - (b.burst - reserve)
	b.mu.Unlock()
	if over <= 0 {
		return nil
	}
	d := time.Duration(over / b.rate * float64(time.Second))
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
		b.giveBack()
		return fmt.Errorf("a slot frees in %v, after the context deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	if err := sleep(ctx, d); err != nil {
		b.giveBack()
		return err
	}
	return nil
}

// giveBack returns a slot taken by a wait that was abandoned.
func (b *bucket) giveBack() {
	b.mu.Lock()
	b.leak(time.Now())
	b.level--
	if b.level < 0 {
		b.level = 0
	}
	b.mu.Unlock()
}

// fill marks the counter full: the portal said QUERY_LIMIT_EXCEEDED, so its
// counter is at the top whatever ours thought.
func (b *bucket) fill() {
	b.mu.Lock()
	b.leak(time.Now())
	if b.level < b.burst {
		b.level = b.burst
	}
	b.mu.Unlock()
}

// interval is the time one slot takes to drain.
func (b *bucket) interval() time.Duration {
	return time.Duration(float64(time.Second) / b.rate)
}

// gates holds the methods blocked by OPERATION_TIME_LIMIT, and the last
// operating_reset_at seen for each method, which the docs say to use for the
// first retry when the 429 itself carries none. Method names are keyed in
// lower case: the portal treats them case-insensitively.
type gates struct {
	mu      sync.Mutex
	blocked map[string]time.Time // method -> until
	resetAt map[string]time.Time // method -> last operating_reset_at from a success
	// now is the clock a hold is measured against: time.Now, or a test's
	// fixed clock, so whether a method is still held never depends on how
	// fast the test machine is.
	now func() time.Time
	// ops is what the answers said of each method's operating time
	// (limit_operating.go); wake is closed when it changes.
	ops  map[string]*opState
	wake chan struct{}
}

func newGates() *gates {
	return &gates{blocked: map[string]time.Time{}, resetAt: map[string]time.Time{}, now: time.Now}
}

// until returns when method is open again (zero when it is open now).
func (g *gates) until(method string) time.Time {
	method = strings.ToLower(method)
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.blocked[method]
	if !ok {
		return time.Time{}
	}
	if !g.now().Before(t) {
		delete(g.blocked, method)
		return time.Time{}
	}
	return t
}

// block closes method until t (keeping a later block if there is one).
func (g *gates) block(method string, t time.Time) {
	method = strings.ToLower(method)
	g.mu.Lock()
	if t.After(g.blocked[method]) {
		g.blocked[method] = t
	}
	g.mu.Unlock()
}

// lastReset returns the last reset time seen for method if still ahead.
func (g *gates) lastReset(method string, now time.Time) (time.Time, bool) {
	method = strings.ToLower(method)
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.resetAt[method]
	if !ok || !t.After(now) {
		return time.Time{}, false
	}
	return t, true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
