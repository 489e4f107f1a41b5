package b24test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// AuthServer plays Bitrix24's authorization server (oauth.bitrix.info) for
// one application installed on a Portal, and the portal's side of that
// application: it issues and rotates token pairs at /oauth/token/ (GET or
// POST, grant_type refresh_token or authorization_code, as
// settings/oauth documents), checks the "auth" parameter of every call to
// /rest/<method>, expires tokens on demand, and builds the ONAPPINSTALL and
// ONAPPUNINSTALL deliveries.
//
// Answers: a call with an unknown access token gets 401 invalid_token, an
// expired one 401 expired_token; a renewal with an unknown, used or revoked
// refresh token gets 400 invalid_grant, wrong keys 401 invalid_client, a
// malformed request 400 invalid_request. Faults queued with
// Portal.Fail("oauth/token", …) strike the token endpoint.
type AuthServer struct {
	p            *Portal
	clientID     string
	clientSecret string
	memberID     string

	mu       sync.Mutex
	access   map[string]time.Time // access token -> expiry
	refresh  map[string]bool      // refresh tokens still good
	codes    map[string]time.Time // authorization code -> expiry
	appToken string
	lifetime time.Duration
	renewals int
	issued   []b24.Token
	onUse    func(kind, token string)
}

// RegisterApp installs an application with these keys on the portal and
// returns the authorization server that serves it (one application per
// portal). Its address is the portal's: pass AuthServer.URL to
// b24.WithAuthServer.
func (p *Portal) RegisterApp(clientID, clientSecret string) *AuthServer {
	a := &AuthServer{
		p: p, clientID: clientID, clientSecret: clientSecret,
		memberID: randomHex(16),
		access:   map[string]time.Time{}, refresh: map[string]bool{}, codes: map[string]time.Time{},
		appToken: randomHex(16),
		lifetime: time.Hour,
	}
	p.mu.Lock()
	p.oauth = a
	p.mu.Unlock()
	return a
}

func (p *Portal) app() *AuthServer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.oauth
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// URL is the authorization server's root, for b24.WithAuthServer.
func (a *AuthServer) URL() string { return a.p.srv.URL + "/" }

// MemberID is the portal's member_id.
func (a *AuthServer) MemberID() string { return a.memberID }

// Domain is the portal's host (127.0.0.1:port).
func (a *AuthServer) Domain() string { return strings.TrimPrefix(a.p.srv.URL, "http://") }

// ClientEndpoint is the portal's REST address for the application's calls.
func (a *AuthServer) ClientEndpoint() string { return a.p.srv.URL + "/rest/" }

// ApplicationToken is the token the portal puts in every delivery.
func (a *AuthServer) ApplicationToken() string { return a.appToken }

// SetLifetime sets the lifetime of the access tokens issued from now on
// (default one hour, as on Bitrix24).
func (a *AuthServer) SetLifetime(d time.Duration) {
	a.mu.Lock()
	a.lifetime = d
	a.mu.Unlock()
}

// OnTokenUse calls fn, before answering, for every access token a call
// presents (kind "access") and every refresh token a renewal presents
// (kind "refresh"): a test can check there that the token was stored
// before it was used. fn runs on the server's goroutine.
func (a *AuthServer) OnTokenUse(fn func(kind, token string)) {
	a.mu.Lock()
	a.onUse = fn
	a.mu.Unlock()
}

// Issue issues a new pair, as an installation or an authorization does.
func (a *AuthServer) Issue() b24.Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked()
}

// Issued returns every pair issued so far, oldest first: a test can look
// for any of them in logs and errors.
func (a *AuthServer) Issued() []b24.Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]b24.Token(nil), a.issued...)
}

func (a *AuthServer) issueLocked() b24.Token {
	acc, ref := randomHex(16), randomHex(16)
	exp := time.Now().Add(a.lifetime)
	a.access[acc] = exp
	a.refresh[ref] = true
	t := b24.Token{
		AccessToken: acc, RefreshToken: ref, Expires: exp.Truncate(time.Second),
		MemberID: a.memberID, Domain: a.Domain(), ClientEndpoint: a.ClientEndpoint(),
		ServerEndpoint: a.URL() + "rest/", Scope: "crm,user,event", Status: "L", UserID: 1,
		ApplicationToken: a.appToken,
	}
	a.issued = append(a.issued, t)
	return t
}

// Code returns an authorization code, good for 30 seconds, as the portal
// adds to the redirect after the user authorized the application.
func (a *AuthServer) Code() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := randomHex(16)
	a.codes[c] = time.Now().Add(30 * time.Second)
	return c
}

// Expire makes an access token expired now; ExpireAll every one issued.
func (a *AuthServer) Expire(accessToken string) {
	a.mu.Lock()
	if _, ok := a.access[accessToken]; ok {
		a.access[accessToken] = time.Now().Add(-time.Second)
	}
	a.mu.Unlock()
}

// ExpireAll expires every access token issued so far.
func (a *AuthServer) ExpireAll() {
	a.mu.Lock()
	for k := range a.access {
		a.access[k] = time.Now().Add(-time.Second)
	}
	a.mu.Unlock()
}

// RevokeAll makes every refresh token issued so far invalid (invalid_grant),
// as when it is older than 180 days.
func (a *AuthServer) RevokeAll() {
	a.mu.Lock()
	clear(a.refresh)
	a.mu.Unlock()
}

// Renewals counts the renewals (grant_type=refresh_token) answered with a
// new pair.
func (a *AuthServer) Renewals() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.renewals
}

