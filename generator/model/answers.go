package model

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Answer is the documented success response of one method, as the fake
// portal of the generated tree (b24test.WithDocumentedAnswers) serves it.
type Answer struct {
	Key     string // AnswerKey(Method, Version)
	Method  string
	Version int
	// JSON is the portal's entry, compact:
	//	{"result":…,"total":3,"next":50,"list":true,"items":"tasks"}
	// (see templates/b24test/documented.go).
	JSON []byte
}

// AnswerKey is how b24test looks a method up: the name in lower case (the
// portal matches names case-insensitively), "@3" appended for REST 3.0,
// whose twins of REST 2 names answer differently.
func AnswerKey(method string, version int) string {
	k := strings.ToLower(method)
	if version == 3 {
		k += "@3"
	}
	return k
}

// answerEntry is the JSON shape of one entry, in b24test's field order.
type answerEntry struct {
	Result json.RawMessage `json:"result"`
	Total  *int64          `json:"total,omitempty"`
	Next   *int64          `json:"next,omitempty"`
	List   bool            `json:"list,omitempty"`
	Items  string          `json:"items,omitempty"`
	ID     string          `json:"id,omitempty"`
}

// Answers returns the documented answers of the methods Build generates for
// these scopes, sorted by Key. A method has one when its page shows a
// success example (the envelope, or its content when the page leaves out
// the "result" level). Names differing only in case share a
// key; the usual spelling's answer is kept, as Build gives it the Go name.
//
// A REST 2 method answers page by page when the docs show a paged list
// (total or next in the example or the table) and its rows can be found:
// the result itself when it is an array, or the array under the documented
// wrapper key (or, failing that, the one array-valued key of the result).
// REST 3.0 lists page differently and are served as documented. When
// every row holds "ID" (or "id"), the portal also applies id filters and
// order to them, as the fast export needs.
func Answers(s *spec.Spec, scopes []string) []Answer {
	seen := map[string]bool{}
	var out []Answer
	for _, m := range selectMethods(s, scopes, func(string, int, string, string) {}) { // Build reports the skipped ones
		key := AnswerKey(m.Name, m.Version)
		if seen[key] {
			continue
		}
		data, ok := answerJSON(m)
		if !ok {
			continue
		}
		seen[key] = true
		out = append(out, Answer{Key: key, Method: m.Name, Version: m.Version, JSON: data})
	}
	slices.SortFunc(out, func(a, c Answer) int { return strings.Compare(a.Key, c.Key) })
	return out
}

// answerJSON builds m's entry, or reports that the page shows no usable
// success example.
func answerJSON(m *spec.Method) ([]byte, bool) {
	if m.Result == nil || len(m.Result.Example) == 0 {
		return nil, false
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(m.Result.Example, &env) != nil {
		return nil, false
	}
	res, ok := env["result"]
	if !ok {
		// A few pages draw the envelope without its "result" level
		// ({"vats": [...], "total": 2, "time": {...}}): what is beside
		// total, next and time is the result.
		inner := map[string]json.RawMessage{}
		for k, v := range env {
			if k != "total" && k != "next" && k != "time" {
				inner[k] = v
			}
		}
		if len(inner) == 0 {
			return nil, false
		}
		res, _ = json.Marshal(inner) // sorted keys: deterministic
	}
	var compact bytes.Buffer
	if json.Compact(&compact, res) != nil {
		return nil, false
	}
	e := answerEntry{Result: compact.Bytes(), Total: wholeNumber(env["total"]), Next: wholeNumber(env["next"])}
	if m.Version != 3 && (m.Result.Paginated || e.Total != nil || e.Next != nil) {
		if key, rows, ok := listRows(compact.Bytes(), m.Result.Wrapper); ok {
			e.List, e.Items = true, key
			e.ID = rowsIDField(rows)
		}
	}
	if e.List {
		// The portal counts the rows it pages; the documented counts
		// describe a list the example does not hold.
		e.Total, e.Next = nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & as the docs write them
	if enc.Encode(e) != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// listRows finds the rows of a list result: the result itself (key "")
// when it is an array, else the array under wrapper, else the only
// array-valued key of the result object. ok is false when there is no such
// array.
func listRows(result []byte, wrapper string) (key string, rows json.RawMessage, ok bool) {
	isArray := func(raw json.RawMessage) bool {
		t := bytes.TrimSpace(raw)
		return len(t) > 0 && t[0] == '['
	}
	if isArray(result) {
		return "", result, true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(result, &obj) != nil {
		return "", nil, false
	}
	if wrapper != "" {
		return wrapper, obj[wrapper], isArray(obj[wrapper])
	}
	var arrays []string
	for k, v := range obj {
		if isArray(v) {
			arrays = append(arrays, k)
		}
	}
	if len(arrays) != 1 {
		return "", nil, false
	}
	return arrays[0], obj[arrays[0]], true
}

// wholeNumber reads total or next, written as a number or a numeric
// string; nil when absent or not a whole number.
func wholeNumber(raw json.RawMessage) *int64 {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// rowsIDField names the rows' identifier, "ID" or "id", when every row is
// an object holding a whole number (or a numeric string) under it; ""
// otherwise. The portal filters and orders by it for the fast export.
func rowsIDField(rowsJSON json.RawMessage) string {
	var rows []map[string]json.RawMessage
	if json.Unmarshal(rowsJSON, &rows) != nil || len(rows) == 0 {
		return ""
	}
	for _, field := range []string{"ID", "id"} {
		all := true
		for _, r := range rows {
			if wholeNumber(r[field]) == nil {
				all = false
				break
			}
		}
		if all {
			return field
		}
	}
	return ""
}

// exampleResultJSON returns the documented "result" as compact JSON, or nil.
func exampleResultJSON(r *spec.Result) []byte {
	if r == nil || len(r.Example) == 0 {
		return nil
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(r.Example, &env) != nil || env["result"] == nil {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, env["result"]) != nil {
		return nil
	}
	return buf.Bytes()
}
