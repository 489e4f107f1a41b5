package model

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Entity is one entity type of a package (crm.Deal) with its write form
// (crm.DealInput) and the nested types and enums both declare. The resolve
// stage assembled its fields; model only names and types them.
type Entity struct {
	Name    string // Deal
	Input   string // DealInput; "" when the family has no add or update
	Family  string // crm.deal
	Version int    // 3 for a REST 3.0 family's entity (tasks.TaskV3)
	Structs []*Struct
	Enums   []*Enum
	// Keys are the typed REST 2 filter, select and order keys of the
	// entity's fields (DealKeyStageID b24.TextKey = "STAGE_ID"), for an
	// entity with a *.fields page; see entityKeys.
	Keys []*FieldConst
}

// entityDecl is an entity while the package is built.
type entityDecl struct {
	spec *spec.Entity
	out  *Entity
	file string
}

// EntityName is the Go name of an entity: its words in CamelCase, inner
// capitals kept, as function names are made ("crm.deal" → Deal,
// "crm.item.productrow" → ItemProductrow, "user" → User).
func EntityName(e *spec.Entity) string {
	var b strings.Builder
	for _, w := range e.Name {
		b.WriteString(Exported(w))
	}
	if b.Len() == 0 {
		return Exported(e.Family)
	}
	return b.String()
}

// entitiesOf returns the entities whose family lives in package pn.
func entitiesOf(s *spec.Spec, pn string) []*spec.Entity {
	var out []*spec.Entity
	for i := range s.Entities {
		if PackageName(s.Entities[i].Family+".x") == pn {
			out = append(out, &s.Entities[i])
		}
	}
	return out
}

// declareEntity builds the types of one entity: the read form from its
// fields, typed as results are (tolerant runtime values), and the write
// form from its input, typed as parameters are, every field optional.
func (b *builder) declareEntity(d *entityDecl) {
	e := d.spec
	holder := &Func{Name: d.out.Name, Method: e.Family}
	page := ""
	if len(e.Sources) > 0 {
		page = e.Sources[0]
	}
	b.m, b.f, b.kept = &spec.Method{Name: e.Family, Page: page, Version: e.Version}, holder, map[string][]spec.Param{}

	st := &Struct{Name: d.out.Name, Extra: true}
	st.Doc = []string{d.out.Name + " is one " + strings.Join(e.Name, " ") + " of " + e.Family +
		", as the family's methods return it. Its fields are the union of what the family's pages document (" +
		strings.Join(pageNames(e.Sources), ", ") + "), typed by the *.fields page where it gives a type; " +
		"a value that does not fit its field's type is kept raw in Extra rather than failing the call."}
	holder.Structs = append(holder.Structs, st)
	b.fields(st, d.out.Name, e.Fields, false, false)

	if d.out.Input != "" {
		in := &Struct{Name: d.out.Input, Extra: true, Baseline: true}
		in.Doc = []string{d.out.Input + " is the write form of " + d.out.Name + ": the fields the family's add and update " +
			"methods take. Every field is optional; only those set are sent (b24.Some(0) sends 0). " +
			"Read-only fields are left out; custom fields (UF_*) go in Extra. " +
			d.out.Name + ".Input() builds one from a read value that sends only the fields changed after it."}
		holder.Structs = append(holder.Structs, in)
		ps := e.Input // optional already: resolve clears Required
		b.sharedEnums = map[string]string{}
		for _, fl := range st.Fields {
			if t := fl.Type; t.Kind == Named && b.enumUnder(t.Name) != "" {
				b.sharedEnums[fl.JSON] = t.Name
			}
		}
		b.fields(in, d.out.Input, ps, true, false)
		b.sharedEnums = nil
	}
	d.out.Structs, d.out.Enums = holder.Structs, holder.Enums
	d.out.Keys = b.entityKeys(d, st)
}

// entityKeys declares the typed REST 2 keys of an entity whose fields a
// *.fields page lists: one per read field the portal filters or sorts by
// value, in the entity's own wire case, typed by the field's kind
// (keyType). Fields of other kinds (objects, lists, files) get none.
func (b *builder) entityKeys(d *entityDecl, st *Struct) []*FieldConst {
	e := d.spec
	if !hasFieldsPage(e) {
		return nil
	}
	goName := map[string]string{}
	for _, f := range st.Fields {
		goName[f.JSON] = f.Name
	}
	var keys []*FieldConst
	for _, p := range e.Fields {
		t := keyType(p)
		name, ok := goName[p.Name]
		if t == nil || !ok || dynamicKeyName(p.Name) {
			continue
		}
		wire := cmp.Or(p.RequestName, p.Name)
		c := &FieldConst{Name: b.takeType(d.out.Name+"Key"+name, "Field", p.Line), Wire: wire, Type: t}
		c.Doc = []string{c.Name + " is " + strconv.Quote(wire) + ", the key of " + d.out.Name + "." + name + " in requests."}
		keys = append(keys, c)
	}
	return keys
}

