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
// one application, as seen from one Portal the application is installed on
// (Join adds more portals to the same server), and that portal's side of
// the application: it issues and rotates token pairs at /oauth/token/ (GET or
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
	p        *Portal
	core     *authCore
	memberID string
	appToken string
}

// authCore is the authorization server's state, shared by the portals that
// joined it: one application's keys and every token it issued.
type authCore struct {
	clientID     string
	clientSecret string

	mu       sync.Mutex
	access   map[string]grant // access token -> expiry and portal
	refresh  map[string]*AuthServer
	codes    map[string]grant // authorization code -> expiry and portal
	lifetime time.Duration
	renewals int
	issued   []b24.Token
	onUse    func(kind, token string)
}

type grant struct {
	exp time.Time
	on  *AuthServer
}

// RegisterApp installs an application with these keys on the portal and
// returns the authorization server that serves it. Its address is the
// portal's: pass AuthServer.URL to b24.WithAuthServer. Join installs the
// same application on more portals, served by the same authorization
// server, as oauth.bitrix.info serves every portal.
func (p *Portal) RegisterApp(clientID, clientSecret string) *AuthServer {
	core := &authCore{
		clientID: clientID, clientSecret: clientSecret,
		access: map[string]grant{}, refresh: map[string]*AuthServer{}, codes: map[string]grant{},
		lifetime: time.Hour,
	}
	return core.install(p)
}

// Join installs the same application on portal q (its own member_id and
// application token) and returns q's view of the shared authorization
// server; tokens are issued and renewed at any of the portals' addresses.
func (a *AuthServer) Join(q *Portal) *AuthServer { return a.core.install(q) }

func (c *authCore) install(p *Portal) *AuthServer {
	a := &AuthServer{p: p, core: c, memberID: randomHex(16), appToken: randomHex(16)}
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
// (default one hour, as on Bitrix24), on every portal of the server.
func (a *AuthServer) SetLifetime(d time.Duration) {
	a.core.mu.Lock()
	a.core.lifetime = d
	a.core.mu.Unlock()
}

// OnTokenUse calls fn, before answering, for every access token a call
// presents (kind "access") and every refresh token a renewal presents
// (kind "refresh"): a test can check there that the token was stored
// before it was used. fn runs on the server's goroutine.
func (a *AuthServer) OnTokenUse(fn func(kind, token string)) {
	a.core.mu.Lock()
	a.core.onUse = fn
	a.core.mu.Unlock()
}

// Issue issues a new pair for this portal, as an installation or an
// authorization does.
func (a *AuthServer) Issue() b24.Token {
	a.core.mu.Lock()
	defer a.core.mu.Unlock()
	return a.issueLocked()
}

// Issued returns every pair the server issued so far, on every portal,
// oldest first: a test can look for any of them in logs and errors.
func (a *AuthServer) Issued() []b24.Token {
	a.core.mu.Lock()
	defer a.core.mu.Unlock()
	return append([]b24.Token(nil), a.core.issued...)
}

func (a *AuthServer) issueLocked() b24.Token {
	c := a.core
	acc, ref := randomHex(16), randomHex(16)
	exp := time.Now().Add(c.lifetime)
	c.access[acc] = grant{exp, a}
	c.refresh[ref] = a
	t := b24.Token{
		AccessToken: acc, RefreshToken: ref, Expires: exp.Truncate(time.Second),
		MemberID: a.memberID, Domain: a.Domain(), ClientEndpoint: a.ClientEndpoint(),
		ServerEndpoint: a.URL() + "rest/", Scope: "crm,user,event", Status: "L", UserID: 1,
		ApplicationToken: a.appToken,
	}
	c.issued = append(c.issued, t)
	return t
}

// Code returns an authorization code for this portal, good for 30
// seconds, as the portal adds to the redirect after the user authorized
// the application.
func (a *AuthServer) Code() string {
	a.core.mu.Lock()
	defer a.core.mu.Unlock()
	code := randomHex(16)
	a.core.codes[code] = grant{time.Now().Add(30 * time.Second), a}
	return code
}

// Expire makes an access token expired now.
func (a *AuthServer) Expire(accessToken string) {
	a.core.mu.Lock()
	if g, ok := a.core.access[accessToken]; ok {
		a.core.access[accessToken] = grant{time.Now().Add(-time.Second), g.on}
	}
	a.core.mu.Unlock()
}

// ExpireAll expires every access token issued for this portal so far.
func (a *AuthServer) ExpireAll() {
	a.core.mu.Lock()
	for k, g := range a.core.access {
		if g.on == a {
			a.core.access[k] = grant{time.Now().Add(-time.Second), a}
		}
	}
	a.core.mu.Unlock()
}

// RevokeAll makes every refresh token issued for this portal so far invalid
// (invalid_grant), as when it is older than 180 days.
func (a *AuthServer) RevokeAll() {
	a.core.mu.Lock()
	a.revokeLocked(false)
	a.core.mu.Unlock()
}

// revokeLocked drops the portal's refresh tokens, and its access tokens too
// when all is set.
func (a *AuthServer) revokeLocked(all bool) {
	for k, on := range a.core.refresh {
		if on == a {
			delete(a.core.refresh, k)
		}
	}
	if all {
		for k, g := range a.core.access {
			if g.on == a {
				delete(a.core.access, k)
			}
		}
	}
}

// Renewals counts the renewals (grant_type=refresh_token) answered with a
// new pair, on every portal of the server.
func (a *AuthServer) Renewals() int {
	a.core.mu.Lock()
	defer a.core.mu.Unlock()
	return a.core.renewals
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
			"expires_in": int(time.Until(t.Expires).Round(time.Second) / time.Second), "server_endpoint": t.ServerEndpoint, "status": t.Status,
			"client_endpoint": t.ClientEndpoint, "member_id": t.MemberID, "application_token": t.ApplicationToken,
		},
	}
}

