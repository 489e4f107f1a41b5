package b24redis

// The proofs of issue 22 that need a real portal: several OS processes
// export from one ../shared/tools/portal, with and without the shared
// bucket. They take minutes, so they run only with B24_PROOF=1:
//
//	B24_PROOF=1 go test -run TestProof -v -timeout 20m ./b24redis
//
// B24_PORTAL names the portal tool's folder (default
// ../../../shared/tools/portal, the project's shared tools beside the
// repository); the proof builds it into a temporary folder and starts a
// fresh one for each run, so its counters start at zero.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/crm"
	"github.com/redis/go-redis/v9"
)

const (
	proofWorkers = 4
	proofRows    = 100_000
	proofSecret  = "s3cr3t"
)

// proofOn skips unless B24_PROOF=1 (and never inside a worker process).
func proofOn(t *testing.T) {
	t.Helper()
	if os.Getenv("B24_PROOF") != "1" {
		t.Skip("a proof against ../shared/tools/portal that takes minutes: set B24_PROOF=1 to run it")
	}
	if os.Getenv("B24_PROOF_WORKER") != "" {
		t.Skip("inside a worker")
	}
}

// buildPortal builds the portal tool once per test binary.
var (
	portalOnce sync.Once
	portalBin  string
	portalErr  error
)

// TestMain removes the portal built for the proofs.
func TestMain(m *testing.M) {
	code := m.Run()
	if portalBin != "" {
		os.RemoveAll(filepath.Dir(portalBin))
	}
	os.Exit(code)
}

func buildPortal(t *testing.T) string {
	t.Helper()
	portalOnce.Do(func() {
		src := os.Getenv("B24_PORTAL")
		if src == "" {
			src = "../../../shared/tools/portal"
		}
		src, portalErr = filepath.Abs(src)
		if portalErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "b24proof")
		if err != nil {
			portalErr = err
			return
		}
		portalBin = filepath.Join(dir, "portal")
		cmd := exec.Command("go", "build", "-o", portalBin, ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			portalErr = fmt.Errorf("building the portal in %s: %v\n%s", src, err, out)
		}
	})
	if portalErr != nil {
		t.Fatal(portalErr)
	}
	return portalBin
}

// proofPortal is a running portal tool.
type proofPortal struct {
	base string // http://127.0.0.1:PORT
}

// startPortal starts the portal tool with args; it stops when the test ends.
func startPortal(t *testing.T, args ...string) *proofPortal {
	t.Helper()
	bin := buildPortal(t)
	cmd := exec.Command(bin, append([]string{"-stdin-quit"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
		t.Logf("%s", strings.TrimSpace(stderr.String()))
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the portal did not start: %v %s", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("the portal said %q", line)
	}
	go io.Copy(io.Discard, stdout)
	return &proofPortal{base: base}
}

func (p *proofPortal) webhook() string { return p.base + "/rest/1/" + proofSecret + "/" }

// stats reads /_portal/stats.
func (p *proofPortal) stats(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.base + "/_portal/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]float64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// workerReport is what a worker process prints on its last line.
type workerReport struct {
	Rows, Distinct, Min, Max int
	Err                      string
	Start, End               int64   // unix nanoseconds
	Sent                     []int64 // unix nanoseconds of each request the portal served (HTTP 200)
	Refused                  int     // 503 answers met
	OperationLimits          int     // 429 answers met (top level; batch commands count in the portal's stats)
}

const reportPrefix = "PROOF-REPORT "

// runWorkers starts n copies of this test binary as worker processes, each
// running TestProofWorker with env, and returns their reports.
func runWorkers(t *testing.T, n int, env ...string) []workerReport {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	reports := make([]workerReport, n)
	var wg sync.WaitGroup
	for i := range n {
		cmd := exec.Command(self, "-test.run=^TestProofWorker$", "-test.v", "-test.timeout=15m")
		cmd.Env = append(os.Environ(), append(env, "B24_PROOF_WORKER=1")...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(nil, 16<<20)
			found := false
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), reportPrefix); ok {
					found = json.Unmarshal([]byte(rest), &reports[i]) == nil
				}
			}
			if err := cmd.Wait(); err != nil || !found {
				reports[i].Err = fmt.Sprintf("worker %d: %v (report found: %v) %s", i, err, found, stderr.String())
			}
		})
	}
	wg.Wait()
	return reports
}

