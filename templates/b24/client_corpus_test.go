package b24_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
)

// corpusDir finds the pinned docs: $B24_DOCS, else ../shared/b24restdocs
// next to the module root. Tests skip when it is absent.
func corpusDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("B24_DOCS"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "api-reference")); err != nil {
			t.Skipf("docs corpus not found at $B24_DOCS=%s: %v", d, err)
		}
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found; set B24_DOCS to the docs checkout")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "b24restdocs")
	if _, err := os.Stat(filepath.Join(d, "api-reference")); err != nil {
		t.Skipf("docs corpus not found at %s; set B24_DOCS to a b24restdocs checkout", d)
	}
	return d
}

// jsonBlocks returns the ```json blocks of a Markdown file with their lines.
func jsonBlocks(path string) (blocks []string, lines []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *strings.Builder
	n, start := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case cur == nil && strings.HasPrefix(line, "```json"):
			cur, start = &strings.Builder{}, n
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks, lines = append(blocks, cur.String()), append(lines, start)
			cur = nil
		case cur != nil:
			cur.WriteString(sc.Text())
			cur.WriteByte('\n')
		}
	}
	return blocks, lines, sc.Err()
}

// Every error response the docs show, REST 2 ({"error": "CODE"}) and REST 3.0
// ({"error": {"code": …, "validation": […]}}), served as the portal would,
// must come back as an *APIError with the documented code and description.
func TestDocsErrorExamplesDecode(t *testing.T) {
	root := filepath.Join(corpusDir(t), "api-reference")
	type example struct {
		where string
		body  []byte
		code  string
		desc  string
		valid int
		v3    bool
	}
	var examples []example
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		blocks, lines, err := jsonBlocks(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		for i, b := range blocks {
			var top map[string]json.RawMessage
			if json.Unmarshal([]byte(b), &top) != nil || top["error"] == nil || top["result"] != nil {
				continue // not strict JSON, or not an error answer
			}
			ex := example{where: path[len(root)+1:] + ":" + strconv.Itoa(lines[i]), body: []byte(b)}
			var v3 struct {
				Code       json.RawMessage   `json:"code"`
				Message    string            `json:"message"`
				Validation []json.RawMessage `json:"validation"`
			}
			var s string
			switch {
			case json.Unmarshal(top["error"], &s) == nil:
				ex.code = s
				json.Unmarshal(top["error_description"], &ex.desc)
			case json.Unmarshal(top["error"], &v3) == nil:
				ex.code, ex.desc, ex.valid, ex.v3 = strings.Trim(string(v3.Code), `"`), v3.Message, len(v3.Validation), true
			default:
				continue
			}
			if ex.code == "" && ex.desc == "" {
				continue
			}
			examples = append(examples, ex)
		}
		return nil
	})
	if len(examples) < 500 {
		t.Fatalf("only %d error examples found: has the corpus layout changed?", len(examples))
	}

	var current []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(current)
	}))
	defer srv.Close()
	c, err := b24.NewWebhookClient(srv.URL+"/rest/1/corpussecret/", b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	v3, empty, emptySentinel := 0, 0, 0
	byCode := map[string]int{}
	for _, ex := range examples {
		current = ex.body
		err := c.CallMethod(context.Background(), "docs.example", nil, nil)
		var ae *b24.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v (%T), want *APIError", ex.where, err, err)
			continue
		}
		if ae.Code != ex.code || ae.Description != ex.desc || len(ae.Validation) != ex.valid || ae.Status != 400 || ae.Method != "docs.example" {
			t.Errorf("%s: got %+v, want code %q desc %q, %d validation entries", ex.where, ae, ex.code, ex.desc, ex.valid)
		}
		if ex.code == "" {
			// An empty code: the description is the message, and the
			// sentinel it names matches (issue 8: 211 pages document these).
			empty++
			norm := strings.TrimRight(strings.ToLower(strings.TrimSpace(ex.desc)), ".")
			for text, sentinel := range map[string]error{"not found": b24.ErrNotFound, "access denied": b24.ErrAccessDenied} {
				if norm == text && !errors.Is(err, sentinel) {
					t.Errorf("%s: %q does not match %v", ex.where, ex.desc, sentinel)
				}
			}
			if code := b24.DescriptionCode(ex.desc); code != "" {
				emptySentinel++
				byCode[code]++
				if !errors.Is(err, &b24.APIError{Code: code}) {
					t.Errorf("%s: %q does not match its sentinel %s", ex.where, ex.desc, code)
				}
			}
			if errors.Is(err, b24.ErrInternal) || errors.Is(err, b24.ErrQueryLimitExceeded) {
				t.Errorf("%s: %q matches an unrelated sentinel", ex.where, ex.desc)
			}
		} else if !errors.Is(err, &b24.APIError{Code: strings.ToLower(ex.code)}) {
			t.Errorf("%s: errors.Is by lower-case code failed", ex.where)
		}
		if ex.v3 {
			v3++
		}
	}
	if empty < 200 {
		t.Errorf("only %d error examples with an empty code, want the ~211 the docs hold", empty)
	}
	t.Logf("%d documented error answers decoded (%d in the REST 3.0 shape, %d with an empty code, %d of them matching a sentinel: %v)",
		len(examples), v3, empty, emptySentinel, byCode)
}

