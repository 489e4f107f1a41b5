package b24

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WithSharedBucket takes each request's slot from b, the portal's request
// bucket kept where every process calling the portal sees it (an adapter
// such as github.com/b24gen/b24gen/adapters/b24redis.Bucket), instead of
// from the client's own. The bucket is keyed by the portal's host
// ("portal.bitrix24.com"), as Bitrix24 counts it, and sized by the client's
// rate limit (WithRateLimit, WithEnterpriseLimits; the default is the
// cloud's 50 and 2 a second). A QUERY_LIMIT_EXCEEDED answer fills it for
// every sharer.
//
// When b returns an error (the store is down or slow), that request takes
// its slot from the client's own bucket, and the client logs the failure
// once, until the store answers again: the fleet then loses the sharing and
// may meet the portal's 503s, which every call waits out (see RetryPolicy),
// but no call fails because of the store.
func WithSharedBucket(b SharedBucket) Option {
	return func(c *Client) {
		if b == nil {
			c.optErr = errors.New("b24: WithSharedBucket(nil)")
			return
		}
		c.shareState().bucket = b
	}
}

// WithSharedHolds keeps the OPERATION_TIME_LIMIT holds in h, so that a hold
// one process sets, after a 429 or because the method's operating time is
// near the limit, stops every process calling the method with the same
// webhook or application. Holds are keyed "portal|identity|method":
// identity is "webhook <user id>" for a webhook client (never its secret;
// two webhooks of one user share their holds) and "app <client_id>" for an
// App's clients ("app" for NewAppClient's).
//
// When h returns an error the client keeps to its own holds and logs the
// failure once, until the store answers again.
func WithSharedHolds(h SharedHolds) Option {
	return func(c *Client) {
		if h == nil {
			c.optErr = errors.New("b24: WithSharedHolds(nil)")
			return
		}
		c.shareState().holds = h
	}
}

// storeTimeout bounds one request to a shared store: a store that hangs
// costs a call this much before the client falls back to its own state.
const storeTimeout = 2 * time.Second

// sharing is the client's link to the shared stores. App clients of one
// portal share it (ClientForToken), as they share the in-process bucket.
type sharing struct {
	bucket SharedBucket
	holds  SharedHolds

	mu       sync.Mutex
	portal   string // the portal's host, lower case; "" until an app client knows its token
	identity string // "webhook 1", "app <client_id>", "app"

	bucketDown, holdsDown atomic.Bool // a failure was logged and no success since
}

func (c *Client) shareState() *sharing {
	if c.share == nil {
		c.share = &sharing{}
	}
	return c.share
}

// sharedOK checks the shared options once all are applied.
func (c *Client) sharedOK() error {
	if c.share == nil {
		return nil
	}
	if c.share.bucket != nil && c.bucket == nil {
		return errors.New("b24: WithSharedBucket needs the client's rate limit (WithRateLimit), not WithoutRateLimit")
	}
	return nil
}

// portalKey returns the host that keys the portal's shared state, or "" when
// it cannot be known (an application client whose token source fails: the
// call will fail on it anyway).
func (c *Client) portalKey(ctx context.Context) string {
	s := c.share
	s.mu.Lock()
	p := s.portal
	s.mu.Unlock()
	if p != "" || c.app == nil {
		return p
	}
	t, err := c.app.src.Token(ctx)
	if err != nil {
		return ""
	}
	p = endpointHost(t.ClientEndpoint)
	if p == "" {
		p = strings.ToLower(strings.TrimSpace(t.Domain))
	}
	s.mu.Lock()
	if s.portal == "" {
		s.portal = p
	}
	s.mu.Unlock()
	return p
}

