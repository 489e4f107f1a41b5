package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// WithSharedTokenStore keeps the portals' tokens in s, shared by every
// process that runs the application (in place of WithTokenStore). Renewal
// then runs as "lease, reload, renew only if still stale, swap, release":
//
//  1. take s.Lease for the portal (one holder per App and portal);
//  2. reload the stored token: when its refresh token is no longer the one
//     this process holds, another process renewed (or the portal was
//     reinstalled), and that token is taken without asking the
//     authorization server;
//  3. otherwise renew with the stored refresh token, and Swap the new pair
//     in against the version loaded in step 2;
//  4. release the lease.
//
// A process that finds the lease taken does not renew: it reloads every few
// milliseconds until the holder's pair appears, or the lease ends and it may
// take it. So each refresh token is sent once however many processes share
// the portal. When a Swap fails the lease is kept (the stored refresh token
// is spent; no one else may try it) and the new pair is kept in memory and
// saved again before its first use.
//
// The bytes handed to s are the JSON encoding of Token (access_token,
// refresh_token, expires as RFC 3339, member_id, domain, client_endpoint,
// server_endpoint, scope, status, user_id, application_token): they hold
// credentials, so keep them as a secret. Adapters treat them as opaque.
func WithSharedTokenStore(s SharedTokenStore) AppOption {
	return func(a *App) {
		if s == nil {
			a.optErr = errors.New("b24: WithSharedTokenStore(nil)")
			return
		}
		a.store = &sharedTokens{s: s}
	}
}

// leaseTTL outlasts one renewal (renewTimeout) with room for the swap.
const leaseTTL = renewTimeout + 15*time.Second

// sharedTokens is a SharedTokenStore seen as the App's TokenStore (Load,
// Save and Delete for installs and clients); portalSource uses its
// versioned side for renewals.
type sharedTokens struct{ s SharedTokenStore }

func encodeToken(t Token) ([]byte, error) { return json.Marshal(t) }

func (st *sharedTokens) load(ctx context.Context, memberID string) (Token, int64, error) {
	data, ver, err := st.s.Load(ctx, memberID)
	if err != nil {
		return Token{}, 0, err
	}
	if ver == 0 || len(data) == 0 {
		return Token{}, ver, ErrNoToken
	}
	var t Token
	if err := json.Unmarshal(data, &t); err != nil {
		// Not the error's text: it may quote the bytes.
		return Token{}, ver, fmt.Errorf("the stored token (version %d, %d bytes) is not the JSON of a b24.Token", ver, len(data))
	}
	if t.MemberID != memberID {
		return Token{}, ver, fmt.Errorf("the token stored under %s is for portal %s", memberID, t.MemberID)
	}
	return t, ver, nil
}

func (st *sharedTokens) Load(ctx context.Context, memberID string) (Token, error) {
	t, _, err := st.load(ctx, memberID)
	return t, err
}

// Save writes t whatever is stored (an install replaces the portal's
// tokens), retrying the swap while other writers get in between.
func (st *sharedTokens) Save(ctx context.Context, t Token) error {
	if t.MemberID == "" {
		return errors.New("b24: shared token store: token without a member_id")
	}
	data, err := encodeToken(t)
	if err != nil {
		return err
	}
	for range 8 {
		_, ver, err := st.s.Load(ctx, t.MemberID)
		if err != nil {
			return err
		}
		if _, ok, err := st.s.Swap(ctx, t.MemberID, ver, data); err != nil || ok {
			return err
		}
	}
	return errors.New("b24: shared token store: other writers kept changing the token")
}

func (st *sharedTokens) Delete(ctx context.Context, memberID string) error {
	return st.s.Delete(ctx, memberID)
}

// release ends a lease apart from the flight's context, which may be spent.
func (st *sharedTokens) release(ctx context.Context, memberID, holder string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	st.s.Release(rctx, memberID, holder) // a lease not released ends with its ttl
}

