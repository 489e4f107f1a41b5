package b24test

import (
	"cmp"
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WithState makes the portal keep records, as a portal does, for the
// entity families a first program touches: CRM items (crm.item.* by
// entityTypeId, and crm.deal.*, crm.lead.*, crm.contact.*, crm.company.*
// on the same records), tasks (tasks.task.*), users (user.add, user.update,
// user.get, user.search, user.current) and departments (department.*).
//
//   - add stores a record under the next ID and answers as the method's page
//     shows (the new ID, or the record for crm.item.add and tasks.task.add);
//   - update merges the fields sent into the record, delete removes it;
//   - get answers the record, and a missing ID is answered with the error
//     the method's page documents: 400 NOT_FOUND "Item not found" for
//     crm.item.*, 400 with an empty code and "Not found" for crm.deal.* and
//     its siblings (errors.Is(err, b24.ErrNotFound) holds for both), 400
//     ERROR_CORE "Department not found" for department.update and .delete;
//     tasks.task.* answers a missing task as the portal answers a task the
//     user cannot reach, 400 code 0 "Action on the task is not allowed";
//     user.get and department.get are lists and answer [] then;
//   - list applies filter with the REST 2 operators (none or =, !, >, >=,
//     <, <=, %, =%, !%, @, !@; see [Portal.ServeList]), select (the ID always
//     comes along; "*" and "UF_*" as on the portal), order on any field, and
//     pages by start/next/total, start=-1 answering one page without a total.
//
// The records start as the examples the docs show (with a tree's
// documented answers, see [WithDocumentedAnswers]): the deal of crm.deal.get
// (ID 410), the deals of crm.deal.list, the leads, contacts and companies of
// their get and list pages, the tasks of tasks.task.get and tasks.task.list,
// the users of user.get and the departments of department.get. A link in
// one of them (a deal's CONTACT_ID) to a record no example shows is filled
// with a copy of its family's get example under that ID, so a program that
// follows the link finds a record, as on a portal.
//
// Handle, Answer and ServeList still take precedence for their methods;
// methods without state are answered by the Fallback, such as the
// documented answers. Of the REST 3.0 calls (/rest/api/), the state
// serves tasks.task.add, .update, .get, .list and .delete, from tasks of
// their own (see state_tasks_v3.go's notes).
func WithState() PortalOption {
	return func(p *Portal) {
		if p.state == nil {
			p.state = newState(documentedSource)
		}
	}
}

// WithEventDeliveries posts an event to url for every change the state
// makes (ONCRMDEALADD, ONCRMDEALUPDATE, ONCRMDEALDELETE and their lead,
// contact, company and smart-process siblings, ONTASKADD, ONTASKUPDATE,
// ONTASKDELETE, ONUSERADD), form-encoded with PHP bracket keys as Bitrix24
// sends them, after the call that made the change has been answered, one at
// a time in the order of the changes. applicationToken is the
// auth[application_token] of every delivery, the token a receiver checks;
// "" means the token of the application [Portal.RegisterApp] registers,
// whose member_id the deliveries then carry too.
// A delivery that fails is not repeated (Bitrix24 does not redeliver
// either); [Portal.Deliveries] counts them. It implies [WithState].
func WithEventDeliveries(url, applicationToken string) PortalOption {
	return func(p *Portal) {
		WithState()(p)
		p.state.events = &eventSink{url: url, token: applicationToken}
	}
}

// WithListener serves the portal on l instead of a new loopback port: b24gen
// fake uses it to serve on the address it was given.
func WithListener(l net.Listener) PortalOption { return func(p *Portal) { p.listener = l } }

// Deliveries reports the event deliveries WithEventDeliveries made so far:
// how many were answered 2xx and how many failed (a status other than 2xx
// or no answer).
func (p *Portal) Deliveries() (ok, failed int) {
	if p.state == nil || p.state.events == nil {
		return 0, 0
	}
	return p.state.events.counts()
}

// LoadDocs replaces the documented answers and parameter schemas this
// package serves (those its generated tree carries) with answers and params,
// in the encodings the generator writes (generator/model.Answers and
// ParamSchemas). It is for a program that carries a spec of its own, such as
// b24gen fake; call it before starting a portal, never while one runs.
func LoadDocs(answers, params map[string]string) {
	documentedSource = answers
	methodParamsSource = params
	schemaMu.Lock()
	clear(schemaCache)
	schemaMu.Unlock()
}

// stateHandler is the state's handler of method, when the state keeps the
// records that method works on.
func (p *Portal) stateHandler(method string, version int) (HandlerFunc, bool) {
	if p.state == nil {
		return nil, false
	}
	methods := p.state.methods
	if version == 3 {
		methods = p.state.methodsV3
	}
	h, ok := methods[strings.ToLower(method)]
	if !ok {
		return nil, false
	}
	return func(params map[string]any) (any, error) {
		p.state.mu.Lock()
		v, err := h(p, params)
		p.state.mu.Unlock()
		p.state.flushEvents(p)
		return v, err
	}, true
}

// state holds the records of the families WithState serves.
type state struct {
	mu      sync.Mutex
	methods map[string]func(*Portal, map[string]any) (any, error) // by lower-case method
	// methodsV3 are the REST 3.0 methods (/rest/api/) it serves.
	methodsV3 map[string]func(*Portal, map[string]any) (any, error)
	crm       map[int64]*table // by entityTypeId
	tasks     *table
	tasksV3   *table // the REST 3.0 tasks (state_tasks_v3.go)
	users     *table
	depts     *table

	events  *eventSink
	pending []map[string]any // events of the current call, sent after it
}

// table is one family's records, each keyed by its ID; the fields are kept
// in the family's stored form (camelCase for CRM items and tasks, the
// upper-case REST 2 names for users and departments).
type table struct {
	rows map[int64]map[string]any
	next int64 // the ID the next add gets
}

func newTable() *table { return &table{rows: map[int64]map[string]any{}, next: 1} }

// record finds the row whose id params[key] names: badID when the id is
// missing or not a positive integer, missing when no row has it (each
// family answers its page's own errors for the two).
func (t *table) record(params map[string]any, key string, badID, missing error) (int64, map[string]any, error) {
	id, err := idParam(params, key, badID)
	if err != nil {
		return 0, nil, err
	}
	rec, ok := t.rows[id]
	if !ok {
		return 0, nil, missing
	}
	return id, rec, nil
}

func (t *table) put(id int64, fields map[string]any) {
	t.rows[id] = fields
	t.next = max(t.next, id+1)
}

// add stores fields under a new ID and returns it.
func (t *table) add(fields map[string]any) int64 {
	id := t.next
	t.put(id, fields)
	return id
}

// sortedIDs returns the IDs in ascending order.
func (t *table) sortedIDs() []int64 { return slices.Sorted(maps.Keys(t.rows)) }

func newState(docs map[string]string) *state {
	s := &state{
		methods:   map[string]func(*Portal, map[string]any) (any, error){},
		methodsV3: map[string]func(*Portal, map[string]any) (any, error){},
		crm:       map[int64]*table{},
		tasks:     newTable(),
		tasksV3:   newTable(),
		users:     newTable(),
		depts:     newTable(),
	}
	s.crmMethods()
	s.taskMethods()
	s.taskV3Methods()
	s.userMethods()
	s.departmentMethods()
	s.seed(docs)
	return s
}

// seed loads the records the documented examples show.
func (s *state) seed(docs map[string]string) {
	s.seedCRM(docs)
	s.seedTasksV3(docs)
	for _, r := range append(documentedRows(docs, "tasks.task.list", "tasks"), documentedRows(docs, "tasks.task.get", "task")...) {
		if id, ok := toInt(jsonNum(r["id"])); ok {
			delete(r, "id")
			s.tasks.put(id, r)
		}
	}
	for _, r := range documentedRows(docs, "user.get", "") {
		if id, ok := toInt(jsonNum(r["ID"])); ok {
			delete(r, "ID")
			s.users.put(id, r)
		}
	}
	for _, r := range documentedRows(docs, "department.get", "") {
		if id, ok := toInt(jsonNum(r["ID"])); ok {
			delete(r, "ID")
			s.depts.put(id, r)
		}
	}
}

// documentedRows returns the records of a documented answer: the result
// itself, or the value under result[key], as one object or a list of them.
// Each row is decoded afresh, so callers may keep and change it.
func documentedRows(docs map[string]string, method, key string) []map[string]any {
	raw, ok := docs[method]
	if !ok {
		return nil
	}
	var a documentedAnswer
	if json.Unmarshal([]byte(raw), &a) != nil {
		return nil
	}
	v := a.Result
	if key != "" {
		var wrap map[string]json.RawMessage
		if json.Unmarshal(v, &wrap) != nil {
			return nil
		}
		v = wrap[key]
	}
	var one map[string]any
	if decodeNumbers(v, &one) == nil && one != nil {
		return []map[string]any{one}
	}
	var many []map[string]any
	if decodeNumbers(v, &many) == nil {
		return many
	}
	return nil
}

// view says how a family's records go over the wire.
type view struct {
	idKey  string               // "ID" or "id"
	idText bool                 // the ID is sent as text ("410"), as REST 2 CRM and tasks do
	outKey func(string) string  // stored key → wire key (nil: as stored)
	inKey  func(string) string  // wire key (fields, filter, order, select) → stored key
	extra  func(map[string]any) // adds fields every answer carries (entityTypeId)
}

// render returns the wire form of one record.
func (v view) render(id int64, fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields)+2)
	for k, val := range fields {
		if v.outKey != nil {
			k = v.outKey(k)
		}
		out[k] = val
	}
	if v.idText {
		out[v.idKey] = strconv.FormatInt(id, 10)
	} else {
		out[v.idKey] = id
	}
	if v.extra != nil {
		v.extra(out)
	}
	return out
}