// endpointHost is the lower-case host of a client_endpoint, or "".
func endpointHost(endpoint string) string {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// holdKey is the SharedHolds key of method: "portal|identity|method".
func (c *Client) holdKey(ctx context.Context, method string) string {
	p := c.portalKey(ctx)
	if p == "" {
		return ""
	}
	c.share.mu.Lock()
	id := c.share.identity
	c.share.mu.Unlock()
	return p + "|" + id + "|" + strings.ToLower(method)
}

// storeFailed logs a shared store's failure once per outage; the error text
// is cleaned of the webhook secret and the tokens like every other.
func (c *Client) storeFailed(ctx context.Context, down *atomic.Bool, what string, err error) {
	if down.Swap(true) {
		return
	}
	msg := c.red.clean(err.Error())
	if c.app != nil {
		msg = c.app.scrub(errors.New(msg)).Error()
	}
	lg := c.log
	if lg == nil {
		lg = slog.Default()
	}
	lg.LogAttrs(ctx, slog.LevelWarn, "b24: the shared "+what+" failed; using this process's own until it answers again",
		slog.String("error", msg))
}

// storeAnswered notes a shared store's success after a logged failure.
func (c *Client) storeAnswered(ctx context.Context, down *atomic.Bool, what string) {
	if !down.Load() || !down.Swap(false) {
		return
	}
	lg := c.log
	if lg == nil {
		lg = slog.Default()
	}
	lg.LogAttrs(ctx, slog.LevelInfo, "b24: the shared "+what+" answers again")
}

// waitBucket takes a slot for one request: from the shared bucket when there
// is one and it answers, else from the client's own. It fails at once when
// the slot would come after ctx's deadline, giving the slot back.
func (c *Client) waitBucket(ctx context.Context, method string) error {
	if c.share != nil && c.share.bucket != nil {
		if key := c.portalKey(ctx); key != "" {
			err := c.waitShared(ctx, key)
			var se errStore
			if !errors.As(err, &se) {
				if err != nil {
					return fmt.Errorf("b24: %s: waiting for the rate limit: %w", method, err)
				}
				return nil
			}
			c.storeFailed(ctx, &c.share.bucketDown, "bucket", se.err)
		}
	}
	if err := c.bucket.wait(ctx); err != nil {
		return fmt.Errorf("b24: %s: waiting for the rate limit: %w", method, err)
	}
	return nil
}

// errStore marks a shared store's own failure, as opposed to the caller's
// deadline.
type errStore struct{ err error }

func (e errStore) Error() string { return e.err.Error() }
func (e errStore) Unwrap() error { return e.err }

// waitShared reserves a slot in the shared bucket and sleeps until it is
// due. Like the in-process bucket it keeps a little in reserve: a wait that
// is not zero is lengthened by a quarter of a slot, at most 50 ms, so the
// portal, which counts a request when it arrives, never sees one early.
func (c *Client) waitShared(ctx context.Context, key string) error {
	b := c.bucket
	burst, rate := int(b.burst), b.rate
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	d, err := c.share.bucket.Reserve(sctx, key, burst, rate)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errStore{err}
	}
	c.storeAnswered(ctx, &c.share.bucketDown, "bucket")
	if d > 0 {
		d += time.Duration(min(bucketReserve/rate, bucketReserveMax.Seconds()) * float64(time.Second))
	}
	giveBack := func() {
		// The request is not sent: give its slot back to the fleet. The
		// caller's context may be over; the give-back has its own bound.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := c.share.bucket.Cancel(gctx, key, burst, rate); err != nil {
			c.storeFailed(ctx, &c.share.bucketDown, "bucket", err)
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
		giveBack()
		return fmt.Errorf("a slot frees in %v, after the context deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	if err := sleep(ctx, d); err != nil {
		giveBack()
		return err
	}
	return nil
}

// fillBucket marks the portal's bucket full after QUERY_LIMIT_EXCEEDED: the
// client's own and the shared one.
func (c *Client) fillBucket(ctx context.Context) {
	c.bucket.fill()
	if c.share == nil || c.share.bucket == nil {
		return
	}
	key := c.portalKey(ctx)
	if key == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := c.share.bucket.Fill(sctx, key, int(c.bucket.burst), c.bucket.rate); err != nil {
		if ctx.Err() == nil {
			c.storeFailed(ctx, &c.share.bucketDown, "bucket", err)
		}
		return
	}
	c.storeAnswered(ctx, &c.share.bucketDown, "bucket")
}

// sharedHold returns the shared hold on method (zero when none, or when the
// store fails: the client then keeps to its own holds).
func (c *Client) sharedHold(ctx context.Context, method string) time.Time {
	if c.share == nil || c.share.holds == nil {
		return time.Time{}
	}
	key := c.holdKey(ctx, method)
	if key == "" {
		return time.Time{}
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	until, err := c.share.holds.HeldUntil(sctx, key)
	if err != nil {
		if ctx.Err() == nil {
			c.storeFailed(ctx, &c.share.holdsDown, "holds", err)
		}
		return time.Time{}
	}
	c.storeAnswered(ctx, &c.share.holdsDown, "holds")
	return until
}

// hold closes method until t for this client and, when there is a shared
// store, for every process sharing it.
func (c *Client) hold(ctx context.Context, method string, t time.Time) {
	c.gates.block(method, t)
	if c.share == nil || c.share.holds == nil {
		return
	}
	key := c.holdKey(ctx, method)
	if key == "" {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := c.share.holds.Hold(sctx, key, t); err != nil {
		c.storeFailed(ctx, &c.share.holdsDown, "holds", err)
		return
	}
	c.storeAnswered(ctx, &c.share.holdsDown, "holds")
}
