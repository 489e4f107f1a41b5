package resolve

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// An entity is what a method family is about: crm.deal's deal, tasks.task's
// task. Each page of the family shows part of it: the *.fields page lists
// every field with a type token (in its example, as a descriptor map), the
// get page documents the returned fields in a table, the list page shows
// rows, add and update take a "fields" object. No page is complete or
// always right, so the entity is the union, keyed by wire key, typed by the
// most reliable source that types the field:
//
//	*.fields descriptors > get table > list table > add/update tables > examples
//
// Keys are matched loosely (case and underscores ignored) because one
// family may spell them two ways: tasks.task.getFields says PARENT_ID where
// tasks.task.get returns parentId. The read form keeps the key the results
// use; the write form (Entity.Input) the key add and update document.

// minEntityFields is the fewest fields that make a family's object an
// entity rather than an acknowledgement ({"result": {"ID": 1}}).
const minEntityFields = 3

// entities assembles one entity per family with a *.fields or get method,
// and points the family's methods at it. A REST 3.0 family (tasks.task's
// REST 3.0 pages) gets an entity of its own beside the REST 2 one of the
// same name: the two APIs spell and shape the task differently.
func (r *resolver) entities() {
	byFamily := [4]map[string][]*spec.Method{2: {}, 3: {}}
	for i := range r.s.Methods {
		m := &r.s.Methods[i]
		fam, _, ok := cutLast(m.Name)
		if !ok {
			continue
		}
		v := 2
		if m.Version == 3 {
			v = 3
		}
		byFamily[v][fam] = append(byFamily[v][fam], m)
	}
	for _, v := range []int{2, 3} {
		for _, fam := range slices.Sorted(maps.Keys(byFamily[v])) {
			if e, ok := r.entity(fam, byFamily[v][fam]); ok {
				if v == 3 {
					e.Version = 3
				}
				r.s.Entities = append(r.s.Entities, e)
			}
		}
	}
}

// family roles, by the method name's last segment.
func role(m *spec.Method) string {
	_, last, _ := cutLast(m.Name)
	l := strings.ToLower(last)
	if l == "fields" || strings.HasPrefix(l, "getfields") {
		// getFieldsByFilter, getfieldsbytype: descriptors too, keyed by
		// the entity's field names; never the entity itself.
		if l == "fields" || l == "getfields" {
			return "fields"
		}
		return "descriptors"
	}
	switch l {
	case "get":
		return "get"
	case "list", "getlist":
		return "list"
	case "add", "update":
		return "write"
	}
	return ""
}

