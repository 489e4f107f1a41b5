package b24test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ListOptions says how ServeList lays out a list method's answers.
type ListOptions struct {
	ItemsKey string // rows under result[ItemsKey] ("items", "tasks"); "" for result as the array
	IDField  string // "ID" (default) or "id"
	PageSize int    // rows per page, 50 by default
}

// ServeList answers method from rows (any slice encoding/json turns into an
// array of objects), the way Bitrix24 list methods page:
//
//   - start=N (default 0): rows N..N+PageSize-1, with "total" and, when more
//     rows follow, "next".
//   - start=-1: the first PageSize rows, no total and no next (the fast mode
//     the docs recommend for exports).
//   - filter: the portal's operators on any field: none or = (equal; a list
//     value means any of), ! or != (not equal), >, >=, <, <= (as numbers
//     when both sides are numbers, as times when both are dates, else as
//     text), % (contains, ignoring case), =% and %= (LIKE with % and _),
//     !% (does not contain), @ (one of a list, or of a comma-separated
//     string) and !@ (none of). Text compares ignoring case, as the
//     portal's collation does; a multiple field matches when one of its
//     values does. Conditions on the id field are served by binary search.
//   - order: {IDField: "ASC"|"DESC"}; rows are otherwise served in ID order.
//
// It panics on rows that are not objects or lack a numeric id: that is a bug
// in the test, not in the code under test.
func (p *Portal) ServeList(method string, rows any, lo ListOptions) {
	if lo.IDField == "" {
		lo.IDField = "ID"
	}
	if lo.PageSize <= 0 {
		lo.PageSize = 50
	}
	raw, err := json.Marshal(rows)
	if err != nil {
		panic(fmt.Sprintf("b24test: ServeList(%s): %v", method, err))
	}
	var all []map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		panic(fmt.Sprintf("b24test: ServeList(%s): rows are not a list of objects: %v", method, err))
	}
	ids := make([]int64, len(all))
	for i, r := range all {
		id, ok := toInt(jsonNum(r[lo.IDField]))
		if !ok {
			panic(fmt.Sprintf("b24test: ServeList(%s): row %d has no numeric %s", method, i, lo.IDField))
		}
		ids[i] = id
	}
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ids[idx[a]] < ids[idx[b]] })

	p.Handle(method, func(params map[string]any) (any, error) {
		start := int64(0)
		if _, present := params["start"]; present {
			s, ok := Int(params, "start")
			if !ok {
				return nil, Errorf(400, "INVALID_ARG_VALUE", "start must be an integer")
			}
			start = s
		}
		f, ok := parseFilter(Map(params, "filter"), lo.IDField)
		if !ok {
			return listPage(nil, start, lo), nil // the portal finds nothing for a bad id
		}
		desc := strings.EqualFold(Str(Map(params, "order"), lo.IDField), "DESC")
		// Rows are sorted by id: the id bounds are a binary search away.
		from := sort.Search(len(idx), func(k int) bool { return ids[idx[k]] >= f.min })
		if len(f.fields) == 0 && len(f.ne) == 0 {
			// Only id bounds: count and cut the page without a scan.
			to := sort.Search(len(idx), func(k int) bool { return ids[idx[k]] > f.max })
			first, last, res := pageOf(max(to-from, 0), start, lo.PageSize)
			page := make([]map[string]any, 0, last-first)
			for k := first; k < last; k++ {
				pos := from + k
				if desc {
					pos = to - 1 - k
				}
				page = append(page, all[idx[pos]])
			}
			res.Value = lo.layout(page)
			return res, nil
		}
		sel := make([]int, 0, lo.PageSize)
		for _, i := range idx[from:] {
			if ids[i] > f.max {
				break
			}
			if f.match(all[i], ids[i]) {
				sel = append(sel, i)
				// start=-1 counts nothing: stop at one page.
				if start < 0 && !desc && len(sel) == lo.PageSize {
					break
				}
			}
		}
		if desc {
			for a, b := 0, len(sel)-1; a < b; a, b = a+1, b-1 {
				sel[a], sel[b] = sel[b], sel[a]
			}
		}
		page := make([]map[string]any, len(sel))
		for k, i := range sel {
			page[k] = all[i]
		}
		return listPage(page, start, lo), nil
	})
}

// listPage cuts one page out of the selected rows and lays it out.
func listPage(sel []map[string]any, start int64, lo ListOptions) Result {
	from, to, res := pageOf(len(sel), start, lo.PageSize)
	page := []map[string]any{}
	if from < to {
		page = sel[from:to]
	}
	res.Value = lo.layout(page)
	return res
}

// pageOf says which of n rows a call with start gets, size to a page
// (rows from..to-1), and sets total and next as the portal does: start=-1
// counts nothing.
func pageOf(n int, start int64, size int) (from, to int, res Result) {
	from = int(min(max(start, 0), int64(n)))
	to = min(from+size, n)
	if start >= 0 {
		res.Total = n
		if to < n {
			res.Next, res.HasNext = to, true
		}
	}
	return from, to, res
}

// layout puts a page where the method's answer has its rows.
func (lo ListOptions) layout(page []map[string]any) any {
	if lo.ItemsKey != "" {
		return map[string]any{lo.ItemsKey: page}
	}
	return page
}
func jsonNum(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return v
}

// listFilter is a parsed list filter: id bounds plus other conditions.
type listFilter struct {
	min, max int64 // inclusive id bounds
	ne       []int64
	fields   []fieldCond
}