// UninstallEvent returns the ONAPPUNINSTALL delivery and revokes every
// token: the application no longer has access.
func (a *AuthServer) UninstallEvent() map[string]any {
	a.core.mu.Lock()
	a.revokeLocked(true)
	a.core.mu.Unlock()
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

// authorize checks the access token of an application's call to this
// portal and removes it from params.
func (a *AuthServer) authorize(params map[string]any) *b24.APIError {
	tok, _ := params["auth"].(string)
	delete(params, "auth")
	a.core.mu.Lock()
	g, ok := a.core.access[tok]
	fn := a.core.onUse
	a.core.mu.Unlock()
	if fn != nil && tok != "" {
		fn("access", tok)
	}
	switch {
	case !ok || g.on != a:
		return &b24.APIError{Status: 401, Code: "invalid_token", Description: "The access token provided is invalid."}
	case !time.Now().Before(g.exp):
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
	c := a.core
	grantType := q.Get("grant_type")
	if grantType == "" || q.Get("client_id") == "" {
		return http.StatusBadRequest, oauthError("invalid_request", "grant_type and client_id are required")
	}
	if q.Get("client_id") != c.clientID || q.Get("client_secret") != c.clientSecret {
		return http.StatusUnauthorized, oauthError("invalid_client", "Invalid client data. The application may not be installed")
	}
	c.mu.Lock()
	fn := c.onUse
	c.mu.Unlock()
	switch grantType {
	case "refresh_token":
		ref := q.Get("refresh_token")
		if fn != nil && ref != "" {
			fn("refresh", ref)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		on, ok := c.refresh[ref]
		if !ok {
			return http.StatusBadRequest, oauthError("invalid_grant", "Invalid authorization data")
		}
		delete(c.refresh, ref) // rotation: the old refresh token stops working
		c.renewals++
		return http.StatusOK, on.answerLocked(on.issueLocked())
	case "authorization_code":
		code := q.Get("code")
		c.mu.Lock()
		defer c.mu.Unlock()
		g, ok := c.codes[code]
		delete(c.codes, code)
		if !ok || !time.Now().Before(g.exp) {
			return http.StatusBadRequest, oauthError("invalid_grant", "Invalid authorization code")
		}
		return http.StatusOK, g.on.answerLocked(g.on.issueLocked())
	}
	return http.StatusBadRequest, oauthError("invalid_request", "unknown grant_type")
}

func (a *AuthServer) answerLocked(t b24.Token) map[string]any {
	return map[string]any{
		"access_token": t.AccessToken, "refresh_token": t.RefreshToken,
		"client_endpoint": t.ClientEndpoint, "domain": "oauth.bitrix.info",
		"expires": t.Expires.Unix(), "expires_in": int(a.core.lifetime / time.Second),
		"member_id": t.MemberID, "scope": t.Scope, "server_endpoint": t.ServerEndpoint,
		"status": t.Status, "user_id": t.UserID,
	}
}
