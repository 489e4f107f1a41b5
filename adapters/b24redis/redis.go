// Package b24redis keeps a portal's request bucket, its operating-time holds
// and its OAuth tokens in Redis, so that several processes calling one portal
// share them. Its types satisfy the b24 runtime's SharedBucket, SharedHolds
// and SharedTokenStore interfaces structurally: the package imports no b24,
// so it fits every generated tree's copy of the runtime.
//
// Every operation that reads and writes runs as one Lua script, so it is
// atomic on the server; times that several processes must agree on (the
// bucket's) come from the Redis server's clock, not the callers'.
package b24redis

import "errors"

// DefaultPrefix starts every key this package writes.
const DefaultPrefix = "b24:"

// Option configures a Bucket, Holds or TokenStore.
type Option func(*options)

type options struct {
	prefix string
}

// WithPrefix sets the key prefix (DefaultPrefix when not given), so several
// fleets, or tests, can share one Redis without seeing each other's keys.
func WithPrefix(p string) Option { return func(o *options) { o.prefix = p } }

func newOptions(opts []Option) options {
	o := options{prefix: DefaultPrefix}
	for _, f := range opts {
		f(&o)
	}
	return o
}

var errNilClient = errors.New("b24redis: nil redis client")
