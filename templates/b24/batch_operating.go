package b24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// rerunRefused sends again the commands of part that the portal refused
// with OPERATION_TIME_LIMIT: they did not run, and the method's budget comes
// back at operating_reset_at, so the batch waits for it (holding the method
// for every caller, and for the fleet with WithSharedHolds) instead of
// reporting an error. It waits as long as RetryPolicy.MaxOperationWait and
// the context allow; a hold beyond either leaves the errors as they are.
//
// The commands after a refused one that did not run go again with it. One
// that ran with a reference to a refused command ran on the reference's
// unsubstituted text: a read (Idempotent) goes again with it; a write is not
// run a second time, and its handle reports what happened.
func (b *Batch) rerunRefused(ctx context.Context, c Caller, part []*batchEntry) error {
	cl, ok := c.(*Client)
	if !ok {
		return nil
	}
	for round := 1; ; round++ {
		var again []*batchEntry
		refused := map[string]bool{}      // keys
		methods := map[string]*APIError{} // refused methods, with one of their errors
		for _, e := range part {
			if ae := operationLimited(e.err); ae != nil {
				refused[e.key] = true
				methods[strings.ToLower(e.req.Method)] = ae
				again = append(again, e)
				continue
			}
			if len(refused) == 0 {
				continue
			}
			switch {
			case e.err != nil && errors.Is(e.err, ErrNotRun):
				again = append(again, e)
			case b.refersTo(e, refused):
				if e.req.Idempotent {
					again = append(again, e)
				} else {
					e.resp = nil
					e.err = fmt.Errorf("b24: batch command %s ran with a reference to a command the portal refused with OPERATION_TIME_LIMIT, so on the reference's text, not its value; it is a write and is not run again: check what it did", e.key)
				}
			}
		}
		if len(again) == 0 {
			return nil
		}
		until := time.Time{}
		for m, ae := range methods {
			until = later(until, cl.operationHold(m, ae, round))
		}
		wait := time.Until(until)
		if dl, ok := ctx.Deadline(); wait > cl.retry.MaxOperationWait || ok && dl.Before(until) {
			return nil // the errors stand: the budget comes back too late
		}
		for m := range methods {
			cl.hold(ctx, m, until)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil
		}
		b.reruns++
		chunk := (len(b.entries)+MaxBatchCommands-1)/MaxBatchCommands + b.reruns
		for _, e := range again {
			e.err, e.resp, e.chunk = nil, nil, chunk
		}
		// A walk's batch holds its ticket for these commands already (it
		// is given back when the walk's chain is over): admitting them
		// again would wait for itself.
		if err := b.runChunk(ctx, c, again, !b.paced); err != nil {
			return err
		}
		part = again
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// operationLimited returns err's *APIError when it is OPERATION_TIME_LIMIT.
func operationLimited(err error) *APIError {
	var ae *APIError
	if err != nil && errors.As(err, &ae) && canonicalCode(ae.Code) == "OPERATION_TIME_LIMIT" {
		return ae
	}
	return nil
}

// refersTo reports whether e's parameters reference one of keys' results.
func (b *Batch) refersTo(e *batchEntry, keys map[string]bool) bool {
	raw, _ := json.Marshal(e.req.Params)
	for k := range keys {
		ref := "$result[" + k + "]"
		if bytes.Contains(raw, []byte(ref)) {
			return true
		}
		for _, r := range e.refs {
			if strings.HasPrefix(r.ref, ref) {
				return true
			}
		}
	}
	return false
}
