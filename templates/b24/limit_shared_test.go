package b24_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// memShared is an in-memory SharedBucket and SharedHolds that records its
// calls and can be made to fail, as a store that is down does.
type memShared struct {
	mu       sync.Mutex
	calls    []string // "reserve key", "fill key", "cancel key", "hold key", "held key"
	holds    map[string]time.Time
	down     error
	reserved int
}

var (
	_ b24.SharedBucket = (*memShared)(nil)
	_ b24.SharedHolds  = (*memShared)(nil)
)

func newMemShared() *memShared { return &memShared{holds: map[string]time.Time{}} }

func (m *memShared) note(op, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, op+" "+key)
	return m.down
}

func (m *memShared) setDown(err error) {
	m.mu.Lock()
	m.down = err
	m.mu.Unlock()
}

func (m *memShared) seen(op string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, c := range m.calls {
		if k, ok := strings.CutPrefix(c, op+" "); ok {
			out = append(out, k)
		}
	}
	return out
}

func (m *memShared) Reserve(_ context.Context, key string, burst int, perSecond float64) (time.Duration, error) {
	if err := m.note("reserve", key); err != nil {
		return 0, err
	}
	m.mu.Lock()
	m.reserved++
	m.mu.Unlock()
	return 0, nil
}

func (m *memShared) Cancel(_ context.Context, key string, burst int, perSecond float64) error {
	return m.note("cancel", key)
}

func (m *memShared) Fill(_ context.Context, key string, burst int, perSecond float64) error {
	return m.note("fill", key)
}

func (m *memShared) Hold(_ context.Context, key string, until time.Time) error {
	if err := m.note("hold", key); err != nil {
		return err
	}
	m.mu.Lock()
	if until.After(m.holds[key]) {
		m.holds[key] = until
	}
	m.mu.Unlock()
	return nil
}

func (m *memShared) HeldUntil(_ context.Context, key string) (time.Time, error) {
	if err := m.note("held", key); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.holds[key]; t.After(time.Now()) {
		return t, nil
	}
	return time.Time{}, nil
}

func portalHost(t *testing.T, p *b24test.Portal) string {
	u, err := url.Parse(p.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestSharedBucketKeyedByPortal: every request of a webhook client takes its
// slot from the shared bucket under the portal's host, and a refusal fills
// it for the fleet.
func TestSharedBucketKeyedByPortal(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("user.current", map[string]any{"ID": "1"})
	m := newMemShared()
	c, logs := newClient(t, p, b24.WithRateLimit(50, 2), b24.WithSharedBucket(m))
	p.Fail("user.current", b24test.QueryLimitStorm(1))
	for range 3 {
		if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	host := portalHost(t, p)
	res := m.seen("reserve")
	if len(res) != 4 { // 3 calls, one of them refused once
		t.Errorf("%d reservations, want 4: %v", len(res), res)
	}
	for _, k := range res {
		if k != host {
			t.Errorf("reserved under %q, want the portal's host %q", k, host)
		}
	}
	if f := m.seen("fill"); len(f) != 1 || f[0] != host {
		t.Errorf("fills %v, want one under %q after the refusal", f, host)
	}
	assertNoSecret(t, "calls", strings.Join(m.calls, "\n")+logs.String())

	if _, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithSharedBucket(m), b24.WithoutRateLimit()); err == nil {
		t.Error("WithSharedBucket with WithoutRateLimit was accepted")
	}
}

// TestSharedBucketDownFallsBack: a store that fails slows nothing and fails
// no call; the client takes slots from its own bucket, says so once per
// outage without the secret, and uses the store again when it answers.
func TestSharedBucketDownFallsBack(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("user.current", map[string]any{"ID": "1"})
	m := newMemShared()
	// The store's error quotes the secret, as a badly written adapter's
	// might: the log must not.
	m.setDown(errors.New("dial tcp 10.0.0.9:6379: connection refused (key " + b24test.Secret + ")"))
	c, logs := newClient(t, p, b24.WithRateLimit(3, 1000), b24.WithSharedBucket(m))
	for range 5 {
		if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
			t.Fatalf("a call failed because the store is down: %v", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "the shared bucket failed"); n != 1 {
		t.Errorf("%d failure lines for one outage, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "connection refused") {
		t.Errorf("the failure line does not say why:\n%s", out)
	}
	m.setDown(nil)
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if m.reserved != 1 || !strings.Contains(logs.String(), "the shared bucket answers again") {
		t.Errorf("after the store came back: %d reservations, log:\n%s", m.reserved, logs.String())
	}
}

// TestSharedHoldsStopOtherClient: a 429 one client meets holds the method,
// under "portal|webhook <user>|method", for another client (another
// process) sharing the holds; other methods are not held.
func TestSharedHoldsStopOtherClient(t *testing.T) {
	p := b24test.NewPortal(t)
	p.Answer("crm.deal.get", map[string]any{"ID": "1"})
	p.Answer("user.current", map[string]any{"ID": "1"})
	m := newMemShared()
	a, _ := newClient(t, p, b24.WithSharedHolds(m))
	var (
		mu     sync.Mutex
		starts []time.Time
	)
	b, _ := newClient(t, p, b24.WithSharedHolds(m), b24.WithAttemptHook(func(at b24.Attempt) {
		mu.Lock()
		starts = append(starts, at.Start)
		mu.Unlock()
	}))
	reset := time.Now().Add(400 * time.Millisecond)
	p.Fail("crm.deal.get", b24test.OperationLimit(reset))
	if err := a.CallMethod(context.Background(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	key := portalHost(t, p) + "|webhook 1|crm.deal.get"
	if h := m.seen("hold"); len(h) != 1 || h[0] != key {
		t.Fatalf("holds %v, want one under %q", h, key)
	}
	if err := b.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.CallMethod(context.Background(), "crm.deal.get", nil, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 2 || !starts[1].After(reset.Add(-10*time.Millisecond)) {
		t.Errorf("the other client sent crm.deal.get at %v, before the hold ended at %v", starts, reset)
	}
	assertNoSecret(t, "hold keys", strings.Join(m.calls, "\n"))
}

// TestSharedBucketAppKeyedByPortal: an application's client keys the
// shared bucket and holds by its portal's host too, not by a name common to
// every portal.
func TestSharedBucketAppKeyedByPortal(t *testing.T) {
	m := newMemShared()
	f := newAppFixture(t, b24.WithClientOptions(b24.WithRateLimit(50, 2), b24.WithSharedBucket(m), b24.WithSharedHolds(m)))
	c := f.client(t)
	reset := time.Now().Add(50 * time.Millisecond)
	f.portal.Fail("user.current", b24test.OperationLimit(reset))
	if err := c.CallMethod(context.Background(), "user.current", nil, nil); err != nil {
		t.Fatal(err)
	}
	host := portalHost(t, f.portal)
	res := m.seen("reserve")
	if len(res) == 0 {
		t.Fatal("the application client did not use the shared bucket")
	}
	for _, k := range res {
		if k != host {
			t.Errorf("reserved under %q, want the portal's host %q", k, host)
		}
	}
	if h := m.seen("hold"); len(h) != 1 || h[0] != host+"|app "+testClientID+"|user.current" {
		t.Errorf("holds %v, want one under %q", h, host+"|app "+testClientID+"|user.current")
	}
}
