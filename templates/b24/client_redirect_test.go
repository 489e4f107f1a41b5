package b24_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// TestRedirectsAreNeverFollowed: whatever the status, the target and the
// *http.Client, a redirect is reported at once, the request is not sent
// again (neither the write nor the secret goes anywhere else), and the error
// names the target with the secret masked.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result":true}`) // a "success" that must never be reported
	}))
	defer other.Close()
	otherHost := strings.TrimPrefix(other.URL, "http://")

	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, own := range []bool{false, true} {
			name := http.StatusText(status)
			if own {
				name += "/own http.Client"
			}
			t.Run(name, func(t *testing.T) {
				elsewhere.Store(0)
				var here atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					here.Add(1)
					if strings.Contains(r.URL.Path, "/again/") {
						w.Header().Set("Content-Type", "application/json")
						io.WriteString(w, `{"result":true}`)
						return
					}
					// Same path elsewhere (the secret with it), or on this host.
					target := other.URL + r.URL.Path
					if status == 307 {
						target = strings.Replace(r.URL.Path, "/rest/", "/again/", 1)
					}
					http.Redirect(w, r, target, status)
				}))
				defer srv.Close()
				var opts []b24.Option
				opts = append(opts, b24.WithRetry(fastRetry), b24.WithoutRateLimit())
				if own {
					opts = append(opts, b24.WithHTTPClient(&http.Client{})) // net/http's default policy
				}
				c, err := b24.NewWebhookClient(srv.URL+"/rest/1/"+b24test.Secret+"/", opts...)
				if err != nil {
					t.Fatal(err)
				}
				for _, idem := range []bool{false, true} {
					here.Store(0)
					err = c.CallMethod(context.Background(), "crm.deal.add", map[string]any{"fields": map[string]string{"TITLE": "x"}}, nil, b24.WithIdempotent(idem))
					var te *b24.TransportError
					if !errors.As(err, &te) || te.Status != status {
						t.Fatalf("err = %v, want a *TransportError with status %d", err, status)
					}
					wantHost := otherHost
					if status == 307 {
						wantHost = strings.TrimPrefix(srv.URL, "http://")
					}
					for _, w := range []string{"redirect", wantHost, "/***/", "webhook URL"} {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error %q does not say %q", err, w)
						}
					}
					assertErrClean(t, err)
					if n := here.Load(); n != 1 {
						t.Errorf("idempotent=%v: %d requests to the portal, want 1 (a redirect is not retried)", idem, n)
					}
				}
				if n := elsewhere.Load(); n != 0 {
					t.Errorf("the redirect was followed: %d request(s) reached the other host", n)
				}
			})
		}
	}
}
