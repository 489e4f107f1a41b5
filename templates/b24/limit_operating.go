package b24

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultOperatingLimit is the operating-time budget of one method on a
// Bitrix24 cloud portal: 480 seconds of execution in a sliding ten-minute
// window, per webhook or application. Past it the portal answers 429
// OPERATION_TIME_LIMIT, and newer servers then ban the method for 300 s.
const DefaultOperatingLimit = 480 * time.Second

// WithOperatingLimit sets the operating-time budget the client paces each
// method to (default DefaultOperatingLimit; 0 turns pacing off, and a 429 is
// then only waited out). Every answer reports the method's accumulated
// time.operating and when its oldest minute drops out (operating_reset_at);
// before sending a request the client estimates what its commands will add,
// and a request that would take the method past the limit waits for
// operating_reset_at instead of meeting the 429 or the ban. A list or export
// walk sends fewer pages per batch as the budget runs low. The sums include
// what other processes on the same webhook spend; the client estimates
// their share from how the sums rise past its own commands, and keeps room
// for what they send meanwhile (half the budget left until it knows). With
// WithSharedHolds the wait is a hold every process sharing the store obeys.
func WithOperatingLimit(d time.Duration) Option {
	return func(c *Client) {
		if d < 0 {
			c.optErr = fmt.Errorf("b24: WithOperatingLimit(%v): want >= 0", d)
			return
		}
		c.opLimit = d
	}
}

// Pacing margins. A command is projected at opCostMargin times the longest
// command of the method seen lately (the portal's time varies with load),
// and the budget is used up to opLimitShare of the limit: the portal checks
// the sum before each command, so the last command of a request may start
// only below the limit.
const (
	opCostMargin = 1.5
	opLimitShare = 0.98
	// opDefaultCost is the projected cost of a command of a method not
	// answered yet.
	opDefaultCost = 0.05
)

// opState is what the client knows of one method's operating time.
type opState struct {
	operating float64   // seconds in the window, as last reported
	resetAt   time.Time // when the oldest basket of it drops out
	known     bool      // operating comes from an answer after the last reset
	cost      float64   // seconds a command takes: the longest seen, slowly forgotten
	costSeen  bool      // cost comes from an answer, not opDefaultCost
	pending   float64   // seconds projected for the commands in flight
	inflight  int       // tickets out: pending is exactly 0 when there are none

	// What others (other processes on the same webhook) spend: the portal
	// counts the method per webhook, so the rise of operating between two
	// of this client's answers, less this client's own commands answered
	// in between, is what the rest of the fleet ran. others accumulates
	// that since the client began; samples keep it over the last answers,
	// so admit projects the fleet's rate over a request's expected time.
	lastOp  float64   // operating of the last answer of this window
	lastAt  time.Time // when it came
	others  float64   // seconds others spent, summed over the answers
	own     float64   // seconds this client's commands took, summed likewise
	samples [opSamples]opSample
	nsample int
}

// opSamples is how many answers (a batch's commands are one) the estimate
// of others' rate spans.
const opSamples = 32

// opSampleGap is the least time between two samples, in commands' time.
const opSampleGap = 10

// opOthersFloor is the rate (seconds of operating per second) below which
// others are taken to spend nothing: the portal's rounding and this
// client's own answers arriving out of order leave a little noise.
const opOthersFloor = 0.05

type opSample struct {
	at          time.Time
	others, own float64
}

// rated reports whether the samples span long enough to estimate others'
// rate: two of them, opSampleGap commands' time apart.
func (s *opState) rated() bool {
	return s.nsample >= 2
}

// othersRate is the estimated operating seconds others spend per second
// this client's commands run: a ratio, not a rate in time, so that the
// waits every process keeps for a reset do not dilute it.
func (s *opState) othersRate() float64 {
	if s.nsample < 2 {
		return 0
	}
	n := min(s.nsample, opSamples)
	last := s.samples[(s.nsample-1)%opSamples]
	first := s.samples[(s.nsample-n)%opSamples]
	span := last.own - first.own
	if span <= 0 {
		return 0
	}
	r := (last.others - first.others) / span
	if r < opOthersFloor {
		return 0
	}
	return r
}