func (r *resolver) entity(fam string, ms []*spec.Method) (spec.Entity, bool) {
	// The first method of each role wins (get before getlist).
	var fieldsM, getM, listM *spec.Method
	var writes []*spec.Method
	for _, m := range ms {
		switch role(m) {
		case "fields":
			fieldsM = cmp.Or(fieldsM, m)
		case "get":
			getM = cmp.Or(getM, m)
		case "list":
			listM = cmp.Or(listM, m)
		case "write":
			writes = append(writes, m)
		}
	}
	// A REST 3.0 family may have no get: its list rows are the entity
	// (tasks.task.result's list, add and update answer one result).
	if fieldsM == nil && getM == nil && (ms[0].Version != 3 || listM == nil) {
		return spec.Entity{}, false
	}
	mg := newMerger()
	var sources []string
	// descKey is each field's key as the *.fields page spells it: what
	// add and update take where the results spell it another way.
	descKey := map[string]string{}
	if fieldsM != nil {
		if ps := descriptorFields(fieldsM); len(ps) > 0 {
			mg.add(stamp(ps, fieldsM, spec.EvidenceFieldsPage), false)
			sources = append(sources, fieldsM.Page)
			for _, p := range ps {
				descKey[normKey(p.Name)] = p.Name
			}
		}
	}
	// The get and list results are the base the other methods are
	// compared against; their keys are the read keys.
	var results []*spec.Method
	for _, m := range []*spec.Method{getM, listM} {
		if m != nil && entityResult(m.Result) {
			results = append(results, m)
		}
	}
	for _, m := range results {
		mg.add(stamp(m.Result.Fields, m, spec.EvidenceTable), true)
		sources = append(sources, m.Page)
	}
	if mg.len() < minEntityFields {
		return spec.Entity{}, false
	}
	// Other methods of the family that answer with the entity (crm.item.add
	// returns the item, tasks.task.complete the task) are recognised by
	// their keys: most must be the entity's.
	base := len(results)
	for _, m := range ms {
		if slices.Contains(results, m) || role(m) == "fields" || role(m) == "descriptors" {
			continue
		}
		if w, ok := wrappedResult(m.Result); ok && mg.overlap(w.Fields) >= 0.6 {
			// {"task": {…}} with no wrapper named: the entity under a key.
			m.Result = w
			results = append(results, m)
			continue
		}
		if entityResult(m.Result) && mg.overlap(m.Result.Fields) >= 0.6 {
			results = append(results, m)
		}
	}
	for _, m := range results[base:] {
		mg.add(stamp(m.Result.Fields, m, spec.EvidenceTable), true)
		sources = append(sources, m.Page)
	}
	// The write form: what add and update document under "fields", then
	// every writable field of the entity.
	wg := newMerger()
	var inputs []*spec.Method
	for _, m := range writes {
		if p := fieldsParam(m); p != nil {
			wg.add(stamp(p.Fields, m, spec.EvidenceTable), true)
			inputs = append(inputs, m)
			sources = append(sources, m.Page)
		}
	}
	// The write tables type what the read evidence left open.
	mg.refine(wg)
	wg.refine(mg)
	// Then the fields the *.fields page gives as writable. A field only
	// read pages show (isWon on crm.item.get, accomplicesData on
	// tasks.task.get) is not written where the write pages or the fields
	// page document what the entity takes; a family with neither takes
	// every field not marked read-only.
	writesDocumented := wg.len() > 0 || len(descKey) > 0
	// A REST 3.0 family's results are an object of its fields-rest-v3
	// page (linked.go), and its add and update pages take "all task
	// fields" by a link to that page: the write form is the object's
	// writable rows (v3Writable), whatever few rows add lists itself.
	linkedObject := ms[0].Version == 3 && mg.linked()
	if linkedObject {
		writesDocumented = false
	}
	for _, k := range mg.order {
		if p := mg.byKey[k]; !p.ReadOnly && describedReadOnly(p.Description) {
			p.ReadOnly = true // "Read-only" in the fields table's note column
		}
	}
	for _, p := range mg.fields() {
		if p.ReadOnly || linkedObject && !v3Writable(&p) {
			continue
		}
		k, described := descKey[normKey(p.Name)]
		if writesDocumented && !described {
			continue
		}
		if described {
			p.Name = k
		}
		wg.add([]spec.Param{p}, false)
	}

	e := spec.Entity{Family: fam, Name: entityName(fam), Fields: mg.fields(), Sources: dedupe(sources)}
	for i := range e.Fields {
		// tasks.task reads "parentId" and filters by "PARENT_ID": the
		// requests take the *.fields page's spelling.
		if k, ok := descKey[normKey(e.Fields[i].Name)]; ok && k != e.Fields[i].Name {
			e.Fields[i].RequestName = k
		}
	}
	r.typeByName(&e, results)
	if len(inputs) > 0 {
		e.Input = wg.fields()
		for i := range e.Input {
			e.Input[i].Required = false // add requires what update does not: the portal says which
		}
	}
	r.widenFromExamples(&e, results)
	for _, m := range []*spec.Method{getM, listM} {
		if m != nil && bareList(m.Result) {
			results = append(results, m)
		}
	}
	for _, m := range results {
		m.Result = withEntity(m.Result, fam)
	}
	for _, m := range inputs {
		markFieldsParam(m, fam)
	}
	return e, true
}

// linked reports fields read from a fields-rest-v3 object (linked.go).
func (mg *merger) linked() bool {
	for _, k := range mg.order {
		if hasEvidence(*mg.byKey[k], spec.EvidenceLinked) {
			return true
		}
	}
	return false
}

// v3Writable reports whether a REST 3.0 object row belongs in the write
// form, adjusting p to the shape writes take. The fields-rest-v3 pages say
// to "use the identifier field in the methods for creating and updating"
// and the object field only for reading: creatorId is written, creator is
// not. A list of related objects whose row says it holds identifiers in
// writes (accomplices: "list of user identifiers … in the methods for
// creating or updating") is written as those identifiers. The record's
// own id is the methods' id parameter, and a row only an example shows is
// not documented as taken.
func v3Writable(p *spec.Param) bool {
	if strings.EqualFold(p.Name, "id") || !documented(*p) || !hasEvidence(*p, spec.EvidenceLinked) {
		return false
	}
	if p.Ref == "" || p.Kind != spec.KindObject && p.Kind != spec.KindArray {
		return true
	}
	if p.Kind == spec.KindArray && mentionsAny(p.Description, identifierSpellings) {
		p.Type, p.Elem, p.Ref, p.Fields = "array<integer>", spec.KindInteger, "", nil
		return true
	}
	return false
}

// identifierSpellings are how a row says it holds record ids.
var identifierSpellings = []string{"identifier", "идентификатор"}

func hasEvidence(p spec.Param, k spec.EvidenceKind) bool {
	for _, ev := range p.Evidence {
		if ev.Kind == k {
			return true
		}
	}
	return false
}

// entityResult reports a result that is an object, or rows of objects,
// with fields.
func entityResult(res *spec.Result) bool {
	if res == nil || len(res.Fields) == 0 {
		return false
	}
	// department.get's rows are documented as "integer" rows of a table
	// that lists their fields: the fields decide.
	return res.Shape == "object" || res.Shape == "array" || res.Shape == "map" && res.Kind == spec.KindObject
}

// bareList reports a get or list result the page shapes but does not
// describe (crm.lead.list: rows, no table): the family's entity is the
// best description there is.
func bareList(res *spec.Result) bool {
	return res != nil && len(res.Fields) == 0 && (res.Shape == "array" || res.Shape == "object") &&
		(res.Kind == spec.KindObject || res.Kind == "")
}

