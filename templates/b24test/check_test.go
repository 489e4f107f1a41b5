package b24test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// testSchemas are entries as the generator writes them (see
// generator/model.ParamSchemas).
var testSchemas = map[string]string{
	"disk.folder.uploadfile": "id:s!,data:o!,fileContent:c,rights:c,generateUniqueName:s",
	"crm.deal.add":           "fields:o!~{TITLE,UF_CRM_*,CONTACT_IDS:c},params:o",
	"im.disk.folder.get":     "CHAT_ID:s!1,DIALOG_ID!1",
	"imbot.register":         "CODE!,EVENT_HANDLER?1,EVENT_MESSAGE_ADD!1",
	"tasks.task.add@3":       "fields:o!{title!,creatorId:s!}",
	"crm.item.list":          "entityTypeId:s!=400,filter:o,select:c",
}

// postRaw posts body and decodes the JSON answer.
func postRaw(t *testing.T, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, m
}

// checkedPortal is a portal answering every method with true, with the
// test schemas registered.
func checkedPortal(t *testing.T, opts ...PortalOption) *Portal {
	t.Helper()
	withSchemas(t, testSchemas)
	p := NewPortal(t, opts...)
	p.Fallback(func(string, map[string]any) (any, error) { return true, nil })
	return p
}

func TestChecksRefuseAnArrayForAnObject(t *testing.T) {
	p := checkedPortal(t)
	status, body := postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json",
		`{"id":8930,"data":["test.png"],"fileContent":["test.png","aGVsbG8="]}`)
	if status != 400 || body["error"] != "INVALID_ARG_VALUE" {
		t.Fatalf("status %d, body %v; want 400 INVALID_ARG_VALUE", status, body)
	}
	desc, _ := body["error_description"].(string)
	if !strings.Contains(desc, "disk.folder.uploadfile") || !strings.Contains(desc, "data") || !strings.Contains(desc, "must be an object") {
		t.Errorf("description %q does not name the method, the parameter and the shape", desc)
	}
	if p.Ran("disk.folder.uploadfile") != 0 {
		t.Error("the handler ran for a refused request")
	}

	// As the docs show it, the same call passes.
	status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadFile", "application/json",
		`{"id":8930,"data":{"NAME":"test.png"},"fileContent":["test.png","aGVsbG8="]}`)
	if status != 200 || body["result"] != true {
		t.Fatalf("documented request: status %d, body %v", status, body)
	}
	// PHP cannot tell an empty object from an empty array.
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"id":1,"data":[]}`); status != 200 {
		t.Errorf("data=[]: status %d, body %v", status, body)
	}
	// A form body keyed 0..n-1 is a list too.
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/x-www-form-urlencoded", "id=1&data[0]=test.png"); status != 400 {
		t.Errorf("form data[0]: status %d, body %v", status, body)
	}
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/x-www-form-urlencoded", "id=1&data[NAME]=test.png"); status != 200 {
		t.Errorf("form data[NAME]: status %d, body %v", status, body)
	}
	// "data=" is a form's empty array; required, it is missing.
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/x-www-form-urlencoded", "id=1&data=&rights="); status != 400 || body["error"] != "100" {
		t.Errorf("form data=: status %d, body %v", status, body)
	}
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/x-www-form-urlencoded", "id=1&data[NAME]=x&rights="); status != 200 {
		t.Errorf("form rights=: status %d, body %v", status, body)
	}
	// A scalar where an object is wanted, and a list where a single value is.
	if status, _ = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"id":1,"data":"test.png"}`); status != 400 {
		t.Errorf("data as a string: status %d", status)
	}
	if status, _ = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"id":[1,2],"data":{"NAME":"x"}}`); status != 400 {
		t.Errorf("id as a list: status %d", status)
	}
}

func TestChecksRefuseAMissingRequiredParameter(t *testing.T) {
	p := checkedPortal(t)
	status, body := postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"data":{"NAME":"x"}}`)
	if status != 400 || body["error"] != "100" {
		t.Fatalf("status %d, body %v; want 400 and the engine's code 100", status, body)
	}
	if desc, _ := body["error_description"].(string); !strings.HasPrefix(desc, "Could not find value for parameter {id}") ||
		!strings.Contains(desc, "disk.folder.uploadfile") {
		t.Errorf("description %q", desc)
	}
	// null is how an unset value arrives: still missing.
	if status, _ = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"id":null,"data":{"NAME":"x"}}`); status != 400 {
		t.Errorf("id null: status %d", status)
	}
	// Keys match case-insensitively, as on the portal.
	if status, body = postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"ID":1,"DATA":{"NAME":"x"}}`); status != 200 {
		t.Errorf("upper-case keys: status %d, body %v", status, body)
	}
	// The code the page documents for the parameter wins.
	status, body = postRaw(t, p.WebhookURL()+"crm.item.list", "application/json", `{"select":["id"]}`)
	if status != 400 || body["error"] != "400" {
		t.Errorf("crm.item.list without entityTypeId: status %d, body %v", status, body)
	}
	// A documented empty code (crm's "The parameter 'fields' must be array") is kept.
	status, body = postRaw(t, p.WebhookURL()+"crm.deal.add", "application/json", `{"fields":["x"]}`)
	if status != 400 || body["error"] != "" || !strings.Contains(body["error_description"].(string), "fields") {
		t.Errorf("crm.deal.add fields as a list: status %d, body %v", status, body)
	}
	// Nested fields are checked inside their object.
	if status, _ = postRaw(t, p.WebhookURL()+"crm.deal.add", "application/json", `{"fields":{"TITLE":"x","CONTACT_IDS":5}}`); status != 400 {
		t.Errorf("fields.CONTACT_IDS as a number: status %d", status)
	}
}

