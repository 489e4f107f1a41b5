package proof

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/b24nats"
	"github.com/b24gen/b24gen/adapters/b24pg"
	"github.com/b24gen/b24gen/adapters/b24redis"
	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

const (
	tokenProcs    = 8
	tokenCallers  = 32
	tokenExpiries = 5
	proofClientID = "local.proof.app"
	proofSecret   = "proof-client-secret-0123456789"
)

// openTokenStore opens the token store kind named name, for a process of
// its own.
func openTokenStore(ctx context.Context, kind, name string) (b24.SharedTokenStore, func(), error) {
	switch kind {
	case "redis":
		rdb := redis.NewClient(&redis.Options{Addr: servers.RedisAddr()})
		s, err := b24redis.NewTokenStore(rdb, b24redis.WithPrefix(name+":"))
		if err != nil {
			rdb.Close()
			return nil, nil, err
		}
		return s, func() { rdb.Close() }, nil
	case "nats":
		nc, err := nats.Connect(servers.NATSURL(), nats.Timeout(2*time.Second))
		if err != nil {
			return nil, nil, err
		}
		j, err := jetstream.New(nc)
		if err == nil {
			var kv jetstream.KeyValue
			kv, err = j.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name})
			if err == nil {
				s, err := b24nats.NewTokenStore(kv)
				if err == nil {
					return s, nc.Close, nil
				}
			}
		}
		nc.Close()
		return nil, nil, err
	case "memory":
		// The control: each process its own store, seeded with the
		// installed pair (B24_PROOF_SEED), so nothing is shared.
		s := b24.NewMemorySharedTokenStore()
		if seed := os.Getenv("B24_PROOF_SEED"); seed != "" {
			if _, _, err := s.Swap(ctx, os.Getenv("B24_PROOF_MEMBER"), 0, []byte(seed)); err != nil {
				return nil, nil, err
			}
		}
		return s, func() {}, nil
	case "pg":
		p, err := pgxpool.New(ctx, servers.DatabaseURL())
		if err != nil {
			return nil, nil, err
		}
		s, err := b24pg.NewTokenStore(ctx, p, name)
		if err != nil {
			p.Close()
			return nil, nil, err
		}
		return s, p.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown token store %q", kind)
}

// tokenReport is what a tokens worker prints when stdin closes.
type tokenReport struct {
	Calls  int64    `json:"calls"`
	Failed int64    `json:"failed"`
	Errors []string `json:"errors"`
}

