package proof

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/b24nats"
	"github.com/b24gen/b24gen/adapters/b24pg"
	"github.com/b24gen/b24gen/adapters/internal/receivertest"
	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	proofWorkers = 4 // worker processes
	proofLease   = 2 * time.Second
)

// proofDeliveries distinct deliveries (B24_PROOF_EVENTS, 10,000), a tenth
// of them sent a second time.
var proofDeliveries, proofRepeats = func() (int, int) {
	n, err := strconv.Atoi(os.Getenv("B24_PROOF_EVENTS"))
	if err != nil || n <= 0 {
		n = 10000
	}
	return n, n / 10
}()

// openSpool opens the spool kind ("nats" or "pg") named name, for a
// process of its own.
func openSpool(ctx context.Context, kind, name string, lease time.Duration) (b24.Spool, func(), error) {
	switch kind {
	case "nats":
		nc, err := nats.Connect(servers.NATSURL(), nats.Timeout(2*time.Second))
		if err != nil {
			return nil, nil, err
		}
		j, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		s, err := b24nats.NewSpool(ctx, j, b24nats.SpoolOptions{Stream: name, Lease: lease})
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		return s, nc.Close, nil
	case "pg":
		p, err := pgxpool.New(ctx, servers.DatabaseURL())
		if err != nil {
			return nil, nil, err
		}
		s, err := b24pg.NewSpool(ctx, p, b24pg.SpoolOptions{Table: name, Lease: lease, Poll: 200 * time.Millisecond})
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); p.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown spool %q", kind)
}

