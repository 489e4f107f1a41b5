package b24test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
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
//   - filter: keys on the id field with the prefixes >, >=, <, <=, =, ! are
//     compared as numbers; other keys must equal the row's value as text.
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

type fieldCond struct {
	field, want string
	negate      bool
}

// parseFilter reads the id conditions (>, >=, <, <=, =, !) and the equality
// conditions on other fields; ok is false when an id value is not a number.
func parseFilter(filter map[string]any, idField string) (listFilter, bool) {
	f := listFilter{min: math.MinInt64, max: math.MaxInt64}
	for k, want := range filter {
		op, field := splitOp(k)
		if !strings.EqualFold(field, idField) {
			f.fields = append(f.fields, fieldCond{field: field, want: scalarText(want), negate: op == "!" || op == "!="})
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
		case "!", "!=":
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
		if (scalarText(jsonNum(row[c.field])) == c.want) == c.negate {
			return false
		}
	}
	return true
}

func splitOp(k string) (op, field string) {
	for _, p := range []string{">=", "<=", "!=", ">", "<", "=", "!"} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			return p, rest
		}
	}
	return "=", k
}
