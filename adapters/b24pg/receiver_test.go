package b24pg

import (
	"context"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/receivertest"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openSpool makes a fresh spool table; each call of the func it returns is
// another process's pool on it.
func openSpool(t testing.TB, lease time.Duration) func() b24.Spool {
	name := table(t, pool(t), "b24test_recv")
	return func() b24.Spool {
		s, err := NewSpool(context.Background(), pool(t), SpoolOptions{Table: name, Lease: lease, Poll: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
}

// The receiver (templates/b24) over the PostgreSQL spool.
func TestReceiverOverSpool(t *testing.T) {
	pool(t) // skip, or fail in CI, when PostgreSQL is down
	receivertest.Run(t, func(t *testing.T, lease time.Duration) func() b24.Spool { return openSpool(t, lease) },
		func(t *testing.T) b24.Spool {
			// A spool whose pool is closed: the server went away.
			p := pool(t)
			s, err := NewSpool(context.Background(), p, SpoolOptions{Table: table(t, p, "b24test_down")})
			if err != nil {
				t.Fatal(err)
			}
			p2, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?connect_timeout=1")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p2.Close)
			s.pool = p2 // same table, a server that is not there
			return s
		})
}

// BenchmarkReceiverDelivery: ServeHTTP with the PostgreSQL spool until the
// handler runs in a worker on another pool (woken by NOTIFY); p50/p99.
func BenchmarkReceiverDelivery(b *testing.B) {
	open := openSpool(b, 30*time.Second)
	receivertest.BenchDelivery(b, open(), open())
}