// The batch page's response example, served as the portal's answer, fills
// the handles of the commands it names.
func TestDocsBatchExampleDecodes(t *testing.T) {
	blocks, _, err := jsonBlocks(filepath.Join(corpusDir(t), "settings", "how-to-call-rest-api", "batch.md"))
	if err != nil {
		t.Fatal(err)
	}
	var answer, haltAnswer []byte
	for _, b := range blocks {
		switch {
		case strings.Contains(b, `"get_department": [`) && answer == nil:
			answer = []byte(b)
		case strings.Contains(b, `"result_error": {`) && !strings.Contains(b, `"get_department": {`):
			haltAnswer = []byte(b)
		}
	}
	if answer == nil || haltAnswer == nil {
		t.Fatal("the batch page's response examples were not found")
	}
	var current []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(current)
	}))
	defer srv.Close()
	c, _ := b24.NewWebhookClient(srv.URL+"/rest/1/corpussecret/", b24.WithoutRateLimit())

	current = answer
	b := b24.NewBatch()
	u := b24.Add(b, "get_user", b24.NewCommand[struct {
		ID           b24.Int `json:"ID"`
		UFDepartment []int   `json:"UF_DEPARTMENT"`
	}](b24.Request{Method: "user.current"}))
	d := b24.Add(b, "get_department", b24.NewCommand[[]struct {
		ID   b24.Int `json:"ID"`
		NAME string  `json:"NAME"`
	}](b24.Request{Method: "department.get", Params: map[string]any{"ID": "$result[get_user][UF_DEPARTMENT][0]"}}))
	if err := b.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	user, err := u.Result()
	if err != nil || user.ID != 1 || len(user.UFDepartment) != 1 {
		t.Errorf("get_user = %+v, %v", user, err)
	}
	dept, err := d.Result()
	resp, _ := d.Response()
	if err != nil || len(dept) != 1 || dept[0].NAME != "DEMO" || resp.Total != 1 || resp.Time == nil || resp.Time.Duration == 0 {
		t.Errorf("get_department = %+v, %v, %+v", dept, err, resp)
	}

	current = haltAnswer // halt=1: get_user failed, get_department never ran
	b = b24.NewBatch(b24.WithHalt(true))
	u2 := b24.Add(b, "get_user", b24.NewCommand[any](b24.Request{Method: "user.current"}))
	d2 := b24.Add(b, "get_department", b24.NewCommand[any](b24.Request{Method: "department.get"}))
	err = b.Run(context.Background(), c)
	var be *b24.BatchError
	if !errors.As(err, &be) || len(be.Keys) != 1 || len(be.NotRun) != 1 {
		t.Fatalf("err = %v", err)
	}
	if _, err := u2.Result(); !errors.Is(err, b24.ErrInsufficientScope) {
		t.Errorf("get_user = %v", err)
	}
	if _, err := d2.Result(); !errors.Is(err, b24.ErrNotRun) {
		t.Errorf("get_department = %v", err)
	}
}

// Every success answer the docs show decodes into a Response: the result
// kept byte for byte (as JSON), total/next read, the time block parsed.
func TestDocsSuccessExamplesDecode(t *testing.T) {
	root := filepath.Join(corpusDir(t), "api-reference")
	var bodies [][]byte
	var where []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		blocks, lines, _ := jsonBlocks(path)
		for i, b := range blocks {
			var top map[string]json.RawMessage
			if json.Unmarshal([]byte(b), &top) != nil || top["result"] == nil || top["error"] != nil {
				continue
			}
			bodies = append(bodies, []byte(b))
			where = append(where, path[len(root)+1:]+":"+strconv.Itoa(lines[i]))
		}
		return nil
	})
	if len(bodies) < 1000 {
		t.Fatalf("only %d success examples found", len(bodies))
	}
	var current []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(current)
	}))
	defer srv.Close()
	c, _ := b24.NewWebhookClient(srv.URL+"/rest/1/corpussecret/", b24.WithoutRateLimit(), b24.WithMaxRetries(0))
	timed, paged := 0, 0
	for i, body := range bodies {
		current = body
		resp, err := c.Call(context.Background(), &b24.Request{Method: "docs.example"})
		if err != nil {
			t.Errorf("%s: %v", where[i], err)
			continue
		}
		var top struct {
			Result json.RawMessage `json:"result"`
			Total  json.Number     `json:"total"`
			Next   *json.Number    `json:"next"`
			Time   *struct {
				Start float64 `json:"start"`
			} `json:"time"`
		}
		if err := json.Unmarshal(body, &top); err != nil {
			continue // total or time in an odd shape: the client coped above, nothing to compare
		}
		if string(resp.Result) != string(top.Result) {
			t.Errorf("%s: result changed", where[i])
		}
		if n, _ := top.Total.Int64(); int(n) != resp.Total {
			t.Errorf("%s: total %d, want %s", where[i], resp.Total, top.Total)
		}
		if top.Next != nil {
			paged++
			if n, _ := top.Next.Int64(); !resp.HasNext || int(n) != resp.Next {
				t.Errorf("%s: next %d/%v, want %s", where[i], resp.Next, resp.HasNext, *top.Next)
			}
		}
		if top.Time != nil {
			timed++
			if resp.Time == nil || resp.Time.Start != top.Time.Start {
				t.Errorf("%s: time %+v", where[i], resp.Time)
			}
		}
	}
	t.Logf("%d documented success answers decoded (%d with time, %d with next)", len(bodies), timed, paged)
}