// hasFieldsPage reports an entity some of whose fields a *.fields page
// documents.
func hasFieldsPage(e *spec.Entity) bool {
	for _, f := range e.Fields {
		for _, ev := range f.Evidence {
			if ev.Kind == spec.EvidenceFieldsPage {
				return true
			}
		}
	}
	return false
}

// dynamicKeyName is a placeholder key (UF_CRM_…), not one field.
func dynamicKeyName(k string) bool {
	return strings.ContainsAny(k, "*.[] ") || strings.HasSuffix(k, "_")
}

// keyType is the runtime key type of a field: ordered for numbers and
// dates, a Y/N flag for booleans, text for strings, enums and multifields;
// nil for what a REST 2 filter does not compare (objects, lists, files).
func keyType(p spec.Param) *Type {
	generic := func(name string, elem *Type) *Type {
		return &Type{Kind: Qual, Pkg: RuntimePkg, Name: name, Elem: elem}
	}
	switch {
	case isMultifield(p):
		return runtime("TextKey")
	case p.Kind == spec.KindBoolean:
		// REST 2 filters compare flags as the strings Y and N, whatever
		// the type column says: true would match nothing.
		return runtime("FlagKey")
	case p.Kind == spec.KindInteger:
		return generic("OrderedKey", tInt64)
	case p.Kind == spec.KindNumber:
		return generic("OrderedKey", tFloat64)
	case p.Kind == spec.KindDate || p.Kind == spec.KindDateTime:
		return generic("OrderedKey", &Type{Kind: Qual, Pkg: "time", Name: "Time"})
	case p.Kind == spec.KindString || p.Kind == spec.KindEnum:
		return runtime("TextKey")
	}
	return nil
}

// pageNames shortens docs paths to the page names.
func pageNames(pages []string) []string {
	out := make([]string, 0, len(pages))
	for _, p := range pages {
		p = p[strings.LastIndexByte(p, '/')+1:]
		out = append(out, strings.TrimSuffix(p, ".md"))
	}
	return out
}

// entity returns the declared entity of family fam in the current package,
// of the current method's REST version: a REST 3.0 method of tasks.task
// means the REST 3.0 task.
func (b *builder) entity(fam string) *entityDecl {
	if fam == "" {
		return nil
	}
	v := 0
	if b.m != nil {
		v = b.m.Version
	}
	return b.entities[spec.EntityKey(fam, v)]
}

// isEntityStruct reports a struct name declared by an entity.
func (b *builder) isEntityStruct(name string) bool {
	for _, d := range b.entities {
		if d.out.Name == name || d.out.Input == name {
			return true
		}
	}
	return false
}

// isLocalized reports a text kept per language (resolve's "localized"):
// b24.Localized.
func isLocalized(p spec.Param) bool { return p.Localized }

// isMultifield reports a crm_multifield value (PHONE, EMAIL, …): one shared
// runtime type, b24.Multifield, on every entity.
func isMultifield(p spec.Param) bool { return p.Multifield }

// entityFile is the file an entity is declared in: its family's methods'
// file ("crm.deal" → deal_gen.go), or a file of its own for a family that
// is a whole package ("user" → user_gen.go).
func entityFile(fam string) string {
	if strings.Contains(fam, ".") {
		return fileName(fam + ".x")
	}
	return genFileName(fam)
}

// familyKept reports whether any selected method of e's REST version
// belongs to its family.
func familyKept(e *spec.Entity, ms []*spec.Method) bool {
	for _, m := range ms {
		if strings.HasPrefix(m.Name, e.Family+".") && (m.Version == 3) == (e.Version == 3) {
			return true
		}
	}
	return false
}

// entityRequired adds a check for each field of the write form input that
// the method's own parameter p documents as required.
func (b *builder) entityRequired(input string, p spec.Param, goPath, wirePath string) {
	var st *Struct
	for _, d := range b.entities {
		for _, cand := range d.out.Structs {
			if cand.Name == input {
				st = cand
			}
		}
	}
	if st == nil {
		return
	}
	for _, sub := range p.Fields {
		if !sub.Required {
			continue
		}
		for _, fl := range st.Fields {
			if fl.JSON != sub.Name {
				continue
			}
			test := CheckUnset
			if fl.Type.Kind == Pointer || fl.Type.nilable() {
				test = CheckNil
			}
			b.f.Required = append(b.f.Required, RequiredCheck{goPath + fl.Name, wirePath + fl.JSON, test, sub.Line})
		}
	}
}
