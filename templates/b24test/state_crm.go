package b24test

import (
	"slices"
	"strconv"
)

// crmEntity is one of the CRM object types with methods of their own
// (crm.deal.* beside crm.item.* with entityTypeId 2).
type crmEntity struct {
	typeID int64
	name   string // "deal": crm.deal.*
	event  string // "DEAL": ONCRMDEALADD
}

var crmEntities = []crmEntity{
	{1, "lead", "LEAD"},
	{2, "deal", "DEAL"},
	{3, "contact", "CONTACT"},
	{4, "company", "COMPANY"},
}

// crmLinks are the fields (stored form) by which a CRM record names
// another, and the type of the record named.
var crmLinks = []struct {
	field  string
	typeID int64
}{{"leadId", 1}, {"contactId", 3}, {"companyId", 4}}

// The documented errors of the CRM families.
var (
	errItemNotFound = Errorf(400, "NOT_FOUND", "Item not found") // crm.item.get, .update, .delete
	errSPANotFound  = Errorf(400, "NOT_FOUND", "SPA not found")  // an entityTypeId no type has
	errCRMNotFound  = Errorf(400, "", "Not found")               // crm.deal.get and its siblings
	errCRMBadID     = Errorf(400, "", "ID is not defined or invalid")
)

// crmItemView is the wire form of crm.item.*: camelCase, the ID a number,
// entityTypeId in every record.
func crmItemView(typeID int64) view {
	return view{idKey: "id", inKey: snakeToCamel, extra: func(r map[string]any) { r["entityTypeId"] = typeID }}
}

// crmEntityView is the wire form of crm.deal.* and its siblings: the
// upper-case REST 2 names, the ID as text.
var crmEntityView = view{idKey: "ID", idText: true, inKey: snakeToCamel, outKey: camelToSnake}

// crmTable returns the records of an entity type, or the documented error
// for a type the portal does not have: 1 lead, 2 deal, 3 contact, 4
// company, 7 quote, 31 invoice, and the smart processes from 128 on.
func (s *state) crmTable(params map[string]any) (int64, *table, error) {
	v, ok := lookupParam(params, "entityTypeId")
	if !ok {
		return 0, nil, errSPANotFound
	}
	typeID, ok := toInt(v)
	if !ok || !(typeID >= 1 && typeID <= 4 || typeID == 7 || typeID == 31 || typeID >= 128) {
		return 0, nil, errSPANotFound
	}
	t, ok := s.crm[typeID]
	if !ok {
		t = newTable()
		s.crm[typeID] = t
	}
	return typeID, t, nil
}

func (s *state) crmMethods() {
	s.methods["crm.item.add"] = func(p *Portal, params map[string]any) (any, error) {
		typeID, t, err := s.crmTable(params)
		if err != nil {
			return nil, err
		}
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		v := crmItemView(typeID)
		fields := v.storeFields(in)
		fields["createdTime"], fields["updatedTime"] = now(), now()
		id := t.add(fields)
		s.crmEvent(p, typeID, "ADD", id)
		return map[string]any{"item": v.render(id, fields)}, nil
	}
	s.methods["crm.item.update"] = func(p *Portal, params map[string]any) (any, error) {
		typeID, t, err := s.crmTable(params)
		if err != nil {
			return nil, err
		}
		id, rec, err := t.record(params, "id", errItemNotFound, errItemNotFound)
		if err != nil {
			return nil, err
		}
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		v := crmItemView(typeID)
		for k, val := range v.storeFields(in) {
			rec[k] = val
		}
		rec["updatedTime"] = now()
		s.crmEvent(p, typeID, "UPDATE", id)
		return map[string]any{"item": v.render(id, rec)}, nil
	}
	s.methods["crm.item.get"] = func(p *Portal, params map[string]any) (any, error) {
		typeID, t, err := s.crmTable(params)
		if err != nil {
			return nil, err
		}
		id, rec, err := t.record(params, "id", errItemNotFound, errItemNotFound)
		if err != nil {
			return nil, err
		}
		return map[string]any{"item": crmItemView(typeID).render(id, rec)}, nil
	}
	s.methods["crm.item.delete"] = func(p *Portal, params map[string]any) (any, error) {
		typeID, t, err := s.crmTable(params)
		if err != nil {
			return nil, err
		}
		id, _, err := t.record(params, "id", errItemNotFound, errItemNotFound)
		if err != nil {
			return nil, err
		}
		delete(t.rows, id)
		s.crmEvent(p, typeID, "DELETE", id)
		return []any{}, nil // the page's result: []
	}
	s.methods["crm.item.list"] = func(p *Portal, params map[string]any) (any, error) {
		typeID, t, err := s.crmTable(params)
		if err != nil {
			return nil, err
		}
		res, err := crmItemView(typeID).list(t, params, "filter", "order", "select")
		if err != nil {
			return nil, err
		}
		res.Value = map[string]any{"items": res.Value}
		return res, nil
	}

	for _, e := range crmEntities {
		s.entityMethods(e)
	}
}

