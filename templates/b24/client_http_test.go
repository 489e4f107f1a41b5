package b24_test

import (
	"strings"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// An http:// webhook URL sends the secret in clear: it is refused unless
// the host is loopback or the caller says WithInsecureHTTP.
func TestWebhookHTTPRefusedExceptLoopbackOrOption(t *testing.T) {
	const secret = "s3cretW3bhook"
	for _, in := range []string{
		"http://example.bitrix24.com/rest/7/" + secret + "/",
		"http://10.0.0.5:8080/rest/7/" + secret + "/",
		"http://127.0.0.1.example.com/rest/7/" + secret + "/",
	} {
		_, err := b24.NewWebhookClient(in)
		if err == nil {
			t.Errorf("NewWebhookClient(%q) accepted an http:// URL", in)
			continue
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "WithInsecureHTTP") {
			t.Errorf("error %q: must name the option and not the secret", err)
		}
		if _, err := b24.NewWebhookClient(in, b24.WithInsecureHTTP()); err != nil {
			t.Errorf("NewWebhookClient(%q, WithInsecureHTTP()): %v", in, err)
		}
	}
	for _, in := range []string{
		"http://127.0.0.1:8080/rest/7/" + secret + "/",
		"http://localhost/rest/7/" + secret + "/",
		"http://[::1]:9000/rest/7/" + secret + "/",
		"https://example.bitrix24.com/rest/7/" + secret + "/",
	} {
		if _, err := b24.NewWebhookClient(in); err != nil {
			t.Errorf("NewWebhookClient(%q): %v", in, err)
		}
	}
}
