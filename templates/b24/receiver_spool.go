package b24

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// WithSpool makes the Receiver durable: each verified delivery is put in s,
// stripped of its tokens, and the portal is answered 200 only after Put
// returned. The handlers run later, in a worker that takes deliveries from
// the spool (Receiver.WorkSpool, or Receiver.Dispatch from a loop of one's
// own), in this process or another: Bitrix24 never redelivers an event, so
// a delivery lives in the spool, not in the request, until a handler has
// finished with it.
//
// What the receiver still does at once: it checks the application token
// (or, WithApp, the portal's stored one; ONAPPINSTALL's tokens are
// validated and stored, ONAPPUNINSTALL deletes them) and refuses a
// malformed delivery (400). What it stores: the delivery as JSON (a form
// converted, its values staying strings) without auth[access_token],
// auth[refresh_token], auth[application_token] or any other key of the auth
// block that names a credential, and with any other string equal to one of
// them replaced by "[redacted]"; the portal's identity (auth[member_id],
// auth[domain], auth[client_endpoint], auth[user_id]…) stays, so a worker
// knows where the event comes from. Its id is SpoolID of those bytes, so a
// delivery put twice is stored once.
//
// When Put fails (the spool is down or slower than the request allows) the
// receiver answers 503 and logs the store's error with the tokens removed.
// The portal does not redeliver on a 503 either: the event is lost, loudly,
// as it would be with a receiver that is down. The choice is deliberate: a
// 200 would say "stored" when it was not, and handling the delivery in the
// request instead would make a worker and the request both handle events,
// with no deduplication between them.
//
// A Put is bounded by WithHandlerTimeout when set, else by 10 s and the
// request's own context.
func WithSpool(s Spool) ReceiverOption {
	return func(r *Receiver) {
		if s == nil {
			r.cfgErr = errors.New("b24: receiver: WithSpool(nil)")
			return
		}
		r.spool = s
	}
}

// defaultPutTimeout bounds a Put when no handler timeout is set.
const defaultPutTimeout = 10 * time.Second

// SpoolID is the deduplication key of a delivery as the receiver stores it
// (the stripped body): the hex SHA-256 of those bytes. The same delivery,
// received twice, has one id.
func SpoolID(stripped []byte) string {
	sum := sha256.Sum256(stripped)
	return hex.EncodeToString(sum[:])
}

type deliveryIDKey struct{}

// DeliveryID returns the spool id of the delivery a handler is serving
// (Dispatch and WorkSpool put it in the handler's context), "" outside a
// spooled dispatch. A spool hands a delivery out again when its worker died
// or its lease ran out before Ack, so a handler whose effect must happen
// once records this id with its effect (a unique key in the same
// transaction, a Bitrix24 idempotency key) and skips an id it has seen.
func DeliveryID(ctx context.Context) string {
	id, _ := ctx.Value(deliveryIDKey{}).(string)
	return id
}