// fieldCond is one condition of a filter, "op FIELD": value.
type fieldCond struct {
	op    string // "=", "!", ">", ">=", "<", "<=", "%", "!%", "=%", "@", "!@"
	field string
	want  any // a scalar, or a list for @ (and for = or ! with a list value)
}

// parseFilter reads a list filter. Scalar id conditions (>, >=, <, <=, =,
// !) become id bounds, which ServeList serves by binary search; every other
// condition is kept for match. ok is false when an id bound is not a
// number: the portal finds nothing then.
func parseFilter(filter map[string]any, idField string) (listFilter, bool) {
	f := listFilter{min: math.MinInt64, max: math.MaxInt64}
	for k, want := range filter {
		op, field := splitOp(k)
		_, isList := want.([]any)
		if !strings.EqualFold(field, idField) || isList || (op != "=" && op != "!" && op != ">" && op != ">=" && op != "<" && op != "<=") {
			f.fields = append(f.fields, fieldCond{op: op, field: field, want: want})
			continue
		}
		w, ok := toInt(want)
		if !ok {
			return f, false
		}
		switch op {
		case ">":
			f.min = max(f.min, w+1)
		case ">=":
			f.min = max(f.min, w)
		case "<":
			f.max = min(f.max, w-1)
		case "<=":
			f.max = min(f.max, w)
		case "!":
			f.ne = append(f.ne, w)
		default:
			f.min, f.max = max(f.min, w), min(f.max, w)
		}
	}
	return f, true
}

// match applies the conditions other than the id bounds.
func (f listFilter) match(row map[string]any, id int64) bool {
	for _, n := range f.ne {
		if id == n {
			return false
		}
	}
	for _, c := range f.fields {
		if !c.match(row) {
			return false
		}
	}
	return true
}

// match applies one condition to a row as the portal's SQL would: a
// field holding several values (a multiple field) matches when one does,
// and a negated condition when none does.
func (c fieldCond) match(row map[string]any) bool {
	v, _ := lookupParam(row, c.field)
	negate := strings.HasPrefix(c.op, "!")
	op := strings.TrimPrefix(c.op, "!")
	if op == "" {
		op = "="
	}
	vals, multi := v.([]any)
	if !multi {
		vals = []any{v}
	}
	hit := false
	for _, x := range vals {
		if c.matchOne(op, x) {
			hit = true
			break
		}
	}
	if len(vals) == 0 { // an empty multiple field is empty
		hit = c.matchOne(op, nil)
	}
	return hit != negate
}

func (c fieldCond) matchOne(op string, v any) bool {
	got := scalarText(jsonNum(v))
	switch op {
	case "=", "@":
		if wants, ok := c.want.([]any); ok {
			for _, w := range wants {
				if compareValues(got, scalarText(w)) == 0 {
					return true
				}
			}
			return false
		}
		if op == "@" {
			// A comma-separated list is how a form or a batch query
			// sends an IN condition without brackets.
			for w := range strings.SplitSeq(scalarText(c.want), ",") {
				if compareValues(got, strings.TrimSpace(w)) == 0 {
					return true
				}
			}
			return false
		}
		return compareValues(got, scalarText(c.want)) == 0
	case ">", ">=", "<", "<=":
		if got == "" {
			return false // NULL compares to nothing
		}
		r := compareValues(got, scalarText(c.want))
		switch op {
		case ">":
			return r > 0
		case ">=":
			return r >= 0
		case "<":
			return r < 0
		}
		return r <= 0
	case "%":
		// LIKE '%value%', case-insensitive as the portal's collation.
		return strings.Contains(strings.ToLower(got), strings.ToLower(scalarText(c.want)))
	case "=%", "%=":
		return likeMatch(strings.ToLower(got), strings.ToLower(scalarText(c.want)))
	}
	return false
}

// compareValues compares as numbers when both are numbers, as times when
// both are dates, else as text ignoring case (the portal's collation).
func compareValues(a, b string) int {
	if x, err := strconv.ParseFloat(strings.TrimSpace(a), 64); err == nil {
		if y, err := strconv.ParseFloat(strings.TrimSpace(b), 64); err == nil {
			return cmpFloat(x, y)
		}
	}
	if x, ok := parseWhen(a); ok {
		if y, ok := parseWhen(b); ok {
			return x.Compare(y)
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// whenLayouts are the date forms filters and rows carry.
var whenLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "02.01.2006 15:04:05", "02.01.2006"}

func parseWhen(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range whenLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// likeMatch is SQL LIKE: % any run, _ one character.
func likeMatch(s, pattern string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if likeMatch(s[i:], pattern[1:]) {
				return true
			}
		}
		return false
	case '_':
		if s == "" {
			return false
		}
		_, size := utf8.DecodeRuneInString(s)
		return likeMatch(s[size:], pattern[1:])
	}
	return s != "" && s[0] == pattern[0] && likeMatch(s[1:], pattern[1:])
}

// splitOp cuts the operator off a filter key; longest first, so "!@" is
// not read as "!" on "@FIELD".
func splitOp(k string) (op, field string) {
	for _, p := range []string{"!@", "!%", "!=", "=%", "%=", ">=", "<=", "@", "%", ">", "<", "=", "!"} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			if p == "!=" {
				p = "!"
			}
			return p, rest
		}
	}
	return "=", k
}
