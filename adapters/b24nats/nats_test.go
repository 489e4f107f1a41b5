package b24nats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/adapters/internal/storetest"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var _ b24.Spool = (*Spool)(nil)

func js(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(servers.NATSURL(), nats.Timeout(2*time.Second))
	if err != nil {
		servers.Unavailable(t, "NATS at "+servers.Redact(servers.NATSURL())+" (NATS_URL)", err)
	}
	t.Cleanup(nc.Close)
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSpool(t *testing.T) {
	j := js(t)
	storetest.SpoolSemantics(t, func(t *testing.T, lease time.Duration) func() storetest.Spool {
		name := strings.ToUpper(servers.Unique("b24test_spool"))
		t.Cleanup(func() { j.DeleteStream(context.Background(), name) })
		return func() storetest.Spool {
			s, err := NewSpool(context.Background(), js(t), SpoolOptions{Stream: name, Lease: lease})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

var _ b24.SharedTokenStore = (*TokenStore)(nil)

func TestTokenStore(t *testing.T) {
	j := js(t)
	name := strings.ToUpper(servers.Unique("b24test_tokens"))
	kv, err := j.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.DeleteKeyValue(context.Background(), name) })
	s, _ := NewTokenStore(kv)
	storetest.TokenStoreSemantics(t, s)
}
