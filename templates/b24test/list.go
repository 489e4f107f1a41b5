package b24test

import (
	"encoding/json"
	"fmt"
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
		sel := make([]int, 0, len(idx))
		filter := Map(params, "filter")
		for _, i := range idx {
			if match(all[i], ids[i], filter, lo.IDField) {
				sel = append(sel, i)
			}
		}
		if dir := Str(Map(params, "order"), lo.IDField); strings.EqualFold(dir, "DESC") {
			for a, b := 0, len(sel)-1; a < b; a, b = a+1, b-1 {
				sel[a], sel[b] = sel[b], sel[a]
			}
		}
		var res Result
		from := start
		if start < 0 {
			from = 0
		}
		to := min(from+int64(lo.PageSize), int64(len(sel)))
		page := make([]map[string]any, 0, lo.PageSize)
		for k := from; k < to; k++ {
			page = append(page, all[sel[k]])
		}
		if start >= 0 {
			res.Total = len(sel)
			if to < int64(len(sel)) {
				res.Next, res.HasNext = int(to), true
			}
		}
		if lo.ItemsKey != "" {
			res.Value = map[string]any{lo.ItemsKey: page}
		} else {
			res.Value = page
		}
		return res, nil
	})
}

func jsonNum(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return v
}

// match applies a list filter to one row.
func match(row map[string]any, id int64, filter map[string]any, idField string) bool {
	for k, want := range filter {
		op, field := splitOp(k)
		if strings.EqualFold(field, idField) {
			w, ok := toInt(want)
			if !ok {
				return false // the portal would find nothing for a bad id
			}
			if !compare(id, op, w) {
				return false
			}
			continue
		}
		got := scalarText(jsonNum(row[field]))
		if (got == scalarText(want)) == (op == "!" || op == "!=") {
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

func compare(a int64, op string, b int64) bool {
	switch op {
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case "!", "!=":
		return a != b
	}
	return a == b
}
