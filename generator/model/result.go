package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// The result convention (R in `func F(...) (R, error)`):
//
//   - an object, or anything under a wrapper key, is a pointer to a struct
//     (*DealGetResult) that keeps undocumented keys in Extra;
//   - a list is a slice of rows ([]DealListItem);
//   - a scalar is the tolerant runtime value (b24.Int for a new ID,
//     b24.Bool for "true", …);
//   - a shape the docs do not give is json.RawMessage, and the doc comment
//     says so.
func (b *builder) result(m *spec.Method, f *Func) {
	r := m.Result
	if r == nil {
		r = &spec.Result{}
	}
	if r.Shape == spec.ShapeDescriptors {
		b.fieldInfoResult(m, f, r.Wrapper)
		return
	}
	if r.Shape == "" || r.Shape == "unknown" {
		f.Result, f.Zero = tRaw, ZeroNil
		f.ResultDoc = "The docs give no shape for the result, so it is returned as raw JSON."
		b.problem(m.Page, m.Line, "raw-result", m.Name+": result shape not documented: json.RawMessage")
		return
	}
	resultName := f.Name + "Result"
	var inner *Type
	var row *Type // list rows, for paginated methods
	ent := b.entity(r.Entity)
	switch r.Shape {
	case "object":
		if ent != nil {
			inner = named(ent.out.Name)
			break
		}
		if len(r.Fields) == 0 {
			inner = tRaw
			f.ResultDoc = "The docs list no fields for the result object, so it is returned as raw JSON."
			break
		}
		name := resultName
		if r.Wrapper != "" {
			name = f.Name + Exported(r.Wrapper)
		}
		st := b.resultStruct(name, "the result of "+m.Name, r.Fields)
		st.ExtraDoc = extraDoc(r.Placeholders)
		inner = named(st.Name)
	case "array":
		if ent != nil {
			row = named(ent.out.Name)
		} else if r.Kind == spec.KindObject || len(r.Fields) > 0 {
			if len(r.Fields) == 0 {
				inner = tRaw
				f.ResultDoc = "The docs list no fields for the rows, so the result is returned as raw JSON."
				break
			}
			st := b.resultStruct(f.Name+"Item", "one row of "+m.Name, r.Fields)
			st.ExtraDoc = extraDoc(r.Placeholders)
			row = named(st.Name)
		} else {
			row = resultScalar(r.Kind)
		}
		inner = sliceOf(row)
		if row.Raw() {
			// Rows of unknown type: keep the whole list raw, since PHP
			// may send an empty list as {} and a keyed map for a list.
			inner = tRaw
			f.ResultDoc = "The docs give no type for the rows, so the result is returned as raw JSON."
		}
	case "map":
		// Keyed by record id: {"503": {...}, "547": {...}}.
		if ent != nil {
			inner = mapOf(named(ent.out.Name))
		} else if r.Kind == spec.KindObject && len(r.Fields) > 0 {
			st := b.resultStruct(f.Name+"Item", "one value of "+m.Name+"'s result, keyed by record id", r.Fields)
			st.ExtraDoc = extraDoc(r.Placeholders)
			inner = mapOf(named(st.Name))
		} else if el := resultScalar(r.Kind); !el.Raw() {
			inner = mapOf(el)
		} else {
			inner = tRaw
			f.ResultDoc = "The result is keyed by record id, its values untyped, so it is returned as raw JSON."
		}
	case "scalar":
		inner = resultScalar(r.Kind)
		if inner.Raw() {
			f.ResultDoc = "The docs give no type for the result, so it is returned as raw JSON."
		}
	default:
		b.problem(m.Page, m.Line, "raw-result", fmt.Sprintf("%s: unknown result shape %q: json.RawMessage", m.Name, r.Shape))
		inner = tRaw
		f.ResultDoc = "The docs give no shape for the result, so it is returned as raw JSON."
	}

	if r.Wrapper != "" && validKey(r.Wrapper) {
		// {"result": {"task": {...}}}: a struct around the wrapped value.
		outer := &Struct{Name: b.takeType(resultName, "Record", m.Line), Extra: true, Presence: true}
		outer.Doc = []string{outer.Name + " is the result of " + m.Name + "."}
		field := b.wrapperField(outer.Name, r.Wrapper, m)
		outer.Fields = []*Field{{Name: field, JSON: r.Wrapper, Type: inner}}
		if inner.Kind == Named {
			outer.Fields[0].Type = pointerTo(inner)
		}
		f.Structs = append(f.Structs, outer)
		f.Result, f.Zero = pointerTo(named(outer.Name)), ZeroNil
	} else {
		f.Result, f.Zero = inner, zeroOf(inner)
		if inner.Kind == Named {
			f.Result, f.Zero = pointerTo(inner), ZeroNil
		}
	}
	if f.Result.Raw() && f.ResultDoc == "" {
		f.ResultDoc = "The result is returned as raw JSON."
	}

	if r.Paginated && row != nil {
		f.List = &List{Row: row, ItemsKey: r.Wrapper}
		if row.Kind == Named {
			for _, p := range r.Fields {
				// Not an id only a linked page's table adds: the rows the
				// page shows may not carry it (catalog.priceTypeLang.list).
				if (p.Name == "ID" || p.Name == "id") && !p.Linked {
					f.List.IDField = p.Name
					break
				}
			}
		}
		f.List.Export = f.List.IDField != "" && hasAnyKey(m.Params, "filter") && hasAnyKey(m.Params, "order")
	}
	if m.Version == 3 {
		b.v3List(m, f, row) // v3.go
	}
}