// InstallEvent returns an ONAPPINSTALL delivery with a newly issued pair,
// as the portal sends it to the application's install handler.
func (a *AuthServer) InstallEvent() map[string]any {
	t := a.Issue()
	return map[string]any{
		"event": "ONAPPINSTALL",
		"data":  map[string]any{"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"},
		"ts":    time.Now().Unix(),
		"auth": map[string]any{
			"domain": t.Domain, "scope": t.Scope, "access_token": t.AccessToken, "refresh_token": t.RefreshToken,
			"expires_in": int(a.lifetime / time.Second), "server_endpoint": t.ServerEndpoint, "status": t.Status,
			"client_endpoint": t.ClientEndpoint, "member_id": t.MemberID, "application_token": t.ApplicationToken,
		},
	}
}

// UninstallEvent returns the ONAPPUNINSTALL delivery and revokes every
// token: the application no longer has access.
func (a *AuthServer) UninstallEvent() map[string]any {
	a.mu.Lock()
	clear(a.access)
	clear(a.refresh)
	a.mu.Unlock()
	return map[string]any{
		"event": "ONAPPUNINSTALL",
		"data":  map[string]any{"LANGUAGE_ID": "en", "CLEAN": 1},
		"ts":    time.Now().Unix(),
		"auth": map[string]any{
			"domain": a.Domain(), "server_endpoint": a.URL() + "rest/", "client_endpoint": a.ClientEndpoint(),
			"member_id": a.memberID, "application_token": a.appToken,
		},
	}
}

// Event returns a delivery of event with data, as the portal sends it to
// the application (its auth block carries the application token).
func (a *AuthServer) Event(event string, data map[string]any) map[string]any {
	return map[string]any{
		"event": strings.ToUpper(event), "data": data, "ts": time.Now().Unix(),
		"auth": map[string]any{
			"domain": a.Domain(), "client_endpoint": a.ClientEndpoint(), "server_endpoint": a.URL() + "rest/",
			"member_id": a.memberID, "application_token": a.appToken,
		},
	}
}

// DeliverInstall delivers InstallEvent to h, form-encoded.
func (a *AuthServer) DeliverInstall(ctx context.Context, h http.Handler) (int, error) {
	return a.p.Deliver(ctx, h, a.InstallEvent())
}

// authorize checks the access token of an application's call and removes it
// from params.
func (a *AuthServer) authorize(params map[string]any) *b24.APIError {
	tok, _ := params["auth"].(string)
	delete(params, "auth")
	a.mu.Lock()
	exp, ok := a.access[tok]
	fn := a.onUse
	a.mu.Unlock()
	if fn != nil && tok != "" {
		fn("access", tok)
	}
	switch {
	case !ok:
		return &b24.APIError{Status: 401, Code: "invalid_token", Description: "The access token provided is invalid."}
	case !time.Now().Before(exp):
		return &b24.APIError{Status: 401, Code: "expired_token", Description: "The access token provided has expired."}
	}
	return nil
}

// serveOAuth answers /oauth/token/; false for every other path.
func (p *Portal) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	path := strings.Trim(r.URL.Path, "/")
	if path != "oauth/token" {
		return false
	}
	a := p.app()
	if a == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "invalid_request", "error_description": "no application registered"})
		return true
	}
	p.record(Call{Method: "oauth/token"})
	if f, ok := p.nextFault("oauth/token", func(Fault) bool { return true }); ok {
		if f.Kind == FaultSlow {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
			case <-p.closing:
			}
		} else {
			p.writeFault(w, r, 2, f, []byte(`{"access_token":"`+randomHex(16)+`","refresh_token":"`+randomHex(16)+`"}`))
			return true
		}
	}
	r.ParseForm()
	q := r.Form
	status, body := a.token(q)
	writeJSON(w, status, body)
	return true
}

func oauthError(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc}
}

// token answers one request of the token endpoint.
func (a *AuthServer) token(q url.Values) (int, map[string]any) {
	grant := q.Get("grant_type")
	if grant == "" || q.Get("client_id") == "" {
		return http.StatusBadRequest, oauthError("invalid_request", "grant_type and client_id are required")
	}
	if q.Get("client_id") != a.clientID || q.Get("client_secret") != a.clientSecret {
		return http.StatusUnauthorized, oauthError("invalid_client", "Invalid client data. The application may not be installed")
	}
	a.mu.Lock()
	fn := a.onUse
	a.mu.Unlock()
	switch grant {
	case "refresh_token":
		ref := q.Get("refresh_token")
		if fn != nil && ref != "" {
			fn("refresh", ref)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.refresh[ref] {
			return http.StatusBadRequest, oauthError("invalid_grant", "Invalid authorization data")
		}
		delete(a.refresh, ref) // rotation: the old refresh token stops working
		a.renewals++
		return http.StatusOK, a.answerLocked(a.issueLocked())
	case "authorization_code":
		code := q.Get("code")
		a.mu.Lock()
		defer a.mu.Unlock()
		exp, ok := a.codes[code]
		delete(a.codes, code)
		if !ok || !time.Now().Before(exp) {
			return http.StatusBadRequest, oauthError("invalid_grant", "Invalid authorization code")
		}
		return http.StatusOK, a.answerLocked(a.issueLocked())
	}
	return http.StatusBadRequest, oauthError("invalid_request", "unknown grant_type")
}

func (a *AuthServer) answerLocked(t b24.Token) map[string]any {
	return map[string]any{
		"access_token": t.AccessToken, "refresh_token": t.RefreshToken,
		"client_endpoint": t.ClientEndpoint, "domain": "oauth.bitrix.info",
		"expires": t.Expires.Unix(), "expires_in": int(a.lifetime / time.Second),
		"member_id": t.MemberID, "scope": t.Scope, "server_endpoint": t.ServerEndpoint,
		"status": t.Status, "user_id": t.UserID,
	}
}
