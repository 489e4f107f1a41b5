package b24

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// TokenSource gives an application client the token to sign each call
// with. Token renews ahead of expiry; Renew is called when the portal
// answered expired_token for stale and must return a newer token, renewing
// once however many calls ask at the same time.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
	Renew(ctx context.Context, stale Token) (Token, error)
}

// renewAhead: a token this close to its expiry is renewed before use, so a
// call does not spend a round trip on an answer of expired_token.
const renewAhead = time.Minute

// renewTimeout bounds one request to the authorization server. The request
// runs apart from the caller's context: a caller that gives up must not
// cut a renewal whose answer holds the only copy of the rotated refresh token.
const renewTimeout = 30 * time.Second

// Holds after a renewal that failed for a passing reason (the authorization
// server unreachable, a 5xx, temporarily_unavailable, a store that failed):
// calls that need the renewal fail at once until the hold ends, doubling up
// to a minute, instead of asking again for every call. A hold never
// outlives the minute: a passing failure never disables a portal.
const (
	renewHoldBase = time.Second
	renewHoldMax  = time.Minute
)

// portalSource is the TokenSource of one portal: the token in memory, the
// store behind it, and at most one store write or renewal in flight. At rest
// it is a few fields: no goroutine, no timer.
//
// The store is slow or down at times, so no lock is held across a call to
// it: the write runs in the flight's goroutine and each caller waits for it
// only as long as its context allows.
type portalSource struct {
	app      *App
	store    TokenStore // nil: renewed tokens live in memory only
	memberID string
	holder   string // names this source in a SharedTokenStore's lease

	// storeMu orders this source's writes with remove, so an uninstall
	// never finds the pair stored again after its delete. Only the flight
	// and remove take it; callers never wait on it.
	storeMu sync.Mutex

	mu      sync.Mutex
	tok     Token
	unsaved bool   // tok came from a renewal whose save failed: save before use
	spent   string // while unsaved: the refresh token tok replaced
	// keptInstall: the unsaved tok is an install's or an exchange's, which
	// replaces whatever is stored; a renewal's replaces only spent.
	keptInstall bool
	removed     bool // uninstalled
	flight      *flight

	// The last failed renewal: refused for failRefresh (sticky until the
	// token changes), or failed for a passing reason (hold until holdUntil).
	failErr      error
	failRefresh  string
	holdUntil    time.Time
	holdAttempts int
	// deadAccess is the access token the portal answered expired_token
	// for: while its renewal fails, calls fail here instead of asking the
	// portal again.
	deadAccess string
}

// flight is the one store write or renewal of a portal in progress.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

func newPortalSource(a *App, store TokenStore, t Token) *portalSource {
	return &portalSource{app: a, store: store, memberID: t.MemberID, tok: t, holder: NewIdempotencyKey()}
}

// set replaces the token (an install, an exchange) and forgets failures.
func (s *portalSource) set(t Token) {
	s.mu.Lock()
	s.tok, s.unsaved, s.spent, s.removed, s.deadAccess = t, false, "", false, ""
	s.failErr, s.failRefresh, s.holdUntil, s.holdAttempts = nil, "", time.Time{}, 0
	s.mu.Unlock()
}

// keep makes t the portal's token although the store did not take it: the
// pair is saved again before its first use (see installKept).
func (s *portalSource) keep(t Token, spent string) {
	s.mu.Lock()
	s.tok, s.unsaved, s.spent, s.keptInstall, s.removed, s.deadAccess = t, true, spent, true, false, ""
	s.failErr, s.failRefresh, s.holdUntil, s.holdAttempts = nil, "", time.Time{}, 0
	s.mu.Unlock()
}

func (s *portalSource) remove() {
	s.storeMu.Lock() // wait for a write in flight: the delete comes after it
	s.mu.Lock()
	s.removed = true
	s.unsaved = false
	s.tok = Token{MemberID: s.memberID}
	s.mu.Unlock()
	s.storeMu.Unlock()
}

// current returns the token as it stands, for the receiver's check.
func (s *portalSource) current() (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, !s.removed
}

