package conformance

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"log"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/tasks"
)

// The README's REST 3.0 section, run against the fake portal: a write
// retried after its answer was lost (same Idempotency-Key: it runs once, and
// the retry is answered from the portal's store), a typed filter with
// select of a related field, an iterator over every page, and a REST 3.0
// batch with a reference.
func Example_rest3() {
	portal := b24test.Start(b24test.WithDocumentedAnswers())
	defer portal.Close()
	ctx := context.Background()
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		log.Fatal(err)
	}

	// The portal creates the task, then the connection drops before the
	// answer arrives. The client retries with the same Idempotency-Key
	// (every REST 3.0 write gets one; WithIdempotencyKey sets your own), and
	// the portal answers from its store instead of creating a second task.
	portal.Fail("tasks.task.add", b24test.CutBody())
	var replayed bool
	added, err := tasks.TaskAddV3(ctx, client, tasks.TaskAddV3Params{Fields: tasks.TaskV3Input{
		Title: b24.Some("Prepare a report"), CreatorID: b24.Some(b24.Int(1)), ResponsibleID: b24.Some(b24.Int(1)),
	}}, b24.WithIdempotencyKey("report-2026-12"), b24.WithReplayed(&replayed))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("task", added.Item.ID, "replayed:", replayed, "created:", portal.Ran("tasks.task.add"), "time(s)")

	// The same key with another body is refused: a key names one call.
	_, err = tasks.TaskAddV3(ctx, client, tasks.TaskAddV3Params{Fields: tasks.TaskV3Input{
		Title: b24.Some("Another report"), CreatorID: b24.Some(b24.Int(1)), ResponsibleID: b24.Some(b24.Int(1)),
	}}, b24.WithIdempotencyKey("report-2026-12"))
	fmt.Println(errors.Is(err, b24.ErrIdempotencyKeyReused))

	// Typed filters: TaskV3ID is a b24.OrderedField[int64], so Gt takes an
	// int64; TaskV3Status is a b24.Field[string], which has no Gt at all.
	portal.ServeListV3("tasks.task.list", []map[string]any{
		{"id": 101, "title": "Call the client", "status": "pending"},
		{"id": 102, "title": "Send the offer", "status": "completed"},
		{"id": 103, "title": "Prepare a report", "status": "pending"},
	}, b24test.ListOptionsV3{})
	for task, err := range tasks.TaskListV3All(ctx, client, tasks.TaskListV3Params{
		Filter: b24.FilterV3{tasks.TaskV3ID.Gt(100), b24.Or(tasks.TaskV3Status.Eq("pending"), tasks.TaskV3Status.Eq("deferred"))},
		Select: b24.Select(tasks.TaskV3ID, tasks.TaskV3Title, tasks.TaskV3Responsible.Dot(tasks.UserV3Name)),
		Order:  b24.Order{tasks.TaskV3ID.Desc()},
	}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(task.ID, task.Title)
	}

	// REST 3.0 batch: a JSON array of calls; a later call takes an earlier
	// result by reference. REST 3.0 commands go into b24.NewBatchV3 only.
	b := b24.NewBatchV3()
	task := b24.AddV3(b, tasks.TaskAddV3Command(tasks.TaskAddV3Params{Fields: tasks.TaskV3Input{
		Title: b24.Some("Review the report"), CreatorID: b24.Some(b24.Int(1)), ResponsibleID: b24.Some(b24.Int(1)),
	}}))
	get := b24.AddV3(b, tasks.TaskGetV3Command(tasks.TaskGetV3Params{}), b24.WithRefV3("id", task.Ref("item.id")))
	if err := b.Run(ctx, client); err != nil {
		log.Fatal(err)
	}
	created, _ := task.Result()
	_, err = get.Result()
	calls := portal.Calls() // the fake portal records what each call received
	fmt.Println("batch: added", created.Item.ID, "then tasks.task.get got id", calls[len(calls)-1].Params["id"], err)
	// Output:
	// task 3839 replayed: true created: 1 time(s)
	// true
	// 103 Prepare a report
	// 101 Call the client
	// batch: added 3839 then tasks.task.get got id 3839 <nil>
}

// A REST 3.0 command does not fit a REST 2 batch: the program does not
// compile. The check type-checks a user's snippet against the generated
// packages.
func TestRest3CommandInRest2BatchDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the generated tasks package from source")
	}
	check := func(body string) error {
		src := "package p\n\nimport (\n\t\"github.com/b24gen/b24gen/generated/b24\"\n\t\"github.com/b24gen/b24gen/generated/tasks\"\n)\n\nfunc f() {\n" + body + "\n}\n"
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
		_, err = conf.Check("p", fset, []*ast.File{file}, nil)
		return err
	}
	if err := check(`b := b24.NewBatchV3(); b24.AddV3(b, tasks.TaskListV3Command(tasks.TaskListV3Params{}))`); err != nil {
		t.Fatalf("the right batch does not compile: %v", err)
	}
	err := check(`b := b24.NewBatch(); b24.Add(b, "t", tasks.TaskListV3Command(tasks.TaskListV3Params{}))`)
	if err == nil || !strings.Contains(err.Error(), "CommandV3") {
		t.Errorf("a REST 3.0 command in a REST 2 batch compiled: %v", err)
	}
	err = check(`_ = tasks.TaskV3Status.Gt("x")`)
	if err == nil || !strings.Contains(err.Error(), "Gt") {
		t.Errorf("a comparison on a text field compiled: %v", err)
	}
	err = check(`_ = tasks.TaskV3ID.Gt("x")`)
	if err == nil {
		t.Error("a text value for an integer field compiled")
	}
}
