package b24

import "time"

// HeldUntil reports until when c holds method after OPERATION_TIME_LIMIT
// (zero when the method is open), so tests can wait for the hold itself
// instead of sleeping and hoping it is in place.
func HeldUntil(c *Client, method string) time.Time { return c.gates.until(method) }

// SetHoldClock replaces the clock c measures its holds against.
func SetHoldClock(c *Client, now func() time.Time) {
	c.gates.mu.Lock()
	c.gates.now = now
	c.gates.mu.Unlock()
}