// put stores a verified delivery and answers 200, or 503 when the spool
// failed.
func (r *Receiver) put(w http.ResponseWriter, req *http.Request, d *delivery, name string) {
	stripped, err := stripDelivery(d)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "malformed delivery", r.redact(err, d.secrets()...))
		return
	}
	timeout := defaultPutTimeout
	if r.timeout > 0 {
		timeout = r.timeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	id := SpoolID(stripped)
	if err := r.putSafely(ctx, id, stripped); err != nil {
		r.log.ErrorContext(req.Context(), "b24: spool put failed; delivery answered 503 and not stored (the portal does not redeliver)",
			"event", name, "delivery", id, "remote", req.RemoteAddr, "error", r.redact(err, d.secrets()...).Error())
		w.Header().Set("Retry-After", "1")
		http.Error(w, "spool unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// putSafely calls Put, turning a panic into an error.
func (r *Receiver) putSafely(ctx context.Context, id string, body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("spool put panicked: %v", p)
		}
	}()
	return r.spool.Put(ctx, id, body)
}

// stripDelivery returns the delivery as the spool keeps it: JSON, keys
// sorted, the auth block's credentials removed and any other copy of them
// masked.
func stripDelivery(d *delivery) ([]byte, error) {
	var tree map[string]any
	if d.loc.json {
		dec := json.NewDecoder(bytes.NewReader(d.body))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			return nil, &malformedError{fmt.Errorf("JSON body: %w", err)}
		}
	} else {
		t, err := d.formTree()
		if err != nil {
			return nil, &malformedError{err}
		}
		tree = t
		// Form keys are case-sensitive, JSON's (as this package and
		// encoding/json read them) are not: "auth" and "Auth" would read
		// back as two auth blocks. No portal sends such a form.
		folded := make(map[string]string, len(tree))
		for k := range tree {
			l := strings.ToLower(k)
			if other, dup := folded[l]; dup {
				return nil, &malformedError{fmt.Errorf("form: keys %q and %q differ only in case; the spool stores JSON, where they are one key", min(k, other), max(k, other))}
			}
			folded[l] = k
		}
	}
	known := map[string]bool{}
	for _, s := range d.secrets() {
		if s != "" {
			known[s] = true
		}
	}
	out := make(map[string]any, len(tree))
	for k, v := range tree {
		if auth, ok := v.(map[string]any); ok && strings.EqualFold(k, authKey) {
			kept := make(map[string]any, len(auth))
			for ak, av := range auth {
				if !isSecretKey(ak) {
					kept[ak] = maskKnown(av, known)
				}
			}
			out[k] = kept
			continue
		}
		if isSecretKey(k) {
			continue // a credential beside the auth block
		}
		out[k] = maskKnown(v, known)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err // not reached: the tree came from JSON or a form
	}
	stripped := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err := sameIdentity(d, stripped); err != nil {
		return nil, &malformedError{err}
	}
	return stripped, nil
}

// sameIdentity checks that the stored bytes name the event and the portal
// that were checked. Keys that differ only in case, or come twice, may read
// one way in the delivery and another once re-encoded with sorted keys: in
// install mode a worker would then serve one portal's event with another's
// client.
func sameIdentity(d *delivery, stripped []byte) error {
	loc, err := locateJSONToken(stripped)
	if err != nil {
		return fmt.Errorf("the delivery reads differently once stored: %w", err)
	}
	sd := &delivery{loc: loc, body: stripped}
	name, err1 := d.name()
	sname, err2 := sd.name()
	member, err3 := deliveryMemberID(d)
	smember, err4 := deliveryMemberID(sd)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("the delivery reads differently once stored: %w", err)
	}
	if name != sname || member != smember {
		return errors.New("ambiguous delivery: its event or auth[member_id] reads differently once stored (keys that differ only in case, or come twice)")
	}
	return nil
}

// maskKnown replaces every string equal to a known credential.
func maskKnown(v any, known map[string]bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = maskKnown(x, known)
		}
	case []any:
		for i, x := range t {
			t[i] = maskKnown(x, known)
		}
	case string:
		if known[t] {
			return redactedText
		}
	case json.Number:
		if known[string(t)] {
			return redactedText
		}
	}
	return v
}

// ErrUndecodable marks a spooled delivery that no retry can help: it is not
// a delivery (malformed), or its payload does not fit its handler's type.
// Dispatch's error wraps it; WorkSpool logs such a delivery, body included
// (it holds no tokens), and acks it.
var ErrUndecodable = errors.New("b24: spooled delivery does not decode")

