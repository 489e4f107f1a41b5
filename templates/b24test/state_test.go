package b24test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// seededPortal is a portal with state, seeded from a few documented
// answers of the shape the generated tree carries.
func seededPortal(t *testing.T, opts ...PortalOption) (*Portal, *b24.Client) {
	t.Helper()
	saved := documentedSource
	documentedSource = map[string]string{
		"crm.deal.get":    `{"result":{"ID":"410","TITLE":"New Deal #1","CONTACT_ID":"84","OPPORTUNITY":"1000000.00"}}`,
		"crm.contact.get": `{"result":{"ID":"43","NAME":"John","COMPANY_ID":"12"}}`,
		"crm.company.get": `{"result":{"ID":"2909","TITLE":"GAZPROM"}}`,
		"tasks.task.list": `{"result":{"tasks":[{"id":"8017","title":"Task Example","responsibleId":"547","status":"2"},{"id":"8018","title":"Other","responsibleId":"1","status":"5"}]},"list":true,"items":"tasks","id":"id"}`,
		"user.get":        `{"result":[{"ID":"1","NAME":"Vadim","ACTIVE":true},{"ID":"3","NAME":"John","ACTIVE":true}],"list":true,"id":"ID"}`,
		"department.get":  `{"result":[{"ID":"1","NAME":"Company","SORT":500},{"ID":"15","NAME":"R&D","SORT":500,"PARENT":"1"}],"list":true,"id":"ID"}`,
	}
	t.Cleanup(func() { documentedSource = saved })
	p := NewPortal(t, append([]PortalOption{WithState()}, opts...)...)
	c, err := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func TestStateSeedsFollowLinks(t *testing.T) {
	_, c := seededPortal(t)
	ctx := context.Background()
	// Deal 410 names contact 84, which no example shows: a copy of the
	// contact example stands in, and its company 12 likewise.
	var contact map[string]any
	if err := c.CallMethod(ctx, "crm.contact.get", map[string]any{"id": 84}, &contact); err != nil {
		t.Fatal(err)
	}
	if contact["ID"] != "84" || contact["NAME"] != "John" {
		t.Fatalf("contact 84: %v", contact)
	}
	var company map[string]any
	if err := c.CallMethod(ctx, "crm.company.get", map[string]any{"id": 12}, &company); err != nil || company["TITLE"] != "GAZPROM" {
		t.Fatalf("company 12: %v %v", company, err)
	}
	// The item form of the same deal: camelCase, a numeric id, entityTypeId.
	var item struct {
		Item map[string]any `json:"item"`
	}
	if err := c.CallMethod(ctx, "crm.item.get", map[string]any{"entityTypeId": 2, "id": 410}, &item); err != nil {
		t.Fatal(err)
	}
	if item.Item["title"] != "New Deal #1" || item.Item["contactId"] != "84" || fmt.Sprint(item.Item["entityTypeId"]) != "2" || fmt.Sprint(item.Item["id"]) != "410" {
		t.Fatalf("crm.item.get 2/410: %v", item.Item)
	}
}

func TestStateCRMWritesAndPaging(t *testing.T) {
	p, c := seededPortal(t)
	ctx := context.Background()
	for i := range 120 {
		var id b24.Int
		if err := c.CallMethod(ctx, "crm.lead.add", map[string]any{"fields": map[string]any{"TITLE": fmt.Sprint("Lead ", i), "OPPORTUNITY": i * 10}}, &id); err != nil {
			t.Fatal(err)
		}
	}
	// start/next/total over the lead table, 50 a page.
	n := 0
	for row, err := range b24.List[map[string]any](ctx, c, b24.Request{Method: "crm.lead.list", Params: map[string]any{"filter": map[string]any{">=OPPORTUNITY": 600}}}, b24.ListSpec{}) {
		if err != nil {
			t.Fatal(err)
		}
		if row["TITLE"] == nil {
			t.Fatalf("row without TITLE: %v", row)
		}
		n++
	}
	if n != 60 {
		t.Fatalf("%d leads with OPPORTUNITY >= 600, want 60", n)
	}
	// The export by ID (start=-1, >ID, batches with references) sees the
	// same rows through crm.item.list.
	n = 0
	for _, err := range b24.Export[map[string]any](ctx, c, b24.Request{Method: "crm.item.list", Params: map[string]any{"entityTypeId": 1, "filter": map[string]any{"%title": "Lead 1"}}}, b24.ListSpec{ItemsKey: "items", IDField: "id"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 31 { // Lead 1, 10..19, 100..119
		t.Fatalf("export of %%title Lead 1: %d rows, want 31", n)
	}
	// Update and delete, and the errors for the deleted record.
	if err := c.CallMethod(ctx, "crm.deal.update", map[string]any{"id": 410, "fields": map[string]any{"STAGE_ID": "WON"}}, nil); err != nil {
		t.Fatal(err)
	}
	var stage struct {
		Item struct {
			StageID string `json:"stageId"`
		} `json:"item"`
	}
	if err := c.CallMethod(ctx, "crm.item.get", map[string]any{"entityTypeId": 2, "id": 410}, &stage); err != nil || stage.Item.StageID != "WON" {
		t.Fatalf("after crm.deal.update: %+v %v", stage, err)
	}
	if err := c.CallMethod(ctx, "crm.item.delete", map[string]any{"entityTypeId": 2, "id": 410}, nil); err != nil {
		t.Fatal(err)
	}
	err := c.CallMethod(ctx, "crm.deal.get", map[string]any{"id": 410}, nil)
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Code != "" || ae.Description != "Not found" || !errors.Is(err, b24.ErrNotFound) {
		t.Fatalf("crm.deal.get after delete: %v", err)
	}
	if err := c.CallMethod(ctx, "crm.deal.update", map[string]any{"id": 410, "fields": []any{}}, nil); !errors.Is(err, b24.ErrNotFound) {
		t.Fatalf("crm.deal.update of a deleted deal: %v", err)
	}
	// A handler of the test's own still wins over the state.
	p.Answer("crm.deal.get", map[string]any{"ID": "1", "TITLE": "mine"})
	var d map[string]any
	if err := c.CallMethod(ctx, "crm.deal.get", map[string]any{"id": 410}, &d); err != nil || d["TITLE"] != "mine" {
		t.Fatalf("Answer did not take precedence: %v %v", d, err)
	}
}

func TestStateTasksUsersDepartments(t *testing.T) {
	_, c := seededPortal(t)
	ctx := context.Background()
	var added struct {
		Task map[string]any `json:"task"`
	}
	if err := c.CallMethod(ctx, "tasks.task.add", map[string]any{"fields": map[string]any{"TITLE": "Call", "RESPONSIBLE_ID": 1}}, &added); err != nil {
		t.Fatal(err)
	}
	if added.Task["title"] != "Call" || added.Task["id"] != "8019" || added.Task["status"] != "2" {
		t.Fatalf("tasks.task.add: %v", added.Task)
	}
	var list struct {
		Tasks []map[string]any `json:"tasks"`
	}
	if err := c.CallMethod(ctx, "tasks.task.list", map[string]any{"filter": map[string]any{"RESPONSIBLE_ID": 1, "!REAL_STATUS": 5}, "select": []string{"ID", "TITLE"}, "order": map[string]any{"ID": "desc"}}, &list); err != nil {
		t.Fatal(err)
	}
	// REAL_STATUS is not a field the records hold: the filter on it
	// matches no value, so !REAL_STATUS keeps both of RESPONSIBLE_ID 1.
	if len(list.Tasks) != 2 || list.Tasks[0]["id"] != "8019" || list.Tasks[0]["title"] != "Call" || list.Tasks[0]["responsibleId"] != nil {
		t.Fatalf("tasks.task.list: %v", list.Tasks)
	}
	err := c.CallMethod(ctx, "tasks.task.get", map[string]any{"taskId": 99}, nil)
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Code != "0" {
		t.Fatalf("tasks.task.get of a missing task: %v", err)
	}
	if err := c.CallMethod(ctx, "tasks.task.get", map[string]any{"taskId": "x"}, nil); !errors.As(err, &ae) || ae.Description != "wrong task id" {
		t.Fatalf("tasks.task.get taskId=x: %v", err)
	}

	var me map[string]any
	if err := c.CallMethod(ctx, "user.current", nil, &me); err != nil || me["NAME"] != "Vadim" {
		t.Fatalf("user.current: %v %v", me, err)
	}
	var uid b24.Int
	if err := c.CallMethod(ctx, "user.add", map[string]any{"EMAIL": "new@example.com", "NAME": "Nina", "UF_DEPARTMENT": []int{15}}, &uid); err != nil || uid != 4 {
		t.Fatalf("user.add: %v %v", uid, err)
	}
	var users []map[string]any
	if err := c.CallMethod(ctx, "user.get", map[string]any{"FILTER": map[string]any{"%NAME": "n"}, "sort": "ID", "order": "DESC"}, &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0]["NAME"] != "Nina" || users[1]["NAME"] != "John" {
		t.Fatalf("user.get %%NAME n, ID DESC: %v", users)
	}
	if err := c.CallMethod(ctx, "user.get", map[string]any{"ID": 999}, &users); err != nil || len(users) != 0 {
		t.Fatalf("user.get of a missing ID: %v %v", users, err)
	}

	var did b24.Int
	if err := c.CallMethod(ctx, "department.add", map[string]any{"NAME": "Sales", "PARENT": 1}, &did); err != nil || did != 16 {
		t.Fatalf("department.add: %v %v", did, err)
	}
	var depts []map[string]any
	if err := c.CallMethod(ctx, "department.get", map[string]any{"PARENT": 1}, &depts); err != nil || len(depts) != 2 {
		t.Fatalf("department.get PARENT 1: %v %v", depts, err)
	}
	if err := c.CallMethod(ctx, "department.delete", map[string]any{"ID": 16}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CallMethod(ctx, "department.delete", map[string]any{"ID": 16}, nil); !errors.As(err, &ae) || ae.Code != "ERROR_CORE" || ae.Description != "Department not found" {
		t.Fatalf("department.delete twice: %v", err)
	}
}

// REST 3.0 calls and methods without state are not served from the state.
func TestStateLeavesOtherMethodsToTheFallback(t *testing.T) {
	p, c := seededPortal(t)
	p.Fallback(func(method string, params map[string]any) (any, error) { return "fallback " + method, nil })
	var s string
	if err := c.CallMethod(context.Background(), "crm.deal.fields", nil, &s); err != nil || s != "fallback crm.deal.fields" {
		t.Fatalf("crm.deal.fields: %q %v", s, err)
	}
}

func TestCamelSnakeRoundTrip(t *testing.T) {
	for _, k := range []string{"CURRENCY_ID", "UF_CRM_1_SOURCE", "ADDRESS_2", "PARENT_ID_1040", "TITLE", "UF_CRM_1700000000"} {
		if got := camelToSnake(snakeToCamel(k)); got != k {
			t.Errorf("%s → %s → %s", k, snakeToCamel(k), got)
		}
	}
	if got := snakeToCamel("ASSIGNED_BY_ID"); got != "assignedById" {
		t.Errorf("ASSIGNED_BY_ID → %s", got)
	}
}