// TestProofWorker is one worker process: it exports every deal from
// $B24_PROOF_WEBHOOK, through the Redis bucket when $B24_PROOF_PREFIX is
// set, and prints its report. Outside a worker it skips.
func TestProofWorker(t *testing.T) {
	if os.Getenv("B24_PROOF_WORKER") == "" {
		t.Skip("run by the proofs as a separate process")
	}
	var rep workerReport
	var mu sync.Mutex
	opts := []b24.Option{
		b24.WithLogger(slog.New(slog.DiscardHandler)),
		b24.WithCallTimeout(10 * time.Minute),
		b24.WithAttemptHook(func(a b24.Attempt) {
			mu.Lock()
			defer mu.Unlock()
			switch a.Status {
			case http.StatusOK:
				rep.Sent = append(rep.Sent, a.Start.UnixNano())
			case http.StatusServiceUnavailable:
				rep.Refused++
			case http.StatusTooManyRequests:
				rep.OperationLimits++
			}
		}),
	}
	if p := os.Getenv("B24_PROOF_PREFIX"); p != "" {
		rdb := redis.NewClient(&redis.Options{Addr: servers.RedisAddr()})
		defer rdb.Close()
		bucket, err := NewBucket(rdb, WithPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		holds, _ := NewHolds(rdb, WithPrefix(p))
		opts = append(opts, b24.WithSharedBucket(bucket), b24.WithSharedHolds(holds))
	}
	if s := os.Getenv("B24_PROOF_OPLIMIT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, b24.WithOperatingLimit(d))
	}
	c, err := b24.NewWebhookClient(os.Getenv("B24_PROOF_WEBHOOK"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	walk := crm.DealListExport
	if os.Getenv("B24_PROOF_WALK") == "all" {
		walk = crm.DealListAll
	}
	seen := map[int]bool{}
	rep.Start = time.Now().UnixNano()
	rep.Min = -1
	for d, err := range walk(context.Background(), c, crm.DealListParams{Select: []string{"ID", "TITLE"}}) {
		if err != nil {
			rep.Err = err.Error()
			break
		}
		id := int(d.ID)
		rep.Rows++
		seen[id] = true
		if rep.Min < 0 || id < rep.Min {
			rep.Min = id
		}
		rep.Max = max(rep.Max, id)
	}
	rep.End = time.Now().UnixNano()
	rep.Distinct = len(seen)
	mu.Lock()
	out, _ := json.Marshal(rep)
	mu.Unlock()
	fmt.Println(reportPrefix + string(out))
}

// exact reports whether a worker read every deal 1..rows exactly once.
func (r workerReport) exact(rows int) bool {
	return r.Err == "" && r.Rows == rows && r.Distinct == rows && r.Min == 1 && r.Max == rows
}

// TestProofSharedBucket: 4 processes export 100,000 deals each from one
// portal with the standard limits (50 burst, 2 a second). Through the
// Redis bucket the portal refuses nothing and the fleet keeps its bucket
// draining: the requests after the burst go at 95% of the drain rate or
// more. Without it every export still finishes exact (QUERY_LIMIT_EXCEEDED
// waits for the drain); the 503s and the time are reported.
func TestProofSharedBucket(t *testing.T) {
	proofOn(t)
	rdb := client(t)
	const burst, rate = 50, 2.0

	t.Run("redis", func(t *testing.T) {
		p := startPortal(t, "-rows", strconv.Itoa(proofRows), "-burst", "50", "-rate", "2")
		start := time.Now()
		reps := runWorkers(t, proofWorkers, "B24_PROOF_WEBHOOK="+p.webhook(), "B24_PROOF_PREFIX="+prefix(t, rdb))
		elapsed := time.Since(start)
		st := p.stats(t)
		var sent []int64
		for i, r := range reps {
			if !r.exact(proofRows) {
				t.Errorf("worker %d: %d rows (%d distinct, ids %d..%d), error %q", i, r.Rows, r.Distinct, r.Min, r.Max, r.Err)
			}
			sent = append(sent, r.Sent...)
		}
		slices.Sort(sent)
		if st["refused_503"] != 0 {
			t.Errorf("the portal refused %v requests through the shared bucket, want 0", st["refused_503"])
		}
		if len(sent) <= burst+1 {
			t.Fatalf("%d requests: no steady state to measure", len(sent))
		}
		after := float64(len(sent)-burst) / (float64(sent[len(sent)-1]-sent[burst-1]) / 1e9)
		t.Logf("through Redis: %d processes, %v requests, %v × 503, %.3f req/s after the burst (%.1f%% of the %.0f/s drain), %.1f s",
			proofWorkers, st["requests"], st["refused_503"], after, 100*after/rate, rate, elapsed.Seconds())
		if after < 0.95*rate {
			t.Errorf("%.3f requests/s after the burst, want at least 95%% of %v", after, rate)
		}
	})

	t.Run("alone", func(t *testing.T) {
		p := startPortal(t, "-rows", strconv.Itoa(proofRows), "-burst", "50", "-rate", "2")
		start := time.Now()
		reps := runWorkers(t, proofWorkers, "B24_PROOF_WEBHOOK="+p.webhook())
		elapsed := time.Since(start)
		st := p.stats(t)
		for i, r := range reps {
			if !r.exact(proofRows) {
				t.Errorf("worker %d: %d rows (%d distinct, ids %d..%d), error %q", i, r.Rows, r.Distinct, r.Min, r.Max, r.Err)
			}
		}
		t.Logf("without a shared bucket: %d processes, %v requests, %v × 503, every export exact: %v, %.1f s",
			proofWorkers, st["requests"], st["refused_503"], !t.Failed(), elapsed.Seconds())
	})
}

// TestProofOperatingTime: on a portal that enforces a scaled operating-time
// limit (4 s of crm.deal.list in a 30 s window of 3 s baskets, 5 ms a
// command), an export and a list of 60,000 deals (about 1.5 budgets) finish
// exact, with no error and no ban, within 1.1 times the floor the budget
// sets: one window, plus the work beyond the first budget. The same with a
// 30 s ban for a method that goes over. Each walk runs in a process of its
// own against a fresh portal; the 429s met are reported.
func TestProofOperatingTime(t *testing.T) {
	proofOn(t)
	const (
		rows   = 60_000
		cost   = 5 * time.Millisecond
		limit  = 4 * time.Second
		window = 30 * time.Second
	)
	for _, ban := range []string{"", "30s"} {
		for _, walk := range []string{"export", "all"} {
			name := walk
			if ban != "" {
				name += "-ban"
			}
			t.Run(name, func(t *testing.T) {
				args := []string{"-rows", strconv.Itoa(rows), "-cost", cost.String(), "-op-limit", limit.String(),
					"-op-window", window.String(), "-op-basket", "3s"}
				if ban != "" {
					args = append(args, "-op-ban", ban)
				}
				p := startPortal(t, args...)
				start := time.Now()
				reps := runWorkers(t, 1, "B24_PROOF_WEBHOOK="+p.webhook(), "B24_PROOF_WALK="+walk,
					"B24_PROOF_OPLIMIT="+limit.String())
				elapsed := time.Since(start)
				st := p.stats(t)
				r := reps[0]
				if !r.exact(rows) {
					t.Errorf("%d rows (%d distinct, ids %d..%d), error %q", r.Rows, r.Distinct, r.Min, r.Max, r.Err)
				}
				// The work is the portal's commands at their cost; the floor
				// is one window plus what exceeds the first budget.
				work := time.Duration(st["commands"]) * cost
				floor := window + max(work-limit, 0)
				t.Logf("%s: %d rows exact %v, %v commands (%.1f s of work), %v requests, %v × 429 (%d at the top level), %v bans, %.1f s (floor %.1f s, %.2f×)",
					name, r.Rows, r.exact(rows), st["commands"], work.Seconds(), st["requests"], st["refused_429"], r.OperationLimits, st["bans"],
					elapsed.Seconds(), floor.Seconds(), elapsed.Seconds()/floor.Seconds())
				if st["bans"] != 0 {
					t.Errorf("%v bans", st["bans"])
				}
				if elapsed > floor*11/10 {
					t.Errorf("%.1f s, more than 1.1 × the floor of %.1f s", elapsed.Seconds(), floor.Seconds())
				}
			})
		}
	}
}

// TestProofOperatingTimeFleet: two processes export the same 30,000 deals
// at once through one webhook (one operating-time budget: 4 s in 30 s, the
// two walks need 1.5 of it), sharing the bucket and the holds in Redis.
// Each sees the other's work in the operating time the answers report, and
// a hold one sets stops the other. Both finish exact; the 429s, bans and
// the time are reported.
func TestProofOperatingTimeFleet(t *testing.T) {
	proofOn(t)
	rdb := client(t)
	const rows = 30_000
	for _, ban := range []string{"", "30s"} {
		t.Run("ban="+ban, func(t *testing.T) {
			args := []string{"-rows", strconv.Itoa(rows), "-cost", "5ms", "-op-limit", "4s", "-op-window", "30s", "-op-basket", "3s"}
			if ban != "" {
				args = append(args, "-op-ban", ban)
			}
			p := startPortal(t, args...)
			start := time.Now()
			reps := runWorkers(t, 2, "B24_PROOF_WEBHOOK="+p.webhook(), "B24_PROOF_OPLIMIT=4s", "B24_PROOF_PREFIX="+prefix(t, rdb))
			elapsed := time.Since(start)
			st := p.stats(t)
			for i, r := range reps {
				if !r.exact(rows) {
					t.Errorf("worker %d: %d rows (%d distinct, ids %d..%d), error %q", i, r.Rows, r.Distinct, r.Min, r.Max, r.Err)
				}
			}
			work := time.Duration(st["commands"]) * 5 * time.Millisecond
			t.Logf("fleet of 2, ban %q: every export exact %v, %v commands (%.1f s of work), %v requests, %v × 429, %v bans, %.1f s (floor %.1f s)",
				ban, !t.Failed(), st["commands"], work.Seconds(), st["requests"], st["refused_429"], st["bans"], elapsed.Seconds(), (30*time.Second + max(work-4*time.Second, 0)).Seconds())
		})
	}
}
