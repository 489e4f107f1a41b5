// Package storetest holds the semantics tests that every adapter's token
// store and spool must pass, written once against local copies of the b24
// runtime's interfaces (this package imports no b24, like the adapters; each
// adapter's own tests check the real interfaces at compile time).
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TokenStore is b24.SharedTokenStore.
type TokenStore interface {
	Load(ctx context.Context, memberID string) (data []byte, version int64, err error)
	Swap(ctx context.Context, memberID string, old int64, data []byte) (version int64, ok bool, err error)
	Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (ok bool, err error)
	Release(ctx context.Context, memberID, holder string) error
	Delete(ctx context.Context, memberID string) error
}

// Spool is b24.Spool.
type Spool interface {
	Put(ctx context.Context, id string, body []byte) error
	Next(ctx context.Context) (id string, body []byte, err error)
	Ack(ctx context.Context, id string) error
}

// TokenStoreSemantics runs the token store's contract on s.
func TokenStoreSemantics(t *testing.T, s TokenStore) {
	ctx := context.Background()
	t.Run("versions", func(t *testing.T) {
		const m = "member-versions"
		data, v, err := s.Load(ctx, m)
		if err != nil || v != 0 || data != nil {
			t.Fatalf("Load of nothing = %q, %d, %v; want nil, 0, nil", data, v, err)
		}
		v1, ok, err := s.Swap(ctx, m, 0, []byte("one"))
		if err != nil || !ok || v1 == 0 {
			t.Fatalf("first Swap = %d, %v, %v; want a version, true, nil", v1, ok, err)
		}
		if _, ok, err := s.Swap(ctx, m, 0, []byte("lost")); err != nil || ok {
			t.Fatalf("second Swap from 0 = %v, %v; want false, nil", ok, err)
		}
		v2, ok, err := s.Swap(ctx, m, v1, []byte("two"))
		if err != nil || !ok || v2 == v1 {
			t.Fatalf("Swap from %d = %d, %v, %v; want a new version", v1, v2, ok, err)
		}
		if _, ok, err := s.Swap(ctx, m, v1, []byte("stale")); err != nil || ok {
			t.Fatalf("stale Swap from %d = %v, %v; want false, nil", v1, ok, err)
		}
		data, v, err = s.Load(ctx, m)
		if err != nil || v != v2 || string(data) != "two" {
			t.Fatalf("Load = %q, %d, %v; want \"two\", %d", data, v, err, v2)
		}
		// Delete forgets the token, and a swap from before the delete
		// cannot bring it back.
		if err := s.Delete(ctx, m); err != nil {
			t.Fatal(err)
		}
		if data, v, err := s.Load(ctx, m); err != nil || v != 0 || data != nil {
			t.Fatalf("Load after Delete = %q, %d, %v; want nil, 0, nil", data, v, err)
		}
		if _, ok, err := s.Swap(ctx, m, v2, []byte("zombie")); err != nil || ok {
			t.Fatalf("Swap from the deleted version = %v, %v; want false, nil", ok, err)
		}
		v3, ok, err := s.Swap(ctx, m, 0, []byte("reinstalled"))
		if err != nil || !ok || v3 == v2 || v3 == v1 {
			t.Fatalf("Swap from 0 after Delete = %d, %v, %v; want a version never used before", v3, ok, err)
		}
		// Bytes survive as given, NUL and high bytes included.
		bin := []byte{0, 1, 2, 0xff, '\n', 0}
		v4, ok, err := s.Swap(ctx, m, v3, bin)
		if err != nil || !ok {
			t.Fatalf("binary Swap = %v, %v", ok, err)
		}
		if data, v, _ := s.Load(ctx, m); v != v4 || !bytes.Equal(data, bin) {
			t.Fatalf("binary Load = %q, %d; want %q, %d", data, v, bin, v4)
		}
	})

	t.Run("concurrent swaps lose nothing", func(t *testing.T) {
		const m = "member-counter"
		var wins atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 15 {
					data, v, err := s.Load(ctx, m)
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(data))
					_, ok, err := s.Swap(ctx, m, v, []byte(strconv.Itoa(n+1)))
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						wins.Add(1)
					}
				}
			})
		}
		wg.Wait()
		data, _, err := s.Load(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(data); got != strconv.FormatInt(wins.Load(), 10) {
			t.Fatalf("counter is %s after %d successful swaps: a swap overwrote another", got, wins.Load())
		}
		if wins.Load() == 0 || wins.Load() == 8*15 {
			t.Logf("note: %d of %d swaps won (no contention seen)", wins.Load(), 8*15)
		}
	})

	t.Run("lease", func(t *testing.T) {
		const m = "member-lease"
		ok, err := s.Lease(ctx, m, "a", time.Minute)
		if err != nil || !ok {
			t.Fatalf("Lease by a = %v, %v", ok, err)
		}
		if ok, err := s.Lease(ctx, m, "b", time.Minute); err != nil || ok {
			t.Fatalf("Lease by b while a holds it = %v, %v; want false, nil", ok, err)
		}
		if ok, err := s.Lease(ctx, m, "a", time.Minute); err != nil || !ok {
			t.Fatalf("Lease by a again (extend) = %v, %v; want true", ok, err)
		}
		if err := s.Release(ctx, m, "b"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Lease(ctx, m, "b", time.Minute); ok {
			t.Fatal("b's Release of a's lease ended it")
		}
		if err := s.Release(ctx, m, "a"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Lease(ctx, m, "b", 300*time.Millisecond); err != nil || !ok {
			t.Fatalf("Lease by b after a released = %v, %v", ok, err)
		}
		// The lease does not touch the token.
		if data, v, err := s.Load(ctx, m); err != nil || v != 0 || data != nil {
			t.Fatalf("Load of a leased, never-stored member = %q, %d, %v", data, v, err)
		}
		time.Sleep(700 * time.Millisecond)
		if ok, err := s.Lease(ctx, m, "c", time.Minute); err != nil || !ok {
			t.Fatalf("Lease by c after b's lease ran out = %v, %v; want true", ok, err)
		}
		s.Release(ctx, m, "c")
	})

	t.Run("lease is exclusive under contention", func(t *testing.T) {
		const m = "member-mutex"
		var inside, maxInside, entries atomic.Int64
		var wg sync.WaitGroup
		deadline := time.Now().Add(1500 * time.Millisecond)
		for g := range 12 {
			holder := fmt.Sprintf("holder-%d", g)
			wg.Go(func() {
				for time.Now().Before(deadline) {
					ok, err := s.Lease(ctx, m, holder, 10*time.Second)
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						time.Sleep(time.Millisecond)
						continue
					}
					n := inside.Add(1)
					entries.Add(1)
					for {
						old := maxInside.Load()
						if n <= old || maxInside.CompareAndSwap(old, n) {
							break
						}
					}
					time.Sleep(2 * time.Millisecond)
					inside.Add(-1)
					if err := s.Release(ctx, m, holder); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if maxInside.Load() != 1 {
			t.Fatalf("%d holders held the lease at once", maxInside.Load())
		}
		if entries.Load() < 12 {
			t.Fatalf("only %d leases taken in 1.5s by 12 holders", entries.Load())
		}
	})
}