// op returns method's state, made on first use. Callers hold g.mu.
func (g *gates) op(method string) *opState {
	if g.ops == nil {
		g.ops = map[string]*opState{}
	}
	s := g.ops[method]
	if s == nil {
		s = &opState{cost: opDefaultCost}
		g.ops[method] = s
	}
	return s
}

// changed wakes the walks waiting for an answer. Callers hold g.mu.
func (g *gates) changed() {
	if g.wake != nil {
		close(g.wake)
		g.wake = nil
	}
}

// observe records one answer's time block for method (a call or a batch
// command). Answers of one window grow; a later operating_reset_at means the
// oldest basket dropped out, so that answer is taken as it is; an answer
// from before the last one seen is ignored.
func (g *gates) observe(method string, t *Timing) {
	if t == nil || t.OperatingResetAt.IsZero() {
		return
	}
	// The portal sends whole seconds, cut down: the basket may drop out up
	// to a second later.
	reset := t.OperatingResetAt
	if reset.Nanosecond() == 0 {
		reset = reset.Add(time.Second)
	}
	method = strings.ToLower(method)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.op(method)
	now := g.now()
	switch {
	case !s.known || reset.After(s.resetAt):
		s.operating, s.resetAt = t.Operating, reset
	case reset.Equal(s.resetAt):
		s.operating = max(s.operating, t.Operating)
		// Same window: the rise past this client's own command is others'.
		s.others += t.Operating - s.lastOp - max(t.Duration, 0)
		s.own += max(t.Duration, 0)
		// Samples at least opSampleGap commands' time apart, so that the
		// estimate spans many requests (a batch's commands come at once).
		gap := time.Duration(opSampleGap * s.cost * float64(time.Second))
		if s.nsample > 0 && now.Sub(s.samples[(s.nsample-1)%opSamples].at) < gap {
			s.samples[(s.nsample-1)%opSamples].others = s.others
			s.samples[(s.nsample-1)%opSamples].own = s.own
		} else {
			s.samples[s.nsample%opSamples] = opSample{at: now, others: s.others, own: s.own}
			s.nsample++
		}
	default:
		return
	}
	s.lastOp, s.lastAt = t.Operating, now
	s.known = true
	g.resetAt[method] = s.resetAt
	if d := t.Duration; d > 0 {
		if !s.costSeen || d >= s.cost {
			s.costSeen = true
			s.cost = d
		} else {
			s.cost -= (s.cost - d) / 64
		}
	}
	g.changed()
}

// opTicket is the projection of one request's commands of one method, given
// back when the request is over.
type opTicket struct {
	g      *gates
	method string
	secs   float64
}

func (t *opTicket) done() {
	if t == nil || t.secs == 0 {
		return
	}
	t.g.mu.Lock()
	s := t.g.op(t.method)
	s.pending = max(s.pending-t.secs, 0)
	if s.inflight--; s.inflight <= 0 {
		s.inflight, s.pending = 0, 0 // no rounding left behind to wait for
	}
	t.secs = 0
	t.g.changed()
	t.g.mu.Unlock()
}

