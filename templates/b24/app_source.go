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

// Holds after a renewal that did not reach the authorization server (or got
// no usable answer): calls fail at once until the hold ends, doubling up to
// a minute, instead of asking again for every call.
const (
	renewHoldBase = time.Second
	renewHoldMax  = time.Minute
)

// portalSource is the TokenSource of one portal: the token in memory, the
// store behind it, and at most one renewal in flight. At rest it is a few
// fields: no goroutine, no timer.
type portalSource struct {
	app      *App
	store    TokenStore // nil: renewed tokens live in memory only
	memberID string

	mu      sync.Mutex
	tok     Token
	unsaved bool // tok came from a renewal whose Save failed: save before use
	removed bool // uninstalled
	flight  *renewal

	// The last failed renewal: refused for refreshToken (sticky until the
	// token changes), or unreachable (hold until holdUntil).
	failErr      error
	failRefresh  string
	holdUntil    time.Time
	holdAttempts int
	// deadAccess is the access token the portal answered expired_token
	// for: while its renewal fails, calls fail here instead of asking the
	// portal again.
	deadAccess string
}

type renewal struct {
	done chan struct{}
	tok  Token
	err  error
}

func newPortalSource(a *App, store TokenStore, t Token) *portalSource {
	return &portalSource{app: a, store: store, memberID: t.MemberID, tok: t}
}

// set replaces the token (an install, an exchange) and forgets failures.
func (s *portalSource) set(t Token) {
	s.mu.Lock()
	s.tok, s.unsaved, s.removed, s.deadAccess = t, false, false, ""
	s.failErr, s.failRefresh, s.holdUntil, s.holdAttempts = nil, "", time.Time{}, 0
	s.mu.Unlock()
}

func (s *portalSource) remove() {
	s.mu.Lock()
	s.removed = true
	s.tok = Token{MemberID: s.memberID}
	s.mu.Unlock()
}

// current returns the token as it stands, for the receiver's check.
func (s *portalSource) current() (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, !s.removed
}

// readyLocked refuses a removed portal and saves a renewed token that is
// not stored yet: no token is used before it is stored.
func (s *portalSource) readyLocked(ctx context.Context) error {
	if s.removed {
		return &StoreError{Op: "load", MemberID: s.memberID, Err: ErrNoToken}
	}
	if s.unsaved && s.store != nil {
		if err := s.store.Save(ctx, s.tok); err != nil {
			return &StoreError{Op: "save", MemberID: s.memberID, Err: scrubError(err, s.tok.secrets()...)}
		}
		s.unsaved = false
	}
	return nil
}

// Token returns the token to sign a call with, renewed first when it
// expires within a minute (falling back to the old one, still valid, when
// that renewal fails).
func (s *portalSource) Token(ctx context.Context) (Token, error) {
	s.mu.Lock()
	if err := s.readyLocked(ctx); err != nil {
		s.mu.Unlock()
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
	nt, err := s.renewToken(ctx, t, false)
	if err != nil && time.Now().Before(t.Expires) && !errors.As(err, new(*StoreError)) {
		return t, nil // still valid: the portal's expired_token will ask again
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
	s.mu.Lock()
	if err := s.readyLocked(ctx); err != nil {
		s.mu.Unlock()
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
		f = &renewal{done: make(chan struct{})}
		s.flight = f
		// One goroutine for the renewal only, gone when it ends; it
		// outlives a caller that stops waiting, so the answer is not lost.
		go s.renew(context.WithoutCancel(ctx), s.tok)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// renew asks the authorization server for a new pair with old's refresh
// token, stores it, and settles the flight.
func (s *portalSource) renew(ctx context.Context, old Token) {
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	nt, err := s.app.requestToken(ctx, "refresh_token", "refresh_token", old.RefreshToken)
	var refused bool
	if err == nil {
		nt, err = mergeRenewed(old, nt)
		refused = err != nil
	} else {
		_, refused = err.(*APIError)
	}
	var adopted bool
	if err != nil && refused && s.store != nil {
		// Another process sharing the store may have renewed first, which
		// made our refresh token invalid: take its token.
		if cur, lerr := s.store.Load(ctx, s.memberID); lerr == nil && cur.RefreshToken != "" && cur.RefreshToken != old.RefreshToken {
			nt, err, adopted = cur, nil, true
		}
	}
	s.mu.Lock()
	var saveErr error
	if err == nil && !adopted && s.store != nil && !s.removed {
		// Saved under the lock, so an uninstall cannot slip in between
		// and find the pair stored again after its delete.
		if serr := s.store.Save(ctx, nt); serr != nil {
			saveErr = &StoreError{Op: "save", MemberID: s.memberID, Err: scrubError(serr, append(nt.secrets(), old.secrets()...)...)}
		}
	}
	f := s.flight
	s.flight = nil
	switch {
	case s.removed || s.tok.RefreshToken != old.RefreshToken:
		// Uninstalled or replaced while renewing: the news is stale.
		f.tok, f.err = s.tok, nil
		if s.removed {
			f.err = &StoreError{Op: "load", MemberID: s.memberID, Err: ErrNoToken}
		}
	case err != nil:
		te := &TokenError{Grant: "refresh_token", MemberID: s.memberID, Err: scrubError(err, old.secrets()...)}
		f.err = te
		rep := *te
		rep.Repeated = true
		s.failErr = &rep
		if refused {
			s.failRefresh = old.RefreshToken
		} else {
			s.holdUntil = time.Now().Add(holdFor(s.holdAttempts))
			s.holdAttempts++
		}
	default:
		s.tok = nt
		s.unsaved = saveErr != nil
		s.failErr, s.failRefresh, s.holdUntil, s.holdAttempts = nil, "", time.Time{}, 0
		f.tok, f.err = nt, saveErr
		if s.app.log != nil {
			s.app.log.Info("b24: access token renewed", "member_id", s.memberID, "stored", saveErr == nil)
		}
	}
	if f.err != nil && s.app.log != nil {
		s.app.log.Warn("b24: token renewal failed", "member_id", s.memberID, "error", f.err.Error())
	}
	s.mu.Unlock()
	close(f.done)
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
