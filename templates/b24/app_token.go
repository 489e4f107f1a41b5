package b24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token is an application's OAuth 2.0 authorization on one portal: the pair
// of tokens the authorization server issued and what came with them.
//
// AccessToken, RefreshToken and ApplicationToken are credentials: String,
// Format and LogValue show them as [redacted]. MarshalJSON writes them (a
// TokenStore needs them); do not log the JSON.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expires      time.Time `json:"expires"` // when AccessToken expires; zero when unknown
	MemberID     string    `json:"member_id"`
	// Domain is the portal's host, "portal.bitrix24.com".
	Domain string `json:"domain"`
	// ClientEndpoint is the portal's REST address, "https://portal.bitrix24.com/rest/":
	// calls go to ClientEndpoint + method.
	ClientEndpoint string `json:"client_endpoint"`
	ServerEndpoint string `json:"server_endpoint,omitempty"`
	Scope          string `json:"scope,omitempty"`
	Status         string `json:"status,omitempty"` // L local, F free, D demo, T trial, P paid
	UserID         int64  `json:"user_id,omitempty"`
	// ApplicationToken proves that an event comes from the portal; it
	// arrives with ONAPPINSTALL (and as APPLICATION_TOKEN on the app page).
	ApplicationToken string `json:"application_token,omitempty"`
}