func TestChecksAlternatives(t *testing.T) {
	p := checkedPortal(t)
	for _, body := range []string{`{"CHAT_ID":5}`, `{"DIALOG_ID":"chat5"}`} {
		if status, b := postRaw(t, p.WebhookURL()+"im.disk.folder.get", "application/json", body); status != 200 {
			t.Errorf("%s: status %d, body %v", body, status, b)
		}
	}
	status, body := postRaw(t, p.WebhookURL()+"im.disk.folder.get", "application/json", `{}`)
	if desc, _ := body["error_description"].(string); status != 400 || !strings.Contains(desc, "CHAT_ID, DIALOG_ID") {
		t.Errorf("neither: status %d, body %v", status, body)
	}
	// An optional stand-in satisfies the group.
	if status, b := postRaw(t, p.WebhookURL()+"imbot.register", "application/json", `{"CODE":"bot","EVENT_HANDLER":"https://x"}`); status != 200 {
		t.Errorf("EVENT_HANDLER for EVENT_MESSAGE_ADD: status %d, body %v", status, b)
	}
}

func TestChecksStrictAndOff(t *testing.T) {
	req := `{"id":1,"data":{"NAME":"x"},"undocumented":1}`
	p := checkedPortal(t)
	if status, body := postRaw(t, p.WebhookURL()+"disk.folder.uploadfile", "application/json", req); status != 200 {
		t.Errorf("default checks refuse an unknown name: status %d, body %v", status, body)
	}
	strict := checkedPortal(t, WithStrictRequestChecks())
	status, body := postRaw(t, strict.WebhookURL()+"disk.folder.uploadfile", "application/json", req)
	if desc, _ := body["error_description"].(string); status != 400 || !strings.Contains(desc, "undocumented") {
		t.Errorf("strict: status %d, body %v", status, body)
	}
	// A prefix row (UF_CRM_...) admits the custom fields.
	if status, body := postRaw(t, strict.WebhookURL()+"crm.deal.add", "application/json", `{"fields":{"TITLE":"x","UF_CRM_17":"y"}}`); status != 200 {
		t.Errorf("strict UF_CRM_17: status %d, body %v", status, body)
	}
	if status, _ := postRaw(t, strict.WebhookURL()+"crm.deal.add", "application/json", `{"fields":{"TITEL":"x"}}`); status != 400 {
		t.Errorf("strict nested typo: status %d", status)
	}

	off := checkedPortal(t, WithoutRequestChecks())
	if status, body := postRaw(t, off.WebhookURL()+"disk.folder.uploadfile", "application/json", `{"data":["x"]}`); status != 200 {
		t.Errorf("WithoutRequestChecks: status %d, body %v", status, body)
	}
}

