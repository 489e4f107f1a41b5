package b24

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// DefaultAuthServer is Bitrix24's OAuth 2.0 authorization server. It
// issues and renews every application's tokens; only it sees client_secret.
const DefaultAuthServer = "https://oauth.bitrix.info/"

// App is a Bitrix24 application (local or mass-market) with its portals: it
// holds the application's keys, the authorization server, the TokenStore,
// and one *Client per portal, keyed by member_id.
//
// Each portal's client has its own rate-limit bucket and its own
// OPERATION_TIME_LIMIT holds, because the portal counts them per portal.
// A portal at rest costs a few hundred bytes and no goroutine or timer, so
// one App serves thousands of portals. Clients are made on first use, from
// the store.
//
// client_secret is a credential: String, Format and LogValue never show
// it, and no error or log line of the App or its clients holds it, nor any
// access, refresh or application token.
type App struct {
	clientID     string
	clientSecret string
	authServer   string // with its final slash
	store        TokenStore
	hc           *http.Client
	clientOpts   []Option
	log          *slog.Logger
	checkInstall func(ctx context.Context, t Token) (Token, error)
	optErr       error
	// checks bounds the install checks (requests to the authorization
	// server caused by an unauthenticated install) running at once.
	checks chan struct{}

	mu      sync.Mutex
	portals map[string]*appPortal
}

// appPortal is one portal's state: its token source and its client; the
// bucket and holds live in the client and are shared by the user clients
// of the same portal.
type appPortal struct {
	src    *portalSource
	client *Client
}

// AppOption configures an App.
type AppOption func(*App)

// WithAuthServer sets the authorization server's address (default
// DefaultAuthServer); tests point it at b24test.
func WithAuthServer(rawURL string) AppOption {
	return func(a *App) {
		u, err := url.Parse(strings.TrimSpace(rawURL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			a.optErr = errors.New("b24: WithAuthServer: want an http(s) URL such as https://oauth.bitrix.info/")
			return
		}
		a.authServer = u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/") + "/"
	}
}

// WithTokenStore sets where the portals' tokens are kept (default: a
// MemoryTokenStore, lost on restart).
func WithTokenStore(s TokenStore) AppOption {
	return func(a *App) {
		if s == nil {
			a.optErr = errors.New("b24: WithTokenStore(nil)")
			return
		}
		a.store = s
	}
}

// WithAuthHTTPClient sends the requests to the authorization server through
// hc (a copy that follows no redirect: the request's query holds
// client_secret). Portal calls use the client options' WithHTTPClient.
func WithAuthHTTPClient(hc *http.Client) AppOption {
	return func(a *App) {
		if hc == nil {
			a.optErr = errors.New("b24: WithAuthHTTPClient(nil)")
			return
		}
		a.hc = hc
	}
}

// WithClientOptions applies opts to every portal client the App makes
// (rate limits, retries, logger, HTTP client, hooks).
func WithClientOptions(opts ...Option) AppOption {
	return func(a *App) { a.clientOpts = append(a.clientOpts, opts...) }
}

// WithAppLogger logs renewals and their failures (never a token).
func WithAppLogger(l *slog.Logger) AppOption { return func(a *App) { a.log = l } }

// WithInstallCheck replaces how an ONAPPINSTALL delivery is validated before
// its tokens are stored (see App.Install for the default). check gets the
// tokens the delivery carries and returns the token to store, or an error
// to refuse the delivery (401).
func WithInstallCheck(check func(ctx context.Context, t Token) (Token, error)) AppOption {
	return func(a *App) { a.checkInstall = check }
}

// NewApp returns an App for the keys shown in the application's card (the
// local application form or the partner area).
func NewApp(clientID, clientSecret string, opts ...AppOption) (*App, error) {
	if strings.TrimSpace(clientID) == "" {
		return nil, errors.New("b24: NewApp: empty client_id")
	}
	if clientSecret == "" {
		return nil, errors.New("b24: NewApp: empty client_secret")
	}
	a := &App{
		clientID: clientID, clientSecret: clientSecret,
		authServer: DefaultAuthServer,
		store:      NewMemoryTokenStore(),
		hc:         &http.Client{Timeout: renewTimeout},
		portals:    map[string]*appPortal{},
		checks:     make(chan struct{}, maxInstallChecks),
	}
	for _, o := range opts {
		if o != nil {
			o(a)
		}
	}
	if a.optErr != nil {
		return nil, a.optErr
	}
	hc := *a.hc
	hc.CheckRedirect = refuseRedirect
	a.hc = &hc
	if a.checkInstall == nil {
		a.checkInstall = a.renewAtInstall
	}
	return a, nil
}

// ClientID is the application's client_id.
func (a *App) ClientID() string { return a.clientID }

// String shows the client_id and the authorization server, never the secret.
func (a *App) String() string {
	return "b24.App(" + a.clientID + " via " + a.authServer + ")"
}

// Format makes every fmt verb print String.
func (a *App) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

// LogValue keeps client_secret out of slog records.
func (a *App) LogValue() slog.Value { return slog.StringValue(a.String()) }

// AuthorizeURL is where to send a user to authorize the application on their
// portal (step 1 of the full protocol): https://<portal>/oauth/authorize/
// with client_id and state. portal is the address the user gave:
// "portal.bitrix24.com" or "https://portal.bitrix24.com/". After it, the
// portal sends the user to the application's redirect_uri with code (good
// for 30 seconds: pass it to Exchange at once), state, domain and member_id.
func (a *App) AuthorizeURL(portal, state string) (string, error) {
	p := strings.TrimSpace(portal)
	if !strings.Contains(p, "://") {
		p = "https://" + p
	}
	u, err := url.Parse(p)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", fmt.Errorf("b24: AuthorizeURL: %q is not a portal address such as portal.bitrix24.com", portal)
	}
	q := url.Values{"client_id": {a.clientID}}
	if state != "" {
		q.Set("state", state)
	}
	return u.Scheme + "://" + u.Host + "/oauth/authorize/?" + q.Encode(), nil
}

