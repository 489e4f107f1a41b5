package b24test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// documentedSource holds the success response each docs page shows, keyed
// by documentedKey. The generator fills it from the spec in the generated
// tree's b24test (documented_answers_gen.go); in the template it stays
// empty, and WithDocumentedAnswers then answers nothing.
//
// Each value is a JSON object:
//
//	{"result": <the documented result>, "total": 3, "next": 50, "list": true, "items": "tasks", "id": "ID"}
//
// total and next are copied from the docs' envelope when present. list marks
// a method answering page by page (start/next): its rows, the result itself
// or the array under result[items], are then cut into pages. id names the
// rows' identifier field, which filter (>ID, <=ID, …) and order apply to.
var documentedSource map[string]string

// documentedPageSize is the rows per page of a list method, as on the portal.
const documentedPageSize = 50

// documentedKey is the key of a method in the documented answers: the name
// in lower case (the portal matches names case-insensitively), with "@3"
// appended for a REST 3.0 method, since a few names have both a REST 2 and
// a REST 3.0 page with different answers.
func documentedKey(method string, version int) string {
	k := strings.ToLower(method)
	if version == 3 {
		k += "@3"
	}
	return k
}

// documentedAnswer is one decoded entry of documentedSource.
type documentedAnswer struct {
	Result json.RawMessage `json:"result"`
	Total  *int            `json:"total,omitempty"`
	Next   *int            `json:"next,omitempty"`
	List   bool            `json:"list,omitempty"`
	Items  string          `json:"items,omitempty"`
	ID     string          `json:"id,omitempty"`
}

// WithDocumentedAnswers answers every method that has no handler of its
// own with the response its docs page shows: the documented result (and
// total/next), with a fresh "time". List methods are paged from their
// documented rows: start picks the first row, 50 rows a page, total and
// next set accordingly, start=-1 answering the first page without them.
// Conditions of filter on the rows' ID (>ID, >=ID, <ID, <=ID, =ID, !ID) and
// an order by ID apply, so the fast export by ID ends; other conditions
// are ignored (the documented rows are samples, not data).
//
// It is a Fallback, so Answer, Handle and ServeList still take precedence
// for their methods, and faults queued with Fail strike first; a later call
// of Fallback replaces it. A method the docs give no answer for is answered
// 404 ERROR_METHOD_NOT_FOUND with a description naming it.
//
// The answers come with a generated tree (the generator writes them into its
// b24test); this package's template copy holds none.
func WithDocumentedAnswers() PortalOption {
	src := documentedSource
	return func(p *Portal) {
		p.fallback = func(method string, version int, params map[string]any) (any, error) {
			return answerDocumented(src, method, version, params)
		}
	}
}

// answerDocumented serves one call from src.
func answerDocumented(src map[string]string, method string, version int, params map[string]any) (any, error) {
	what := method
	if version == 3 {
		what += " (REST 3.0)"
	}
	raw, ok := src[documentedKey(method, version)]
	if !ok {
		if len(src) == 0 {
			return nil, Errorf(404, "ERROR_METHOD_NOT_FOUND",
				"b24test: no documented answer for %s: none are registered (they come with the b24test of a generated tree)", what)
		}
		return nil, Errorf(404, "ERROR_METHOD_NOT_FOUND", "b24test: no documented answer for %s", what)
	}
	var a documentedAnswer
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return nil, Errorf(500, "INTERNAL_SERVER_ERROR", "b24test: the documented answer for %s is not valid JSON: %v", what, err)
	}
	if version == 3 && !a.List {
		if v, ok, err := v3DocumentedPage(a.Result, params); ok { // v3.go
			return Result{Value: v}, err
		}
	}
	if !a.List {
		res := Result{Value: a.Result}
		if a.Total != nil {
			res.Total = *a.Total
		}
		if a.Next != nil {
			res.Next, res.HasNext = *a.Next, true
		}
		return res, nil
	}
	return a.page(what, params)
}

// page cuts the page that params["start"] asks for out of a list answer.
func (a *documentedAnswer) page(what string, params map[string]any) (Result, error) {
	start := int64(0)
	if _, present := params["start"]; present {
		s, ok := Int(params, "start")
		if !ok {
			return Result{}, Errorf(400, "INVALID_ARG_VALUE", "start must be an integer")
		}
		start = s
	}
	var wrapper map[string]json.RawMessage
	rowsJSON := a.Result
	if a.Items != "" {
		if err := json.Unmarshal(a.Result, &wrapper); err != nil {
			return Result{}, Errorf(500, "INTERNAL_SERVER_ERROR", "b24test: the documented answer for %s has no object around its rows: %v", what, err)
		}
		rowsJSON = wrapper[a.Items]
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(rowsJSON, &rows); err != nil {
		return Result{}, Errorf(500, "INTERNAL_SERVER_ERROR", "b24test: the documented rows of %s are not a list: %v", what, err)
	}

	if a.ID != "" {
		rows = byID(rows, a.ID, params)
	}

	from, to, res := pageOf(len(rows), start, documentedPageSize)
	page := rows[from:to]
	if page == nil {
		page = []json.RawMessage{}
	}
	if a.Items == "" {
		res.Value = page
		return res, nil
	}
	pageJSON, err := json.Marshal(page)
	if err != nil {
		return Result{}, fmt.Errorf("b24test: paging %s: %w", what, err)
	}
	wrapper[a.Items] = pageJSON
	res.Value = wrapper
	return res, nil
}

// byID applies the id conditions of params' filter and its order by id to
// rows. A filter on the id that is not a number matches nothing, as on the
// portal; rows without a numeric id are dropped only when the id is
// filtered.
func byID(rows []json.RawMessage, idField string, params map[string]any) []json.RawMessage {
	f, ok := parseFilter(Map(params, "filter"), idField)
	if !ok {
		return nil
	}
	filtered := f.min != math.MinInt64 || f.max != math.MaxInt64 || len(f.ne) > 0
	type row struct {
		raw   json.RawMessage
		id    int64
		hasID bool
	}
	var kept []row
	for _, raw := range rows {
		var obj map[string]any
		r := row{raw: raw}
		if json.Unmarshal(raw, &obj) == nil {
			r.id, r.hasID = toInt(jsonNum(obj[idField]))
		}
		if filtered && (!r.hasID || r.id < f.min || r.id > f.max || slices.Contains(f.ne, r.id)) {
			continue
		}
		kept = append(kept, r)
	}
	switch dir := strings.ToUpper(Str(Map(params, "order"), idField)); dir {
	case "ASC", "DESC":
		slices.SortStableFunc(kept, func(x, y row) int {
			c := cmp.Compare(x.id, y.id)
			if dir == "DESC" {
				c = -c
			}
			return c
		})
	}
	out := make([]json.RawMessage, len(kept))
	for i, r := range kept {
		out[i] = r.raw
	}
	return out
}
