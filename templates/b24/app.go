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
	if err := a.Install(ctx, t); err != nil {
		if errors.As(err, new(*StoreError)) {
			a.keepUnsaved(t, "") // the code is spent: keep the pair
		}
		return Token{}, err
	}
	return t, nil
}

// Install stores t as the portal's authorization (tokens from the install
// callback, the application page or an exchange) and makes the portal's
// client use it. A token stored here is trusted as it is; deliveries of
// ONAPPINSTALL are checked first (see WithApp).
func (a *App) Install(ctx context.Context, t Token) error {
	if t.MemberID == "" {
		return errors.New("b24: App.Install: the token has no member_id")
	}
	if _, err := restBase(t.ClientEndpoint); err != nil {
		return fmt.Errorf("b24: App.Install: portal %s: %w", t.MemberID, err)
	}
	if err := a.store.Save(ctx, t); err != nil {
		return &StoreError{Op: "save", MemberID: t.MemberID, Err: scrubError(err, t.secrets()...)}
	}
	a.mu.Lock()
	p := a.portals[t.MemberID]
	a.mu.Unlock()
	if p != nil {
		p.src.set(t)
	}
	return nil
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
	if hook := c.hook; hook != nil {
		// The hook sees errors as the caller does: without tokens.
		c.hook = func(at Attempt) {
			at.Err = auth.scrub(at.Err)
			hook(at)
		}
	}
	return c, nil
}

// renewAtInstall is the default check of an ONAPPINSTALL delivery. The docs
// (events/safe-event-handlers) say to verify the delivered tokens before
// trusting the application_token. Any process can post a delivery, and
// anything it names (domain, client_endpoint, even an app.info answer at
// that endpoint) could be its own; the authorization server at the
// address this App was configured with cannot be. So the delivered
// refresh_token is renewed there: only a token that server issued to this
// client_id renews, and its answer names the portal (member_id,
// client_endpoint) with authority. The renewed pair is what gets stored.
func (a *App) renewAtInstall(ctx context.Context, t Token) (Token, error) {
	if t.RefreshToken == "" {
		return Token{}, errors.New("the delivery carries no refresh_token")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
	defer cancel()
	nt, err := a.requestToken(ctx, "refresh_token", "refresh_token", t.RefreshToken)
	if err != nil {
		return Token{}, &TokenError{Grant: "refresh_token", MemberID: t.MemberID, Err: scrubError(err, t.secrets()...)}
	}
	if nt.MemberID != t.MemberID {
		return Token{}, fmt.Errorf("the authorization server issued the delivered token for portal %q, not %q", nt.MemberID, t.MemberID)
	}
	return mergeRenewed(t, nt)
}

// installDelivered validates the tokens an ONAPPINSTALL delivery carries and
// stores them.
func (a *App) installDelivered(ctx context.Context, auth EventAuth) (Token, error) {
	t := Token{
		AccessToken: auth.AccessToken, RefreshToken: auth.RefreshToken,
		Expires:  expiry(0, int64(auth.ExpiresIn)),
		MemberID: auth.MemberID, Domain: auth.Domain, ClientEndpoint: auth.ClientEndpoint,
		ServerEndpoint: auth.ServerEndpoint, Scope: auth.Scope, Status: auth.Status, UserID: int64(auth.UserID),
		ApplicationToken: auth.ApplicationToken,
	}
	if !auth.Expires.IsZero() {
		t.Expires = auth.Expires.Time
	}
	if t.ClientEndpoint == "" && t.Domain != "" {
		t.ClientEndpoint = "https://" + t.Domain + "/rest/"
	}
	nt, err := a.checkInstall(ctx, t)
	if err != nil {
		return Token{}, scrubError(err, t.secrets()...)
	}
	nt.ApplicationToken = t.ApplicationToken
	if nt.MemberID == "" {
		nt.MemberID = t.MemberID
	}
	if err := a.Install(ctx, nt); err != nil {
		if errors.As(err, new(*StoreError)) {
			a.keepUnsaved(nt, t.RefreshToken) // the check spent the delivered pair
		}
		return Token{}, scrubError(err, append(nt.secrets(), t.secrets()...)...)
	}
	return nt, nil
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
