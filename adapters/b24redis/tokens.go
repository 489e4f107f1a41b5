package b24redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// TokenStore keeps each portal's token in Redis: a hash per member ID with
// fields "data" (the client's opaque bytes, credentials included: protect
// the Redis as you would a secret store) and "version", and a separate
// lease key holding the holder's name with a TTL.
//
// The version counter outlives Delete: a deleted token reads as version 0,
// and the next write gets a version no earlier writer has seen, so a
// process that loaded the token before it was deleted cannot overwrite a
// newer install with its stale swap.
type TokenStore struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewTokenStore returns a TokenStore over rdb.
func NewTokenStore(rdb redis.UniversalClient, opts ...Option) (*TokenStore, error) {
	if rdb == nil {
		return nil, errNilClient
	}
	o := newOptions(opts)
	return &TokenStore{rdb: rdb, prefix: o.prefix}, nil
}

func (s *TokenStore) tokenKey(memberID string) string { return s.prefix + "token:" + memberID }
func (s *TokenStore) leaseKey(memberID string) string { return s.prefix + "lease:" + memberID }

// Load returns the stored bytes and their version (0 and nil: nothing stored).
func (s *TokenStore) Load(ctx context.Context, memberID string) ([]byte, int64, error) {
	vals, err := s.rdb.HMGet(ctx, s.tokenKey(memberID), "data", "version").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("b24redis: load token: %w", err)
	}
	data, ok := vals[0].(string)
	if !ok {
		return nil, 0, nil
	}
	vs, _ := vals[1].(string)
	var version int64
	if _, err := fmt.Sscan(vs, &version); err != nil || version < 1 {
		return nil, 0, fmt.Errorf("b24redis: load token: stored version %q is not a positive number", vs)
	}
	return []byte(data), version, nil
}

// swapScript writes ARGV[2] if the current version (0 when no data is
// stored) is ARGV[1]; it returns the new version, or -1 on a conflict.
var swapScript = redis.NewScript(`
local cur = 0
local counter = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if redis.call('HEXISTS', KEYS[1], 'data') == 1 then cur = counter end
if cur ~= tonumber(ARGV[1]) then return -1 end
local v = counter + 1
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', v)
return v
`)

// Swap writes data if the stored version is still old.
func (s *TokenStore) Swap(ctx context.Context, memberID string, old int64, data []byte) (int64, bool, error) {
	if old < 0 {
		return 0, false, fmt.Errorf("b24redis: swap token: negative version %d", old)
	}
	v, err := swapScript.Run(ctx, s.rdb, []string{s.tokenKey(memberID)}, old, data).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("b24redis: swap token: %w", err)
	}
	if v < 0 {
		return 0, false, nil
	}
	return v, true, nil
}

// leaseScript takes or extends the lease: ARGV[1] holder, ARGV[2] TTL in ms.
var leaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseScript deletes the lease only when ARGV[1] holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`)

// Lease takes the renewal lease on memberID for holder, for ttl (whole
// milliseconds, at least one).
func (s *TokenStore) Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (bool, error) {
	if holder == "" {
		return false, errors.New("b24redis: lease: empty holder")
	}
	ms := ttl.Milliseconds()
	if ms < 1 {
		return false, fmt.Errorf("b24redis: lease: ttl %v, want at least 1ms", ttl)
	}
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.leaseKey(memberID)}, holder, ms).Int64()
	if err != nil {
		return false, fmt.Errorf("b24redis: lease: %w", err)
	}
	return n == 1, nil
}

// Release ends holder's lease early.
func (s *TokenStore) Release(ctx context.Context, memberID, holder string) error {
	if err := releaseScript.Run(ctx, s.rdb, []string{s.leaseKey(memberID)}, holder).Err(); err != nil {
		return fmt.Errorf("b24redis: release: %w", err)
	}
	return nil
}

// Delete forgets memberID's token; the version counter stays (see TokenStore).
func (s *TokenStore) Delete(ctx context.Context, memberID string) error {
	if err := s.rdb.HDel(ctx, s.tokenKey(memberID), "data").Err(); err != nil {
		return fmt.Errorf("b24redis: delete token: %w", err)
	}
	return nil
}
