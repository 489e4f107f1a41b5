package b24redis

import (
	"context"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/storetest"
)

func TestHolds(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	h, _ := NewHolds(rdb, WithPrefix(p))
	ctx := context.Background()
	const key = "portal.example|webhook 1|crm.deal.list"
	if until, err := h.HeldUntil(ctx, key); err != nil || !until.IsZero() {
		t.Fatalf("HeldUntil with no hold = %v, %v; want zero", until, err)
	}
	later := time.Now().Add(time.Minute).Truncate(time.Microsecond)
	if err := h.Hold(ctx, key, later); err != nil {
		t.Fatal(err)
	}
	// Another process (another Holds over its own connection) sees it.
	other, _ := NewHolds(client(t), WithPrefix(p))
	if until, err := other.HeldUntil(ctx, key); err != nil || !until.Equal(later) {
		t.Fatalf("HeldUntil from another client = %v, %v; want %v", until, err, later)
	}
	// An earlier hold never shortens a later one.
	if err := h.Hold(ctx, key, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if until, _ := h.HeldUntil(ctx, key); !until.Equal(later) {
		t.Fatalf("an earlier Hold shortened the hold to %v, want %v", until, later)
	}
	// A later one replaces it.
	latest := later.Add(time.Minute)
	h.Hold(ctx, key, latest)
	if until, _ := h.HeldUntil(ctx, key); !until.Equal(latest) {
		t.Fatalf("a later Hold gave %v, want %v", until, latest)
	}
	// Holds are per key.
	if until, _ := h.HeldUntil(ctx, "portal.example|webhook 1|crm.deal.get"); !until.IsZero() {
		t.Fatalf("another method is held until %v", until)
	}
	// A hold that passes reads as none.
	short := "portal.example|app|tasks.task.list"
	h.Hold(ctx, short, time.Now().Add(150*time.Millisecond))
	if until, _ := h.HeldUntil(ctx, short); until.IsZero() {
		t.Fatal("a running hold reads as none")
	}
	time.Sleep(200 * time.Millisecond)
	if until, _ := h.HeldUntil(ctx, short); !until.IsZero() {
		t.Fatalf("a passed hold reads as %v, want zero", until)
	}
}

func TestTokenStore(t *testing.T) {
	rdb := client(t)
	s, err := NewTokenStore(rdb, WithPrefix(prefix(t, rdb)))
	if err != nil {
		t.Fatal(err)
	}
	storetest.TokenStoreSemantics(t, s)
}
