package b24redis

import (
	"context"
	"testing"
)

// BenchmarkBucketReserve measures the limiter's overhead per call: one
// Reserve, a script round trip to Redis, on a bucket too large to wait.
func BenchmarkBucketReserve(b *testing.B) {
	rdb := client(b)
	bucket, _ := NewBucket(rdb, WithPrefix(prefix(b, rdb)))
	ctx := context.Background()
	for b.Loop() {
		if _, err := bucket.Reserve(ctx, "p", 1<<30, 1e9); err != nil {
			b.Fatal(err)
		}
	}
}
