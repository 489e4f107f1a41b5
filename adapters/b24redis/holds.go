package b24redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Holds keeps OPERATION_TIME_LIMIT holds in Redis: one key per
// "portal|identity|method", holding the end of the hold in Unix
// microseconds and expiring with it.
type Holds struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewHolds returns Holds over rdb.
func NewHolds(rdb redis.UniversalClient, opts ...Option) (*Holds, error) {
	if rdb == nil {
		return nil, errNilClient
	}
	o := newOptions(opts)
	return &Holds{rdb: rdb, prefix: o.prefix + "hold:"}, nil
}

// holdScript keeps the later of the stored and the new end: an earlier
// hold never shortens a later one. ARGV[1] is the end in Unix microseconds.
var holdScript = redis.NewScript(`
local until_us = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_us <= cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', math.floor(until_us / 1000) + 1000)
return 1
`)

// Hold records that key may not be called before until.
func (h *Holds) Hold(ctx context.Context, key string, until time.Time) error {
	if !until.After(time.Now()) {
		return nil // a hold that has passed holds nothing
	}
	us := strconv.FormatInt(until.UnixMicro(), 10)
	if err := holdScript.Run(ctx, h.rdb, []string{h.prefix + key}, us).Err(); err != nil {
		return fmt.Errorf("b24redis: hold: %w", err)
	}
	return nil
}

// HeldUntil returns the hold on key, or the zero time when there is none or
// it has passed.
func (h *Holds) HeldUntil(ctx context.Context, key string) (time.Time, error) {
	v, err := h.rdb.Get(ctx, h.prefix+key).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("b24redis: held until: %w", err)
	}
	until := time.UnixMicro(v)
	if !until.After(time.Now()) {
		return time.Time{}, nil
	}
	return until, nil
}