// Dispatch hands a spooled delivery (id and body as the spool returned
// them) to the handler registered for its event, as ServeHTTP would have:
// typed handlers get their type, the fallback the raw Event. The handler's
// context carries id (DeliveryID) and, WithApp, the portal's client
// (ClientFromContext; absent when the application has been removed there
// since). The delivery holds no tokens: its Auth has the portal's identity,
// not its credentials. A nil error means the delivery is done with (an
// event without a handler or fallback is logged and done with); an error
// wrapping ErrUndecodable will never succeed; any other (the handler's
// error or panic, redacted) may on another try.
//
// The body is trusted as the receiver stored it: the application token was
// checked before the Put, and is not in the body to check again. Whoever
// can write to the spool can hand the workers events.
func (r *Receiver) Dispatch(ctx context.Context, id string, body []byte) error {
	if r.cfgErr != nil {
		return r.cfgErr
	}
	body = bytes.TrimSpace(body)
	loc, err := locateJSONToken(body)
	if err != nil {
		return fmt.Errorf("%w: delivery %s: %w", ErrUndecodable, id, err)
	}
	d := &delivery{loc: loc, body: body}
	name, err := d.name()
	if err != nil {
		return fmt.Errorf("%w: delivery %s: %w", ErrUndecodable, id, r.redact(err, d.secrets()...))
	}
	if name == "" {
		return fmt.Errorf("%w: delivery %s has no event name", ErrUndecodable, id)
	}
	ctx = context.WithValue(ctx, deliveryIDKey{}, id)
	if r.app != nil && name != "ONAPPUNINSTALL" {
		memberID, err := deliveryMemberID(d)
		if err != nil || memberID == "" {
			return fmt.Errorf("%w: delivery %s (%s) names no portal (auth[member_id])", ErrUndecodable, id, name)
		}
		c, err := r.app.Client(ctx, memberID)
		switch {
		case err == nil:
			ctx = context.WithValue(ctx, portalKey{}, c)
		case !errors.Is(err, ErrNoToken):
			return fmt.Errorf("b24: delivery %s (%s): the portal's client: %w", id, name, scrubError(err, r.app.liveSecrets(memberID)...))
		}
	}
	call, isFallback, fault := r.prepare(d, name)
	if fault != nil {
		return fmt.Errorf("%w: delivery %s (%s): %w", ErrUndecodable, id, name, r.redact(fault.err, d.secrets()...))
	}
	if call == nil {
		r.log.InfoContext(ctx, "b24: no handler for spooled event; delivery done with", "event", name, "delivery", id)
		return nil
	}
	if err := r.run(ctx, call); err != nil {
		return fmt.Errorf("b24: delivery %s (%s): handler failed (fallback %t): %w", id, name, isFallback, r.redact(err, d.secrets()...))
	}
	return nil
}

// WorkSpool takes deliveries from s one at a time and dispatches each
// (Dispatch) until ctx ends, returning ctx's error. A delivery is acked
// when its handler returned nil, and when it wraps ErrUndecodable (logged
// with its body first). A handler's error is logged and the delivery not
// acked: the spool hands it out again when its lease runs out, to this
// worker or another. An error from Next (the spool is down) is logged and
// retried with a growing pause, up to 5 s; a failed Ack is logged (the
// delivery will come again: handlers dedupe by DeliveryID). Run as many
// WorkSpool loops, in as many processes, as the handlers need.
func (r *Receiver) WorkSpool(ctx context.Context, s Spool) error {
	if s == nil {
		return errors.New("b24: WorkSpool: nil spool")
	}
	const minPause, maxPause = 50 * time.Millisecond, 5 * time.Second
	pause := minPause
	for {
		id, body, err := s.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.log.ErrorContext(ctx, "b24: spool next failed", "error", r.redact(err).Error(), "retry_in", pause)
			if sleep(ctx, pause) != nil {
				return ctx.Err()
			}
			pause = min(2*pause, maxPause)
			continue
		}
		pause = minPause
		err = r.Dispatch(ctx, id, body)
		switch {
		case err == nil:
		case errors.Is(err, ErrUndecodable):
			r.log.ErrorContext(ctx, "b24: spooled delivery does not decode; acked and dropped", "delivery", id,
				"error", err.Error(), "body", string(body))
		default:
			if ctx.Err() != nil {
				return ctx.Err() // not acked: handed out again after the lease
			}
			r.log.ErrorContext(ctx, "b24: spooled event handler failed; the delivery is handed out again after its lease",
				"delivery", id, "error", err.Error())
			continue
		}
		if err := s.Ack(ctx, id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.log.ErrorContext(ctx, "b24: spool ack failed; the delivery will be handed out again", "delivery", id,
				"error", r.redact(err).Error())
		}
	}
}

