package conformance

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/tasks"
)

// A REST 3.0 task is one Go type, tasks.TaskV3, whichever method reads
// it, and one write form, tasks.TaskV3Input, for add and update: created
// with a description, a deadline and a responsible, changed in one typed
// field through Input(), and read back through get (with a dotted select
// of the related responsible) and list. The fake portal keeps the tasks
// (WithState) and checks each request against the documented parameters
// (WithStrictRequestChecks).
func Example_rest3Task() {
	portal := b24test.Start(b24test.WithDocumentedAnswers(), b24test.WithState(), b24test.WithStrictRequestChecks())
	defer portal.Close()
	ctx := context.Background()
	client, err := b24.NewWebhookClient(portal.WebhookURL())
	if err != nil {
		log.Fatal(err)
	}

	deadline := b24.Time{Time: time.Date(2026, 12, 31, 18, 0, 0, 0, time.UTC)}
	added, err := tasks.TaskAddV3(ctx, client, tasks.TaskAddV3Params{Fields: tasks.TaskV3Input{
		Title:         b24.Some("Prepare the annual report"),
		Description:   b24.Some("Figures by quarter"),
		Deadline:      b24.Some(deadline),
		CreatorID:     b24.Some(b24.Int(1)),
		ResponsibleID: b24.Some(b24.Int(1)),
	}})
	if err != nil {
		log.Fatal(err)
	}
	var task tasks.TaskV3 = *added.Item
	fmt.Println("added", task.ID, task.Title, task.Deadline.Format(time.DateOnly))

	// Edit the value read and send it back: only the changed field goes.
	in := task.Input()
	in.Priority = b24.Some(tasks.TaskV3PriorityValue("high"))
	if _, err := tasks.TaskUpdateV3(ctx, client, tasks.TaskUpdateV3Params{ID: task.ID, Fields: in}); err != nil {
		log.Fatal(err)
	}
	calls := portal.Calls()
	fmt.Println("update sent", calls[len(calls)-1].Params["fields"])

	got, err := tasks.TaskGetV3(ctx, client, tasks.TaskGetV3Params{ID: task.ID,
		Select: b24.Select(tasks.TaskV3Title, tasks.TaskV3Priority, tasks.TaskV3Description, tasks.TaskV3Responsible.Dot(tasks.UserV3Name))})
	if err != nil {
		log.Fatal(err)
	}
	var again tasks.TaskV3 = *got.Item
	fmt.Println("get", again.ID, again.Priority, again.Description, again.Has("responsible"), again.Has("deadline"))

	for row, err := range tasks.TaskListV3All(ctx, client, tasks.TaskListV3Params{
		Filter: b24.FilterV3{tasks.TaskV3Deadline.Ge(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))},
		Select: b24.Select(tasks.TaskV3Title, tasks.TaskV3Deadline),
	}) {
		if err != nil {
			log.Fatal(err)
		}
		var listed tasks.TaskV3 = row
		fmt.Println("list", listed.ID, listed.Title)
	}
	// Output:
	// added 3836 Prepare the annual report 2026-12-31
	// update sent map[priority:high]
	// get 3836 high Figures by quarter true false
	// list 3836 Prepare the annual report
}
