// Package servers finds the real Redis, NATS and PostgreSQL that the
// adapters' tests run against. Their addresses come from REDIS_ADDR, NATS_URL
// and DATABASE_URL, which .ci/run sets. Outside CI (CI unset) a test whose
// server is unreachable skips, saying so; in CI it fails.
package servers

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Defaults are the addresses of the services on the project's machines.
const (
	DefaultRedisAddr   = "127.0.0.1:6379"
	DefaultNATSURL     = "nats://127.0.0.1:4222"
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test"
)

// RedisAddr is $REDIS_ADDR or the default.
func RedisAddr() string { return env("REDIS_ADDR", DefaultRedisAddr) }

// NATSURL is $NATS_URL or the default.
func NATSURL() string { return env("NATS_URL", DefaultNATSURL) }

// DatabaseURL is $DATABASE_URL or the default.
func DatabaseURL() string { return env("DATABASE_URL", DefaultDatabaseURL) }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Unavailable stops the test for a server it cannot reach: a skip outside
// CI, a failure in CI. what names the server and its variable; err says why
// (it never carries a password: the URLs used here have none by default,
// and Redact strips one that is set).
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is unreachable (CI is set, so this fails rather than skips): %v", what, err)
	}
	t.Skipf("%s is unreachable, skipping (set CI=true to make this fail): %v", what, err)
}

// Dial checks that a TCP listener answers at hostport, quickly.
func Dial(hostport string) error {
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// HostPort returns the host:port of a URL such as NATS_URL or DATABASE_URL.
func HostPort(rawURL, defPort string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), defPort)
	}
	return u.Host
}

// Redact returns rawURL without its password, for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Unique returns a fresh name with prefix, made of letters, digits and
// underscores, so that test runs sharing a server never see each other's
// keys, streams or tables.
func Unique(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(prefix) + "_" + hex.EncodeToString(b)
}