// wait waits for f, or for the caller's context.
func (f *flight) wait(ctx context.Context) (Token, error) {
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// startLocked returns the flight in progress, or starts run as a new one.
// The flight runs apart from the caller's context, bounded by renewTimeout:
// a caller that stops waiting must not cut a write or a renewal whose
// result is the only copy of the rotated refresh token.
func (s *portalSource) startLocked(ctx context.Context, run func(context.Context, *flight)) *flight {
	if s.flight != nil {
		return s.flight
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
		defer cancel()
		run(fctx, f)
		close(f.done)
	}()
	return f
}

// readyLocked returns nil when the token may be used as it is; else a
// flight to wait for (the save of a kept pair) or an error.
func (s *portalSource) readyLocked(ctx context.Context) (*flight, error) {
	if s.removed {
		return nil, &StoreError{Op: "load", MemberID: s.memberID, Err: ErrNoToken}
	}
	if s.unsaved && s.store != nil {
		return s.startLocked(ctx, s.saveKept), nil
	}
	return nil, nil
}

// lockReady locks s once the token may be used as it is, waiting for the
// load or save in flight before that. It returns with s.mu held, or with an
// error and s.mu free.
func (s *portalSource) lockReady(ctx context.Context) error {
	for {
		s.mu.Lock()
		f, err := s.readyLocked(ctx)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		if f == nil {
			return nil
		}
		s.mu.Unlock()
		if _, err := f.wait(ctx); err != nil {
			return err
		}
	}
}

// Token returns the token to sign a call with, renewed first when it
// expires within a minute (falling back to the old one, still valid, when
// that renewal fails or the caller cannot wait for it).
func (s *portalSource) Token(ctx context.Context) (Token, error) {
	if err := s.lockReady(ctx); err != nil {
		return Token{}, err
	}
	t := s.tok
	if s.failErr != nil && s.deadAccess == t.AccessToken && (s.failRefresh == t.RefreshToken || time.Now().Before(s.holdUntil)) {
		err := s.failErr
		s.mu.Unlock()
		return Token{}, err
	}
	s.mu.Unlock()
	if t.Expires.IsZero() || time.Until(t.Expires) > renewAhead {
		return t, nil
	}
	// Still valid for a while: wait for the renewal at most half of
	// what the caller's deadline leaves, then go with the old token.
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok && time.Now().Before(t.Expires) {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, time.Now().Add(min(time.Until(dl)/2, time.Until(t.Expires))))
		defer cancel()
	}
	nt, err := s.renewToken(wctx, t, false)
	var se *StoreError
	if err != nil && time.Now().Before(t.Expires) && ctx.Err() == nil && !(errors.As(err, &se) && se.Op != "lease") {
		// Still valid: the portal's expired_token will ask again. A
		// store that failed to load or save is said at once.
		return t, nil
	}
	return nt, err
}

// Renew returns a token newer than stale, which the portal answered
// expired_token for: the one another call already got, the result of the
// renewal in flight, or a new renewal's.
func (s *portalSource) Renew(ctx context.Context, stale Token) (Token, error) {
	return s.renewToken(ctx, stale, true)
}

func (s *portalSource) renewToken(ctx context.Context, stale Token, expired bool) (Token, error) {
	for {
		if err := s.lockReady(ctx); err != nil {
			return Token{}, err
		}
		if expired && stale.AccessToken == s.tok.AccessToken {
			s.deadAccess = stale.AccessToken
		}
		if s.tok.AccessToken != stale.AccessToken {
			t := s.tok
			s.mu.Unlock()
			return t, nil
		}
		f := s.flight
		if f == nil {
			if s.failErr != nil && (s.failRefresh == s.tok.RefreshToken || time.Now().Before(s.holdUntil)) {
				err := s.failErr
				s.mu.Unlock()
				return Token{}, err
			}
			old := s.tok
			f = s.startLocked(ctx, func(fctx context.Context, f *flight) { s.renew(fctx, f, old) })
		}
		s.mu.Unlock()
		t, err := f.wait(ctx)
		if err == nil && t.AccessToken == stale.AccessToken {
			continue // the flight was a save, not the renewal asked for
		}
		return t, err
	}
}

// saveKept saves a pair the store refused before (after a renewal or an
// install); the pair is used only once it is stored.
func (s *portalSource) saveKept(ctx context.Context, f *flight) {
	s.storeMu.Lock()
	s.mu.Lock()
	t, spent, install, removed := s.tok, s.spent, s.keptInstall, s.removed
	s.mu.Unlock()
	var err error
	adopted := false
	if !removed {
		if st, ok := s.store.(*sharedTokens); ok && !install {
			var cur Token
			cur, adopted, err = st.saveKept(ctx, s.memberID, s.holder, t, spent)
			if adopted {
				t = cur
			}
		} else {
			err = s.store.Save(ctx, t)
		}
	}
	s.storeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flight = nil
	switch {
	case s.removed:
		f.err = &StoreError{Op: "load", MemberID: s.memberID, Err: ErrNoToken}
	case err != nil:
		f.err = &StoreError{Op: "save", MemberID: s.memberID, Err: scrubError(err, append(t.secrets(), spent)...)}
		s.logWarn("b24: saving the kept token failed", f.err)
	case s.tok.RefreshToken == t.RefreshToken || adopted:
		s.tok, s.unsaved, s.spent = t, false, ""
		f.tok = t
	default:
		f.tok = s.tok // replaced meanwhile (an install): that one stands
	}
}

