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

// MaxListLimit is the documented largest REST 3.0 page (tasks.task.list).
const MaxListLimit = 1000

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
			if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= MaxListLimit {
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

// V3Object is a REST 3.0 object of a fields-rest-v3 page, as typed field
// name constants (b24.Field, b24.OrderedField, b24.Relation, b24.FieldPath).
type V3Object struct {
	Doc    []string
	Consts []*FieldConst
}

// FieldConst is one field name constant: a REST 3.0 field (TaskV3ID) or
// a REST 2 entity key (DealKeyStageID).
type FieldConst struct {
	Name string   // TaskV3ID, DealKeyStageID
	Wire string   // "id", "STAGE_ID"
	Type *Type    // b24.OrderedField[int64] is Type{Qual b24 OrderedField, Elem int64}
	Doc  []string // first line starts with Name
}

// v3ObjectsOf returns the REST 3.0 objects that belong to package pn: those
// of a fields-rest-v3 page in the directory of the package's REST 3.0
// method pages. Names are taken from pool now, before any per-method type,
// so they stay put when methods are added.
func v3ObjectsOf(s *spec.Spec, methods []*spec.Method, pool *Pool) []*V3Object {
	dirs := map[string]bool{}
	for _, m := range methods {
		if m.Version == 3 {
			dirs[pageDir(m.Page)] = true
		}
	}
	resolved := resolvedRows(s)
	var out []*V3Object
	for _, o := range s.Objects {
		if !dirs[pageDir(o.Page)] {
			continue
		}
		prefix := v3ObjectPrefix(o.Name)
		obj := &V3Object{Doc: []string{
			prefix + "… name the fields of the REST 3.0 " + oneLine(o.Title) + " (" + docsURL(o.Page) + "#" + o.Name + "), for select, order and filters (b24.FilterV3). REST 3.0 only. " +
				"An OrderedField filters with the comparisons too, a Field with =, != and in only; a Relation selects the fields of a related object (Dot). Whether a list really filters or sorts by a field is what the section's *.field.list method reports (filterable, sortable).",
		}}
		for _, f := range o.Fields {
			if r, ok := resolved[rowAt{o.Page, f.Line}]; ok && r.Name == f.Name {
				// The entity's reading of the row (its example may have
				// corrected the type): a constant filters by what its
				// field reads.
				f.Kind, f.Elem = r.Kind, r.Elem
			}
			typ := v3ConstType(f)
			if typ == nil {
				continue
			}
			name := pool.Take(prefix + Exported(f.Name))
			doc := name + " is the REST 3.0 field " + strconv.Quote(f.Name)
			if d := oneLine(firstParagraph(f.Description)); d != "" {
				doc += ": " + strings.TrimSuffix(d, ".")
			}
			obj.Consts = append(obj.Consts, &FieldConst{Name: name, Wire: f.Name, Type: typ, Doc: []string{doc + "."}})
		}
		if len(obj.Consts) > 0 {
			out = append(out, obj)
		}
	}
	return out
}

// rowAt is a row of a docs page.
type rowAt struct {
	page string
	line int
}

// resolvedRows indexes the fields of the REST 3.0 entities by the object
// row they were read from (their linked-object evidence).
func resolvedRows(s *spec.Spec) map[rowAt]spec.Param {
	out := map[rowAt]spec.Param{}
	for _, e := range s.Entities {
		if e.Version != 3 {
			continue
		}
		for _, f := range e.Fields {
			for _, ev := range f.Evidence {
				if ev.Kind == spec.EvidenceLinked {
					out[rowAt{ev.Page, ev.Line}] = f
				}
			}
		}
	}
	return out
}

func pageDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// v3ObjectPrefix names an object's constants from its anchor: "taskdto" →
// "TaskV3", "task-chat" → "TaskChatV3". Each of these objects is the REST
// 3.0 view of something REST 2 has too (a task, a user, a group), so the
// V3 suffix keeps their field names apart from the REST 2 ones.
func v3ObjectPrefix(anchor string) string {
	a := strings.TrimSuffix(strings.ToLower(anchor), "dto")
	var b strings.Builder
	for _, part := range strings.FieldsFunc(a, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(Exported(part))
	}
	return b.String() + "V3"
}

// v3ConstType is the constant type of a field: comparable kinds are
// OrderedField, the rest Field; a link to another object is a Relation;
// anything else a FieldPath (select and order only).
func v3ConstType(f spec.Param) *Type {
	generic := func(name string, elem *Type) *Type {
		return &Type{Kind: Qual, Pkg: RuntimePkg, Name: name, Elem: elem}
	}
	switch {
	case f.Ref != "" && (f.Kind == spec.KindObject || f.Kind == spec.KindArray):
		return runtime("Relation")
	case f.Kind == spec.KindInteger:
		return generic("OrderedField", tInt64)
	case f.Kind == spec.KindNumber:
		return generic("OrderedField", tFloat64)
	case f.Kind == spec.KindDateTime || f.Kind == spec.KindDate:
		return generic("OrderedField", &Type{Kind: Qual, Pkg: "time", Name: "Time"})
	case f.Kind == spec.KindBoolean:
		return generic("Field", tBool)
	case f.Kind == spec.KindString || f.Kind == spec.KindEnum:
		return generic("Field", tString)
	}
	return runtime("FieldPath")
}

func firstParagraph(s string) string {
	p, _, _ := strings.Cut(s, "\n")
	return p
}