// admit waits until n commands of method fit in its operating-time budget
// and returns how many to send, with their ticket. With shrink (a walk,
// which can ask for fewer pages) it returns as many as fit, at least one;
// without, all n once they fit (or at once when n could never fit). Nothing
// is known of a method before its first answer, and after a reset only a
// probe of one command goes (shrink) until an answer says how much the reset
// freed. A wait past the context's deadline or RetryPolicy.MaxOperationWait
// is an *APIError OPERATION_TIME_LIMIT, returned at once.
func (c *Client) admit(ctx context.Context, method string, n int, shrink bool) (int, *opTicket, error) {
	if c.opLimit <= 0 || n <= 0 {
		return n, nil, nil
	}
	limit := c.opLimit.Seconds() * opLimitShare
	method = strings.ToLower(method)
	g := c.gates
	waited := time.Duration(0)
	for {
		// A hold this client or another process set (a 429 met, a budget
		// spent) comes first: the sums this client knows may be stale.
		if err := c.waitHeld(ctx, method); err != nil {
			return 0, nil, err
		}
		g.mu.Lock()
		s := g.op(method)
		now := g.now()
		if s.known && !now.Before(s.resetAt) {
			s.known = false // a basket dropped out: the sum is unknown until the next answer
		}
		per := s.cost * opCostMargin
		fit := n
		switch {
		case !s.known && s.resetAt.IsZero():
			// Never answered: send; the answer tells.
		case !s.known:
			if s.inflight > 0 {
				fit = 0 // the answer in flight will tell
			} else if shrink {
				fit = 1
			}
		default:
			// Others in the fleet go on spending while this client's
			// commands run, rate seconds for each of its seconds: its
			// commands in flight and each one it sends cost 1+rate times
			// their own time.
			rate := s.othersRate()
			free := limit - s.operating
			if !s.rated() {
				// Others' spending is not known yet (their requests may
				// be in flight already): use half of what is left.
				free /= 2
			}
			room := free - s.pending*(1+rate)
			eff := per * (1 + rate)
			switch {
			case room < 0:
				fit = 0
			case shrink:
				fit = min(n, 1+int(room/eff))
			case float64(n-1)*eff > room && float64(n-1)*per <= limit:
				fit = 0 // it fits once the budget is back
			}
		}
		if fit > 0 {
			t := &opTicket{g: g, method: method, secs: float64(fit) * per}
			s.pending += t.secs
			s.inflight++
			g.mu.Unlock()
			return fit, t, nil
		}
		// Wait: for an answer in flight, else for the reset.
		until := time.Time{}
		if s.inflight == 0 && s.known {
			until = s.resetAt
		}
		if g.wake == nil {
			g.wake = make(chan struct{})
		}
		wake := g.wake
		g.mu.Unlock()
		if !until.IsZero() {
			if dl, ok := ctx.Deadline(); ok && dl.Before(until) || waited+time.Until(until) > c.retry.MaxOperationWait {
				return 0, nil, &APIError{Code: "OPERATION_TIME_LIMIT", Status: http.StatusTooManyRequests, Method: method,
					Description: "the method's operating time is at the limit until " + until.Format(time.RFC3339) + ", after the deadline"}
			}
			c.hold(ctx, method, until)
		}
		if err := c.waitGate(ctx, method, wake); err != nil {
			return 0, nil, err
		}
		if !until.IsZero() {
			waited += time.Until(until)
		}
	}
}

// waitHeld waits out the method's hold, this client's or the shared one,
// failing at once when it ends after the context's deadline.
func (c *Client) waitHeld(ctx context.Context, method string) error {
	if t := c.sharedHold(ctx, method); t.After(time.Now()) {
		c.gates.block(method, t)
	}
	until := c.gates.until(method)
	if until.IsZero() {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
		return &APIError{Code: "OPERATION_TIME_LIMIT", Status: http.StatusTooManyRequests, Method: method,
			Description: "the method is held until " + until.Format(time.RFC3339) + ", after the deadline"}
	}
	if err := sleep(ctx, time.Until(until)); err != nil {
		return fmt.Errorf("b24: %s: waiting for OPERATION_TIME_LIMIT to reset: %w", method, err)
	}
	return nil
}

// waitGate waits for the method's hold (this client's or the shared one),
// or for wake when there is none.
func (c *Client) waitGate(ctx context.Context, method string, wake <-chan struct{}) error {
	if t := c.sharedHold(ctx, method); t.After(time.Now()) {
		c.gates.block(method, t)
	}
	var timer <-chan time.Time
	if until := c.gates.until(method); !until.IsZero() {
		tm := time.NewTimer(time.Until(until))
		defer tm.Stop()
		timer, wake = tm.C, nil
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("b24: %s: waiting for the operating-time budget: %w", method, ctx.Err())
	case <-wake:
	case <-timer:
	}
	return nil
}

// admitCommands admits a batch request's commands, method by method; it
// returns the tickets to give back when the request is over.
func (c *Client) admitCommands(ctx context.Context, methods []string) ([]*opTicket, error) {
	if c.opLimit <= 0 {
		return nil, nil
	}
	count := map[string]int{}
	var order []string
	for _, m := range methods {
		m = strings.ToLower(m)
		if count[m] == 0 {
			order = append(order, m)
		}
		count[m]++
	}
	var tickets []*opTicket
	for _, m := range order {
		_, t, err := c.admit(ctx, m, count[m], false)
		if err != nil {
			for _, t := range tickets {
				t.done()
			}
			return nil, err
		}
		tickets = append(tickets, t)
	}
	return tickets, nil
}
