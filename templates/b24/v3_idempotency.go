package b24

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// REST 3.0 idempotency (api-reference/rest-v3.md, "Repeated calls without
// duplicates"): a write sent with an Idempotency-Key header has its answer
// stored by the portal for 24 hours; a repeat with the same key and the same
// body is answered from the store, with Idempotent-Replayed: true, and the
// method does not run again. The key is unique per webhook (or app), user and
// method. A failed call is not stored, so a repeat runs it again.
//
// The client sends a key with every REST 3.0 write (a call not marked
// Idempotent): the one given by WithIdempotencyKey, else a fresh random one.
// That key is what makes a write safe to retry after an ambiguous failure
// (a network error, a timeout, a body cut short), which REST 2 never is: the
// retry carries the same key and body, so a write that did run is answered
// from the store instead of running twice.

// MaxIdempotencyKeyLen is the longest key the portal accepts.
const MaxIdempotencyKeyLen = 255

// WithIdempotencyKey sends a REST 3.0 call with key as its Idempotency-Key
// header (1 to 255 printable ASCII characters). Pass the same key when you
// repeat a write yourself, for example after a restart, to get the stored
// answer instead of a second run; a key reused with another body fails with
// ErrIdempotencyKeyReused. REST 2 ignores the header, so the key does not make
// a REST 2 write retryable.
func WithIdempotencyKey(key string) CallOption {
	return func(r *Request) { r.IdempotencyKey = key }
}

// WithReplayed sets *replayed after a successful call: true when the portal
// answered a REST 3.0 write from its idempotency store (the method did not run
// again), false otherwise.
func WithReplayed(replayed *bool) CallOption {
	return WithResponseHook(func(resp *Response) {
		if replayed != nil {
			*replayed = resp.Replayed
		}
	})
}

// WithResponseHook calls fn with the envelope of a successful call made
// through Invoke (every generated function), before its result is decoded:
// total, time, the REST 3.0 replay flag and idempotency key.
func WithResponseHook(fn func(*Response)) CallOption {
	return func(r *Request) {
		prev := r.onResponse
		hook := func(resp *Response) {
			if prev != nil {
				(*prev)(resp)
			}
			fn(resp)
		}
		r.onResponse = &hook
	}
}

// NewIdempotencyKey returns a fresh random key (32 hex digits), as the client
// picks for a REST 3.0 write sent without one.
func NewIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// checkIdempotencyKey applies the portal's rule: 1 to 255 printable ASCII
// characters. A bad key is refused before sending, with the error the portal
// would answer.
func checkIdempotencyKey(method, key string) error {
	bad := len(key) == 0 || len(key) > MaxIdempotencyKeyLen
	for i := 0; i < len(key) && !bad; i++ {
		bad = key[i] < 0x20 || key[i] > 0x7e
	}
	if !bad {
		return nil
	}
	return &APIError{Method: method, Code: codeInvalidIdempotencyKey,
		Description: fmt.Sprintf("the Idempotency-Key (%d bytes) must be 1 to %d printable ASCII characters (checked before sending)", len(key), MaxIdempotencyKeyLen)}
}

// v3Key returns the request with the Idempotency-Key it is sent with: REST
// 3.0 writes get one (the caller's, checked, or a fresh one); everything
// else goes as it is. The caller's Request is not modified.
func v3Key(req *Request) (*Request, error) {
	if req.Version != 3 {
		return req, nil
	}
	if req.IdempotencyKey != "" {
		return req, checkIdempotencyKey(req.Method, req.IdempotencyKey)
	}
	if req.Idempotent || isBatchMethod(req.Method) {
		// Reads need no key; a batch's body holds its commands, and the
		// docs do not say the batch method itself keeps a store.
		return req, nil
	}
	r := *req
	r.IdempotencyKey = NewIdempotencyKey()
	return &r, nil
}

func isBatchMethod(m string) bool { return strings.EqualFold(m, "batch") }

// retrySafe tells whether an ambiguous failure of req may be retried: a
// read, or a REST 3.0 write carrying an idempotency key (the repeat is
// answered from the portal's store if the first attempt ran).
func retrySafe(req *Request) bool {
	return req.Idempotent || req.Version == 3 && req.IdempotencyKey != "" && !isBatchMethod(req.Method)
}

// retrySafeAfter refines retrySafe for a keyed REST 3.0 write: the portal
// stores only a successful call's answer, so a failure the portal answered
// itself (500 INTERNAL_SERVER_ERROR and every other error code) is not in
// the store, and a repeat would run the method again. Only a failure with
// no answer from the portal (a network fault, a timeout, a body cut or
// mangled on the way, a proxy's page) is retried under the same key: if
// the write ran, its answer is stored and the repeat gets it.
func retrySafeAfter(req *Request, err error) bool {
	if req.Idempotent || req.Version != 3 {
		return true
	}
	var ae *APIError
	return !errors.As(err, &ae)
}

// pinnedAttempt is the signed request of a keyed REST 3.0 write from an
// application, resent as it is on retries.
type pinnedAttempt struct {
	tok  Token
	url  string
	body []byte
}

// ErrWriteRan (REST 3.0): the write ran once, but its answer is out of
// reach. An attempt was cut off, the access token expired before the retry,
// and the retry signed with the renewed token is a different body under the
// same Idempotency-Key, which the portal refuses (IDEMPOTENCYKEYREUSED)
// because it stored the earlier attempt's answer. Do not repeat the write
// under a new key: it would run twice. Read the entity back instead.
var ErrWriteRan = errors.New("b24: the write ran")

type writeRanError struct{ method, key string }

func (e *writeRanError) Error() string {
	return "b24: " + e.method + ": the write ran: an attempt that was cut off is stored under Idempotency-Key " + e.key +
		", and its retry, signed with the renewed access token, is refused as another body under that key; its answer cannot be fetched. " +
		"Do not repeat it under a new key (it would run twice): read the result back from the portal"
}

func (e *writeRanError) Is(target error) bool { return target == ErrWriteRan }

// keyLocks keeps two requests with one key from being in flight at the same
// time: the docs warn that both may run. A second call with the key of a
// call still running waits for it to end (its own attempt then gets the
// stored answer), or for its context.
type keyLocks struct {
	mu   sync.Mutex
	busy map[string]chan struct{}
}

// lock takes method+key; the returned func releases it.
func (l *keyLocks) lock(ctx context.Context, method, key string) (func(), error) {
	if l == nil || key == "" {
		return func() {}, nil
	}
	k := strings.ToLower(method) + "\x00" + key
	for {
		l.mu.Lock()
		if l.busy == nil {
			l.busy = map[string]chan struct{}{}
		}
		ch, held := l.busy[k]
		if !held {
			ch = make(chan struct{})
			l.busy[k] = ch
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.busy, k)
				l.mu.Unlock()
				close(ch)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("b24: %s: waiting for the call already in flight with the same Idempotency-Key: %w", method, context.Cause(ctx))
		}
	}
}
