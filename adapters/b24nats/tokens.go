package b24nats

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TokenStore keeps each portal's token in a JetStream KV bucket: key
// "t.<member>" holds the client's opaque bytes (credentials included:
// protect the bucket as a secret) and its revision is the version, so Swap
// is the KV's compare-and-swap. Revisions only grow, also across Delete, so a
// swap from before a Delete never succeeds. Key "l.<member>" holds the lease
// as "holder\nexpiry" (Unix nanoseconds of the taker's clock: keep the
// fleet's clocks in sync), written by compare-and-swap too.
type TokenStore struct {
	kv jetstream.KeyValue
}

// NewTokenStore returns a TokenStore on kv (see jetstream.CreateOrUpdateKeyValue).
func NewTokenStore(kv jetstream.KeyValue) (*TokenStore, error) {
	if kv == nil {
		return nil, errors.New("b24nats: nil key-value bucket")
	}
	return &TokenStore{kv: kv}, nil
}

// KV keys allow few characters: the member ID goes in base64url.
func key(kind, memberID string) string {
	return kind + "." + base64.RawURLEncoding.EncodeToString([]byte(memberID))
}

// Load returns the stored bytes and their version (0 and nil: nothing stored).
func (s *TokenStore) Load(ctx context.Context, memberID string) ([]byte, int64, error) {
	e, err := s.kv.Get(ctx, key("t", memberID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("b24nats: load token: %w", err)
	}
	data := e.Value()
	if data == nil {
		data = []byte{}
	}
	return data, int64(e.Revision()), nil
}

// Swap writes data if the stored version is still old.
func (s *TokenStore) Swap(ctx context.Context, memberID string, old int64, data []byte) (int64, bool, error) {
	var rev uint64
	var err error
	switch {
	case old < 0:
		return 0, false, fmt.Errorf("b24nats: swap token: negative version %d", old)
	case old == 0:
		rev, err = s.kv.Create(ctx, key("t", memberID), data)
	default:
		rev, err = s.kv.Update(ctx, key("t", memberID), data, uint64(old))
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("b24nats: swap token: %w", err)
	}
	return int64(rev), true, nil
}

// Lease takes the renewal lease on memberID for holder, for ttl.
func (s *TokenStore) Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || strings.Contains(holder, "\n") {
		return false, errors.New("b24nats: lease: empty holder or one with a newline")
	}
	k := key("l", memberID)
	val := []byte(holder + "\n" + strconv.FormatInt(time.Now().Add(ttl).UnixNano(), 10))
	e, err := s.kv.Get(ctx, k)
	var rev uint64
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		_, err = s.kv.Create(ctx, k, val)
	case err != nil:
		return false, fmt.Errorf("b24nats: lease: %w", err)
	default:
		h, exp := parseLease(e.Value())
		if h != holder && time.Now().UnixNano() < exp {
			return false, nil
		}
		rev = e.Revision()
		_, err = s.kv.Update(ctx, k, val, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil // another holder wrote first
	}
	if err != nil {
		return false, fmt.Errorf("b24nats: lease: %w", err)
	}
	return true, nil
}

func parseLease(v []byte) (holder string, expiry int64) {
	h, exp, ok := strings.Cut(string(v), "\n")
	if !ok {
		return "", 0
	}
	n, _ := strconv.ParseInt(exp, 10, 64)
	return h, n
}

// Release ends holder's lease early.
func (s *TokenStore) Release(ctx context.Context, memberID, holder string) error {
	k := key("l", memberID)
	e, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("b24nats: release: %w", err)
	}
	if h, _ := parseLease(e.Value()); h != holder {
		return nil
	}
	err = s.kv.Delete(ctx, k, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("b24nats: release: %w", err)
	}
	return nil
}

// Delete forgets memberID's token.
func (s *TokenStore) Delete(ctx context.Context, memberID string) error {
	if err := s.kv.Delete(ctx, key("t", memberID)); err != nil {
		return fmt.Errorf("b24nats: delete token: %w", err)
	}
	return nil
}
