package b24

import (
	"context"
	"time"
)

// The interfaces in this file let several processes share what one portal
// meters: its request bucket, its operating-time holds, its OAuth tokens and
// the events it delivers. They use standard-library types only, because every
// generated tree carries its own copy of this package under its own import
// path: an adapter (github.com/b24gen/b24gen/adapters/...) satisfies them
// structurally, the way a database/sql driver does, and so fits every copy.
//
// Without them the client keeps all of this in its own process, as before.

// SharedBucket is the portal's request bucket (a leaky bucket: burst
// requests at once, then perSecond), kept where every process that calls the
// portal sees it. Bitrix24 counts one bucket per portal and source address,
// so processes on one server that call one portal must share it. key names
// the portal ("portal.bitrix24.com").
//
// When a call returns an error the client falls back to its in-process
// bucket for that request and logs the store's failure; a store that is down
// slows nothing but loses the sharing.
type SharedBucket interface {
	// Reserve takes one request from the bucket and says how long the caller
	// must wait before sending it (0: send now). The request counts from the
	// moment Reserve returns, whether or not the caller waits.
	Reserve(ctx context.Context, key string, burst int, perSecond float64) (wait time.Duration, err error)
	// Cancel gives back a reservation whose request was never sent.
	Cancel(ctx context.Context, key string, burst int, perSecond float64) error
	// Fill marks the bucket full: the portal answered QUERY_LIMIT_EXCEEDED,
	// so every sharer waits for a whole drain interval.
	Fill(ctx context.Context, key string, burst int, perSecond float64) error
}

// SharedHolds keeps the operating-time holds of OPERATION_TIME_LIMIT: the
// portal counts operating time per portal, per webhook or application and
// per method, so a hold set by one process must stop the others. key is
// "portal|identity|method", where identity names the webhook or the
// application without its secret.
type SharedHolds interface {
	// Hold records that key may not be called before until. A later until
	// replaces an earlier one; an earlier one never shortens a hold.
	Hold(ctx context.Context, key string, until time.Time) error
	// HeldUntil returns the hold on key, or the zero time when there is none
	// or it has passed.
	HeldUntil(ctx context.Context, key string) (time.Time, error)
}

// SharedTokenStore keeps each portal's token as opaque bytes (the client's
// own encoding, credentials included: store it as a secret) under a version
// that changes on every write. Renewal runs as "lease, reload, renew only if
// still stale, swap, release", so processes sharing a portal spend each
// refresh token once.
type SharedTokenStore interface {
	// Load returns the stored bytes and their version; version 0 and nil
	// data, with a nil error, when the store holds nothing for memberID.
	Load(ctx context.Context, memberID string) (data []byte, version int64, err error)
	// Swap writes data if the stored version is still old (0: nothing
	// stored) and returns the new version. When another writer got there
	// first it returns ok false and a nil error, and writes nothing.
	Swap(ctx context.Context, memberID string, old int64, data []byte) (version int64, ok bool, err error)
	// Lease takes the renewal lease on memberID for holder, for ttl. It
	// returns ok false, with a nil error, while another holder's lease runs.
	// Taking a lease one already holds extends it.
	Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (ok bool, err error)
	// Release ends holder's lease early; releasing a lease one does not
	// hold does nothing.
	Release(ctx context.Context, memberID, holder string) error
	// Delete forgets memberID (the application was removed there).
	Delete(ctx context.Context, memberID string) error
}

// Spool holds event deliveries durably between the receiver, which answers
// the portal 200 only after Put returned, and the workers that handle them.
// Bitrix24 never redelivers an event, so the spool is where a delivery lives
// until a handler has finished with it.
type Spool interface {
	// Put stores one delivery under id, its deduplication key, and returns
	// only once it is durable. A second Put of an id already stored (or
	// recently handled) stores nothing and returns nil.
	Put(ctx context.Context, id string, body []byte) error
	// Next blocks until a delivery is due and returns it leased to the
	// caller: unless Ack follows within the spool's lease time, it is handed
	// out again (a worker that died while handling it).
	Next(ctx context.Context) (id string, body []byte, err error)
	// Ack marks id handled; it is not handed out again.
	Ack(ctx context.Context, id string) error
}
