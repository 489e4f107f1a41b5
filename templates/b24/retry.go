package b24

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how long the client retries a call that did
// not succeed. Which failures are retried is not configurable, because it
// follows from whether the request ran:
//
//   - QUERY_LIMIT_EXCEEDED (503): the portal refused before running the
//     method, so every call is retried, with exponential backoff and jitter.
//   - OPERATION_TIME_LIMIT (429): refused before running; the method is held
//     until operating_reset_at (for every caller of this client), then retried
//     if that moment is within MaxOperationWait and the context deadline.
//   - Ambiguous failures (network error, timeout, unreadable or non-JSON body,
//     HTTP 5xx without an error code, INTERNAL_SERVER_ERROR): the request may
//     have run, so only calls marked Idempotent are retried.
//   - Anything else (the portal's answer to a call that ran) is returned.
//
// No retry sleeps past the context's deadline or the call budget
// (WithCallTimeout, DefaultCallTimeout): when the next attempt could not
// start before either, the last error is returned at once. A call given up
// after more than one attempt returns a *CallError that counts them.
//
// Redirects are never followed (see WithHTTPClient), and a host name that
// does not resolve (DNS "no such host") is a mistyped webhook URL: neither is
// retried.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt; 0 disables retrying
	BaseDelay  time.Duration // first backoff step for ambiguous failures (and for 503 without a client bucket)
	MaxDelay   time.Duration // cap of one backoff step
	// MaxOperationWait bounds how long a call waits for a method held by
	// OPERATION_TIME_LIMIT; a longer hold returns the error to the caller.
	// The call budget bounds the wait too: raise WithCallTimeout to let a
	// call sit out holds longer than two minutes.
	MaxOperationWait time.Duration
	// OperationDelay is the first hold after a 429 when neither it nor an
	// earlier answer of the method gave operating_reset_at (doubling after).
	OperationDelay time.Duration
}

// DefaultRetryPolicy is what a client uses unless told otherwise.
var DefaultRetryPolicy = RetryPolicy{
	MaxRetries:       5,
	BaseDelay:        500 * time.Millisecond,
	MaxDelay:         30 * time.Second,
	MaxOperationWait: defaultOperationWait,
	OperationDelay:   defaultOperationDelay,
}

// backoff returns the sleep before retry n (1-based): base·2^(n-1) capped at
// max, with "equal jitter" (half fixed, half random) so that clients that hit
// the limit together do not come back together.
func backoff(base, max time.Duration, n int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// failure classifies an attempt's error for the retry loop.
type failure int

const (
	failFinal     failure = iota // the portal answered: return it
	failNotRun                   // QUERY_LIMIT_EXCEEDED: safe to retry any call
	failOperation                // OPERATION_TIME_LIMIT: hold the method, then retry
	failAmbiguous                // may have run: retry only idempotent calls
)

func classify(err error) failure {
	switch e := err.(type) {
	case *APIError:
		switch canonicalCode(e.Code) {
		case "QUERY_LIMIT_EXCEEDED":
			return failNotRun
		case "OPERATION_TIME_LIMIT":
			return failOperation
		case "INTERNAL":
			return failAmbiguous
		}
		return failFinal
	case *TransportError:
		if e.final {
			return failFinal
		}
		return failAmbiguous
	}
	return failFinal
}
