package b24

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// AppPage is what Bitrix24 posts to the application's page when a user opens
// it (or its install wizard, or a placement): settings/oauth/simple-way.
// Token holds the opening user's tokens (AUTH_ID, REFRESH_ID), so its
// calls run with that user's permissions: App.ClientForToken(p.Token, …).
type AppPage struct {
	Domain    string // DOMAIN: the portal's host
	HTTPS     bool   // PROTOCOL=1
	Lang      string // LANG: the user's interface language
	AppSID    string // APP_SID: this rendering's session id
	Placement string // PLACEMENT: "DEFAULT" for the application's own page
	// PlacementOptions is PLACEMENT_OPTIONS as JSON (the portal sends a
	// JSON text; any other text is kept as a JSON string).
	PlacementOptions json.RawMessage
	Token            Token
}

// String shows the page without the tokens.
func (p AppPage) String() string {
	return fmt.Sprintf("AppPage{Domain:%q Placement:%q Lang:%q Token:%s}", p.Domain, p.Placement, p.Lang, p.Token.String())
}

// Format makes every fmt verb print String.
func (p AppPage) Format(f fmt.State, _ rune) { io.WriteString(f, p.String()) }

// LogValue keeps the tokens out of slog records.
func (p AppPage) LogValue() slog.Value { return slog.StringValue(p.String()) }

// ParseAppPage reads the application page's request: DOMAIN, PROTOCOL, LANG
// and APP_SID from the query, the rest (AUTH_ID, AUTH_EXPIRES, REFRESH_ID,
// SERVER_ENDPOINT, APPLICATION_TOKEN, APPLICATION_SCOPE, member_id, status,
// PLACEMENT, PLACEMENT_OPTIONS) from the form body; either place is
// accepted for every field. The body is read up to 1 MiB. A request
// without AUTH_ID, member_id or DOMAIN is an error.
func ParseAppPage(r *http.Request) (*AppPage, error) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	}
	if err := r.ParseForm(); err != nil {
		return nil, errors.New("b24: ParseAppPage: the request's form does not parse")
	}
	get := func(k string) string { return strings.TrimSpace(r.Form.Get(k)) }
	p := &AppPage{
		Domain: get("DOMAIN"), Lang: get("LANG"), AppSID: get("APP_SID"), Placement: get("PLACEMENT"),
		HTTPS: get("PROTOCOL") != "0",
	}
	if p.Domain == "" || get("AUTH_ID") == "" || get("member_id") == "" {
		return nil, errors.New("b24: ParseAppPage: the request lacks DOMAIN, AUTH_ID or member_id: not an application page opened by Bitrix24")
	}
	if strings.ContainsAny(p.Domain, "/?#@ ") {
		return nil, fmt.Errorf("b24: ParseAppPage: DOMAIN %q is not a host name", p.Domain)
	}
	if opts := get("PLACEMENT_OPTIONS"); opts != "" {
		if json.Valid([]byte(opts)) {
			p.PlacementOptions = json.RawMessage(opts)
		} else {
			p.PlacementOptions, _ = json.Marshal(opts)
		}
	}
	scheme := "https://"
	if !p.HTTPS {
		scheme = "http://"
	}
	var expiresIn Int
	if s := get("AUTH_EXPIRES"); s != "" {
		if n, ok := parseIntText(s); ok {
			expiresIn = Int(n)
		}
	}
	p.Token = Token{
		AccessToken: get("AUTH_ID"), RefreshToken: get("REFRESH_ID"),
		Expires:  expiry(0, int64(expiresIn)),
		MemberID: get("member_id"), Domain: p.Domain, ClientEndpoint: scheme + p.Domain + "/rest/",
		ServerEndpoint: get("SERVER_ENDPOINT"), Scope: get("APPLICATION_SCOPE"), Status: get("status"),
		ApplicationToken: get("APPLICATION_TOKEN"),
	}
	return p, nil
}