// storeFields turns the fields a write sent into the stored form. The ID
// is never taken from them.
func (v view) storeFields(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, val := range in {
		if v.inKey != nil {
			k = v.inKey(k)
		}
		if strings.EqualFold(k, "id") {
			continue
		}
		out[k] = val
	}
	return out
}

// list answers a list call from t: filter, order, select and paging as the
// portal applies them. The rows are matched in their wire form, so filter
// keys are the method's own names.
func (v view) list(t *table, params map[string]any, filterKey, orderKey, selectKey string) (Result, error) {
	start := int64(0)
	if _, present := lookupParam(params, "start"); present {
		sv, _ := lookupParam(params, "start")
		n, ok := toInt(sv)
		if !ok {
			return Result{}, Errorf(400, "INVALID_ARG_VALUE", "start must be an integer")
		}
		start = n
	}
	filter := v.wireKeys(mapParam(params, filterKey))
	f, ok := parseFilter(filter, v.idKey)
	var rows []map[string]any
	if ok {
		for _, id := range t.sortedIDs() {
			if id < f.min || id > f.max {
				continue
			}
			r := v.render(id, t.rows[id])
			if f.match(r, id) {
				rows = append(rows, r)
			}
		}
	}
	v.sortRows(rows, v.wireKeys(mapParam(params, orderKey)))
	from, to, res := pageOf(len(rows), start, documentedPageSize)
	page := make([]map[string]any, 0, max(to-from, 0))
	sel := v.selection(params[selectKey])
	for _, r := range rows[from:to] {
		page = append(page, sel.apply(r, v.idKey))
	}
	res.Value = page
	return res, nil
}