// eventsWorker is one worker process: WorkSpool with a handler whose effect
// is a row keyed by DeliveryID, written in one transaction (the dedup in
// effect a handler is advised to do), and a "started" row written before
// it, so the parent can count the hand-outs. It runs until killed.
func eventsWorker() int {
	ctx := context.Background()
	kind, name, effects := os.Getenv("B24_PROOF_SPOOL"), os.Getenv("B24_PROOF_NAME"), os.Getenv("B24_PROOF_EFFECTS")
	spool, closeSpool, err := openSpool(ctx, kind, name, proofLease)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: spool:", err)
		return 1
	}
	defer closeSpool()
	db, err := pgxpool.New(ctx, servers.DatabaseURL())
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: db:", err)
		return 1
	}
	pid := os.Getpid()
	r := b24.NewReceiver(receivertest.AppToken, b24.WithReceiverLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	b24.HandleTyped(r, "ONCRMDEALUPDATE", func(ctx context.Context, e *receivertest.DealUpdate) error {
		id := b24.DeliveryID(ctx)
		if _, err := db.Exec(ctx, `INSERT INTO `+effects+`_started (delivery, pid) VALUES ($1, $2)`, id, pid); err != nil {
			return err
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // the work: a kill may land here
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		tag, err := tx.Exec(ctx, `INSERT INTO `+effects+` (delivery, deal, pid) VALUES ($1, $2, $3) ON CONFLICT (delivery) DO NOTHING`,
			id, int64(e.Data.Fields.ID), pid)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Handed out again after the effect: a worker died between its
			// commit and its Ack. Skip, and say so.
			if _, err := tx.Exec(ctx, `INSERT INTO `+effects+`_skipped (delivery, pid) VALUES ($1, $2)`, id, pid); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
	r.WorkSpool(ctx, spool)
	return 0
}

// putWatch records, per request, whether the spool's Put had returned when
// the receiver wrote its status.
type putWatch struct{ returned atomic.Bool }

type watchKey struct{}

type watchingSpool struct{ b24.Spool }

func (s watchingSpool) Put(ctx context.Context, id string, body []byte) error {
	err := s.Spool.Put(ctx, id, body)
	if w, ok := ctx.Value(watchKey{}).(*putWatch); ok && err == nil {
		w.returned.Store(true)
	}
	return err
}

type watchingWriter struct {
	http.ResponseWriter
	w     *putWatch
	early *atomic.Int64
}

func (ww watchingWriter) WriteHeader(code int) {
	if code == http.StatusOK && !ww.w.returned.Load() {
		ww.early.Add(1)
	}
	ww.ResponseWriter.WriteHeader(code)
}

// TestEventsProof: 10,000 deliveries (and 1,000 repeats) through the
// receiver over HTTP with each real spool, 4 worker processes, one of them
// killed with SIGKILL every 150–450 ms and restarted. Every event must be
// handled once in effect, every 200 must follow a returned Put, and a spool
// that is down must answer 503.
func TestEventsProof(t *testing.T) {
	gate(t)
	for _, kind := range []string{"nats", "pg"} {
		t.Run(kind, func(t *testing.T) { eventsProof(t, kind) })
	}
}

func eventsProof(t *testing.T, kind string) {
	ctx := context.Background()
	db := pgPool(t)
	defer db.Close()
	name := servers.Unique("b24proof_spool")
	if kind == "nats" {
		name = strings.ToUpper(name)
		_, j := natsJS(t)
		defer j.DeleteStream(ctx, name)
	} else {
		defer db.Exec(ctx, "DROP TABLE IF EXISTS "+name)
	}
	effects := servers.Unique("b24proof_effects")
	for _, q := range []string{
		`CREATE TABLE ` + effects + ` (delivery text PRIMARY KEY, deal bigint NOT NULL, pid int NOT NULL, at timestamptz DEFAULT clock_timestamp())`,
		`CREATE TABLE ` + effects + `_started (delivery text NOT NULL, pid int NOT NULL)`,
		`CREATE TABLE ` + effects + `_skipped (delivery text NOT NULL, pid int NOT NULL)`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer db.Exec(ctx, "DROP TABLE IF EXISTS "+effects+", "+effects+"_started, "+effects+"_skipped")

	spool, closeSpool, err := openSpool(ctx, kind, name, proofLease)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSpool()
	var early atomic.Int64
	recv := b24.NewReceiver(receivertest.AppToken, b24.WithSpool(watchingSpool{spool}), b24.WithReceiverLogger(receivertest.Quiet()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		pw := &putWatch{}
		recv.ServeHTTP(watchingWriter{w, pw, &early}, req.WithContext(context.WithValue(req.Context(), watchKey{}, pw)))
	}))
	defer srv.Close()

	env := []string{"B24_PROOF_WORKER=events", "B24_PROOF_SPOOL=" + kind, "B24_PROOF_NAME=" + name, "B24_PROOF_EFFECTS=" + effects}
	var mu sync.Mutex
	workers := make([]*exec.Cmd, proofWorkers)
	for i := range workers {
		workers[i] = worker(t, env...)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range workers {
			kill9(w)
		}
	}()
	stopKiller := make(chan struct{})
	killerDone := make(chan struct{})
	var kills int
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-stopKiller:
				return
			case <-time.After(time.Duration(150+rand.IntN(300)) * time.Millisecond):
			}
			mu.Lock()
			i := rand.IntN(len(workers))
			kill9(workers[i])
			workers[i] = worker(t, env...)
			kills++
			mu.Unlock()
		}
	}()

	// The portal: 8 senders, each delivery once, then 1,000 of them again.
	start := time.Now()
	order := make([]int, 0, proofDeliveries+proofRepeats)
	for i := range proofDeliveries {
		order = append(order, i)
	}
	for range proofRepeats {
		order = append(order, rand.IntN(proofDeliveries))
	}
	var statusMu sync.Mutex
	statuses := map[int]int{}
	ok200 := map[int]bool{}
	jobs := make(chan int)
	var wg sync.WaitGroup
	client := srv.Client()
	for range 8 {
		wg.Go(func() {
			for deal := range jobs {
				resp, err := client.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(receivertest.Form(deal)))
				code := -1
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				statusMu.Lock()
				statuses[code]++
				if code == http.StatusOK {
					ok200[deal] = true
				}
				statusMu.Unlock()
			}
		})
	}
	for _, deal := range order {
		jobs <- deal
	}
	close(jobs)
	wg.Wait()
	sent := time.Since(start)

	// Wait until every answered delivery has its effect, then a lease more.
	count := func(q string) int {
		var n int
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Minute)
	for count(`SELECT count(*) FROM `+effects) < len(ok200) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	handledIn := time.Since(start)
	close(stopKiller)
	<-killerDone
	time.Sleep(2*proofLease + time.Second) // anything still leased comes back and is skipped

	effectRows := count(`SELECT count(*) FROM ` + effects)
	deals := count(`SELECT count(DISTINCT deal) FROM ` + effects)
	started := count(`SELECT count(*) FROM ` + effects + `_started`)
	skipped := count(`SELECT count(*) FROM ` + effects + `_skipped`)
	handoutsAgain := started - effectRows
	pids := count(`SELECT count(DISTINCT pid) FROM ` + effects)
	t.Logf("%s: %d HTTP deliveries (%d distinct, %d repeats) in %v; answers %v; 200 before the put returned: %d",
		kind, len(order), proofDeliveries, proofRepeats, sent.Round(time.Millisecond), statuses, early.Load())
	t.Logf("%s: %d workers, %d kill -9 (one every 150-450 ms); all effects in %v; effects %d for %d distinct deals, by %d processes; handler starts %d (%d hand-outs beyond the first), effect already there and skipped %d",
		kind, proofWorkers, kills, handledIn.Round(time.Millisecond), effectRows, deals, pids, started, handoutsAgain, skipped)
	if statuses[http.StatusOK] != len(order) {
		t.Errorf("answers %v: want every delivery 200", statuses)
	}
	if early.Load() != 0 {
		t.Errorf("%d deliveries answered 200 before their Put returned", early.Load())
	}
	if effectRows != proofDeliveries || deals != proofDeliveries {
		t.Errorf("%d effects for %d deals, want %d each: an event was lost or handled under two delivery ids", effectRows, deals, proofDeliveries)
	}
	var missing []int
	rows, err := db.Query(ctx, `SELECT g FROM generate_series(0, $1) g WHERE g NOT IN (SELECT deal FROM `+effects+`)`, proofDeliveries-1)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g int
		rows.Scan(&g)
		missing = append(missing, g)
	}
	rows.Close()
	if len(missing) > 0 {
		t.Errorf("deals never handled: %v", missing[:min(len(missing), 20)])
	}

	// The spool down: what the portal gets.
	down := downSpool(t, kind)
	var logs strings.Builder
	var logMu sync.Mutex
	dr := b24.NewReceiver(receivertest.AppToken, b24.WithSpool(down), b24.WithHandlerTimeout(3*time.Second),
		b24.WithReceiverLogger(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logs.Write(p)
		}), nil))))
	var handledDown atomic.Int32
	dr.Handle("ONCRMDEALUPDATE", func(context.Context, *b24.Event) error { handledDown.Add(1); return nil })
	downCodes := map[int]int{}
	var slowest time.Duration
	var downMu sync.Mutex
	var downWG sync.WaitGroup
	for i := range 20 {
		downWG.Go(func() {
			s := time.Now()
			code := receivertest.Deliver(dr, receivertest.Form(900000+i))
			downMu.Lock()
			downCodes[code]++
			slowest = max(slowest, time.Since(s))
			downMu.Unlock()
		})
	}
	downWG.Wait()
	logMu.Lock()
	lines := strings.Count(logs.String(), "spool put failed")
	leaked := strings.Contains(logs.String(), receivertest.AppToken) || strings.Contains(logs.String(), receivertest.AccessToken)
	logMu.Unlock()
	t.Logf("%s down: 20 deliveries answered %v, slowest %v, %d log lines \"spool put failed\", handler calls %d, token in log: %t",
		kind, downCodes, slowest.Round(time.Millisecond), lines, handledDown.Load(), leaked)
	if downCodes[http.StatusServiceUnavailable] != 20 || handledDown.Load() != 0 || lines != 20 || leaked {
		t.Errorf("spool down: answers %v, handled %d, %d log lines, leaked %t", downCodes, handledDown.Load(), lines, leaked)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// downSpool is a real spool of kind whose server goes away after it was
// opened: it talks through a TCP proxy that is then shut (listener and
// connections), as when the server stops or the network drops.
func downSpool(t *testing.T, kind string) b24.Spool {
	ctx := context.Background()
	target := servers.HostPort(servers.NATSURL(), "4222")
	if kind == "pg" {
		target = servers.HostPort(servers.DatabaseURL(), "5432")
	}
	px := newProxy(t, target)
	var s b24.Spool
	switch kind {
	case "nats":
		nc, err := nats.Connect("nats://"+px.addr(), nats.Timeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		j, _ := jetstream.New(nc)
		name := strings.ToUpper(servers.Unique("b24proof_down"))
		ns, err := b24nats.NewSpool(ctx, j, b24nats.SpoolOptions{Stream: name})
		if err != nil {
			t.Fatal(err)
		}
		_, real := natsJS(t)
		t.Cleanup(func() { real.DeleteStream(ctx, name) })
		s = ns
	default:
		u, err := url.Parse(servers.DatabaseURL())
		if err != nil {
			t.Fatal(err)
		}
		u.Host = px.addr() // and no fallback to the real address
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		cfg, err := pgxpool.ParseConfig(u.String())
		if err != nil {
			t.Fatal(err)
		}
		for _, fb := range cfg.ConnConfig.Fallbacks {
			if fb.Host != "127.0.0.1" || strconv.Itoa(int(fb.Port)) != u.Port() {
				t.Fatalf("a fallback to %s:%d would bypass the proxy", fb.Host, fb.Port)
			}
		}
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		name := servers.Unique("b24proof_down")
		ps, err := b24pg.NewSpool(ctx, p, b24pg.SpoolOptions{Table: name})
		if err != nil {
			t.Fatal(err)
		}
		db := pgPool(t)
		t.Cleanup(func() { db.Exec(ctx, "DROP TABLE IF EXISTS "+name); db.Close() })
		s = ps
	}
	px.shut()
	return s
}

// proxy forwards TCP connections to a server until shut.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			px.mu.Lock()
			px.conns = append(px.conns, c, u)
			px.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(px.shut)
	return px
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// shut closes the listener and every connection: the server is gone.
func (p *proxy) shut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
