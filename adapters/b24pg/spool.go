package b24pg

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSpoolTable is the spool table's name when none is given.
const DefaultSpoolTable = "b24_spool"

// SpoolOptions configures a Spool; zero fields take the defaults.
type SpoolOptions struct {
	// Table is the table's name (DefaultSpoolTable).
	Table string
	// Lease is how long a delivery handed out by Next stays with its
	// worker before it is handed out again (30s). Make it longer than the
	// slowest handler: one that outlives its lease runs twice at once.
	Lease time.Duration
	// DedupWindow is how long a handled delivery's row is kept, so that a
	// second Put of its id stores nothing (24h).
	DedupWindow time.Duration
	// Poll bounds how long Next sleeps between looks at the table when no
	// notification wakes it: it finds leases that ran out (1s).
	Poll time.Duration
}

// Spool is a spool table: one row per delivery id (the primary key, so a
// second Put of an id stores nothing), taken by workers with SELECT … FOR
// UPDATE SKIP LOCKED under a lease (lease_until), marked handled by Ack and
// kept for DedupWindow after. Put returns once PostgreSQL has committed the
// row. NOTIFY wakes waiting workers at once; Poll catches expired leases.
type Spool struct {
	pool   *pgxpool.Pool
	table  string
	notify string // the NOTIFY channel, quoted
	opt    SpoolOptions

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced on each notification
	listen  sync.Once
	stop    context.CancelFunc
	stopped chan struct{}
	cleaned time.Time
}

// NewSpool returns a Spool over pool, creating its table when missing.
func NewSpool(ctx context.Context, pool *pgxpool.Pool, opt SpoolOptions) (*Spool, error) {
	if pool == nil {
		return nil, errNilPool
	}
	if opt.Table == "" {
		opt.Table = DefaultSpoolTable
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.DedupWindow <= 0 {
		opt.DedupWindow = 24 * time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	t, err := tableName(opt.Table)
	if err != nil {
		return nil, err
	}
	_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
	id          text PRIMARY KEY,
	body        bytea,
	put_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	lease_until timestamptz,
	attempts    integer NOT NULL DEFAULT 0,
	handled_at  timestamptz
)`)
	if err == nil {
		_, err = pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS `+pgx.Identifier{opt.Table + "_due"}.Sanitize()+
			` ON `+t+` (put_at) WHERE handled_at IS NULL`)
	}
	if err != nil {
		return nil, fmt.Errorf("b24pg: create spool table: %w", err)
	}
	return &Spool{
		pool:    pool,
		table:   t,
		notify:  pgx.Identifier{opt.Table + "_put"}.Sanitize(),
		opt:     opt,
		wake:    make(chan struct{}),
		stopped: make(chan struct{}),
	}, nil
}

// Put stores one delivery under id and returns once it is committed. A
// second Put of an id already stored, or handled within DedupWindow, stores
// nothing and returns nil.
func (s *Spool) Put(ctx context.Context, id string, body []byte) error {
	if id == "" {
		return errors.New("b24pg: spool put: empty id")
	}
	if body == nil {
		body = []byte{}
	}
	_, err := s.pool.Exec(ctx, `WITH put AS (
	INSERT INTO `+s.table+` (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING 1
) SELECT pg_notify('`+s.notify[1:len(s.notify)-1]+`', '') FROM put`, id, body)
	if err != nil {
		return fmt.Errorf("b24pg: spool put: %w", err)
	}
	return nil
}

// Next blocks until a delivery is due (never handed out, or its lease ran
// out) and returns it leased to the caller.
func (s *Spool) Next(ctx context.Context) (string, []byte, error) {
	s.listen.Do(s.startListener)
	for {
		s.mu.Lock()
		wake := s.wake
		s.mu.Unlock()
		var id string
		var body []byte
		err := s.pool.QueryRow(ctx, `UPDATE `+s.table+` SET lease_until = clock_timestamp() + $1 * interval '1 microsecond', attempts = attempts + 1
WHERE id = (
	SELECT id FROM `+s.table+`
	WHERE handled_at IS NULL AND (lease_until IS NULL OR lease_until <= clock_timestamp())
	ORDER BY put_at, id
	LIMIT 1
	FOR UPDATE SKIP LOCKED
)
RETURNING id, body`, s.opt.Lease.Microseconds()).Scan(&id, &body)
		if err == nil {
			return id, body, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			if ctx.Err() != nil {
				return "", nil, ctx.Err()
			}
			return "", nil, fmt.Errorf("b24pg: spool next: %w", err)
		}
		s.cleanup(ctx)
		timer := time.NewTimer(s.opt.Poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", nil, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Ack marks id handled. Acking an id handled already does nothing; acking
// an id the spool does not hold is an error.
func (s *Spool) Ack(ctx context.Context, id string) error {
	var handled bool
	err := s.pool.QueryRow(ctx, `WITH upd AS (
	UPDATE `+s.table+` SET handled_at = clock_timestamp(), lease_until = NULL, body = NULL
	WHERE id = $1 AND handled_at IS NULL RETURNING 1
) SELECT EXISTS (SELECT 1 FROM upd) OR EXISTS (SELECT 1 FROM `+s.table+` WHERE id = $1)`, id).Scan(&handled)
	if err != nil {
		return fmt.Errorf("b24pg: spool ack: %w", err)
	}
	if !handled {
		return fmt.Errorf("b24pg: spool ack: delivery %q is not in the spool", id)
	}
	return nil
}

// Close stops the listener that wakes Next. It does not close the pool.
func (s *Spool) Close() {
	s.listen.Do(func() { close(s.stopped) }) // never started: nothing to stop
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	<-s.stopped
}

// cleanup deletes handled rows older than the dedup window, at most once a
// minute per Spool.
func (s *Spool) cleanup(ctx context.Context) {
	s.mu.Lock()
	due := time.Since(s.cleaned) > time.Minute
	if due {
		s.cleaned = time.Now()
	}
	s.mu.Unlock()
	if due {
		// Best effort: a failure leaves rows for the next round.
		s.pool.Exec(ctx, `DELETE FROM `+s.table+` WHERE handled_at < clock_timestamp() - $1 * interval '1 microsecond'`,
			s.opt.DedupWindow.Microseconds())
	}
}

// startListener holds one connection that LISTENs for Put's notifications
// and wakes every waiting Next; when the connection fails it reconnects,
// and meanwhile Next polls.
func (s *Spool) startListener() {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stop = cancel
	s.mu.Unlock()
	go func() {
		defer close(s.stopped)
		for ctx.Err() == nil {
			s.listenOnce(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(s.opt.Poll):
			}
		}
	}()
}

func (s *Spool) listenOnce(ctx context.Context) {
	// A connection of its own, outside the pool: a listener held in the
	// pool would starve Put, Next and Ack of connections.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+s.notify); err != nil {
		return
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		s.mu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		s.mu.Unlock()
	}
}