// Exchange trades an authorization code (the redirect's "code") for the
// first pair of tokens (grant_type=authorization_code), stores it and
// returns it. The portal's client is then App.Client(ctx, t.MemberID).
func (a *App) Exchange(ctx context.Context, code string) (Token, error) {
	if code == "" {
		return Token{}, &TokenError{Grant: "authorization_code", Err: errors.New("empty code")}
	}
	t, err := a.requestToken(ctx, "authorization_code", "code", code)
	if err != nil {
		return Token{}, &TokenError{Grant: "authorization_code", Err: err}
	}
	if t.MemberID == "" || t.ClientEndpoint == "" {
		return Token{}, &TokenError{Grant: "authorization_code", Err: errors.New("the answer has no member_id or client_endpoint")}
	}
	// The answer comes from the authorization server itself: it is the
	// confirmation, and only the replacement rule applies.
	t, err = a.install(ctx, t, true)
	if err != nil {
		return Token{}, err
	}
	return t, nil
}

// Install confirms t, the tokens of an install wizard or an application
// page (ParseAppPage), and stores the portal's authorization; the portal's
// client uses it from then on. Nothing the page says is trusted: t's
// refresh token is renewed at the App's authorization server (see
// WithInstallCheck), and the portal (member_id, client_endpoint, domain)
// is the one its answer names; a t.MemberID that disagrees is refused.
// The renewed pair is stored, with t.ApplicationToken.
//
// A portal that already holds tokens keeps them unless the install carries
// a second proof (the replacement rule, README "Trust"): the application
// token stored for the portal, or a stored pair the authorization server
// no longer renews (the application was uninstalled or reinstalled).
// Otherwise the error matches ErrInstallConflict and nothing changes.
func (a *App) Install(ctx context.Context, t Token) error {
	_, err := a.install(ctx, t, false)
	return err
}

// Uninstall deletes the portal's tokens from the store and drops its
// client; calls still holding the client fail without reaching the portal.
func (a *App) Uninstall(ctx context.Context, memberID string) error {
	a.mu.Lock()
	p := a.portals[memberID]
	delete(a.portals, memberID)
	a.mu.Unlock()
	if p != nil {
		p.src.remove()
	}
	if err := a.store.Delete(ctx, memberID); err != nil {
		return &StoreError{Op: "delete", MemberID: memberID, Err: err}
	}
	return nil
}

