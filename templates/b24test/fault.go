package b24test

import (
	"net/http"
	"time"
)

// FaultKind names a failure the portal can inject.
type FaultKind int

const (
	// FaultQueryLimit answers 503 QUERY_LIMIT_EXCEEDED without running the method.
	FaultQueryLimit FaultKind = iota + 1
	// FaultOperationLimit answers 429 OPERATION_TIME_LIMIT without running the
	// method; time.operating_reset_at carries Fault.ResetAt.
	FaultOperationLimit
	// FaultError answers Fault.Status with the API error Fault.Code,
	// Fault.Description, without running the method.
	FaultError
	// FaultConnReset closes the TCP connection without an answer.
	FaultConnReset
	// FaultCutBody announces the full Content-Length, sends half the body and
	// drops the connection.
	FaultCutBody
	// FaultTruncated answers 200 with the JSON cut in half (a proxy cut it).
	FaultTruncated
	// FaultHTML answers Fault.Status (502 by default) with a proxy's HTML page
	// that echoes the request path, as some proxies do.
	FaultHTML
	// FaultSlow answers normally after Fault.Delay.
	FaultSlow
)

var faultNames = map[FaultKind]string{
	FaultQueryLimit: "query-limit", FaultOperationLimit: "operation-limit", FaultError: "api-error",
	FaultConnReset: "conn-reset", FaultCutBody: "cut-body", FaultTruncated: "truncated",
	FaultHTML: "html", FaultSlow: "slow",
}

func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return "none"
}

// Fault is one injected failure, consumed by the next Times calls of the
// method it was registered for (see Portal.Fail).
type Fault struct {
	Kind  FaultKind
	Times int // calls it affects; 0 means 1

	// AfterRun runs the method's handler before failing, as when the portal
	// did the work and the answer was lost on the way. The constructors set
	// it for the transport faults (reset, cut, truncated, HTML): those are the
	// ambiguous failures a client must not retry for writes.
	AfterRun bool

	Status      int           // FaultError, FaultHTML
	Code        string        // FaultError
	Description string        // FaultError
	ResetAt     time.Time     // FaultOperationLimit
	Delay       time.Duration // FaultSlow
}

// QueryLimitStorm answers the next n calls with 503 QUERY_LIMIT_EXCEEDED.
func QueryLimitStorm(n int) Fault { return Fault{Kind: FaultQueryLimit, Times: n} }

// OperationLimit answers the next call with 429 OPERATION_TIME_LIMIT and
// operating_reset_at = resetAt (fractional seconds, so tests stay short).
func OperationLimit(resetAt time.Time) Fault {
	return Fault{Kind: FaultOperationLimit, ResetAt: resetAt}
}

// APIFailure answers the next call with an API error without running it.
func APIFailure(status int, code, description string) Fault {
	return Fault{Kind: FaultError, Status: status, Code: code, Description: description}
}

// ConnectionReset runs the next call, then drops the connection unanswered.
func ConnectionReset() Fault { return Fault{Kind: FaultConnReset, AfterRun: true} }

// CutBody runs the next call and drops the connection halfway through the body.
func CutBody() Fault { return Fault{Kind: FaultCutBody, AfterRun: true} }

// TruncatedBody runs the next call and answers its JSON cut in half.
func TruncatedBody() Fault { return Fault{Kind: FaultTruncated, AfterRun: true} }

// HTMLPage runs the next call and answers a proxy's HTML error page.
func HTMLPage(status int) Fault { return Fault{Kind: FaultHTML, Status: status, AfterRun: true} }

// SlowAnswer answers the next call after d (or when the client gives up).
func SlowAnswer(d time.Duration) Fault { return Fault{Kind: FaultSlow, Delay: d} }

// Repeat returns f affecting n calls.
func (f Fault) Repeat(n int) Fault { f.Times = n; return f }

// beforeRun tells whether the fault strikes before the handler runs: the
// API-level faults always do, a slow answer never does.
func (f Fault) beforeRun() bool {
	if f.inBatch() {
		return true
	}
	return f.Kind != FaultSlow && !f.AfterRun
}

// inBatch tells whether the fault is API-level (query limit, operation limit,
// API error) and so can strike a command inside a batch (it becomes that
// command's result_error); transport faults cannot.
func (f Fault) inBatch() bool {
	switch f.Kind {
	case FaultQueryLimit, FaultOperationLimit, FaultError:
		return true
	}
	return false
}

func (f Fault) status() int {
	switch f.Kind {
	case FaultQueryLimit:
		return http.StatusServiceUnavailable
	case FaultOperationLimit:
		return http.StatusTooManyRequests
	case FaultHTML:
		if f.Status == 0 {
			return http.StatusBadGateway
		}
	case FaultError:
		if f.Status == 0 {
			return http.StatusBadRequest
		}
	}
	return f.Status
}

func (f Fault) code() (code, desc string) {
	switch f.Kind {
	case FaultQueryLimit:
		return "QUERY_LIMIT_EXCEEDED", "Too many requests"
	case FaultOperationLimit:
		return "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."
	}
	return f.Code, f.Description
}
