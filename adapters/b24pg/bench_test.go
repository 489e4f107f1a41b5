package b24pg

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkSpoolLatency measures one delivery's latency through the spool
// table: from the start of Put to Next returning it in a waiting worker
// (woken by NOTIFY), with p50 and p99 as custom metrics.
func BenchmarkSpoolLatency(b *testing.B) {
	p := pool(b)
	ctx := context.Background()
	s, err := NewSpool(ctx, p, SpoolOptions{Table: table(b, p, "b24bench_spool")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
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
