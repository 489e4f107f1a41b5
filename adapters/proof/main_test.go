package proof

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	switch os.Getenv("B24_PROOF_WORKER") {
	case "":
		os.Exit(m.Run())
	case "events":
		os.Exit(eventsWorker())
	case "tokens":
		os.Exit(tokensWorker())
	default:
		fmt.Fprintln(os.Stderr, "proof: unknown B24_PROOF_WORKER")
		os.Exit(2)
	}
}

func gate(t *testing.T) {
	if os.Getenv("B24_PROOF") == "" {
		t.Skip("a fleet proof: set B24_PROOF=1 to run it (minutes, OS processes, the real servers)")
	}
}

// worker starts this test binary as a worker process with env added.
func worker(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func kill9(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

func pgPool(tb testing.TB) *pgxpool.Pool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, err := pgxpool.New(ctx, servers.DatabaseURL())
	if err == nil {
		err = p.Ping(ctx)
	}
	if err != nil {
		servers.Unavailable(tb, "PostgreSQL (DATABASE_URL)", err)
	}
	return p
}

func natsJS(tb testing.TB) (*nats.Conn, jetstream.JetStream) {
	nc, err := nats.Connect(servers.NATSURL(), nats.Timeout(2*time.Second))
	if err != nil {
		servers.Unavailable(tb, "NATS (NATS_URL)", err)
	}
	j, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, j
}

func redisClient(tb testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: servers.RedisAddr()})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		servers.Unavailable(tb, "Redis (REDIS_ADDR)", err)
	}
	return rdb
}