// String shows the portal, never the tokens.
func (t Token) String() string {
	exp := "unknown"
	if !t.Expires.IsZero() {
		exp = t.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("Token{MemberID:%q Domain:%q ClientEndpoint:%q Scope:%q Status:%q UserID:%d Expires:%s AccessToken:%s RefreshToken:%s ApplicationToken:%s}",
		t.MemberID, t.Domain, t.ClientEndpoint, t.Scope, t.Status, t.UserID, exp,
		redactedMark(t.AccessToken), redactedMark(t.RefreshToken), redactedMark(t.ApplicationToken))
}

// Format makes every fmt verb print String.
func (t Token) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// LogValue keeps the tokens out of slog records.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// secrets lists the token's credentials, for scrubbing error texts.
func (t Token) secrets() []string {
	return []string{t.AccessToken, t.RefreshToken, t.ApplicationToken}
}

// ErrNoToken is returned by a TokenStore's Load for a portal it holds no
// token for (the application is not installed there, or was removed).
var ErrNoToken = errors.New("b24: no token stored for the portal")

// TokenStore keeps each portal's Token, keyed by member_id. The refresh
// token rotates on every renewal and the old one stops working, so Save
// must be durable before it returns: the client uses a renewed token only
// after Save succeeded, and a failed Save fails the call (the renewed token
// is kept in memory and saved again before the next use).
//
// Implementations must be safe for concurrent use. Their errors are shown
// to callers and loggers; they must not quote the token.
type TokenStore interface {
	Load(ctx context.Context, memberID string) (Token, error) // ErrNoToken when absent
	Save(ctx context.Context, t Token) error
	Delete(ctx context.Context, memberID string) error
}

// MemoryTokenStore is a TokenStore in memory, for tests and single-process
// tools: a restart loses every portal's authorization.
type MemoryTokenStore struct {
	mu sync.Mutex
	m  map[string]Token
}

// NewMemoryTokenStore returns an empty MemoryTokenStore.
func NewMemoryTokenStore() *MemoryTokenStore { return &MemoryTokenStore{m: map[string]Token{}} }

func (s *MemoryTokenStore) Load(_ context.Context, memberID string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[memberID]
	if !ok {
		return Token{}, ErrNoToken
	}
	return t, nil
}

func (s *MemoryTokenStore) Save(_ context.Context, t Token) error {
	if t.MemberID == "" {
		return errors.New("b24: MemoryTokenStore: token without a member_id")
	}
	s.mu.Lock()
	s.m[t.MemberID] = t
	s.mu.Unlock()
	return nil
}

func (s *MemoryTokenStore) Delete(_ context.Context, memberID string) error {
	s.mu.Lock()
	delete(s.m, memberID)
	s.mu.Unlock()
	return nil
}

// Errors of the authorization server (settings/oauth/error-codes.md), for
// errors.Is on a *TokenError.
var (
	ErrInvalidGrant    = &APIError{Code: "invalid_grant"}
	ErrInvalidClient   = &APIError{Code: "invalid_client"}
	ErrInvalidRequest  = &APIError{Code: "invalid_request"}
	ErrPaymentRequired = &APIError{Code: "PAYMENT_REQUIRED"}
)

// TokenError is a failed request to the authorization server: an exchange
// of an authorization code, or a renewal. Err is the server's answer (an
// *APIError: invalid_grant, invalid_client, PAYMENT_REQUIRED, …), a
// *TransportError, a *StoreError or the context's error; errors.Is sees
// through it. Its text holds no credential.
type TokenError struct {
	Grant    string // "refresh_token" or "authorization_code"
	MemberID string // the portal, when known
	// Repeated is set when the server was not asked: the same refresh
	// token failed before (or the server was unreachable a moment ago), and
	// asking again in a loop would only add load the docs warn about.
	Repeated bool
	Err      error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("b24: ")
	if e.Grant == "authorization_code" {
		b.WriteString("exchanging the authorization code")
	} else {
		b.WriteString("renewing the access token")
	}
	if e.MemberID != "" {
		b.WriteString(" of portal ")
		b.WriteString(e.MemberID)
	}
	if e.Repeated {
		b.WriteString(" (not asked again: the last renewal with this refresh token failed)")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "b24: "))
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

// StoreError is a TokenStore that failed to load, save or delete a token.
type StoreError struct {
	Op       string // "load", "save", "delete"
	MemberID string
	Err      error
}

func (e *StoreError) Error() string {
	msg := "b24: token store: " + e.Op + " for portal " + e.MemberID
	if e.Op == "save" {
		msg += " failed; the renewed token is kept in memory and saved again before it is used"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *StoreError) Unwrap() error { return e.Err }

// tokenMethod names the authorization server's endpoint in errors.
const tokenMethod = "oauth/token"

// tokenWire is the authorization server's answer, tolerant of numbers sent
// as strings.
type tokenWire struct {
	AccessToken    String `json:"access_token"`
	RefreshToken   String `json:"refresh_token"`
	Expires        Int    `json:"expires"`
	ExpiresIn      Int    `json:"expires_in"`
	MemberID       String `json:"member_id"`
	Domain         String `json:"domain"` // the authorization server's domain here, not the portal's
	ClientEndpoint String `json:"client_endpoint"`
	ServerEndpoint String `json:"server_endpoint"`
	Scope          String `json:"scope"`
	Status         String `json:"status"`
	UserID         Int    `json:"user_id"`
	Error          String `json:"error"`
	Description    String `json:"error_description"`
}

// requestToken asks the authorization server for a pair of tokens
// (grant_type refresh_token or authorization_code; value is the refresh
// token or the code). The request is a GET, as the docs show; its query
// holds client_secret, so no error quotes the URL.
func (a *App) requestToken(ctx context.Context, grant, key, value string) (Token, error) {
	q := url.Values{"grant_type": {grant}, "client_id": {a.clientID}, "client_secret": {a.clientSecret}, key: {value}}
	red := func(s string) string { return scrubText(s, a.clientSecret, value) }
	fail := func(status int, msg string, cause error) (Token, error) {
		te := &TransportError{Method: tokenMethod, Status: status, Msg: red(msg)}
		if cause != nil {
			te.Err = &redactedErr{msg: red(cause.Error()), cause: causeOf(cause)}
		}
		return Token{}, te
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, a.authServer+"oauth/token/?"+q.Encode(), nil)
	if err != nil {
		return fail(0, "building the request: "+unwrapURLError(err).Error(), nil)
	}
	hreq.Header.Set("User-Agent", defaultUserAgent)
	hreq.Header.Set("Accept", "application/json")
	hresp, err := a.hc.Do(hreq)
	if err != nil {
		cause := unwrapURLError(err)
		return fail(0, "GET "+a.authServer+"oauth/token/: "+cause.Error(), cause)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode >= 300 && hresp.StatusCode < 400 {
		return fail(hresp.StatusCode, fmt.Sprintf("HTTP %d: a redirect, not followed (it would carry client_secret): check the authorization server's address", hresp.StatusCode), nil)
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, 1<<20))
	if err != nil {
		return fail(hresp.StatusCode, fmt.Sprintf("HTTP %d: reading the body: %v", hresp.StatusCode, err), err)
	}
	var w tokenWire
	if err := json.Unmarshal(body, &w); err != nil {
		// No snippet of the body: a cut answer may hold the new tokens.
		return fail(hresp.StatusCode, fmt.Sprintf("HTTP %d answered a body that is not its JSON (%s, %d bytes)",
			hresp.StatusCode, red(cmpOr(hresp.Header.Get("Content-Type"), "no content type")), len(body)), nil)
	}
	if w.Error != "" {
		return Token{}, &APIError{Method: tokenMethod, Status: hresp.StatusCode, Code: red(string(w.Error)), Description: red(string(w.Description))}
	}
	if w.AccessToken == "" || w.RefreshToken == "" {
		return fail(hresp.StatusCode, fmt.Sprintf("HTTP %d: the answer holds no access_token or refresh_token", hresp.StatusCode), nil)
	}
	t := Token{
		AccessToken: string(w.AccessToken), RefreshToken: string(w.RefreshToken),
		MemberID: string(w.MemberID), ClientEndpoint: string(w.ClientEndpoint), ServerEndpoint: string(w.ServerEndpoint),
		Scope: string(w.Scope), Status: string(w.Status), UserID: int64(w.UserID),
	}
	t.Expires = expiry(int64(w.Expires), int64(w.ExpiresIn))
	if u, err := url.Parse(t.ClientEndpoint); err == nil {
		t.Domain = u.Host // the answer's "domain" is the authorization server's
	}
	return t, nil
}

// expiry is when an access token expires: "expires" (unix seconds) when
// sent, else now + "expires_in"; zero when neither is.
func expiry(expires, expiresIn int64) time.Time {
	switch {
	case expires > 0:
		return time.Unix(expires, 0)
	case expiresIn > 0:
		return time.Now().Add(time.Duration(expiresIn) * time.Second)
	}
	return time.Time{}
}

// scrubText replaces every secret (of 4 characters or more) in s.
func scrubText(s string, secrets ...string) string {
	for _, x := range secrets {
		if len(x) >= minTokenLen && strings.Contains(s, x) {
			s = strings.ReplaceAll(s, x, redactedSecret)
		}
	}
	return s
}

// causeOf keeps an error's cause for errors.Is (a timeout, a reset) without
// its text, which scrubbing replaces.
func causeOf(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return nil
}

// scrubError returns err with the secrets taken out of its text. Errors the
// client builds are rebuilt with clean fields, so errors.As still finds
// them; others become a text with their cause kept for errors.Is.
func scrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if scrubText(msg, secrets...) == msg {
		return err
	}
	switch e := err.(type) {
	case *APIError:
		c := *e
		c.Code, c.Description = scrubText(c.Code, secrets...), scrubText(c.Description, secrets...)
		c.Validation = append([]ValidationError(nil), c.Validation...)
		for i := range c.Validation {
			c.Validation[i].Field = scrubText(c.Validation[i].Field, secrets...)
			c.Validation[i].Message = scrubText(c.Validation[i].Message, secrets...)
		}
		return &c
	case *TransportError:
		c := *e
		c.Msg = scrubText(c.Msg, secrets...)
		c.Err = scrubError(c.Err, secrets...)
		return &c
	case *TokenError:
		c := *e
		c.Err = scrubError(c.Err, secrets...)
		return &c
	case *StoreError:
		c := *e
		c.Err = scrubError(c.Err, secrets...)
		return &c
	case *CallError:
		c := *e
		c.Err = scrubError(c.Err, secrets...)
		return &c
	}
	return &redactedErr{msg: scrubText(msg, secrets...), cause: causeOf(err)}
}

// isExpiredToken: the portal refused the call's access token as expired,
// before running the method.
func isExpiredToken(err error) bool {
	var e *APIError
	return errors.As(err, &e) && strings.EqualFold(e.Code, "expired_token")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