// MemorySpool is a Spool in this process's memory: durable only as long as
// the process, so a delivery it holds is lost when the process dies. For
// tests, and for one process that wants the receiver to answer before the
// handlers run. Handled ids are remembered for an hour (a second Put of one
// stores nothing).
type MemorySpool struct {
	lease time.Duration

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a delivery becomes due
	items   map[string]*spoolItem
	order   []string // ids not yet handled, in Put order
	handled map[string]time.Time
	swept   time.Time
}

type spoolItem struct {
	body       []byte
	leaseUntil time.Time // zero: never handed out
}

// memorySpoolDedup is how long a handled id is remembered.
const memorySpoolDedup = time.Hour

// NewMemorySpool returns an empty MemorySpool whose deliveries are handed
// out again when not acked within lease (30 s when lease <= 0).
func NewMemorySpool(lease time.Duration) *MemorySpool {
	if lease <= 0 {
		lease = 30 * time.Second
	}
	return &MemorySpool{lease: lease, changed: make(chan struct{}), items: map[string]*spoolItem{}, handled: map[string]time.Time{}}
}

// Put stores body under id; an id held or handled within the hour stores nothing.
func (m *MemorySpool) Put(ctx context.Context, id string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return errors.New("b24: memory spool: empty id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.swept) > time.Minute {
		m.swept = now
		for k, at := range m.handled {
			if now.Sub(at) > memorySpoolDedup {
				delete(m.handled, k)
			}
		}
	}
	if _, ok := m.items[id]; ok {
		return nil
	}
	if at, ok := m.handled[id]; ok && now.Sub(at) <= memorySpoolDedup {
		return nil
	}
	m.items[id] = &spoolItem{body: bytes.Clone(body)}
	m.order = append(m.order, id)
	m.wake()
	return nil
}

func (m *MemorySpool) wake() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Next returns the oldest delivery that is due, leased to the caller.
func (m *MemorySpool) Next(ctx context.Context) (string, []byte, error) {
	for {
		m.mu.Lock()
		now := time.Now()
		var soonest time.Time
		for _, id := range m.order {
			it := m.items[id]
			if it.leaseUntil.IsZero() || !now.Before(it.leaseUntil) {
				it.leaseUntil = now.Add(m.lease)
				body := bytes.Clone(it.body)
				m.mu.Unlock()
				return id, body, nil
			}
			if soonest.IsZero() || it.leaseUntil.Before(soonest) {
				soonest = it.leaseUntil
			}
		}
		changed := m.changed
		m.mu.Unlock()
		var timeout <-chan time.Time
		var t *time.Timer
		if !soonest.IsZero() {
			t = time.NewTimer(time.Until(soonest))
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timeout:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
	}
}

// Ack marks id handled. Acking an id handled already does nothing; acking
// one the spool never held is an error.
func (m *MemorySpool) Ack(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[id]; !ok {
		if _, done := m.handled[id]; done {
			return nil
		}
		return fmt.Errorf("b24: memory spool: ack of %q, which it does not hold", id)
	}
	delete(m.items, id)
	for i, x := range m.order {
		if x == id {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
	m.handled[id] = time.Now()
	return nil
}

// Len returns how many deliveries the spool holds that are not handled yet.
func (m *MemorySpool) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order)
}

var _ Spool = (*MemorySpool)(nil)