// renewShared is the leased renewal of WithSharedTokenStore. It returns the
// new pair (or the one another process stored: adopted), the renewal's
// error, and the store's error when the new pair could not be swapped in.
func (s *portalSource) renewShared(ctx context.Context, st *sharedTokens, old Token) (nt Token, adopted bool, err, saveErr error) {
	pause := 5 * time.Millisecond
	for {
		got, err := st.s.Lease(ctx, s.memberID, s.holder, leaseTTL)
		if err != nil {
			return Token{}, false, &StoreError{Op: "lease", MemberID: s.memberID, Err: scrubError(err, old.secrets()...)}, nil
		}
		cur, ver, err := st.load(ctx, s.memberID)
		switch {
		case err != nil:
			// ErrNoToken: uninstalled by another process; not renewed
			// back into the store.
			if got {
				st.release(ctx, s.memberID, s.holder)
			}
			return Token{}, false, &StoreError{Op: "load", MemberID: s.memberID, Err: scrubError(err, old.secrets()...)}, nil
		case cur.RefreshToken != old.RefreshToken:
			if got {
				st.release(ctx, s.memberID, s.holder)
			}
			return cur, true, nil, nil
		case got:
			nt, err := s.app.requestToken(ctx, "refresh_token", "refresh_token", old.RefreshToken)
			if err == nil {
				nt, err = mergeRenewed(old, nt)
			}
			if err != nil {
				st.release(ctx, s.memberID, s.holder)
				return Token{}, false, err, nil
			}
			data, err := encodeToken(nt)
			if err != nil {
				return nt, false, nil, err
			}
			s.storeMu.Lock()
			swapped, serr := true, error(nil)
			if !s.isRemoved() {
				_, swapped, serr = st.s.Swap(ctx, s.memberID, ver, data)
			}
			s.storeMu.Unlock()
			if serr != nil {
				return nt, false, nil, serr // the lease stays: the stored refresh token is spent
			}
			if !swapped {
				// Written under our lease (an install, or the lease ran
				// out): the stored word stands.
				if cur, _, lerr := st.load(ctx, s.memberID); lerr == nil {
					st.release(ctx, s.memberID, s.holder)
					s.logWarn("b24: the renewed token lost to a token written meanwhile", errors.New("swap refused"))
					return cur, true, nil, nil
				}
				return nt, false, nil, errors.New("the stored token changed during the renewal and could not be read back")
			}
			st.release(ctx, s.memberID, s.holder)
			return nt, false, nil, nil
		}
		// Another process holds the lease and is renewing: wait for its pair.
		if sleep(ctx, pause) != nil {
			return Token{}, false, &StoreError{Op: "lease", MemberID: s.memberID,
				Err: errors.New("another process held the renewal lease and stored no new token in time")}, nil
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

// saveKept stores t, a pair the store refused before, unless the store moved
// on meanwhile: while it still holds spent (the refresh token t replaced),
// or nothing (a first install), t goes in; a pair written by someone else
// is returned instead (adopted).
func (st *sharedTokens) saveKept(ctx context.Context, memberID, holder string, t Token, spent string) (Token, bool, error) {
	if _, err := st.s.Lease(ctx, memberID, holder, leaseTTL); err != nil {
		return Token{}, false, err
	}
	data, err := encodeToken(t)
	if err != nil {
		return Token{}, false, err
	}
	for range 4 {
		cur, ver, err := st.load(ctx, memberID)
		switch {
		case err != nil && !errors.Is(err, ErrNoToken):
			return Token{}, false, err
		case err == nil && cur.RefreshToken == t.RefreshToken:
			st.release(ctx, memberID, holder)
			return t, false, nil
		case err == nil && cur.RefreshToken != spent:
			st.release(ctx, memberID, holder)
			return cur, true, nil
		}
		_, ok, err := st.s.Swap(ctx, memberID, ver, data)
		if err != nil {
			return Token{}, false, err
		}
		if ok {
			st.release(ctx, memberID, holder)
			return t, false, nil
		}
	}
	return Token{}, false, errors.New("other writers kept changing the token")
}

// MemorySharedTokenStore is a SharedTokenStore in memory: processes are
// simulated by several Apps sharing one. For tests, and the model an
// adapter's behaviour is checked against.
type MemorySharedTokenStore struct {
	mu      sync.Mutex
	next    int64 // versions are store-wide: never reused, even after a delete
	entries map[string]*sharedEntry
}

type sharedEntry struct {
	data       []byte
	version    int64
	holder     string
	leaseUntil time.Time
}

// NewMemorySharedTokenStore returns an empty MemorySharedTokenStore.
func NewMemorySharedTokenStore() *MemorySharedTokenStore {
	return &MemorySharedTokenStore{entries: map[string]*sharedEntry{}}
}

func (m *MemorySharedTokenStore) entry(memberID string) *sharedEntry {
	e := m.entries[memberID]
	if e == nil {
		e = &sharedEntry{}
		m.entries[memberID] = e
	}
	return e
}

func (m *MemorySharedTokenStore) Load(ctx context.Context, memberID string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[memberID]
	if e == nil || e.version == 0 {
		return nil, 0, nil
	}
	return append([]byte(nil), e.data...), e.version, nil
}

func (m *MemorySharedTokenStore) Swap(ctx context.Context, memberID string, old int64, data []byte) (int64, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(memberID)
	if e.version != old {
		return e.version, false, nil
	}
	m.next++
	e.data, e.version = append([]byte(nil), data...), m.next
	return e.version, true, nil
}

func (m *MemorySharedTokenStore) Lease(ctx context.Context, memberID, holder string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(memberID)
	now := time.Now()
	if e.holder != "" && e.holder != holder && now.Before(e.leaseUntil) {
		return false, nil
	}
	e.holder, e.leaseUntil = holder, now.Add(ttl)
	return true, nil
}

func (m *MemorySharedTokenStore) Release(ctx context.Context, memberID, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[memberID]; e != nil && e.holder == holder {
		e.holder, e.leaseUntil = "", time.Time{}
	}
	return nil
}

func (m *MemorySharedTokenStore) Delete(ctx context.Context, memberID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[memberID]; e != nil {
		e.data, e.version = nil, 0
	}
	return nil
}

var _ SharedTokenStore = (*MemorySharedTokenStore)(nil)
