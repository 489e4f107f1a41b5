package b24_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// A call by method name, against a fake portal. Generated functions such as
// crm.DealGet make the same call with typed params and result.
func ExampleClient_CallMethod() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Handle("crm.deal.get", func(params map[string]any) (any, error) {
		id, _ := b24test.Int(params, "id")
		return map[string]any{"ID": fmt.Sprint(id), "TITLE": "Website redesign", "OPPORTUNITY": "1000000.00"}, nil
	})

	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		panic(err)
	}
	var deal struct {
		ID          b24.Int    `json:"ID"`
		Title       string     `json:"TITLE"`
		Opportunity b24.Number `json:"OPPORTUNITY"`
	}
	err = client.CallMethod(context.Background(), "crm.deal.get", map[string]any{"id": 759}, &deal, b24.WithIdempotent(true))
	if err != nil {
		panic(err)
	}
	fmt.Println(deal.ID, deal.Title, float64(deal.Opportunity))

	// Errors from the portal are *b24.APIError, matched by code.
	err = client.CallMethod(context.Background(), "crm.deal.delete", map[string]any{"id": 759}, nil)
	fmt.Println(errors.Is(err, b24.ErrMethodNotFound))
	// Output:
	// 759 Website redesign 1e+06
	// true
}

// A batch: the second command reads the first one's result through a
// $result reference, all in one HTTP request.
func ExampleBatch() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Answer("user.current", map[string]any{"ID": "1", "UF_DEPARTMENT": []int{7}})
	portal.Handle("department.get", func(params map[string]any) (any, error) {
		return []map[string]any{{"ID": b24test.Str(params, "ID"), "NAME": "Sales"}}, nil
	})
	client, _ := b24.NewWebhookClient(portal.WebhookURL())

	type department struct{ ID, NAME string }
	b := b24.NewBatch(b24.WithHalt(true))
	user := b24.Add(b, "user", b24.NewCommand[map[string]any](b24.Request{Method: "user.current"}))
	dept := b24.Add(b, "dept", b24.NewCommand[[]department](b24.Request{
		Method: "department.get",
		Params: map[string]any{"ID": user.Ref("UF_DEPARTMENT.0")}, // $result[user][UF_DEPARTMENT][0]
	}))
	if err := b.Run(context.Background(), client); err != nil {
		panic(err) // a *b24.BatchError lists failed commands by key
	}
	d, err := dept.Result()
	fmt.Println(d, err, portal.Requests("batch"))
	// Output:
	// [{7 Sales}] <nil> 1
}

// Export reads a whole list by ID: start=-1, filter >ID, 50 pages chained
// per batch request.
func ExampleExport() {
	portal := b24test.Start()
	defer portal.Close()
	rows := make([]map[string]any, 5000)
	for i := range rows {
		rows[i] = map[string]any{"id": i + 1, "title": fmt.Sprint("Item ", i+1)}
	}
	portal.ServeList("crm.item.list", rows, b24test.ListOptions{ItemsKey: "items", IDField: "id"})
	client, _ := b24.NewWebhookClient(portal.WebhookURL())

	type item struct {
		ID    b24.Int `json:"id"`
		Title string  `json:"title"`
	}
	req := b24.Request{Method: "crm.item.list", Params: map[string]any{"entityTypeId": 2, "select": []string{"id", "title"}}}
	n := 0
	var last item
	for it, err := range b24.Export[item](context.Background(), client, req, b24.ListSpec{ItemsKey: "items", IDField: "id"}) {
		if err != nil {
			panic(err)
		}
		n, last = n+1, it
	}
	fmt.Println(n, "rows; last:", last.Title)
	fmt.Println("HTTP requests:", portal.Requests("crm.item.list")+portal.Requests("batch"))
	// Output:
	// 5000 rows; last: Item 5000
	// HTTP requests: 3
}

// List pages through start/next; breaking out stops the requests.
func ExampleList() {
	portal := b24test.Start()
	defer portal.Close()
	rows := make([]map[string]any, 120)
	for i := range rows {
		rows[i] = map[string]any{"ID": fmt.Sprint(i + 1), "STAGE_ID": []string{"NEW", "WON"}[i%2]}
	}
	portal.ServeList("crm.deal.list", rows, b24test.ListOptions{})
	client, _ := b24.NewWebhookClient(portal.WebhookURL())

	won := 0
	req := b24.Request{Method: "crm.deal.list", Params: map[string]any{"filter": map[string]string{"STAGE_ID": "WON"}}}
	for _, err := range b24.List[map[string]any](context.Background(), client, req, b24.ListSpec{}) {
		if err != nil {
			panic(err)
		}
		won++
	}
	// The first page gives the total; the pages after it go 50 to a batch.
	fmt.Println(won, "won deals in", portal.Requests("crm.deal.list")+portal.Requests("batch"), "requests")
	// Output:
	// 60 won deals in 2 requests
}

// Tracing and metrics go through an attempt hook, not a RoundTripper: the
// hook sees the URL with the webhook secret masked, the retry number and
// the error of each attempt. A budget bounds each call, retries included.
func ExampleWithAttemptHook() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Answer("user.current", map[string]any{"ID": "1"})
	portal.Fail("user.current", b24test.QueryLimitStorm(1))

	client, err := b24.NewWebhookClient(portal.WebhookURL(),
		b24.WithCallTimeout(30*time.Second),
		b24.WithAttemptHook(func(a b24.Attempt) {
			fmt.Println(a.Method, "retry", a.Retry, "status", a.Status, "secret shown:", strings.Contains(a.URL, b24test.Secret), "failed:", a.Err != nil)
		}))
	if err != nil {
		panic(err)
	}
	if err := client.CallMethod(context.Background(), "user.current", nil, nil, b24.WithIdempotent(true)); err != nil {
		panic(err)
	}
	// Output:
	// user.current retry 0 status 503 secret shown: false failed: true
	// user.current retry 1 status 200 secret shown: false failed: false
}
