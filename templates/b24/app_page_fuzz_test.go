package b24_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// FuzzParseAppPage: any query and form body parse or are refused, never a
// panic; a page that parses names a host, builds its endpoint from it, and
// never prints its tokens.
func FuzzParseAppPage(f *testing.F) {
	f.Add("DOMAIN=portal.bitrix24.com&PROTOCOL=1&LANG=en", "AUTH_ID=a1&REFRESH_ID=r1&member_id=m&PLACEMENT=DEFAULT&PLACEMENT_OPTIONS=%7B%22x%22%3A1%7D")
	f.Add("DOMAIN=evil.example%2F&PROTOCOL=0", "AUTH_ID=a&member_id=m&AUTH_EXPIRES=99999999999999999999")
	f.Add("", "DOMAIN=p&AUTH_ID=%zz&member_id=m&PLACEMENT_OPTIONS=not+json")
	f.Fuzz(func(t *testing.T, query, body string) {
		req := httptest.NewRequest("POST", "/app?x=1", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		page, err := b24.ParseAppPage(req)
		if err != nil {
			return
		}
		if page.Domain == "" || strings.ContainsAny(page.Domain, "/?#@ ") {
			t.Fatalf("domain %q accepted", page.Domain)
		}
		if !strings.HasSuffix(page.Token.ClientEndpoint, "://"+page.Domain+"/rest/") {
			t.Fatalf("endpoint %q for domain %q", page.Token.ClientEndpoint, page.Domain)
		}
		printed := page.String() + fmt.Sprintf("%v %+v", page, *page)
		for _, secret := range []string{page.Token.AccessToken, page.Token.RefreshToken} {
			if len(secret) >= 8 && strings.Contains(printed, secret) {
				t.Fatalf("a token is printed: %s", printed)
			}
		}
	})
}
