package b24pg

import (
	"context"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/adapters/internal/storetest"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The adapters satisfy the runtime's interfaces structurally; these lines
// fail to compile when a method set drifts.
var (
	_ b24.SharedTokenStore = (*TokenStore)(nil)
	_ b24.Spool            = (*Spool)(nil)
)

// pool connects to $DATABASE_URL, or skips (outside CI) when it is down.
func pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := servers.DatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, err := pgxpool.New(ctx, url)
	if err == nil {
		err = p.Ping(ctx)
		if err != nil {
			p.Close()
		}
	}
	if err != nil {
		servers.Unavailable(t, "PostgreSQL at "+servers.Redact(url)+" (DATABASE_URL)", err)
	}
	t.Cleanup(p.Close)
	return p
}

// table returns a table name unique to this run, dropped when the test ends.
func table(t testing.TB, p *pgxpool.Pool, prefix string) string {
	name := servers.Unique(prefix)
	t.Cleanup(func() { p.Exec(context.Background(), "DROP TABLE IF EXISTS "+name) })
	return name
}

func TestTokenStore(t *testing.T) {
	p := pool(t)
	s, err := NewTokenStore(context.Background(), p, table(t, p, "b24test_tokens"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.TokenStoreSemantics(t, s)
}

func TestSpool(t *testing.T) {
	p := pool(t)
	storetest.SpoolSemantics(t, func(t *testing.T, lease time.Duration) func() storetest.Spool {
		name := table(t, p, "b24test_spool")
		return func() storetest.Spool {
			s, err := NewSpool(context.Background(), p, SpoolOptions{Table: name, Lease: lease, Poll: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		}
	})
}

func TestBadTableName(t *testing.T) {
	p := pool(t)
	if _, err := NewTokenStore(context.Background(), p, `x"; DROP TABLE y; --`); err == nil {
		t.Fatal("a table name with SQL in it was accepted")
	}
}