// tokensWorker is one process: an App on the shared store, 32 callers
// calling the portal in a loop until stdin closes, then a report on stdout.
func tokensWorker() int {
	ctx := context.Background()
	store, closeStore, err := openTokenStore(ctx, os.Getenv("B24_PROOF_STORE"), os.Getenv("B24_PROOF_NAME"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: store:", err)
		return 1
	}
	defer closeStore()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := b24.NewApp(proofClientID, proofSecret, b24.WithAuthServer(os.Getenv("B24_PROOF_AUTH")),
		b24.WithSharedTokenStore(store), b24.WithAppLogger(quiet),
		b24.WithClientOptions(b24.WithoutRateLimit(), b24.WithInsecureHTTP(), b24.WithLogger(quiet)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: app:", err)
		return 1
	}
	client, err := app.Client(ctx, os.Getenv("B24_PROOF_MEMBER"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: client:", err)
		return 1
	}
	var stop atomic.Bool
	var calls, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for range tokenCallers {
		wg.Go(func() {
			for !stop.Load() {
				var out map[string]any
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := client.CallMethod(cctx, "user.current", nil, &out)
				cancel()
				calls.Add(1)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, err.Error())
					}
					mu.Unlock()
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	stop.Store(true)
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(tokenReport{Calls: calls.Load(), Failed: failed.Load(), Errors: errs})
	return 0
}

// TestTokenRenewalProof: 8 processes × 32 callers share one portal's token
// through each store in turn (Redis, NATS KV, PostgreSQL) while the
// authorization server (b24test) expires the access token 5 times: exactly
// 5 renewals, no refresh token presented twice, no call failed. A control
// run ("memory": each process its own store) shows what the sharing
// prevents.
func TestTokenRenewalProof(t *testing.T) {
	gate(t)
	for _, kind := range []string{"redis", "nats", "pg", "memory"} {
		t.Run(kind, func(t *testing.T) { tokenProof(t, kind) })
	}
}

func tokenProof(t *testing.T, kind string) {
	ctx := context.Background()
	name := servers.Unique("b24proof_tokens")
	switch kind {
	case "redis":
		redisClient(t).Close()
	case "nats":
		name = strings.ToUpper(name)
		nc, j := natsJS(t)
		defer nc.Close()
		defer j.DeleteKeyValue(ctx, name)
	case "pg":
		db := pgPool(t)
		defer db.Close()
		defer db.Exec(ctx, "DROP TABLE IF EXISTS "+name)
	}
	store, closeStore, err := openTokenStore(ctx, kind, name)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()

	portal := b24test.Start()
	defer portal.Close()
	portal.Answer("user.current", map[string]any{"ID": "1", "NAME": "Proof"})
	auth := portal.RegisterApp(proofClientID, proofSecret)
	var useMu sync.Mutex
	refreshUses := map[string]int{}
	auth.OnTokenUse(func(kind, token string) {
		if kind == "refresh" {
			useMu.Lock()
			refreshUses[token]++
			useMu.Unlock()
		}
	})
	// The install, as the application's install handler does it (its
	// check renews the delivered pair once).
	app, err := b24.NewApp(proofClientID, proofSecret, b24.WithAuthServer(auth.URL()), b24.WithSharedTokenStore(store),
		b24.WithAppLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), b24.WithClientOptions(b24.WithInsecureHTTP()))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Install(ctx, auth.Issue()); err != nil {
		t.Fatal(err)
	}
	base := auth.Renewals()
	var seed string
	if kind == "memory" {
		data, _, err := store.Load(ctx, auth.MemberID())
		if err != nil {
			t.Fatal(err)
		}
		seed = string(data)
	}

	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	procs := make([]proc, tokenProcs)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "B24_PROOF_WORKER=tokens", "B24_PROOF_STORE="+kind, "B24_PROOF_NAME="+name,
			"B24_PROOF_AUTH="+auth.URL(), "B24_PROOF_MEMBER="+auth.MemberID(), "B24_PROOF_SEED="+seed)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		outPipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer kill9(cmd)
		procs[i] = proc{cmd, in, bufio.NewReader(outPipe)}
	}
	for i, p := range procs {
		line, err := p.out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			t.Fatalf("worker %d: %q, %v", i, line, err)
		}
	}
	start := time.Now()
	time.Sleep(time.Second)
	for range tokenExpiries {
		auth.ExpireAll()
		time.Sleep(1500 * time.Millisecond)
	}
	var calls, failed int64
	var errs []string
	for i, p := range procs {
		p.stdin.Close()
		var rep tokenReport
		if err := json.NewDecoder(p.out).Decode(&rep); err != nil {
			t.Fatalf("worker %d report: %v", i, err)
		}
		p.cmd.Wait()
		calls += rep.Calls
		failed += rep.Failed
		errs = append(errs, rep.Errors...)
	}
	el := time.Since(start)
	renewals := auth.Renewals() - base
	useMu.Lock()
	twice, most := 0, 0
	for _, n := range refreshUses {
		if n > 1 {
			twice++
		}
		most = max(most, n)
	}
	presented := len(refreshUses)
	useMu.Unlock()
	t.Logf("%s: %d processes × %d callers, %d expiries in %v: %d calls, %d failed; renewals %d (after the install's); refresh tokens presented %d (install included), presented more than once %d (the most: %d times)",
		kind, tokenProcs, tokenCallers, tokenExpiries, el.Round(time.Millisecond), calls, failed, renewals, presented, twice, most)
	if kind == "memory" {
		// The control must show what the shared stores prevent.
		if renewals == tokenExpiries && twice == 0 && failed == 0 {
			t.Error("control: processes with a store each renewed once per expiry between them; the proof would not tell")
		}
		if len(errs) > 0 {
			t.Logf("control: first error: %s", errs[0])
		}
		return
	}
	if renewals != tokenExpiries || twice != 0 || failed != 0 || calls == 0 {
		t.Errorf("want %d renewals, no refresh token twice, no failed call; errors: %q", tokenExpiries, errs)
	}
}
