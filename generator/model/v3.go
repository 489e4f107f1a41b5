package model

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// REST 3.0 specifics of the model (api-reference/rest-v3.md): lists paged
// with "pagination" {page, limit, offset} and answered under result.items,
// the common filter scheme (b24.FilterV3), and batch commands of their own
// type (b24.CommandV3).

// MaxPageV3 is the documented largest REST 3.0 page (tasks.task.list).
const MaxPageV3 = 1000

// isV3List reports a REST 3.0 list that pages by offset: it takes a
// pagination parameter that is not a cursor (no afterCursor field) and its
// rows sit under result.items. Cursor-paged lists (afterCursor/hasMore) are
// called page by page.
func isV3List(m *spec.Method) bool {
	if m.Version != 3 || m.Result == nil || m.Result.Wrapper != "items" || m.Result.Shape != "array" {
		return false
	}
	for _, p := range m.Params {
		if strings.EqualFold(p.Name, "pagination") {
			for _, f := range p.Fields {
				if strings.EqualFold(f.Name, "afterCursor") {
					return false
				}
			}
			return true
		}
	}
	return false
}

var digitsRE = regexp.MustCompile(`\d+`)

// v3PageSize reads the largest page a REST 3.0 list serves from its
// pagination parameter: the larger of the numbers its description gives
// when it gives a default and a maximum ("default 25, maximum 100" → 100),
// else 0 (the runtime's default). Numbers, not words, so every language of
// the docs reads the same.
func v3PageSize(m *spec.Method) int {
	for _, p := range m.Params {
		if !strings.EqualFold(p.Name, "pagination") {
			continue
		}
		text := p.Description
		for _, f := range p.Fields {
			if strings.EqualFold(f.Name, "limit") {
				text += " " + f.Description
			}
		}
		var nums []int
		for _, s := range digitsRE.FindAllString(text, -1) {
			if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= MaxPageV3 {
				nums = append(nums, n)
			}
		}
		if len(nums) < 2 {
			return 0
		}
		best := 0
		for _, n := range nums {
			best = max(best, n)
		}
		return best
	}
	return 0
}

// v3List sets the list of a REST 3.0 method that pages by offset. Export
// (by id) needs filter and order and rows with an id.
func (b *builder) v3List(m *spec.Method, f *Func, row *Type) {
	if !isV3List(m) || row == nil || row.Raw() {
		return
	}
	f.List = &List{Row: row, ItemsKey: "items", PageSize: v3PageSize(m)}
	if row.Kind == Named {
		for _, p := range m.Result.Fields {
			if p.Name == "id" {
				f.List.IDField = p.Name
				break
			}
		}
	}
	f.List.Export = f.List.IDField != "" && hasAnyKey(m.Params, "filter") && hasAnyKey(m.Params, "order")
}

// v3ParamType types the top-level parameters REST 3.0 shares: filter is
// the common filter scheme whatever the page draws (b24.FilterV3), unless
// the page documents an object of its own fields (call.followup.list).
func v3ParamType(p spec.Param) *Type {
	if strings.EqualFold(p.Name, "filter") && len(p.Fields) == 0 {
		return runtime("FilterV3")
	}
	return nil
}