// Client returns the portal's client, the same one on every call: it signs
// with the stored token, renews it when it expires, and goes through the
// portal's own bucket and holds. Every generated function takes it as its
// b24.Caller. A portal the store holds no token for is an error matching
// ErrNoToken.
func (a *App) Client(ctx context.Context, memberID string) (*Client, error) {
	a.mu.Lock()
	p := a.portals[memberID]
	a.mu.Unlock()
	if p != nil {
		return p.client, nil
	}
	if memberID == "" {
		return nil, errors.New("b24: App.Client: empty member_id")
	}
	// Loaded before an entry is made, so unknown member_ids (a forged
	// delivery) leave nothing behind.
	t, err := a.store.Load(ctx, memberID)
	if err != nil {
		return nil, &StoreError{Op: "load", MemberID: memberID, Err: scrubError(err, t.secrets()...)}
	}
	if t.MemberID == "" {
		t.MemberID = memberID
	}
	src := newPortalSource(a, a.store, t)
	c, err := a.newClient(src, t.ClientEndpoint)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.portals[memberID]; p != nil {
		return p.client, nil // another call made it first
	}
	a.portals[memberID] = &appPortal{src: src, client: c}
	return c, nil
}

// ClientForToken returns a client signing with t, typically the token of the
// user who opened the application page (AppPage.Token), whose calls run with
// that user's permissions. Renewed tokens are saved through store (nil:
// kept in memory only). The client shares the rate-limit bucket and the
// holds of t's portal with App.Client's, when that one exists.
func (a *App) ClientForToken(t Token, store TokenStore) (*Client, error) {
	if t.MemberID == "" {
		return nil, errors.New("b24: App.ClientForToken: the token has no member_id")
	}
	c, err := a.newClient(newPortalSource(a, store, t), t.ClientEndpoint)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if p := a.portals[t.MemberID]; p != nil {
		c.bucket, c.gates = p.client.bucket, p.client.gates
		if c.share != nil && p.client.share != nil {
			c.share = p.client.share
		}
	}
	a.mu.Unlock()
	return c, nil
}

func (a *App) newClient(src TokenSource, endpoint string) (*Client, error) {
	c, err := NewAppClient(src, a.clientOpts...)
	if err != nil {
		return nil, err
	}
	if base, err := restBase(endpoint); err == nil {
		c.redacted = base
	}
	if c.share != nil {
		// The portal keys the shared bucket and holds; the application's
		// client_id names it among the portal's webhooks and applications.
		c.share.portal, c.share.identity = endpointHost(endpoint), "app "+a.clientID
	}
	return c, nil
}

// NewAppClient returns a client that signs every call with the access token
// of src, passed in the "auth" parameter as the docs show. It has
// everything a webhook client has (limiter, retries, batch, lists, export)
// and takes the same options; a call answered expired_token is renewed
// through src and sent again, once. Calls go to the token's
// client_endpoint. App.Client gives one per portal; NewAppClient is for a
// TokenSource of one's own.
func NewAppClient(src TokenSource, opts ...Option) (*Client, error) {
	if src == nil {
		return nil, errors.New("b24: NewAppClient: nil TokenSource")
	}
	auth := &appAuth{src: src}
	c, err := newClient(&Client{redacted: "oauth application", app: auth}, opts)
	if err != nil {
		return nil, err
	}
	if c.share != nil {
		// The portal is the token's (portalKey learns it on first use).
		c.share.identity = "app"
	}
	if hook := c.hook; hook != nil {
		// The hook sees errors as the caller does: without tokens.
		c.hook = func(at Attempt) {
			at.Err = auth.scrub(at.Err)
			hook(at)
		}
	}
	return c, nil
}

// stored returns the portal's token as the App holds it (its client's, or
// the store's), for checking a delivery's application_token.
func (a *App) stored(ctx context.Context, memberID string) (Token, error) {
	a.mu.Lock()
	p := a.portals[memberID]
	a.mu.Unlock()
	if p != nil {
		if t, ok := p.src.current(); ok {
			return t, nil
		}
		return Token{}, ErrNoToken
	}
	return a.store.Load(ctx, memberID)
}