// wireKeys rewrites the field names of a filter or an order the way the
// method's caller may spell them (tasks take TITLE for title) into the
// wire form the rows are matched in, keeping the operator prefix.
func (v view) wireKeys(m map[string]any) map[string]any {
	if v.inKey == nil || m == nil {
		return m
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		op, field := splitOp(k)
		if !strings.HasPrefix(k, op) { // splitOp's default "=" is not in the key
			op = ""
		}
		w := v.inKey(field)
		if v.outKey != nil {
			w = v.outKey(w)
		}
		if strings.EqualFold(w, v.idKey) {
			w = v.idKey
		}
		out[op+w] = val
	}
	return out
}

// sortRows orders rows by the order parameter (field → ASC|DESC), the ID
// ascending by default and as the last key.
func (v view) sortRows(rows []map[string]any, order map[string]any) {
	keys := slices.Sorted(maps.Keys(order))
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		for _, k := range keys {
			x, _ := lookupParam(a, k)
			y, _ := lookupParam(b, k)
			c := compareValues(scalarText(jsonNum(x)), scalarText(jsonNum(y)))
			if strings.EqualFold(scalarText(order[k]), "DESC") {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		x, _ := toInt(jsonNum(a[v.idKey]))
		y, _ := toInt(jsonNum(b[v.idKey]))
		return cmp.Compare(x, y)
	})
}

// selection is a parsed select parameter; empty means every field.
type selection struct{ names []string }

func (v view) selection(raw any) selection {
	var s selection
	for _, n := range stringList(raw) {
		if v.inKey != nil {
			n = v.inKey(n)
			if v.outKey != nil {
				n = v.outKey(n)
			}
		}
		s.names = append(s.names, n)
	}
	return s
}

