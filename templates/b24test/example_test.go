package b24test_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// A test of code that writes through the client: the portal refuses three
// times with QUERY_LIMIT_EXCEEDED (the write did not run, so the client
// retries it), then drops the connection after running the write (so the
// client must not retry it). The write runs exactly once each time.
func ExamplePortal_Fail() {
	p := b24test.Start() // in a test: b24test.NewPortal(t)
	defer p.Close()
	p.Handle("crm.deal.add", func(params map[string]any) (any, error) {
		return 42, nil
	})
	// Short retry delays keep the test fast. After a 503 the client's own
	// bucket (50, 2/s by default) would pace the retries at 2/s: turn it off.
	client, _ := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit(),
		b24.WithRetry(b24.RetryPolicy{MaxRetries: 5, BaseDelay: time.Millisecond}))
	ctx := context.Background()

	p.Fail("crm.deal.add", b24test.QueryLimitStorm(3))
	var id int
	err := client.CallMethod(ctx, "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "A"}}, &id)
	fmt.Println(id, err, p.Requests("crm.deal.add"), p.Ran("crm.deal.add"))

	p.Fail("crm.deal.add", b24test.ConnectionReset())
	err = client.CallMethod(ctx, "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "B"}}, &id)
	var te *b24.TransportError
	fmt.Println(errors.As(err, &te), p.Ran("crm.deal.add"))
	// Output:
	// 42 <nil> 4 1
	// true 2
}

// Serving a list method from rows: pagination, filters and ID order as the
// portal does them.
func ExamplePortal_ServeList() {
	p := b24test.Start()
	defer p.Close()
	var rows []map[string]any
	for i := 1; i <= 75; i++ {
		rows = append(rows, map[string]any{"ID": fmt.Sprint(i), "TITLE": fmt.Sprint("Deal ", i)})
	}
	p.ServeList("crm.deal.list", rows, b24test.ListOptions{})
	client, _ := b24.NewWebhookClient(p.WebhookURL())

	resp, _ := client.Call(context.Background(), &b24.Request{Method: "crm.deal.list", Params: map[string]any{"start": 50}})
	fmt.Println(resp.Total, resp.HasNext)
	n := 0
	for range b24.List[map[string]any](context.Background(), client, b24.Request{Method: "crm.deal.list"}, b24.ListSpec{}) {
		n++
	}
	fmt.Println(n)
	// Output:
	// 75 false
	// 75
}