func withEntity(res *spec.Result, fam string) *spec.Result {
	cp := *res
	cp.Entity = fam
	return &cp
}

// fieldsParam returns the "fields" object parameter of a write method.
// Rows documented dotted (fields.TITLE, fields.OPENED) are first gathered
// into one "fields" object, as model would nest them.
func fieldsParam(m *spec.Method) *spec.Param {
	nestDottedFields(m)
	for i := range m.Params {
		p := &m.Params[i]
		if strings.EqualFold(p.Name, "fields") && p.Kind == spec.KindObject {
			return p
		}
	}
	return nil
}

func markFieldsParam(m *spec.Method, fam string) {
	m.Params = slices.Clone(m.Params)
	if p := fieldsParam(m); p != nil {
		p.Entity = fam
	}
}

// entityName is the family's last segment as words: "crm.deal" → ["deal"],
// "crm.item.productrow" → ["item", "productrow"]; model spells them.
func entityName(fam string) []string {
	segs := strings.Split(fam, ".")
	if len(segs) > 1 {
		segs = segs[1:]
	}
	return segs
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// dynamicKey reports a key that one portal has and another does not: a
// custom field (UF_CRM_1712…) or a link to a smart process (PARENT_ID_156,
// parentId1222). The pages document them as patterns; they stay in Extra.
func dynamicKey(k string) bool {
	if strings.HasPrefix(k, "UF_") || strings.HasPrefix(k, "uf") && len(k) > 2 && 'A' <= k[2] && k[2] <= 'Z' {
		// UF_CRM_1712345678 is one portal's field; UF_CRM_TASK and
		// UF_DEPARTMENT are on every portal and stay typed.
		tail := k[strings.LastIndexAny(k, "_")+1:]
		return len(tail) >= 3 && strings.Trim(tail, "0123456789") == ""
	}
	for _, pre := range []string{"PARENT_ID_", "parentId"} {
		if rest, ok := strings.CutPrefix(k, pre); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// normKey is how keys of one family are matched: case and underscores
// ignored (PARENT_ID = parentId).
func normKey(k string) string {
	return strings.ToLower(strings.ReplaceAll(k, "_", ""))
}

// documented reports a field whose type comes from a table row or a
// descriptor, not from an example value.
func documented(p spec.Param) bool {
	return p.Type != "" && p.Kind != "" && p.Kind != spec.KindAny
}

// merger unions fields by normalised key, in first-seen order.
type merger struct {
	order []string
	byKey map[string]*spec.Param
	// read is set once a result source (not the descriptors) named the
	// key: its spelling wins.
	read map[string]bool
}

func newMerger() *merger {
	return &merger{byKey: map[string]*spec.Param{}, read: map[string]bool{}}
}

func (mg *merger) len() int { return len(mg.order) }

// add merges ps; fromResult says the keys are spelled as the results
// spell them.
func (mg *merger) add(ps []spec.Param, fromResult bool) {
	for _, p := range ps {
		if p.Name == "" || dynamicKey(p.Name) {
			continue
		}
		k := normKey(p.Name)
		have, ok := mg.byKey[k]
		if !ok {
			cp := p
			mg.byKey[k] = &cp
			mg.order = append(mg.order, k)
			mg.read[k] = fromResult
			continue
		}
		if fromResult && !mg.read[k] {
			have.Name = p.Name
			mg.read[k] = true
		}
		mergeInto(have, p)
	}
}

// mergeInto fills what have leaves open from p: the type when have has
// none (or only an example's), the description, nested fields, enum values.
func mergeInto(have *spec.Param, p spec.Param) {
	if p.KeyedMap() && phpContainer(*have) {
		// One page shows records keyed by id where another only says
		// "array" or "object": the keyed map is the shape.
		have.Kind, have.Elem, have.Fields = p.Kind, p.Elem, p.Fields
		have.Evidence = rank(p.Evidence, have.Evidence)
	}
	if !documented(*have) && documented(p) {
		have.Type, have.Kind, have.Elem, have.Ref = p.Type, p.Kind, p.Elem, p.Ref
		have.Evidence = rank(p.Evidence, have.Evidence)
		if len(p.Fields) > 0 {
			have.Fields = p.Fields
		}
		if len(p.Enum) > 0 {
			have.Enum = p.Enum
		}
	}
	if have.Kind == "" || have.Kind == spec.KindAny || fromCode(*have) && !fromCode(p) {
		// A code example's kind ranks below every other source's.
		if p.Kind != "" && p.Kind != spec.KindAny {
			have.Kind, have.Elem = p.Kind, p.Elem
			have.Evidence = rank(p.Evidence, have.Evidence)
		}
	} else {
		have.Evidence = rank(have.Evidence, p.Evidence)
	}
	if have.Description == "" {
		have.Description = p.Description
	}
	if len(have.Enum) == 0 && len(p.Enum) > 0 && (have.Kind == spec.KindEnum || have.Kind == p.Kind ||
		have.Kind == spec.KindString && p.Kind == spec.KindEnum) {
		// A descriptor says "string" where the get table lists the values.
		have.Enum, have.Kind = p.Enum, p.Kind
	}
	if len(p.Fields) > 0 && (have.Kind == spec.KindObject || have.Kind == spec.KindArray) {
		nested := newMerger()
		nested.add(have.Fields, true)
		nested.add(p.Fields, true)
		have.Fields = nested.fields()
	}
	if have.Line == 0 {
		have.Line, have.Page = p.Line, p.Page
	}
	have.Deprecated = have.Deprecated || p.Deprecated
}

// fromCode reports a field whose kind a docs code example decided (the
// Go example's struct, or a key only the request's select names).
func fromCode(p spec.Param) bool {
	return len(p.Evidence) > 0 && p.Evidence[0].Kind == spec.EvidenceCode
}

// refine types the fields of mg that other documents and mg does not.
func (mg *merger) refine(other *merger) {
	for _, k := range mg.order {
		p := mg.byKey[k]
		if q, ok := other.byKey[k]; ok && !documented(*p) && documented(*q) {
			name := p.Name
			mergeInto(p, *q)
			p.Name = name
		}
	}
}

// overlap is the share of ps's keys the merger holds.
func (mg *merger) overlap(ps []spec.Param) float64 {
	if len(ps) == 0 {
		return 0
	}
	n := 0
	for _, p := range ps {
		if _, ok := mg.byKey[normKey(p.Name)]; ok {
			n++
		}
	}
	return float64(n) / float64(len(ps))
}

func (mg *merger) fields() []spec.Param {
	out := make([]spec.Param, 0, len(mg.order))
	for _, k := range mg.order {
		out = append(out, *mg.byKey[k])
	}
	return out
}

// descriptorFields reads a *.fields page's example: an object keyed by
// field name whose values describe the field ({"type": "crm_status",
// "isMultiple": false, "isReadOnly": true, "title": "Stage"}). Pages whose
// descriptors are only titles (user.fields) give the keys and titles.
func descriptorFields(m *spec.Method) []spec.Param {
	res := m.Result
	obj, ok := exampleResult(res)
	if !ok {
		if res == nil || len(res.Example) > 0 {
			return nil
		}
		// No example (the older crm *.fields pages): the table's rows are
		// the descriptors, typed by their type column, read-only where
		// the note column says so.
		out := make([]spec.Param, 0, len(res.Fields))
		for _, f := range res.Fields {
			f.ReadOnly = f.ReadOnly || describedReadOnly(f.Description)
			out = append(out, f)
		}
		return out
	}
	keys, vals, ok := orderedObject(obj)
	if !ok {
		return nil
	}
	line := map[string]int{}
	marked := map[string]bool{} // "Read-only" in the table's note column
	for _, f := range res.Fields {
		line[f.Name] = f.Line
		marked[f.Name] = describedReadOnly(f.Description)
	}
	var out []spec.Param
	for i, k := range keys {
		p := spec.Param{Name: k, Kind: spec.KindAny, Line: cmp.Or(line[k], m.Line)}
		var d descriptor
		var title string
		switch {
		case json.Unmarshal(vals[i], &title) == nil:
			p.Description = title
		case json.Unmarshal(vals[i], &d) == nil:
			p.Description = d.Title
			p.ReadOnly = d.ReadOnly || d.Primary
			if d.Type != "" {
				p.Type = d.Type
				p.Kind, p.Elem = tokenKind(d.Type)
				if p.Kind == spec.KindArray && p.Elem == spec.KindObject && isMultifield(d.Type) {
					p.Fields = multifieldFields()
				}
				if d.Multiple && p.Kind != spec.KindArray {
					p.Elem, p.Kind = p.Kind, spec.KindArray
				}
				p.Enum = d.enum()
				if len(p.Enum) > 0 && p.Kind == spec.KindString {
					p.Kind = spec.KindEnum
				}
			}
		default:
			continue
		}
		p.ReadOnly = p.ReadOnly || marked[k]
		out = append(out, p)
	}
	return append(out, tableOnlyFields(res.Fields, keys)...)
}

// tableOnlyFields are the rows of a *.fields page's table that its example
// leaves out: the examples are often cut short ("…"), and the table is
// the page's list of fields. Only a table that documents fields counts:
// most of the example's keys must be rows of it (a table of the
// descriptor's own attributes, type and isRequired, shares none).
func tableOnlyFields(rows []spec.Param, exampleKeys []string) []spec.Param {
	inExample := map[string]bool{}
	for _, k := range exampleKeys {
		inExample[normKey(k)] = true
	}
	shared := 0
	for _, f := range rows {
		if inExample[normKey(f.Name)] {
			shared++
		}
	}
	if len(exampleKeys) == 0 || 2*shared < len(exampleKeys) {
		return nil
	}
	var out []spec.Param
	for _, f := range rows {
		if inExample[normKey(f.Name)] || !validRowKey(f.Name) {
			continue
		}
		f.ReadOnly = f.ReadOnly || describedReadOnly(f.Description)
		out = append(out, f)
	}
	return out
}

// validRowKey is a table row that names one field: not a placeholder
// ("UF_*", "fieldN"), nor a path into another's value.
func validRowKey(name string) bool {
	return name != "" && !dynamicKey(name) && !strings.ContainsAny(name, ".[] ")
}

type descriptor struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	ReadOnly bool            `json:"isReadOnly"`
	Primary  bool            `json:"primary"` // tasks: the ID
	Multiple bool            `json:"isMultiple"`
	Values   json.RawMessage `json:"values"` // tasks: {"2": "High", …}
}

// enum reads tasks-style "values": {"2": "High", "1": "Medium"}.
func (d descriptor) enum() []spec.EnumValue {
	keys, vals, ok := orderedObject(d.Values)
	if !ok {
		return nil
	}
	var out []spec.EnumValue
	for i, k := range keys {
		var desc string
		_ = json.Unmarshal(vals[i], &desc)
		out = append(out, spec.EnumValue{Value: k, Description: desc})
	}
	return out
}

// tokenKind maps the type tokens of the *.fields descriptors (the data
// types page, api-reference/data-types.md) to kinds.
func tokenKind(t string) (spec.Kind, spec.Kind) {
	switch t = strings.ToLower(strings.TrimSpace(t)); t {
	case "integer", "int":
		return spec.KindInteger, ""
	case "double", "float", "number":
		return spec.KindNumber, ""
	case "char", "boolean", "bool":
		return spec.KindBoolean, ""
	case "date":
		return spec.KindDate, ""
	case "datetime":
		return spec.KindDateTime, ""
	case "string", "text", "url", "crm_status", "crm_currency", "location", "money", "crm", "address", "resourcebooking":
		return spec.KindString, ""
	case "crm_multifield":
		return spec.KindArray, spec.KindObject
	case "file", "disk_file", "attached_diskfile", "diskfile":
		return spec.KindFile, ""
	case "enum":
		return spec.KindEnum, ""
	case "user", "employee", "crm_company", "crm_contact", "crm_lead", "crm_deal", "crm_quote", "crm_category",
		"crm_invoice", "crm_smart_invoice", "iblock_section", "iblock_element", "enumeration", "group", "department":
		return spec.KindInteger, ""
	}
	if strings.HasPrefix(t, "crm_enum_") {
		return spec.KindInteger, ""
	}
	return spec.KindAny, ""
}

func isMultifield(t string) bool { return strings.EqualFold(strings.TrimSpace(t), "crm_multifield") }

// multifieldFields are the members of a crm_multifield value (PHONE,
// EMAIL, WEB, IM), as data-types.md documents them.
func multifieldFields() []spec.Param {
	return []spec.Param{
		{Name: "ID", Type: "integer", Kind: spec.KindInteger, Description: "Identifier of the value."},
		{Name: "VALUE", Type: "string", Kind: spec.KindString, Description: "The value: a phone number, an e-mail address, a URL."},
		{Name: "VALUE_TYPE", Type: "string", Kind: spec.KindString, Description: "Kind of the value: WORK, MOBILE, HOME, OTHER, …"},
		{Name: "TYPE_ID", Type: "string", Kind: spec.KindString, Description: "The field it belongs to: PHONE, EMAIL, WEB, IM, LINK."},
	}
}

// widenFromExamples checks every field against the values the family's
// response examples show, and widens a type the data contradicts
// (integer → number for 1999.99, a flag to text for "I", a text to raw
// JSON for {"en": "…"}): the docs are evidence, the examples what a portal
// sent. Nested objects are checked the same way.
func (r *resolver) widenFromExamples(e *spec.Entity, ms []*spec.Method) {
	// A type widened for one example must still hold the examples checked
	// before it (0 in a list, {"en": …} in a get): check again until
	// nothing changes. Widening only moves towards any, so this ends.
	for range 4 {
		before := len(r.problems)
		for _, m := range ms {
			for _, obj := range exampleObjects(m.Result) {
				r.widenFields(e.Family, m, e.Fields, obj, 0)
			}
		}
		if len(r.problems) == before {
			return
		}
	}
}

func (r *resolver) widenFields(fam string, m *spec.Method, fields []spec.Param, obj json.RawMessage, depth int) {
	if depth > 6 {
		return
	}
	keys, vals, ok := orderedObject(obj)
	if !ok {
		return
	}
	idx := map[string]int{}
	for i, f := range fields {
		idx[f.Name] = i
	}
	for i, k := range keys {
		j, ok := idx[k]
		if !ok {
			continue
		}
		f := &fields[j]
		v := bytes.TrimSpace(vals[i])
		if rows, ok := keyedRows(*f, v); ok {
			// {"103": {"id": "103", …}}: records keyed by id.
			r.problem(cmp.Or(f.Page, m.Page), cmp.Or(f.Line, m.Line), KindKeyedByID,
				fmt.Sprintf("%s: %s: %s's example is keyed by record id: a map of its rows", fam, k, m.Name))
			f.Kind, f.Elem, f.Fields = spec.KindObject, spec.KindObject, rows
			f.Evidence = rank(keyedEvidence(m), f.Evidence)
			continue
		}
		if k, ok := keyedScalars(*f, v); ok {
			// {"1317": 1, "1319": 1}: counters keyed by chat ID.
			f.Elem = k
			f.Evidence = rank(keyedEvidence(m), f.Evidence)
			continue
		}
		if w, ok := widen(*f, v); ok {
			r.problem(cmp.Or(f.Page, m.Page), cmp.Or(f.Line, m.Line), KindEntityWidened,
				fmt.Sprintf("%s: %s: documented %s, %s's example sends %s: %s", fam, k, describeKind(*f), m.Name, snippet(v), describeKind(w)))
			w.Evidence = rank([]spec.Evidence{{Kind: spec.EvidenceResponse, Page: m.Page, Line: m.Line, Method: m.Name, Note: "sends " + snippet(v)}}, f.Evidence)
			*f = w
		}
		switch {
		case f.KeyedMap() && len(f.Fields) > 0:
			if _, rows, ok := orderedObject(v); ok {
				f.Fields = slices.Clone(f.Fields)
				for _, row := range rows {
					r.widenFields(fam, m, f.Fields, row, depth+1)
				}
			}
		case f.Kind == spec.KindObject && len(f.Fields) > 0:
			f.Fields = slices.Clone(f.Fields)
			r.widenFields(fam, m, f.Fields, v, depth+1)
		case f.Kind == spec.KindArray && len(f.Fields) > 0 && len(v) > 0 && v[0] == '[':
			var rows []json.RawMessage
			if json.Unmarshal(v, &rows) == nil {
				f.Fields = slices.Clone(f.Fields)
				for _, row := range rows {
					r.widenFields(fam, m, f.Fields, row, depth+1)
				}
			}
		}
	}
}

func describeKind(p spec.Param) string {
	if p.Kind == spec.KindArray && p.Elem != "" {
		return "array of " + string(p.Elem)
	}
	return string(cmp.Or(p.Kind, spec.KindAny))
}

func snippet(v []byte) string {
	if len(v) > 40 {
		return string(v[:40]) + "…"
	}
	return string(v)
}

// widen returns the field retyped to hold the value, when its documented
// kind does not (as the runtime reads values: IDs as strings, Y/N flags,
// empty values as "", null, false, [] or {}).
func widen(f spec.Param, v json.RawMessage) (spec.Param, bool) {
	if fitsKind(f, v) {
		return f, false
	}
	if f.Kind == spec.KindArray && len(f.Fields) > 0 && jsonKind(v) == 'o' {
		// An empty example ([]) made it a list; the portal sends one
		// object (tasks.task's group).
		f.Kind, f.Elem = spec.KindObject, ""
		return f, true
	}
	if (f.Kind == spec.KindString || f.Kind == spec.KindEnum) && isLocalized(v) {
		// {"en": "Region", "de": "Gebiet"}: a text per language.
		f.Kind, f.Type, f.Enum, f.Fields = spec.KindObject, LocalizedType, nil, nil
		return f, true
	}
	switch jsonKind(v) {
	case 'n', 's', 'b':
		if f.Kind == spec.KindInteger && isDecimal(v) {
			f.Kind, f.Type = spec.KindNumber, "double"
			return f, true
		}
		if (f.Kind == spec.KindObject || f.Kind == spec.KindArray) && f.Type == "" && len(f.Fields) == 0 {
			// Only an example's {} or [] said "object": PHP's empty
			// value. The scalar another example sends is the type.
			f.Kind, f.Elem, f.Type = scalarKindOf(v), "", ""
			return f, true
		}
		if f.Kind == spec.KindObject || f.Kind == spec.KindArray || f.Kind == spec.KindFile {
			break
		}
		f.Kind, f.Elem, f.Type, f.Enum, f.Fields = spec.KindString, "", "string", nil, nil
		return f, true
	}
	f.Kind, f.Elem, f.Type, f.Enum, f.Fields = spec.KindAny, "", "any", nil, nil
	return f, true
}

// jsonKind is the first byte's kind: 'o', 'a', 's', 'n', 'b' or 'z'.
func jsonKind(v []byte) byte {
	if len(v) == 0 {
		return 'z'
	}
	switch c := v[0]; {
	case c == '{':
		return 'o'
	case c == '[':
		return 'a'
	case c == '"':
		return 's'
	case c == 't' || c == 'f':
		return 'b'
	case c == 'n':
		return 'z'
	}
	return 'n'
}

// isEmptyJSON reports the forms PHP sends for "nothing" (spaces allowed
// inside the brackets, as the runtime reads them).
func isEmptyJSON(v []byte) bool {
	switch string(v) {
	case "", "null", `""`, "false", "[]", "{}":
		return true
	}
	if n := len(v); n >= 2 && (v[0] == '[' && v[n-1] == ']' || v[0] == '{' && v[n-1] == '}') {
		return len(bytes.TrimSpace(v[1:n-1])) == 0
	}
	return false
}

// LocalizedType is the type token resolve gives a text kept per language
// (model types it b24.Localized, which also reads a plain text).
const LocalizedType = "localized"

// isLocalized reports an object whose members are all texts, keyed like
// language codes ("en", "de", "pt_br").
func isLocalized(v []byte) bool {
	keys, vals, ok := orderedObject(v)
	if !ok || len(keys) == 0 {
		return false
	}
	for i, k := range keys {
		if len(k) < 2 || len(k) > 5 || jsonKind(bytes.TrimSpace(vals[i])) != 's' {
			return false
		}
	}
	return true
}

func fitsKind(f spec.Param, v []byte) bool {
	if isEmptyJSON(v) {
		return true
	}
	if f.Type == LocalizedType {
		return jsonKind(v) == 's' || isLocalized(v)
	}
	if f.Kind == spec.KindObject && f.Elem != "" {
		// An object keyed by ID: every member must fit the member kind.
		_, vals, ok := orderedObject(v)
		if !ok {
			return jsonKind(v) == 'a' && isEmptyJSON(v)
		}
		for _, m := range vals {
			if !fitsKind(spec.Param{Kind: f.Elem}, bytes.TrimSpace(m)) {
				return false
			}
		}
		return true
	}
	switch f.Kind {
	case "", spec.KindAny, spec.KindFile:
		return true
	case spec.KindInteger, spec.KindNumber, spec.KindBoolean, spec.KindDate, spec.KindDateTime, spec.KindString, spec.KindEnum:
		return fitsScalar(f.Kind, v)
	case spec.KindObject:
		return jsonKind(v) == 'o'
	case spec.KindArray:
		k := jsonKind(v)
		if k != 'a' && k != 'o' {
			return false
		}
		var elems []json.RawMessage
		if k == 'a' {
			_ = json.Unmarshal(v, &elems)
		} else {
			_, elems, _ = orderedObject(v)
		}
		if len(f.Fields) > 0 {
			// Rows are objects: an object of rows keyed by ID fits, one
			// row on its own ({"id": "125", "name": …}) does not.
			for _, el := range elems {
				if jsonKind(bytes.TrimSpace(el)) != 'o' && !isEmptyJSON(bytes.TrimSpace(el)) {
					return false
				}
			}
			return true
		}
		if f.Elem == "" || f.Elem == spec.KindAny {
			return true
		}
		for _, el := range elems {
			if !fitsKind(spec.Param{Kind: f.Elem}, bytes.TrimSpace(el)) {
				return false
			}
		}
		return true
	}
	return true
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func isDecimal(v []byte) bool {
	var s string
	if json.Unmarshal(v, &s) != nil {
		s = string(v)
	}
	return isNumeric(s) && !isInteger(s)
}

// isISODate reports text that starts like 2024-01-31 (what b24.Date and
// b24.Time read, with or without a time and an offset).
func isISODate(s string) bool {
	if len(s) < 10 {
		return false
	}
	for i, c := range s[:10] {
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isNumeric(s string) bool {
	var n json.Number
	return s != "" && json.Unmarshal([]byte(s), &n) == nil
}

// exampleObjects returns the documented example's objects the result's
// fields describe: the object, or each row.
func exampleObjects(res *spec.Result) []json.RawMessage {
	v, ok := exampleResult(res)
	if !ok {
		return nil
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var rows []json.RawMessage
		if json.Unmarshal(v, &rows) != nil {
			return nil
		}
		return rows
	}
	if res.Shape == "array" {
		// rows keyed by ID: {"1": {...}, "2": {...}}
		_, vals, ok := orderedObject(v)
		if ok && len(vals) > 0 && bytes.HasPrefix(bytes.TrimSpace(vals[0]), []byte("{")) {
			return vals
		}
		return nil
	}
	return []json.RawMessage{v}
}

// exampleResult returns the documented example's value the result's fields
// describe: "result", or the member under its wrapper key.
func exampleResult(res *spec.Result) (json.RawMessage, bool) {
	if res == nil || len(res.Example) == 0 {
		return nil, false
	}
	v, ok := member(res.Example, "result")
	if ok && res.Wrapper != "" {
		v, ok = member(v, res.Wrapper)
	}
	return v, ok
}

// member returns obj[key] of a JSON object.
func member(obj json.RawMessage, key string) (json.RawMessage, bool) {
	keys, vals, ok := orderedObject(obj)
	if !ok {
		return nil, false
	}
	for i, k := range keys {
		if k == key {
			return vals[i], true
		}
	}
	return nil, false
}

// orderedObject splits a JSON object into its keys, in order, and values.
func orderedObject(obj json.RawMessage) ([]string, []json.RawMessage, bool) {
	obj = bytes.TrimSpace(obj)
	if len(obj) == 0 || obj[0] != '{' {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, nil, false
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return keys, vals, true
}

// cutLast splits "crm.deal.list" into "crm.deal" and "list".
func cutLast(name string) (family, last string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// typeByName types the fields that no page types (an example shows them
// only as null) by what their names say, where names are unambiguous:
// isWon and HAS_PHONE are flags, dateClosed and LAST_ACTIVITY_DATE times,
// receivedAmount an amount. The runtime is tolerant, so a wrong guess
// costs the field (its value kept raw), never the call; each guess is
// reported.
func (r *resolver) typeByName(e *spec.Entity, ms []*spec.Method) {
	page := ""
	if len(e.Sources) > 0 {
		page = e.Sources[0]
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		emptyOnly := (f.Kind == spec.KindObject || f.Kind == spec.KindArray) && f.Type == "" && len(f.Fields) == 0 && f.Elem == ""
		if f.Kind != "" && f.Kind != spec.KindAny && !emptyOnly {
			continue // typed; an example's bare {} or [] is PHP's empty value, not a type
		}
		k := nameKind(f.Name)
		if k == "" {
			continue
		}
		f.Kind = k
		f.Evidence = rank([]spec.Evidence{{Kind: spec.EvidenceName, Note: f.Name}}, f.Evidence)
		r.problem(cmp.Or(f.Page, page), f.Line, KindTypeFromName,
			fmt.Sprintf("%s: %s: no page types it; typed %s by its name", e.Family, f.Name, k))
	}
}

// nameKind is the kind a field's name makes plain, or "".
func nameKind(name string) spec.Kind {
	words := nameWords(name)
	if len(words) == 0 {
		return ""
	}
	first, last := words[0], words[len(words)-1]
	switch {
	case len(words) > 1 && (first == "is" || first == "has"):
		return spec.KindBoolean
	case last == "short" || last == "url":
		return spec.KindString
	case last == "date" || last == "time" || first == "date" && len(words) > 1 || first == "timestamp":
		return spec.KindDateTime
	case last == "amount" || last == "price" || last == "sum":
		return spec.KindNumber
	case last == "id" && !slices.ContainsFunc(words, func(w string) bool {
		return w == "xml" || w == "origin" || w == "guid" || w == "code" || w == "external"
	}):
		return spec.KindInteger
	}
	return ""
}

// nameWords splits camelCase and SNAKE_CASE into lower-case words.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, c := range rs {
		switch {
		case c == '_' || c == '-' || c == '.':
			flush()
		case 'A' <= c && c <= 'Z' && i > 0 && ('a' <= rs[i-1] && rs[i-1] <= 'z'):
			flush()
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
	}
	flush()
	return words
}

// nestDottedFields replaces rows named fields.X by one "fields" object
// holding them, at the first one's place. The method's Params are copied.
func nestDottedFields(m *spec.Method) {
	first := -1
	for i, p := range m.Params {
		if len(p.Name) > 7 && strings.EqualFold(p.Name[:7], "fields.") {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	holder := spec.Param{Name: m.Params[first].Name[:6], Kind: spec.KindObject, Line: m.Params[first].Line}
	var out []spec.Param
	for i, p := range m.Params {
		if len(p.Name) > 7 && strings.EqualFold(p.Name[:7], "fields.") {
			p.Name = p.Name[7:]
			holder.Fields = append(holder.Fields, p)
			if i == first {
				out = append(out, spec.Param{}) // the holder's place
			}
			continue
		}
		out = append(out, p)
	}
	for i := range out {
		if out[i].Name == "" {
			out[i] = holder
		}
	}
	m.Params = out
}

// scalarKindOf is the kind of a JSON scalar as the portal sends it: text
// that reads as a date-time is one ("2024-07-23 08:08:50").
func scalarKindOf(v []byte) spec.Kind {
	switch jsonKind(v) {
	case 'b':
		return spec.KindBoolean
	case 'n':
		if isInteger(string(v)) {
			return spec.KindInteger
		}
		return spec.KindNumber
	}
	var s string
	if json.Unmarshal(v, &s) == nil && isISODate(s) {
		return spec.KindDateTime
	}
	return spec.KindString
}

// keyedScalars reports an object without documented members whose example
// is keyed by IDs and holds scalars of one kind ({"1317": 1}): a map, its
// members typed.
func keyedScalars(f spec.Param, v []byte) (spec.Kind, bool) {
	if f.Kind != spec.KindObject || len(f.Fields) > 0 || f.Elem != "" {
		return "", false
	}
	keys, vals, ok := orderedObject(v)
	if !ok || len(keys) == 0 {
		return "", false
	}
	var kind spec.Kind
	for i, k := range keys {
		m := bytes.TrimSpace(vals[i])
		if !isInteger(k) || jsonKind(m) == 'o' || jsonKind(m) == 'a' || jsonKind(m) == 'z' {
			return "", false
		}
		if mk := scalarKindOf(m); kind == "" || kind == mk {
			kind = mk
		} else {
			return "", false
		}
	}
	return kind, true
}

// readOnlySpellings are the marks a fields table gives a field the portal
// sets itself, per language (its note column, joined to the description):
// "Read-only", "Только для чтения", or the REST 3.0 pages' "The field is
// automatically updated".
var readOnlySpellings = []string{"read-only", "read only", "readonly", "только для чтения", "только чтение",
	"field is automatically updated", "обновляется автоматически"}

// describedReadOnly reports a description carrying a read-only mark.
func describedReadOnly(desc string) bool { return mentionsAny(desc, readOnlySpellings) }

// mentionsAny reports whether desc contains any of the lower-case
// spellings, in any case.
func mentionsAny(desc string, spellings []string) bool {
	d := strings.ToLower(desc)
	for _, s := range spellings {
		if strings.Contains(d, s) {
			return true
		}
	}
	return false
}

// keyedEvidence records that m's example shows a field keyed by record id.
func keyedEvidence(m *spec.Method) []spec.Evidence {
	return []spec.Evidence{{Kind: spec.EvidenceResponse, Page: m.Page, Line: m.Line, Method: m.Name, Note: "keyed by record id"}}
}