// wrapperField names the one field of a result wrapper struct (outer) that
// holds the wrapped value: the wrapper key's name, with "Field" appended
// where the key is a name the struct has already (Extra), reported.
func (b *builder) wrapperField(outer, wrapper string, m *spec.Method) string {
	name := Exported(wrapper)
	if !NewPool(append([]string{"Extra", "MarshalJSON", "UnmarshalJSON"}, ReadNames...)...).Has(name) {
		return name
	}
	b.problem(m.Page, m.Line, KindNameCollision,
		fmt.Sprintf("%s: key %q: Go field %s.%s is taken; using %sField", m.Name, wrapper, outer, name, name))
	return name + "Field"
}

// FieldInfo is the shared type of field descriptors, declared once in each
// package that has a *.fields method. Every package pool reserves the name,
// so a package that gains one later renames nothing.
const FieldInfo = "FieldInfo"

// fieldInfoStruct describes one field as the *.fields methods do.
func fieldInfoStruct() *Struct {
	st := &Struct{Name: FieldInfo, Extra: true, Presence: true, Doc: []string{
		FieldInfo + " describes one field as the *.fields methods return it: its type, flags and title. " +
			"Keys not listed here (items, settings, statusType, labels) stay in Extra.",
	}}
	for _, f := range []struct{ wire, kind string }{
		{"type", "String"}, {"title", "String"}, {"isRequired", "Bool"}, {"isReadOnly", "Bool"},
		{"isImmutable", "Bool"}, {"isMultiple", "Bool"}, {"isDynamic", "Bool"},
	} {
		st.Fields = append(st.Fields, &Field{Name: Exported(f.wire), JSON: f.wire, Type: runtime(f.kind)})
	}
	return st
}

// fieldInfoResult types a *.fields method: a map from field name (the
// documented ones and custom UF_* alike) to its FieldInfo.
func (b *builder) fieldInfoResult(m *spec.Method, f *Func, wrapper string) {
	b.pkgNeedsFieldInfo = true
	inner := mapOf(named(FieldInfo))
	b.stats.ResultFieldsTyped += max(1, len(m.Result.Fields))
	if wrapper != "" && validKey(wrapper) {
		outer := &Struct{Name: b.takeType(f.Name+"Result", "Record", m.Line), Extra: true, Presence: true}
		outer.Doc = []string{outer.Name + " is the result of " + m.Name + "."}
		field := b.wrapperField(outer.Name, wrapper, m)
		outer.Fields = []*Field{{Name: field, JSON: wrapper, Type: inner}}
		f.Structs = append(f.Structs, outer)
		f.Result, f.Zero = pointerTo(named(outer.Name)), ZeroNil
		return
	}
	f.Result, f.Zero = inner, ZeroNil
}

// resultStruct declares a result struct that keeps undocumented keys.
func (b *builder) resultStruct(name, what string, fields []spec.Param) *Struct {
	st := &Struct{Name: b.takeType(name, "Record", 0), Extra: true}
	st.Doc = []string{st.Name + " is " + what + "."}
	b.f.Structs = append(b.f.Structs, st)
	b.fields(st, st.Name, fields, false, false)
	return st
}

func zeroOf(t *Type) Zero {
	if t.Kind == Qual && t.Pkg == RuntimePkg {
		switch t.Name {
		case "Int", "Number":
			return ZeroNumber
		case "String":
			return ZeroString
		case "Bool":
			return ZeroBool
		case "Time", "Date":
			return ZeroStruct
		}
	}
	return ZeroNil
}

// docsURL is the published page of a docs path.
func docsURL(page string) string {
	return DocsBase + strings.TrimSuffix(page, ".md") + ".html"
}

// hasAnyKey reports whether one of ps has one of the wire names keys.
func hasAnyKey(ps []spec.Param, keys ...string) bool {
	for _, p := range ps {
		if slices.Contains(keys, p.Name) {
			return true
		}
	}
	return false
}
