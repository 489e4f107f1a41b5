package b24

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
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
		ev, err := d.event()
		if err != nil {
			return ctx, http.StatusBadRequest, "malformed delivery", scrubError(err, d.secrets()...)
		}
		nt, err := a.installDelivered(ctx, ev.Auth)
		if err != nil {
			if errors.As(err, new(*StoreError)) {
				return ctx, http.StatusInternalServerError, "ONAPPINSTALL: storing the tokens failed", err
			}
			return ctx, http.StatusUnauthorized, "ONAPPINSTALL not validated, tokens not stored", err
		}
		// The check may have renewed the delivered pair, spending its
		// refresh token: the handler sees the live pair, so code that
		// saves auth[refresh_token] (as the docs' example does) saves one
		// that works.
		d.fresh = &nt
		d.freshAuth(&ev.Auth)
		c, err := a.Client(ctx, memberID)
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

// freshAuth puts the pair stored at install into an auth block decoded
// from the delivery.
func (d *delivery) freshAuth(a *EventAuth) {
	if d.fresh == nil {
		return
	}
	a.AccessToken, a.RefreshToken = d.fresh.AccessToken, d.fresh.RefreshToken
	a.Expires = Time{d.fresh.Expires}
	if !d.fresh.Expires.IsZero() {
		a.ExpiresIn = Int(max(0, time.Until(d.fresh.Expires)/time.Second))
	}
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
