package b24redis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bucket is the portal's request bucket, shared in Redis. It implements the
// generic cell rate algorithm (GCRA): one key per portal holds the
// theoretical arrival time (TAT), the moment the bucket would be empty again.
// Each request moves the TAT on by one emission interval T = 1/perSecond;
// a request may go at TAT - burst·T. That is exactly a leaky bucket of burst
// requests draining perSecond: an empty bucket lets burst requests go at
// once, then one every T.
type Bucket struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewBucket returns a Bucket over rdb.
func NewBucket(rdb redis.UniversalClient, opts ...Option) (*Bucket, error) {
	if rdb == nil {
		return nil, errNilClient
	}
	o := newOptions(opts)
	return &Bucket{rdb: rdb, prefix: o.prefix + "bucket:"}, nil
}

// The scripts keep the TAT in microseconds of the Redis server's clock, as a
// double written with %.17g so that it reads back bit for bit (a double
// resolves a quarter of a microsecond at today's epoch). ARGV[1] is burst,
// ARGV[2] the emission interval T in microseconds. The key expires once the
// bucket has drained, so idle portals leave nothing behind.
const gcraPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local function store(v)
	if v <= now then
		redis.call('DEL', KEYS[1])
	else
		redis.call('SET', KEYS[1], string.format('%.17g', v), 'PX', math.ceil((v - now) / 1000) + 1000)
	end
end
`

// reserve returns the wait in microseconds, rounded up.
var reserveScript = redis.NewScript(gcraPrelude + `
local newtat = tat + interval
store(newtat)
local wait = newtat - burst * interval - now
if wait <= 0 then return 0 end
return math.ceil(wait)
`)

// cancel gives back one emission interval, never below now.
var cancelScript = redis.NewScript(gcraPrelude + `
store(tat - interval)
return 0
`)

// fill makes the bucket full: the next request waits one interval. A TAT
// already beyond full (requests reserved ahead) is kept.
var fillScript = redis.NewScript(gcraPrelude + `
local full = now + burst * interval
if tat < full then tat = full end
store(tat)
return 0
`)

func (b *Bucket) args(burst int, perSecond float64) ([]any, error) {
	if burst < 1 {
		return nil, fmt.Errorf("b24redis: bucket burst %d, want at least 1", burst)
	}
	if !(perSecond > 0) || math.IsInf(perSecond, 0) {
		return nil, fmt.Errorf("b24redis: bucket rate %v per second, want a positive finite rate", perSecond)
	}
	return []any{burst, 1e6 / perSecond}, nil
}

// Reserve takes one request from key's bucket and returns how long to wait
// before sending it.
func (b *Bucket) Reserve(ctx context.Context, key string, burst int, perSecond float64) (time.Duration, error) {
	args, err := b.args(burst, perSecond)
	if err != nil {
		return 0, err
	}
	us, err := reserveScript.Run(ctx, b.rdb, []string{b.prefix + key}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("b24redis: reserve: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Cancel gives back a reservation whose request was never sent.
func (b *Bucket) Cancel(ctx context.Context, key string, burst int, perSecond float64) error {
	args, err := b.args(burst, perSecond)
	if err != nil {
		return err
	}
	if err := cancelScript.Run(ctx, b.rdb, []string{b.prefix + key}, args...).Err(); err != nil {
		return fmt.Errorf("b24redis: cancel: %w", err)
	}
	return nil
}

// Fill marks key's bucket full, as the portal's QUERY_LIMIT_EXCEEDED says it is.
func (b *Bucket) Fill(ctx context.Context, key string, burst int, perSecond float64) error {
	args, err := b.args(burst, perSecond)
	if err != nil {
		return err
	}
	if err := fillScript.Run(ctx, b.rdb, []string{b.prefix + key}, args...).Err(); err != nil {
		return fmt.Errorf("b24redis: fill: %w", err)
	}
	return nil
}