// entityMethods serves crm.<name>.add/update/get/delete/list on the
// records of crm.item.* with entityTypeId e.typeID.
func (s *state) entityMethods(e crmEntity) {
	tbl := func() *table {
		t, ok := s.crm[e.typeID]
		if !ok {
			t = newTable()
			s.crm[e.typeID] = t
		}
		return t
	}
	v := crmEntityView
	prefix := "crm." + e.name + "."
	s.methods[prefix+"add"] = func(p *Portal, params map[string]any) (any, error) {
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		fields := v.storeFields(in)
		fields["dateCreate"], fields["dateModify"] = now(), now()
		id := tbl().add(fields)
		s.crmEvent(p, e.typeID, "ADD", id)
		return id, nil
	}
	s.methods[prefix+"update"] = func(p *Portal, params map[string]any) (any, error) {
		id, rec, err := tbl().record(params, "id", errCRMBadID, errCRMNotFound)
		if err != nil {
			return nil, err
		}
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		for k, val := range v.storeFields(in) {
			rec[k] = val
		}
		rec["dateModify"] = now()
		s.crmEvent(p, e.typeID, "UPDATE", id)
		return true, nil
	}
	s.methods[prefix+"get"] = func(p *Portal, params map[string]any) (any, error) {
		id, rec, err := tbl().record(params, "id", errCRMBadID, errCRMNotFound)
		if err != nil {
			return nil, err
		}
		return v.render(id, rec), nil
	}
	s.methods[prefix+"delete"] = func(p *Portal, params map[string]any) (any, error) {
		id, _, err := tbl().record(params, "id", errCRMBadID, errCRMNotFound)
		if err != nil {
			return nil, err
		}
		delete(tbl().rows, id)
		s.crmEvent(p, e.typeID, "DELETE", id)
		return true, nil
	}
	s.methods[prefix+"list"] = func(p *Portal, params map[string]any) (any, error) {
		return v.list(tbl(), params, "filter", "order", "select")
	}
}

// crmEvent queues the event of a change: ONCRMDEALADD and its siblings for
// the four types with methods of their own and quotes, ONCRMDYNAMICITEM…
// for invoices and smart processes, which carry ENTITY_TYPE_ID.
func (s *state) crmEvent(p *Portal, typeID int64, change string, id int64) {
	fields := map[string]any{"ID": strconv.FormatInt(id, 10)}
	name := ""
	for _, e := range crmEntities {
		if e.typeID == typeID {
			name = "ONCRM" + e.event + change
		}
	}
	if typeID == 7 {
		name = "ONCRMQUOTE" + change
	}
	if name == "" {
		name = "ONCRMDYNAMICITEM" + change
		fields["ENTITY_TYPE_ID"] = strconv.FormatInt(typeID, 10)
	}
	s.queueEvent(p, name, map[string]any{"FIELDS": fields})
}

// seedCRM loads the leads, deals, contacts and companies of the get and
// list examples, then fills the links none of them answers (see WithState).
func (s *state) seedCRM(docs map[string]string) {
	getExample := map[int64]map[string]any{}
	for _, e := range crmEntities {
		t := newTable()
		s.crm[e.typeID] = t
		rows := documentedRows(docs, "crm."+e.name+".list", "")
		got := documentedRows(docs, "crm."+e.name+".get", "")
		if len(got) == 1 {
			getExample[e.typeID] = got[0]
		}
		for _, r := range append(rows, got...) {
			id, ok := toInt(jsonNum(r["ID"]))
			if !ok {
				continue
			}
			t.put(id, crmEntityView.storeFields(r))
		}
	}
	// Follow the links until every one is answered: a copy of a get
	// example may name further records (a contact's company).
	for changed := true; changed; {
		changed = false
		for _, typeID := range []int64{1, 2, 3, 4} {
			t := s.crm[typeID]
			for _, id := range t.sortedIDs() {
				for _, l := range crmLinks {
					target, ok := toInt(jsonNum(t.rows[id][l.field]))
					ex, hasExample := getExample[l.typeID]
					if !ok || target <= 0 || !hasExample {
						continue
					}
					if _, exists := s.crm[l.typeID].rows[target]; exists {
						continue
					}
					s.crm[l.typeID].put(target, crmEntityView.storeFields(copyMap(ex)))
					changed = true
				}
			}
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if l, ok := v.([]any); ok {
			v = slices.Clone(l)
		}
		out[k] = v
	}
	return out
}
