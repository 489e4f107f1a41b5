package b24

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WithApp puts a Receiver in install mode for the application a: instead
// of one application token given to NewReceiver (pass ""), each delivery is
// checked against the token stored for its portal (auth[member_id]):
//
//   - ONAPPINSTALL carries the portal's first application_token with the
//     installing user's tokens. It is validated (by default its
//     refresh_token is renewed at the App's authorization server, which
//     proves the tokens genuine and names their portal; see
//     WithInstallCheck), the tokens are stored, and the delivery is
//     dispatched to its handler, if any.
//   - Every other event must carry the application_token stored for its
//     member_id, compared in constant time; an unknown member_id is 401.
//   - ONAPPUNINSTALL, once verified so, deletes the portal's tokens and is
//     then dispatched.
//
// A handler's context holds the portal's client: ClientFromContext.
func WithApp(a *App) ReceiverOption { return func(r *Receiver) { r.app = a } }

type portalKey struct{}

// ClientFromContext returns the client of the portal whose delivery a
// handler is serving (receivers made WithApp), for calls back to that
// portal with the application's token.
func ClientFromContext(ctx context.Context) (*Client, bool) {
	c, ok := ctx.Value(portalKey{}).(*Client)
	return c, ok
}

// admit checks a delivery in install mode; a non-zero status refuses it.
func (a *App) admit(ctx context.Context, d *delivery) (context.Context, int, string, error) {
	if len(d.loc.token) == 0 {
		return ctx, http.StatusUnauthorized, "delivery carries no application token", nil
	}
	name, err := d.name()
	if err != nil {
		return ctx, http.StatusBadRequest, "malformed delivery", scrubError(err, d.token)
	}
	memberID, err := deliveryMemberID(d)
	if err != nil {
		return ctx, http.StatusBadRequest, "malformed delivery", err
	}
	if memberID == "" {
		return ctx, http.StatusUnauthorized, "delivery carries no auth[member_id]", nil
	}
	d.live = func() []string { return a.liveSecrets(memberID) }
	switch name {
	case "ONAPPINSTALL":
		// Only the auth block is read before the install is confirmed: a
		// forged delivery costs its scan, not a decode of its body.
		auth, err := deliveryAuth(d)
		if err != nil {
			return ctx, http.StatusBadRequest, "malformed delivery", scrubError(err, d.token)
		}
		nt, err := a.installDelivered(ctx, auth)
		if err != nil {
			switch {
			case errors.As(err, new(*StoreError)):
				return ctx, http.StatusInternalServerError, "ONAPPINSTALL: storing the tokens failed", err
			case errors.Is(err, ErrInstallConflict):
				return ctx, http.StatusUnauthorized, "ONAPPINSTALL refused: the portal is installed and its stored tokens still work", err
			case errors.Is(err, errInstallBusy):
				return ctx, http.StatusServiceUnavailable, "ONAPPINSTALL not checked: too many install checks at once", err
			}
			return ctx, http.StatusUnauthorized, "ONAPPINSTALL not validated, tokens not stored", err
		}
		// The check renewed the delivered pair, spending its refresh token:
		// the handler sees the live pair (d.fresh), so code that saves
		// auth[refresh_token] (as the docs' example does) saves one that works.
		d.fresh = &nt
		c, err := a.Client(ctx, nt.MemberID)
		if err != nil {
			return ctx, http.StatusInternalServerError, "ONAPPINSTALL: the portal's client", err
		}
		return context.WithValue(ctx, portalKey{}, c), 0, "", nil
	}
	t, err := a.stored(ctx, memberID)
	switch {
	case errors.Is(err, ErrNoToken):
		return ctx, http.StatusUnauthorized, "unknown member_id: the application is not installed there (no ONAPPINSTALL stored)", nil
	case err != nil:
		return ctx, http.StatusInternalServerError, "token store failed", scrubError(err, d.token)
	case t.ApplicationToken == "":
		return ctx, http.StatusUnauthorized, "no application token stored for the portal (it arrives with ONAPPINSTALL)", nil
	case subtle.ConstantTimeCompare(d.loc.token, []byte(t.ApplicationToken)) != 1:
		return ctx, http.StatusUnauthorized, "application token does not match the portal's", nil
	}
	if name == "ONAPPUNINSTALL" {
		if err := a.Uninstall(ctx, memberID); err != nil {
			return ctx, http.StatusInternalServerError, "ONAPPUNINSTALL: deleting the tokens failed", scrubError(err, t.secrets()...)
		}
		return ctx, 0, "", nil
	}
	c, err := a.Client(ctx, memberID)
	if err != nil {
		return ctx, http.StatusInternalServerError, "the portal's client", scrubError(err, t.secrets()...)
	}
	return context.WithValue(ctx, portalKey{}, c), 0, "", nil
}

