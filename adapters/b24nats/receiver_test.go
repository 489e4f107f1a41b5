package b24nats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/receivertest"
	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// openSpool makes a fresh stream; each call of the func it returns is
// another process's connection to it.
func openSpool(t testing.TB, lease time.Duration) func() b24.Spool {
	j := js(t)
	name := strings.ToUpper(servers.Unique("b24test_recv"))
	t.Cleanup(func() { j.DeleteStream(context.Background(), name) })
	return func() b24.Spool {
		s, err := NewSpool(context.Background(), js(t), SpoolOptions{Stream: name, Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// The receiver (templates/b24) over the JetStream spool.
func TestReceiverOverSpool(t *testing.T) {
	js(t) // skip, or fail in CI, when NATS is down
	receivertest.Run(t, func(t *testing.T, lease time.Duration) func() b24.Spool { return openSpool(t, lease) },
		func(t *testing.T) b24.Spool {
			// A spool whose connection is gone: the server went away.
			nc, err := nats.Connect(servers.NATSURL())
			if err != nil {
				t.Fatal(err)
			}
			j, _ := jetstream.New(nc)
			name := strings.ToUpper(servers.Unique("b24test_down"))
			s, err := NewSpool(context.Background(), j, SpoolOptions{Stream: name})
			if err != nil {
				t.Fatal(err)
			}
			j.DeleteStream(context.Background(), name)
			nc.Close()
			return s
		})
}

// BenchmarkReceiverDelivery: ServeHTTP with the JetStream spool until the
// handler runs in a worker on another connection; p50/p99 as metrics.
func BenchmarkReceiverDelivery(b *testing.B) {
	open := openSpool(b, 30*time.Second)
	receivertest.BenchDelivery(b, open(), open())
}
