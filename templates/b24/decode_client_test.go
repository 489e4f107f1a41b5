package b24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// answerServer answers every call with status and body.
func answerServer(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/rest/1/decodesecret42/"
}

type dealRow struct {
	ID          b24.Int    `json:"ID"`
	Opportunity b24.Int    `json:"OPPORTUNITY"`
	Extra       b24.Fields `json:"-"`
}

func (d *dealRow) UnmarshalJSON(b []byte) error {
	type plain dealRow
	return b24.DecodeObject(b, (*plain)(d), &d.Extra)
}

// A mismatch is logged at debug level through the client's logger (method,
// path, value, never the secret); WithStrictDecoding makes it an error.
func TestMismatchLoggedAndStrictOption(t *testing.T) {
	url := answerServer(t, 200, `{"result":{"ID":"5","OPPORTUNITY":1999.99},"time":{"start":1}}`)
	logs := &syncBuf{}
	c, err := b24.NewWebhookClient(url, b24.WithoutRateLimit(),
		b24.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	var d dealRow
	if err := c.CallMethod(context.Background(), "crm.deal.get", nil, &d); err != nil {
		t.Fatalf("tolerant call failed: %v", err)
	}
	if d.ID != 5 || d.Opportunity != 0 || string(d.Extra["OPPORTUNITY"]) != "1999.99" {
		t.Errorf("deal = %+v", d)
	}
	out := logs.String()
	for _, want := range []string{"does not fit", "method=crm.deal.get", "path=OPPORTUNITY", "value=1999.99", "type=b24.Int"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "decodesecret42") {
		t.Error("the secret is in the log")
	}

	strict, _ := b24.NewWebhookClient(url, b24.WithoutRateLimit(), b24.WithStrictDecoding())
	err = strict.CallMethod(context.Background(), "crm.deal.get", nil, &d)
	var de *b24.DecodeError
	if !errors.As(err, &de) || de.Path != "OPPORTUNITY" || de.Value != "1999.99" || strings.Contains(err.Error(), "decodesecret42") {
		t.Fatalf("strict = %v", err)
	}
	if d.ID != 5 {
		t.Errorf("strict decode dropped what fit: %+v", d)
	}

	// Batch handles follow the client that ran the batch.
	batchURL := answerServer(t, 200, `{"result":{"result":{"d":{"ID":"6","OPPORTUNITY":"0.5"}},"result_error":[],"result_total":[],"result_next":[],"result_time":[]}}`)
	for _, opts := range [][]b24.Option{nil, {b24.WithStrictDecoding()}} {
		bc, _ := b24.NewWebhookClient(batchURL, append(opts, b24.WithoutRateLimit())...)
		b := b24.NewBatch()
		h := b24.Add(b, "d", b24.NewCommand[dealRow](b24.Request{Method: "crm.deal.get"}))
		if err := b.Run(context.Background(), bc); err != nil {
			t.Fatal(err)
		}
		row, err := h.Result()
		if opts == nil && (err != nil || row.ID != 6 || string(row.Extra["OPPORTUNITY"]) != `"0.5"`) {
			t.Errorf("tolerant batch: %+v, %v", row, err)
		}
		if opts != nil && (!errors.As(err, &de) || de.Key != "d" || de.Path != "OPPORTUNITY") {
			t.Errorf("strict batch: %v", err)
		}
	}
}

// crm.deal.get answers an unknown ID with HTTP 400 and an empty code (the
// docs' example on crm-deal-get.md).
func TestEmptyCodeErrorIsAPIError(t *testing.T) {
	url := answerServer(t, 400, `{"error":"","error_description":"Not found"}`)
	c, _ := b24.NewWebhookClient(url, b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	err := c.CallMethod(context.Background(), "crm.deal.get", map[string]any{"id": 999}, nil)
	var ae *b24.APIError
	if !errors.As(err, &ae) || ae.Code != "" || ae.Description != "Not found" || ae.Status != 400 || ae.Method != "crm.deal.get" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, b24.ErrNotFound) || errors.Is(err, b24.ErrAccessDenied) {
		t.Errorf("sentinels: NotFound %v, AccessDenied %v", errors.Is(err, b24.ErrNotFound), errors.Is(err, b24.ErrAccessDenied))
	}
	if got := err.Error(); got != "b24: crm.deal.get: Not found (HTTP 400)" {
		t.Errorf("Error() = %q", got)
	}

	// A success with an empty error member stays a success.
	ok := answerServer(t, 200, `{"result":true,"error":"","error_description":""}`)
	c, _ = b24.NewWebhookClient(ok, b24.WithoutRateLimit())
	var res bool
	if err := c.CallMethod(context.Background(), "x.y", nil, &res); err != nil || !res {
		t.Errorf("200 with empty error: %v, %v", res, err)
	}
}

// result_error entries in each shape portals send keep their code and
// description.
func TestBatchResultErrorShapes(t *testing.T) {
	url := answerServer(t, 200, `{"result":{"result":{"ok":1},"result_error":{
		"two":{"error":"insufficient_scope","error_description":""},
		"empty":{"error":"","error_description":"Access denied."},
		"text":"Not found",
		"code":"ACCESS_DENIED",
		"v3":{"code":"BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION","message":"Entity not found"},
		"nested":{"error":{"code":"ERROR_ARGUMENT","message":"bad id","validation":[{"field":"id","message":"must be positive"}]}},
		"odd":[1,2]
	},"result_total":[],"result_next":[],"result_time":[]}}`)
	c, _ := b24.NewWebhookClient(url, b24.WithoutRateLimit())
	b := b24.NewBatch()
	keys := []string{"ok", "two", "empty", "text", "code", "v3", "nested", "odd"}
	hs := map[string]*b24.Handle[any]{}
	for _, k := range keys {
		hs[k] = b24.Add(b, k, b24.NewCommand[any](b24.Request{Method: "crm.deal.get"}))
	}
	err := b.Run(context.Background(), c)
	var be *b24.BatchError
	if !errors.As(err, &be) || len(be.Keys) != 7 {
		t.Fatalf("err = %v", err)
	}
	want := map[string]struct {
		code, desc string
		is         error
	}{
		"two":    {"insufficient_scope", "", b24.ErrInsufficientScope},
		"empty":  {"", "Access denied.", b24.ErrAccessDenied},
		"text":   {"", "Not found", b24.ErrNotFound},
		"code":   {"ACCESS_DENIED", "", b24.ErrAccessDenied},
		"v3":     {"BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION", "Entity not found", nil},
		"nested": {"ERROR_ARGUMENT", "bad id", b24.ErrArgument},
		"odd":    {"", "[1,2]", nil},
	}
	if _, err := hs["ok"].Result(); err != nil {
		t.Errorf("ok: %v", err)
	}
	for k, w := range want {
		_, err := hs[k].Result()
		var ae *b24.APIError
		if !errors.As(err, &ae) || ae.Code != w.code || ae.Description != w.desc || ae.Method != "crm.deal.get" {
			t.Errorf("%s: %#v", k, err)
			continue
		}
		if w.is != nil && !errors.Is(err, w.is) {
			t.Errorf("%s: not %v", k, w.is)
		}
		if strings.Contains(ae.Error(), "UNKNOWN") || strings.Contains(ae.Error(), "unreadable") {
			t.Errorf("%s: %v", k, ae)
		}
	}
	var ae *b24.APIError
	_, err = hs["nested"].Result()
	if errors.As(err, &ae) && (len(ae.Validation) != 1 || ae.Validation[0].Field != "id") {
		t.Errorf("nested validation = %+v", ae.Validation)
	}
}

// A typed parameter takes a batch reference through WithRef; the
// fake portal substitutes it, and Run does for a command of an earlier chunk.
func TestWithRefIntoTypedParam(t *testing.T) {
	type dealFields struct {
		Title     string           `json:"TITLE"`
		ContactID b24.Opt[b24.Int] `json:"CONTACT_ID,omitzero"`
		CompanyID b24.Int          `json:"COMPANY_ID"`
	}
	type dealParams struct {
		Fields dealFields `json:"fields"`
	}
	p := b24test.NewPortal(t)
	next := 40
	p.Handle("crm.contact.add", func(map[string]any) (any, error) { next++; return next, nil })
	var got []string
	var mu sync.Mutex
	p.Handle("crm.deal.add", func(params map[string]any) (any, error) {
		f := b24test.Map(params, "fields")
		id, ok := b24test.Int(f, "CONTACT_ID")
		co, _ := b24test.Int(f, "COMPANY_ID")
		if !ok || id < 41 {
			return nil, b24test.Errorf(400, "ERROR_ARGUMENT", "CONTACT_ID %q", b24test.Str(f, "CONTACT_ID"))
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("%s:%d:%d", b24test.Str(f, "TITLE"), id, co))
		mu.Unlock()
		return id + 100, nil
	})
	c, _ := b24.NewWebhookClient(p.WebhookURL(), b24.WithoutRateLimit())

	b := b24.NewBatch(b24.WithHalt(true))
	contact := b24.Add(b, "contact", b24.NewCommand[b24.Int](b24.Request{Method: "crm.contact.add"}))
	cmd := b24.NewCommand[b24.Int](b24.Request{Method: "crm.deal.add", Params: dealParams{Fields: dealFields{Title: "T", CompanyID: 3}}})
	deal := b24.Add(b, "deal", cmd, b24.WithRef("fields.CONTACT_ID", contact.Ref("")))
	// Filling 48 more slots puts "late" in the second chunk: Run resolves it.
	for i := 0; i < 48; i++ {
		b24.Add(b, fmt.Sprintf("pad%d", i), b24.NewCommand[any](b24.Request{Method: "crm.contact.add"}))
	}
	late := b24.Add(b, "late", b24.NewCommand[b24.Int](b24.Request{Method: "crm.deal.add",
		Params: dealParams{Fields: dealFields{Title: "L", ContactID: b24.Some[b24.Int](0)}}}),
		b24.WithRef("fields.CONTACT_ID", contact.Ref("")), b24.WithRef("fields.COMPANY_ID", deal.Ref("")))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if id, err := deal.Result(); err != nil || id != 141 {
		t.Errorf("deal = %v, %v", id, err)
	}
	if id, err := late.Result(); err != nil || id != 141 {
		t.Errorf("late = %v, %v", id, err)
	}
	if strings.Join(got, ",") != "T:41:3,L:41:141" {
		t.Errorf("deal.add saw %v", got)
	}

	bad := b24.NewBatch()
	b24.Add(bad, "x", b24.NewCommand[any](b24.Request{Method: "crm.deal.add"}), b24.WithRef("fields.ID", "41"))
	if err := bad.Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "not a batch reference") {
		t.Errorf("a WithRef that is not a reference: %v", err)
	}
}