func TestChecksREST3(t *testing.T) {
	p := checkedPortal(t)
	status, body := postRaw(t, p.URL()+"/rest/api/"+UserID+"/"+Secret+"/tasks.task.add", "application/json", `{"fields":{"creatorId":1}}`)
	e, _ := body["error"].(map[string]any)
	if status != 400 || e["code"] != "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION" {
		t.Fatalf("status %d, body %v", status, body)
	}
	v, _ := e["validation"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["field"] != "fields[title]" {
		t.Errorf("validation %v, want fields[title]", e["validation"])
	}
	// The REST 2 name has no schema here: not checked.
	if status, _ := postRaw(t, p.WebhookURL()+"tasks.task.add", "application/json", `{}`); status != 200 {
		t.Errorf("REST 2 tasks.task.add: status %d", status)
	}
}

func TestChecksBatchCommands(t *testing.T) {
	p := checkedPortal(t)
	cmd := url.Values{}
	cmd.Set("cmd[bad]", "disk.folder.uploadfile?id=1&data[]=x")
	cmd.Set("cmd[good]", "disk.folder.uploadfile?id=1&data[NAME]=x")
	cmd.Set("cmd[missing]", "disk.folder.uploadfile?data[NAME]=x")
	status, body := postRaw(t, p.WebhookURL()+"batch", "application/x-www-form-urlencoded", cmd.Encode())
	if status != 200 {
		t.Fatalf("batch: status %d, body %v", status, body)
	}
	res := body["result"].(map[string]any)
	errs, _ := res["result_error"].(map[string]any)
	if bad, _ := errs["bad"].(map[string]any); bad["error"] != "INVALID_ARG_VALUE" {
		t.Errorf("bad: %v", errs["bad"])
	}
	if missing, _ := errs["missing"].(map[string]any); missing["error"] != "100" {
		t.Errorf("missing: %v", errs["missing"])
	}
	if got, _ := res["result"].(map[string]any); got["good"] != true || len(errs) != 2 {
		t.Errorf("result %v, errors %v", res["result"], errs)
	}
}

func TestChecksThroughTheClient(t *testing.T) {
	p := checkedPortal(t)
	c, err := p.Client(b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = call(t, c, "disk.folder.uploadfile", 2, map[string]any{"id": 1, "data": []string{"x"}})
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "INVALID_ARG_VALUE" {
		t.Fatalf("err %v, want the portal's 400 INVALID_ARG_VALUE", err)
	}
}

func TestWithStrictDecodingClients(t *testing.T) {
	type deal struct {
		ID b24.Int `json:"ID"`
	}
	for _, strict := range []bool{false, true} {
		var opts []PortalOption
		if strict {
			opts = append(opts, WithStrictDecoding())
		}
		p := NewPortal(t, opts...)
		p.Answer("crm.deal.get", map[string]any{"ID": "not a number"})
		c, err := p.Client(b24.WithoutRateLimit(), b24.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		var d deal
		err = b24.Invoke(t.Context(), c, b24.Request{Method: "crm.deal.get", Params: map[string]any{"id": 1}}, &d)
		var de *b24.DecodeError
		if got := errors.As(err, &de); got != strict {
			t.Errorf("strict=%v: decoding a string into an int: %v", strict, err)
		}
	}
}
