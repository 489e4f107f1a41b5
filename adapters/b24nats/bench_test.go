package b24nats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
)

// BenchmarkSpoolLatency measures one delivery's latency through the stream:
// from the start of Put to Next returning it in a waiting worker, with p50
// and p99 as custom metrics.
func BenchmarkSpoolLatency(b *testing.B) {
	j := js(b)
	ctx := context.Background()
	name := strings.ToUpper(servers.Unique("b24bench_spool"))
	defer j.DeleteStream(ctx, name)
	s, err := NewSpool(ctx, j, SpoolOptions{Stream: name})
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		id := fmt.Sprint("d", i)
		i++
		got := make(chan error, 1)
		go func() {
			gid, _, err := s.Next(ctx)
			if err == nil && gid != id {
				err = fmt.Errorf("Next = %q, want %q", gid, id)
			}
			got <- err
		}()
		time.Sleep(time.Millisecond) // let the worker wait first
		start := time.Now()
		if err := s.Put(ctx, id, []byte("{}")); err != nil {
			b.Fatal(err)
		}
		if err := <-got; err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if err := s.Ack(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