// isRefusal tells whether a renewal's error is the authorization server's
// definitive refusal of the refresh token: asking again with the same token
// can only fail the same way. Anything else (a network fault, a 5xx,
// temporarily_unavailable, an answer that does not parse) may pass.
func isRefusal(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Status >= 500 || ae.Status == 408 || ae.Status == 429 {
			return false
		}
		switch strings.ToLower(ae.Code) {
		case "invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope":
			return true
		}
		return false
	}
	var te *TransportError
	return errors.As(err, &te) && te.final // an answer for another portal
}

// renew asks the authorization server for a new pair with old's refresh
// token, stores it, and settles the flight. With a SharedTokenStore the
// renewal is leased, so processes sharing the portal renew it once.
func (s *portalSource) renew(ctx context.Context, f *flight, old Token) {
	var nt Token
	var err, saveErr error
	adopted := false
	if st, ok := s.store.(*sharedTokens); ok {
		nt, adopted, err, saveErr = s.renewShared(ctx, st, old)
	} else {
		nt, err = s.app.requestToken(ctx, "refresh_token", "refresh_token", old.RefreshToken)
		if err == nil {
			nt, err = mergeRenewed(old, nt)
		}
		if err != nil && isRefusal(err) && s.store != nil {
			// Another process sharing the store may have renewed first, which
			// made our refresh token invalid: take its token.
			if cur, lerr := s.store.Load(ctx, s.memberID); lerr == nil && cur.RefreshToken != "" && cur.RefreshToken != old.RefreshToken {
				nt, err, adopted = cur, nil, true
			}
		}
		if err == nil && !adopted && s.store != nil {
			s.storeMu.Lock()
			if !s.isRemoved() {
				saveErr = s.store.Save(ctx, nt)
			}
			s.storeMu.Unlock()
		}
	}
	if saveErr != nil {
		saveErr = &StoreError{Op: "save", MemberID: s.memberID, Err: scrubError(saveErr, append(nt.secrets(), old.secrets()...)...)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flight = nil
	switch {
	case s.removed || s.tok.RefreshToken != old.RefreshToken:
		// Uninstalled or replaced while renewing: the news is stale.
		f.tok, f.err = s.tok, nil
		if s.removed {
			f.err = &StoreError{Op: "load", MemberID: s.memberID, Err: ErrNoToken}
		}
	case err != nil:
		var se *StoreError
		if !errors.As(err, &se) {
			err = &TokenError{Grant: "refresh_token", MemberID: s.memberID, Err: scrubError(err, old.secrets()...)}
		}
		f.err = err
		if te, ok := err.(*TokenError); ok {
			rep := *te
			rep.Repeated = true
			s.failErr = &rep
		} else {
			s.failErr = err
		}
		if isRefusal(err) {
			s.failRefresh = old.RefreshToken
		} else {
			s.holdUntil = time.Now().Add(holdFor(s.holdAttempts))
			s.holdAttempts++
		}
		s.logWarn("b24: token renewal failed", f.err)
	default:
		// A pair the store did not take is kept, not dropped: its refresh
		// token is the only one that works now. It is saved again before
		// its first use.
		s.tok = nt
		s.unsaved = saveErr != nil
		s.spent = ""
		if s.unsaved {
			s.spent, s.keptInstall = old.RefreshToken, false
		}
		s.failErr, s.failRefresh, s.holdUntil, s.holdAttempts = nil, "", time.Time{}, 0
		f.tok, f.err = nt, saveErr
		if s.app.log != nil {
			s.app.log.Info("b24: access token renewed", "member_id", s.memberID, "stored", saveErr == nil, "by_another_process", adopted)
		}
		if saveErr != nil {
			s.logWarn("b24: token renewal failed", saveErr)
		}
	}
}

func (s *portalSource) isRemoved() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removed
}

func (s *portalSource) logWarn(msg string, err error) {
	if s.app.log != nil {
		s.app.log.Warn(msg, "member_id", s.memberID, "error", err.Error())
	}
}

func holdFor(attempts int) time.Duration {
	d := renewHoldBase
	for i := 0; i < attempts && d < renewHoldMax; i++ {
		d *= 2
	}
	return min(d, renewHoldMax)
}

// mergeRenewed completes a renewal's answer with what the old token knew,
// and refuses an answer for another portal.
func mergeRenewed(old, nt Token) (Token, error) {
	if nt.MemberID == "" {
		nt.MemberID = old.MemberID
	}
	if old.MemberID != "" && nt.MemberID != old.MemberID {
		return Token{}, &TransportError{Method: tokenMethod, final: true,
			Msg: fmt.Sprintf("the renewal answered for portal %s, not %s", nt.MemberID, old.MemberID)}
	}
	if nt.ClientEndpoint == "" {
		nt.ClientEndpoint, nt.Domain = old.ClientEndpoint, old.Domain
	}
	if nt.ServerEndpoint == "" {
		nt.ServerEndpoint = old.ServerEndpoint
	}
	if nt.Scope == "" {
		nt.Scope = old.Scope
	}
	if nt.Status == "" {
		nt.Status = old.Status
	}
	if nt.UserID == 0 {
		nt.UserID = old.UserID
	}
	nt.ApplicationToken = old.ApplicationToken
	return nt, nil
}

// appAuth is what a Client does for an application: sign each call with
// the access token in the "auth" parameter of the JSON body (kept out of the
// URL, so no URL, log line or net/http error carries it), renew on
// expired_token, and scrub the tokens out of errors.
type appAuth struct {
	src TokenSource

	mu     sync.Mutex
	recent [4]string // tokens used lately, for scrubbing errors
	next   int
}

func (a *appAuth) remember(t Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range []string{t.AccessToken, t.RefreshToken} {
		if s == "" || a.has(s) {
			continue
		}
		a.recent[a.next%len(a.recent)] = s
		a.next++
	}
}

func (a *appAuth) has(s string) bool {
	for _, x := range a.recent {
		if x == s {
			return true
		}
	}
	return false
}

func (a *appAuth) scrub(err error) error {
	if err == nil {
		return nil
	}
	a.mu.Lock()
	secrets := a.recent
	a.mu.Unlock()
	return scrubError(err, secrets[:]...)
}

// sign returns the token, the URL and the body of one attempt.
func (a *appAuth) sign(ctx context.Context, req *Request, body []byte) (Token, string, []byte, error) {
	t, err := a.src.Token(ctx)
	if err != nil {
		return Token{}, "", nil, a.scrub(err)
	}
	a.remember(t)
	if t.AccessToken == "" {
		return Token{}, "", nil, &TokenError{MemberID: t.MemberID, Err: errors.New("the token source gave no access token")}
	}
	base, err := restBase(t.ClientEndpoint)
	if err != nil {
		return Token{}, "", nil, fmt.Errorf("b24: %s: portal %s: %w", req.Method, t.MemberID, err)
	}
	target := base + req.Method
	if req.Version == 3 {
		target = base + "api/" + req.Method
	}
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return Token{}, "", nil, fmt.Errorf("b24: %s: an application call's parameters must encode as a JSON object", req.Method)
	}
	// The auth key goes last: the portal takes the last of repeated keys.
	signed := make([]byte, 0, len(body)+len(t.AccessToken)+12)
	signed = append(signed, body[:len(body)-1]...)
	if len(body) > 2 {
		signed = append(signed, ',')
	}
	signed = append(signed, `"auth":`...)
	signed = appendJSONString(signed, t.AccessToken)
	signed = append(signed, '}')
	return t, target, signed, nil
}