// deliveryMemberID finds auth[member_id] without decoding the rest of the
// delivery; two of them are refused, as two tokens are.
func deliveryMemberID(d *delivery) (string, error) {
	if d.loc.json {
		if len(d.loc.auth) == 0 {
			return "", nil
		}
		var a struct {
			MemberID String `json:"member_id"`
		}
		if err := DecodeObject(d.loc.auth, &a, nil); err != nil {
			return "", &malformedError{err}
		}
		return string(a.MemberID), nil
	}
	const key = "auth[member_id]"
	var found []byte
	n := 0
	for rest := d.body; len(rest) > 0; {
		var pair []byte
		pair, rest, _ = bytes.Cut(rest, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if len(k) < len("auth") || len(k) > 3*len(key) {
			continue
		}
		uk, err := url.QueryUnescape(string(k))
		if err != nil || uk != key {
			continue
		}
		found, n = v, n+1
	}
	if n > 1 {
		return "", &malformedError{errors.New("form: auth[member_id] given more than once")}
	}
	if n == 0 {
		return "", nil
	}
	s, err := url.QueryUnescape(string(found))
	if err != nil {
		return "", &malformedError{errors.New("form: auth[member_id]: bad percent-escape")}
	}
	return s, nil
}

// freshAuth puts the pair stored at install, and the portal the
// authorization server named, into an auth block decoded from the delivery.
func (d *delivery) freshAuth(a *EventAuth) {
	if d.fresh == nil {
		return
	}
	a.AccessToken, a.RefreshToken = d.fresh.AccessToken, d.fresh.RefreshToken
	a.MemberID, a.Domain, a.ClientEndpoint = d.fresh.MemberID, d.fresh.Domain, d.fresh.ClientEndpoint
	a.Expires = Time{d.fresh.Expires}
	if !d.fresh.Expires.IsZero() {
		a.ExpiresIn = Int(max(0, time.Until(d.fresh.Expires)/time.Second))
	}
}

// maxAuthValue bounds one value of an unconfirmed auth block: tokens are
// 32 to 70 characters, and a value sent to the authorization server must
// not cost a multiple of the body.
const maxAuthValue = 4096

// deliveryAuth reads the auth block of a delivery without decoding the
// rest of it: the JSON block's span, or the form's auth[…] pairs (each
// once; a key given twice is refused, as the token is).
func deliveryAuth(d *delivery) (EventAuth, error) {
	if d.loc.json {
		var a EventAuth
		if len(d.loc.auth) > 0 {
			if err := json.Unmarshal(d.loc.auth, &a); err != nil {
				return EventAuth{}, &malformedError{err}
			}
		}
		for _, v := range []string{a.AccessToken, a.RefreshToken, a.MemberID, a.Domain, a.ClientEndpoint} {
			if len(v) > maxAuthValue {
				return EventAuth{}, &malformedError{errors.New("auth: a value is too long")}
			}
		}
		return a, nil
	}
	vals := map[string]string{}
	var kbuf [len(formTokenKey) + 1]byte
	for rest := d.body; len(rest) > 0; {
		var pair []byte
		pair, rest, _ = bytes.Cut(rest, []byte("&"))
		rawKey, rawVal, _ := bytes.Cut(pair, []byte("="))
		n, complete := unescapePrefix(&kbuf, rawKey)
		key := string(kbuf[:n])
		if !complete || !strings.HasPrefix(key, "auth[") || !strings.HasSuffix(key, "]") {
			continue
		}
		name := key[len("auth[") : len(key)-1]
		if !slices.Contains(authWireKeys[:], name) {
			continue
		}
		if _, dup := vals[name]; dup {
			return EventAuth{}, &malformedError{fmt.Errorf("form: auth[%s] given more than once", name)}
		}
		if len(rawVal) > 3*maxAuthValue {
			return EventAuth{}, &malformedError{fmt.Errorf("form: auth[%s] is too long", name)}
		}
		v, ok := appendUnescaped(nil, rawVal)
		if !ok {
			return EventAuth{}, &malformedError{fmt.Errorf("form: auth[%s]: bad percent-escape", name)}
		}
		vals[name] = string(v)
	}
	a, err := authFromForm(func(k string) (string, bool, bool) { v, ok := vals[k]; return v, true, ok })
	if err != nil {
		return EventAuth{}, &malformedError{err}
	}
	return a, nil
}

// liveSecrets lists the credentials the App holds for the portal now, for
// redacting a handler's error or panic.
func (a *App) liveSecrets(memberID string) []string {
	a.mu.Lock()
	p := a.portals[memberID]
	a.mu.Unlock()
	if p == nil {
		return nil
	}
	t, _ := p.src.current()
	return t.secrets()
}

// Install checks: how many run at once, and how long one may take. Each is
// tied to the request that caused it: a client that hangs up cancels it.
const (
	maxInstallChecks    = 8
	installCheckTimeout = 10 * time.Second
)

// ErrInstallConflict refuses an install for a portal that already holds
// tokens, when the install carries neither the portal's stored application
// token nor comes after the stored pair stopped working: any user of the
// portal holds a pair the authorization server confirms, so one confirmed
// pair is not enough to replace the installation's.
var ErrInstallConflict = errors.New("b24: install refused: the portal is installed with another application token and its stored tokens still work (uninstall first, or install with the portal's application token)")

var errInstallBusy = errors.New("b24: install not checked: too many install checks at once")

// installDelivered confirms and stores the tokens of an ONAPPINSTALL delivery.
func (a *App) installDelivered(ctx context.Context, auth EventAuth) (Token, error) {
	t := Token{
		AccessToken: auth.AccessToken, RefreshToken: auth.RefreshToken,
		Expires:  expiry(0, int64(auth.ExpiresIn)),
		MemberID: auth.MemberID, Domain: auth.Domain, ClientEndpoint: auth.ClientEndpoint,
		ServerEndpoint: auth.ServerEndpoint, Scope: auth.Scope, Status: auth.Status, UserID: int64(auth.UserID),
		ApplicationToken: auth.ApplicationToken,
	}
	return a.install(ctx, t, false)
}

// install stores t as its portal's authorization: confirmed first (unless
// it is the authorization server's own answer), then allowed by the
// replacement rule. The checks hold one of the App's check slots.
func (a *App) install(ctx context.Context, t Token, confirmed bool) (Token, error) {
	select {
	case a.checks <- struct{}{}:
		defer func() { <-a.checks }()
	case <-ctx.Done():
		return Token{}, fmt.Errorf("%w: %w", errInstallBusy, ctx.Err())
	}
	cctx, cancel := context.WithTimeout(ctx, installCheckTimeout)
	defer cancel()
	nt := t
	if !confirmed {
		var err error
		if nt, err = a.checkInstall(cctx, t); err != nil {
			return Token{}, scrubError(fmt.Errorf("b24: install: %w", err), t.secrets()...)
		}
		if nt.MemberID == "" {
			return Token{}, errors.New("b24: install: the install check names no portal (member_id)")
		}
		if t.MemberID != "" && nt.MemberID != t.MemberID {
			return Token{}, fmt.Errorf("b24: install: the authorization server issued the tokens for portal %q, not %q", nt.MemberID, t.MemberID)
		}
		nt.ApplicationToken = t.ApplicationToken
	}
	if _, err := restBase(nt.ClientEndpoint); err != nil {
		return Token{}, fmt.Errorf("b24: install: portal %s: %w", nt.MemberID, err)
	}
	if err := a.mayReplace(cctx, &nt); err != nil {
		return Token{}, scrubError(err, append(nt.secrets(), t.secrets()...)...)
	}
	// The pair is renewed: from here on it is the only copy, so the save
	// does not end with the request.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), installCheckTimeout)
	defer scancel()
	if err := a.store.Save(sctx, nt); err != nil {
		// Getting nt spent what came before it (the delivered refresh
		// token, or the authorization code): keep it in memory and save it
		// again, rather than lose the portal.
		a.keepUnsaved(nt, t.RefreshToken)
		return Token{}, &StoreError{Op: "save", MemberID: nt.MemberID, Err: scrubError(err, append(nt.secrets(), t.secrets()...)...)}
	}
	a.mu.Lock()
	p := a.portals[nt.MemberID]
	a.mu.Unlock()
	if p != nil {
		p.src.set(nt)
	}
	return nt, nil
}

// mayReplace applies the replacement rule to nt, a confirmed token for a
// portal: a portal without stored tokens takes it; one with stored tokens
// only with a second proof, its stored application token, or a stored pair
// the authorization server refuses (invalid_grant or invalid_client: the
// application is no longer installed with it). An install without an
// application token keeps the stored one.
func (a *App) mayReplace(ctx context.Context, nt *Token) error {
	cur, err := a.stored(ctx, nt.MemberID)
	switch {
	case errors.Is(err, ErrNoToken):
		return nil
	case err != nil:
		return &StoreError{Op: "load", MemberID: nt.MemberID, Err: err}
	case cur.AccessToken == "" && cur.RefreshToken == "":
		return nil
	}
	if nt.ApplicationToken == "" {
		nt.ApplicationToken = cur.ApplicationToken
	} else if cur.ApplicationToken != "" && subtle.ConstantTimeCompare([]byte(nt.ApplicationToken), []byte(cur.ApplicationToken)) == 1 {
		return nil // the portal's own second token
	}
	c, err := a.Client(ctx, nt.MemberID)
	if err != nil {
		return err
	}
	src, ok := c.app.src.(*portalSource)
	if !ok {
		return ErrInstallConflict
	}
	live, _ := src.current()
	_, err = src.Renew(ctx, live)
	switch {
	case err == nil:
		return fmt.Errorf("%w (portal %s)", ErrInstallConflict, nt.MemberID)
	case errors.Is(err, ErrInvalidGrant), errors.Is(err, ErrInvalidClient):
		return nil // the stored installation is gone
	}
	return fmt.Errorf("b24: install for portal %s: the stored tokens could not be checked, nothing replaced: %w", nt.MemberID, err)
}

// renewAtInstall is the default install check. The docs
// (events/safe-event-handlers) say to verify the delivered tokens before
// trusting them. Anyone can post a delivery or an application page, and
// anything it names (domain, client_endpoint, member_id) could be its own;
// the authorization server at the address this App was configured with
// cannot be. So the refresh token is renewed there: only a token that
// server issued to this client_id renews, and the portal is the one its
// answer names. Nothing but the application token is taken from t.
func (a *App) renewAtInstall(ctx context.Context, t Token) (Token, error) {
	if t.RefreshToken == "" {
		return Token{}, errors.New("the install carries no refresh_token")
	}
	nt, err := a.requestToken(ctx, "refresh_token", "refresh_token", t.RefreshToken)
	if err != nil {
		return Token{}, &TokenError{Grant: "refresh_token", MemberID: t.MemberID, Err: scrubError(err, t.secrets()...)}
	}
	if nt.MemberID == "" || nt.ClientEndpoint == "" {
		return Token{}, errors.New("the authorization server's answer names no member_id or client_endpoint")
	}
	return nt, nil
}
