package b24test

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// WithOperatingLimit makes the portal meter and enforce each method's
// operating time as Bitrix24 does (limits.md), at a scale a test can reach:
// every executed command adds its execution time (WithServerCost's d plus
// the handler's own time) to the method's sum, kept in ten baskets of window/10, each counted for
// window from its first command. Every answer, batch commands included,
// reports the sum as time.operating and when the oldest basket drops out as
// time.operating_reset_at. A command of a method whose sum is over limit is
// refused with 429 OPERATION_TIME_LIMIT without running, until baskets drop
// out, or, with ban > 0, for ban (newer servers ban for 300 s), the baskets
// then cleared. The cloud's numbers are 480 s, 10 minutes and 300 s;
// WithOperatingLimit(400*time.Millisecond, 3*time.Second, 0) with
// WithServerCost(2*time.Millisecond) refuses a method after 200 commands.
func WithOperatingLimit(limit, window, ban time.Duration) PortalOption {
	return func(p *Portal) {
		p.meter = &opMeter{limit: limit.Seconds(), window: window, basket: max(window/10, time.Millisecond), ban: ban,
			baskets: map[string][]opBasket{}, banned: map[string]time.Time{}}
	}
}

// OperatingRefusals is how many commands WithOperatingLimit refused, and how
// many bans it started.
func (p *Portal) OperatingRefusals() (refused, bans int) {
	if p.meter == nil {
		return 0, 0
	}
	p.meter.mu.Lock()
	defer p.meter.mu.Unlock()
	return p.meter.refused, p.meter.bans
}

type opMeter struct {
	mu      sync.Mutex
	limit   float64 // seconds
	window  time.Duration
	basket  time.Duration
	ban     time.Duration
	baskets map[string][]opBasket // by lower-case method, oldest first
	banned  map[string]time.Time
	refused int
	bans    int
}

type opBasket struct {
	slot  int64
	first time.Time
	sum   float64
}

// expire drops the baskets that left the window; the caller holds mu.
func (m *opMeter) expire(method string, now time.Time) []opBasket {
	bs := m.baskets[method]
	i := 0
	for i < len(bs) && !now.Before(bs[i].first.Add(m.window)) {
		i++
	}
	bs = bs[i:]
	m.baskets[method] = bs
	return bs
}

// admit refuses a command of method when its sum is over the limit.
func (m *opMeter) admit(method string, now time.Time) *b24.APIError {
	method = strings.ToLower(method)
	m.mu.Lock()
	defer m.mu.Unlock()
	refuse := &b24.APIError{Status: http.StatusTooManyRequests, Code: "OPERATION_TIME_LIMIT", Description: "Method is blocked due to operation time limit."}
	if until, ok := m.banned[method]; ok {
		if now.Before(until) {
			m.refused++
			return refuse
		}
		delete(m.banned, method)
	}
	sum := 0.0
	for _, b := range m.expire(method, now) {
		sum += b.sum
	}
	if sum <= m.limit {
		return nil
	}
	m.refused++
	if m.ban > 0 {
		m.bans++
		m.banned[method] = now.Add(m.ban)
		delete(m.baskets, method)
	}
	return refuse
}

// add records secs of work on method, finished at now.
func (m *opMeter) add(method string, now time.Time, secs float64) {
	method = strings.ToLower(method)
	m.mu.Lock()
	defer m.mu.Unlock()
	bs := m.expire(method, now)
	slot := now.UnixNano() / int64(m.basket)
	if n := len(bs); n > 0 && bs[n-1].slot == slot {
		bs[n-1].sum += secs
	} else {
		bs = append(bs, opBasket{slot: slot, first: now, sum: secs})
	}
	m.baskets[method] = bs
}

// report returns method's sum and when its oldest basket drops out.
func (m *opMeter) report(method string, now time.Time) (float64, time.Time, bool) {
	method = strings.ToLower(method)
	m.mu.Lock()
	defer m.mu.Unlock()
	bs := m.expire(method, now)
	if len(bs) == 0 {
		return 0, time.Time{}, false
	}
	sum := 0.0
	for _, b := range bs {
		sum += b.sum
	}
	return sum, bs[0].first.Add(m.window), true
}