// b24.Int as a parameter: a JSON number, a map key, a Filter value, an Opt.
func TestIntAsParam(t *testing.T) {
	type params struct {
		ID     b24.Int             `json:"id"`
		Owner  b24.Opt[b24.Int]    `json:"owner,omitzero"`
		Unset  b24.Opt[b24.Int]    `json:"unset,omitzero"`
		ByID   map[b24.Int]string  `json:"byId"`
		Filter b24.Filter          `json:"filter"`
		IDs    []b24.Int           `json:"ids"`
		Ptr    *b24.Int            `json:"ptr,omitempty"`
		Names  map[string]b24.Int  `json:"names"`
		Nested map[b24.Int]b24.Int `json:"nested"`
	}
	seven := b24.Int(7)
	p := params{ID: 42, Owner: b24.Some[b24.Int](0), ByID: map[b24.Int]string{5: "x"},
		Filter: b24.Filter{}.Eq("ID", b24.Int(9)).In("STAGE_ID", b24.Int(1), b24.Int(2)),
		IDs:    []b24.Int{1, 2}, Ptr: &seven, Names: map[string]b24.Int{"a": 1}, Nested: map[b24.Int]b24.Int{3: 4}}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":42,"owner":0,"byId":{"5":"x"},"filter":{"=ID":9,"@STAGE_ID":[1,2]},"ids":[1,2],"ptr":7,"names":{"a":1},"nested":{"3":4}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var back params
	if err := json.Unmarshal(got, &back); err != nil || back.ID != 42 || !back.Owner.Set || back.ByID[5] != "x" || back.Nested[3] != 4 {
		t.Errorf("back = %+v, %v", back, err)
	}
	// In a batch command the Int goes into the query as its decimal text.
	pt := b24test.NewPortal(t)
	pt.Handle("crm.deal.get", func(params map[string]any) (any, error) {
		id, _ := b24test.Int(params, "id")
		f := b24test.Map(params, "filter")
		return fmt.Sprintf("%d/%s", id, b24test.Str(f, "=ID")), nil
	})
	c, _ := b24.NewWebhookClient(pt.WebhookURL(), b24.WithoutRateLimit())
	b := b24.NewBatch()
	h := b24.Add(b, "g", b24.NewCommand[string](b24.Request{Method: "crm.deal.get", Params: p}))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if s, err := h.Result(); err != nil || s != "42/9" {
		t.Errorf("batch saw %q, %v", s, err)
	}
}
