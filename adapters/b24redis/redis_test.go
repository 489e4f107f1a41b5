package b24redis

import (
	"context"
	"testing"
	"time"

	"github.com/b24gen/b24gen/adapters/internal/servers"
	"github.com/b24gen/b24gen/templates/b24"
	"github.com/redis/go-redis/v9"
)

// The adapters satisfy the runtime's interfaces structurally; these lines
// fail to compile when a method set drifts.
var (
	_ b24.SharedBucket     = (*Bucket)(nil)
	_ b24.SharedHolds      = (*Holds)(nil)
	_ b24.SharedTokenStore = (*TokenStore)(nil)
)

// client connects to $REDIS_ADDR, or skips (outside CI) when it is down.
func client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: servers.RedisAddr()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		servers.Unavailable(t, "Redis at "+servers.RedisAddr()+" (REDIS_ADDR)", err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// prefix returns a key prefix unique to this test run, whose keys are
// removed when the test ends.
func prefix(t testing.TB, rdb *redis.Client) string {
	p := servers.Unique("b24test") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return p
}