// apply keeps the selected fields of r, and its ID. "*" keeps every
// documented field and "UF_*" every user field, as on the portal; a
// select of "*" alone keeps everything.
func (s selection) apply(r map[string]any, idKey string) map[string]any {
	if len(s.names) == 0 || slices.Contains(s.names, "*") && !slices.ContainsFunc(s.names, isUserFieldName) {
		return r
	}
	out := map[string]any{idKey: r[idKey]}
	for k, val := range r {
		for _, n := range s.names {
			switch {
			case strings.EqualFold(k, n),
				n == "*" && !isUserFieldName(k),
				strings.EqualFold(n, "UF_*") && isUserFieldName(k):
				out[k] = val
			}
		}
	}
	return out
}

// isUserFieldName says whether a field name is a user field's
// (UF_CRM_1, ufCrm_1Source) or the UF_* pattern itself.
func isUserFieldName(k string) bool {
	return len(k) > 2 && strings.EqualFold(k[:2], "uf") && (k[2] == '_' || k[2] >= 'A' && k[2] <= 'Z')
}

// stringList reads a list parameter sent as a JSON array, a PHP-style map
// (select[0]=id), or one string.
func stringList(v any) []string {
	switch t := v.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			out = append(out, scalarText(x))
		}
		return out
	case map[string]any:
		keys := slices.SortedFunc(maps.Keys(t), func(a, b string) int {
			x, ex := strconv.Atoi(a)
			y, ey := strconv.Atoi(b)
			if ex == nil && ey == nil {
				return cmp.Compare(x, y)
			}
			return strings.Compare(a, b)
		})
		out := make([]string, 0, len(t))
		for _, k := range keys {
			out = append(out, scalarText(t[k]))
		}
		return out
	case nil:
		return nil
	}
	if s := scalarText(v); s != "" {
		return []string{s}
	}
	return nil
}

// mapParam reads an object parameter, its name matched case-insensitively
// (user.get takes FILTER or filter).
func mapParam(params map[string]any, key string) map[string]any {
	if key == "" {
		return nil
	}
	v, _ := lookupParam(params, key)
	m, _ := v.(map[string]any)
	return m
}

// idParam reads the record's ID from params[key]; a missing or malformed ID
// is the error the method's page gives for it.
func idParam(params map[string]any, key string, bad error) (int64, error) {
	v, ok := lookupParam(params, key)
	if !ok {
		return 0, bad
	}
	id, ok := toInt(v)
	if !ok || id <= 0 {
		return 0, bad
	}
	return id, nil
}

// snakeToCamel turns a REST 2 field name into the camelCase of crm.item and
// tasks: CURRENCY_ID → currencyId, UF_CRM_1_SOURCE → ufCrm_1Source. Names
// that are not all upper case are taken as already camelCase.
func snakeToCamel(k string) string {
	if strings.ToUpper(k) != k {
		return k
	}
	var b strings.Builder
	for i, part := range strings.Split(strings.ToLower(k), "_") {
		switch {
		case part == "":
			b.WriteByte('_')
		case i == 0:
			b.WriteString(part)
		case part[0] >= '0' && part[0] <= '9':
			b.WriteString("_" + part)
		default:
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// camelToSnake is the inverse for the REST 2 names of crm.deal.* and its
// siblings: currencyId → CURRENCY_ID, ufCrm_1Source → UF_CRM_1_SOURCE.
func camelToSnake(k string) string {
	var b strings.Builder
	for i, r := range k {
		if r >= 'A' && r <= 'Z' && i > 0 && k[i-1] != '_' {
			b.WriteByte('_')
		}
		if r >= '0' && r <= '9' && i > 0 && k[i-1] != '_' && !(k[i-1] >= '0' && k[i-1] <= '9') {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// now is the time the state stamps on records, in the portal's form.
func now() string { return time.Now().Format(time.RFC3339) }

// errNotAllowed is how the tasks methods answer a task that is missing or
// out of the user's reach (tasks.task.update's page: code 0).
var errNotAllowed = Errorf(400, "0", "Action on the task is not allowed (internal error)")

// mustObject refuses a fields parameter that is not an object, as the
// crm.deal.* pages document ("Parameter 'fields' must be array").
func mustObject(params map[string]any, key string) (map[string]any, error) {
	v, ok := lookupParam(params, key)
	if !ok {
		return map[string]any{}, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, Errorf(400, "", "Parameter '%s' must be array", key)
	}
	return m, nil
}
