package b24_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// A REST 3.0 write (Version 3: /rest/api/) carries an Idempotency-Key. When
// its answer is lost after the portal ran it, the client retries with the
// same key and the portal answers from its store: the task exists once.
// Generated functions (tasks.TaskAddV3) take the same options.
func ExampleWithIdempotencyKey() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		return map[string]any{"item": map[string]any{"id": 101, "title": b24test.Str(b24test.Map(params, "fields"), "title")}}, nil
	})
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	add := func(title string, opts ...b24.CallOption) (b24.Int, error) {
		var out struct {
			Item struct{ ID b24.Int } `json:"item"`
		}
		err := b24.Invoke(ctx, client, b24.Request{Method: "tasks.task.add", Version: 3,
			Params: map[string]any{"fields": map[string]any{"title": title, "creatorId": 1, "responsibleId": 1}}}, &out, opts...)
		return out.Item.ID, err
	}

	portal.Fail("tasks.task.add", b24test.CutBody()) // the answer is cut off after the task was made
	var replayed bool
	id, err := add("Prepare a report", b24.WithIdempotencyKey("report-2026-12"), b24.WithReplayed(&replayed))
	fmt.Println("task", id, err, "replayed:", replayed, "ran:", portal.Ran("tasks.task.add"))

	// The same key with another body is refused: a key names one call.
	_, err = add("Another report", b24.WithIdempotencyKey("report-2026-12"))
	fmt.Println(errors.Is(err, b24.ErrIdempotencyKeyReused))
	// Output:
	// task 101 <nil> replayed: true ran: 1
	// true
}

// REST 3.0 filters are typed: an OrderedField[int64] has Gt and takes an
// int64, a Field[string] has Eq and no Gt. Generated packages declare one
// per documented field (tasks.TaskV3ID, tasks.TaskV3Status).
func ExampleFilterV3() {
	portal := b24test.Start()
	defer portal.Close()
	portal.ServeListV3("tasks.task.list", []map[string]any{
		{"id": 101, "title": "Call the client", "status": "pending"},
		{"id": 102, "title": "Send the offer", "status": "completed"},
		{"id": 103, "title": "Prepare a report", "status": "pending"},
	}, b24test.ListOptionsV3{})
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		panic(err)
	}
	const (
		id     = b24.OrderedField[int64]("id")
		title  = b24.Field[string]("title")
		status = b24.Field[string]("status")
	)
	req := b24.Request{Method: "tasks.task.list", Version: 3, Params: map[string]any{
		"filter": b24.FilterV3{id.Gt(100), b24.Or(status.Eq("pending"), status.Eq("deferred"))},
		"select": b24.Select(id, title),
		"order":  b24.Order{id.Desc()},
	}}
	type task struct {
		ID    b24.Int `json:"id"`
		Title string  `json:"title"`
	}
	for t, err := range b24.List[task](context.Background(), client, req, b24.ListSpec{}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(t.ID, t.Title)
	}
	// Output:
	// 103 Prepare a report
	// 101 Call the client
}

// A REST 3.0 batch is a JSON array of calls; a later call takes an earlier
// result through a reference. REST 3.0 commands go into NewBatchV3 only.
func ExampleNewBatchV3() {
	portal := b24test.Start()
	defer portal.Close()
	portal.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		return map[string]any{"item": map[string]any{"id": 3839}}, nil
	})
	portal.Handle("tasks.task.get", func(params map[string]any) (any, error) {
		id, _ := b24test.Int(params, "id")
		return map[string]any{"item": map[string]any{"id": id, "title": "Review the report"}}, nil
	})
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		panic(err)
	}
	type taskItem struct {
		Item struct {
			ID    b24.Int `json:"id"`
			Title string  `json:"title"`
		} `json:"item"`
	}
	b := b24.NewBatchV3()
	add := b24.AddV3(b, b24.NewCommandV3[taskItem](b24.Request{Method: "tasks.task.add", Version: 3,
		Params: map[string]any{"fields": map[string]any{"title": "Review the report", "creatorId": 1, "responsibleId": 1}}}))
	get := b24.AddV3(b, b24.NewCommandV3[taskItem](b24.Request{Method: "tasks.task.get", Version: 3, Idempotent: true}),
		b24.WithRefV3("id", add.Ref("item.id")))
	if err := b.Run(context.Background(), client); err != nil {
		panic(err)
	}
	got, err := get.Result()
	fmt.Println(got.Item.ID, got.Item.Title, err, "in", portal.Requests("batch"), "request")
	// Output:
	// 3839 Review the report <nil> in 1 request
}
