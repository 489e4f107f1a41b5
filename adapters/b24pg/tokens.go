package b24pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultTokenTable is the token table's name when none is given.
const DefaultTokenTable = "b24_tokens"

// TokenStore keeps one row per member ID: the client's opaque token bytes
// (credentials included: protect the table as a secret), a version that every
// write increments, and the renewal lease (holder and lease_until).
//
// Delete clears the data but keeps the row and its version, so a process
// that loaded the token before it was deleted cannot overwrite a newer
// install with its stale swap.
type TokenStore struct {
	pool  *pgxpool.Pool
	table string
}

// NewTokenStore returns a TokenStore over pool, creating table (""
// means DefaultTokenTable) when it is missing.
func NewTokenStore(ctx context.Context, pool *pgxpool.Pool, table string) (*TokenStore, error) {
	if pool == nil {
		return nil, errNilPool
	}
	if table == "" {
		table = DefaultTokenTable
	}
	t, err := tableName(table)
	if err != nil {
		return nil, err
	}
	_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
	member_id    text PRIMARY KEY,
	data         bytea,
	version      bigint NOT NULL DEFAULT 0,
	lease_holder text,
	lease_until  timestamptz
)`)
	if err != nil {
		return nil, fmt.Errorf("b24pg: create token table: %w", err)
	}
	return &TokenStore{pool: pool, table: t}, nil
}

// Load returns the stored bytes and their version (0 and nil: nothing stored).
func (s *TokenStore) Load(ctx context.Context, memberID string) ([]byte, int64, error) {
	var data []byte
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT data, version FROM `+s.table+
		` WHERE member_id = $1 AND data IS NOT NULL`, memberID).Scan(&data, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("b24pg: load token: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, version, nil
}

// Swap writes data if the stored version is still old.
func (s *TokenStore) Swap(ctx context.Context, memberID string, old int64, data []byte) (int64, bool, error) {
	if data == nil {
		data = []byte{} // NULL means "nothing stored"
	}
	var q string
	switch {
	case old < 0:
		return 0, false, fmt.Errorf("b24pg: swap token: negative version %d", old)
	case old == 0:
		// Nothing stored: insert, or fill a row that only has a lease or
		// a deleted token.
		q = `INSERT INTO ` + s.table + ` AS t (member_id, data, version) VALUES ($1, $2, 1)
ON CONFLICT (member_id) DO UPDATE SET data = excluded.data, version = t.version + 1
WHERE t.data IS NULL
RETURNING version`
	default:
		q = `UPDATE ` + s.table + ` SET data = $2, version = version + 1
WHERE member_id = $1 AND version = $3 AND data IS NOT NULL
RETURNING version`
	}
	args := []any{memberID, data}
	if old != 0 {
		args = append(args, old)
	}
	var v int64
	err := s.pool.QueryRow(ctx, q, args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("b24pg: swap token: %w", err)
	}
	return v, true, nil
}

// Lease takes the renewal lease on memberID for holder, for ttl.
func (s *TokenStore) Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (bool, error) {
	if holder == "" {
		return false, errors.New("b24pg: lease: empty holder")
	}
	if ttl < time.Millisecond {
		return false, fmt.Errorf("b24pg: lease: ttl %v, want at least 1ms", ttl)
	}
	var one int
	err := s.pool.QueryRow(ctx, `INSERT INTO `+s.table+` AS t (member_id, lease_holder, lease_until)
VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond')
ON CONFLICT (member_id) DO UPDATE SET lease_holder = excluded.lease_holder, lease_until = excluded.lease_until
WHERE t.lease_holder IS NULL OR t.lease_until <= clock_timestamp() OR t.lease_holder = excluded.lease_holder
RETURNING 1`, memberID, holder, ttl.Microseconds()).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("b24pg: lease: %w", err)
	}
	return true, nil
}

// Release ends holder's lease early.
func (s *TokenStore) Release(ctx context.Context, memberID, holder string) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET lease_holder = NULL, lease_until = NULL
WHERE member_id = $1 AND lease_holder = $2`, memberID, holder)
	if err != nil {
		return fmt.Errorf("b24pg: release: %w", err)
	}
	return nil
}

// Delete forgets memberID's token; the row keeps its version (see TokenStore).
func (s *TokenStore) Delete(ctx context.Context, memberID string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET data = NULL WHERE member_id = $1`, memberID); err != nil {
		return fmt.Errorf("b24pg: delete token: %w", err)
	}
	return nil
}