func (a *appAuth) renew(ctx context.Context, stale Token) error {
	nt, err := a.src.Renew(ctx, stale)
	if err == nil {
		a.remember(nt)
	}
	return a.scrub(err)
}

// restBase checks a client endpoint ("https://portal/rest/") and returns it
// with its final slash.
func restBase(endpoint string) (string, error) {
	if endpoint == "" {
		return "", errors.New("the token has no client_endpoint")
	}
	if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
		return "", errors.New("the token's client_endpoint is not an http(s) URL")
	}
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	return endpoint, nil
}

// keepUnsaved keeps t, a pair the store refused, as the portal's token in
// memory, when getting it spent what came before (the delivered refresh
// token at install, the authorization code at an exchange): Bitrix24 does
// not deliver again, so dropping t would lose the portal. t is saved again
// before its first use, and in the background until the store takes it.
func (a *App) keepUnsaved(t Token, spent string) {
	a.mu.Lock()
	p := a.portals[t.MemberID]
	a.mu.Unlock()
	if p == nil {
		src := newPortalSource(a, a.store, t)
		c, err := a.newClient(src, t.ClientEndpoint)
		if err != nil {
			return
		}
		a.mu.Lock()
		if p = a.portals[t.MemberID]; p == nil {
			p = &appPortal{src: src, client: c}
			a.portals[t.MemberID] = p
		}
		a.mu.Unlock()
	}
	p.src.keep(t, spent)
	go p.src.saveInBackground()
}

// saveInBackground retries saving a kept pair for a few minutes, so it
// reaches the store even when no call needs it.
func (s *portalSource) saveInBackground() {
	delay := renewHoldBase
	for range 10 {
		time.Sleep(delay)
		delay = min(2*delay, renewHoldMax)
		s.mu.Lock()
		var f *flight
		if s.unsaved && !s.removed {
			f = s.startLocked(context.Background(), s.saveKept)
		}
		s.mu.Unlock()
		if f == nil {
			return // saved, replaced or removed
		}
		<-f.done
	}
}
