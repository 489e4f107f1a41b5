package b24test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The documented errors of tasks, users and departments.
var (
	errTaskBadID      = Errorf(400, "0", "wrong task id")
	errTaskNoID       = Errorf(400, "100", "CTaskItem All parameters in the constructor must have real class type (internal error)")
	errDeptNotFound   = Errorf(400, "ERROR_CORE", "Department not found")
	errUserBadID      = Errorf(400, "ERROR_CORE", "access_denied") // user.update's page: an invalid user ID
	errTaskNotAllowed = errNotAllowed
)

// taskView is the wire form of tasks.task.*: camelCase answers, the ID as
// text; fields, filter, order and select may use the upper-case names
// (TITLE, RESPONSIBLE_ID) the pages show.
var taskView = view{idKey: "id", idText: true, inKey: snakeToCamel}

// upperView is the wire form of user.* and department.*: the upper-case
// names as stored, the ID as text.
var upperView = view{idKey: "ID", idText: true}

// taskID reads taskId as the tasks pages answer its faults.
func taskID(params map[string]any) (int64, error) {
	v, ok := lookupParam(params, "taskId")
	if !ok {
		return 0, errTaskNoID
	}
	id, ok := toInt(v)
	if !ok || id <= 0 {
		return 0, errTaskBadID
	}
	return id, nil
}

func (s *state) taskMethods() {
	v := taskView
	s.methods["tasks.task.add"] = func(p *Portal, params map[string]any) (any, error) {
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		fields := v.storeFields(in)
		for k, def := range map[string]any{"status": "2", "createdBy": UserID, "createdDate": now(), "changedDate": now()} {
			if _, set := fields[k]; !set {
				fields[k] = def
			}
		}
		id := s.tasks.add(fields)
		s.queueEvent(p, "ONTASKADD", map[string]any{"FIELDS_AFTER": map[string]any{"ID": strconv.FormatInt(id, 10)}})
		return map[string]any{"task": v.render(id, fields)}, nil
	}
	s.methods["tasks.task.update"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := taskID(params)
		if err != nil {
			return nil, err
		}
		rec, ok := s.tasks.rows[id]
		if !ok {
			return nil, errTaskNotAllowed
		}
		in, err := mustObject(params, "fields")
		if err != nil {
			return nil, err
		}
		for k, val := range v.storeFields(in) {
			rec[k] = val
		}
		rec["changedDate"] = now()
		ref := map[string]any{"ID": strconv.FormatInt(id, 10)}
		s.queueEvent(p, "ONTASKUPDATE", map[string]any{"FIELDS_BEFORE": ref, "FIELDS_AFTER": ref})
		return map[string]any{"task": v.render(id, rec)}, nil
	}
	s.methods["tasks.task.get"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := taskID(params)
		if err != nil {
			return nil, err
		}
		rec, ok := s.tasks.rows[id]
		if !ok {
			return nil, errTaskNotAllowed
		}
		sel := v.selection(params["select"])
		return map[string]any{"task": sel.apply(v.render(id, rec), v.idKey)}, nil
	}
	s.methods["tasks.task.delete"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := taskID(params)
		if err != nil {
			return nil, err
		}
		if _, ok := s.tasks.rows[id]; !ok {
			return nil, errTaskNotAllowed
		}
		delete(s.tasks.rows, id)
		s.queueEvent(p, "ONTASKDELETE", map[string]any{"FIELDS_BEFORE": map[string]any{"ID": strconv.FormatInt(id, 10)}})
		return map[string]any{"task": true}, nil
	}
	s.methods["tasks.task.list"] = func(p *Portal, params map[string]any) (any, error) {
		res, err := v.list(s.tasks, params, "filter", "order", "select")
		if err != nil {
			return nil, err
		}
		res.Value = map[string]any{"tasks": res.Value}
		return res, nil
	}
}

// topLevelFilter is the filter of user.get and department.get: FILTER
// (or filter) when sent, else the parameters that are not paging or order.
func topLevelFilter(params map[string]any) map[string]any {
	if f := mapParam(params, "filter"); f != nil {
		return f
	}
	out := map[string]any{}
	for k, val := range params {
		switch strings.ToLower(k) {
		case "sort", "order", "start", "admin_mode", "auth":
			continue
		}
		out[k] = val
	}
	return out
}

// sortOrder reads user.get's and department.get's sort (a field) and order
// (ASC or DESC) into the order map view.list takes.
func sortOrder(params map[string]any) map[string]any {
	field := Str(params, "sort")
	if field == "" {
		field = Str(params, "SORT")
	}
	if field == "" {
		return nil
	}
	dir := Str(params, "order")
	if dir == "" {
		dir = Str(params, "ORDER")
	}
	return map[string]any{field: dir}
}

// listTopLevel lists t with the filter and order of user.get.
func (s *state) listTopLevel(t *table, params map[string]any) (any, error) {
	q := map[string]any{"filter": topLevelFilter(params), "order": sortOrder(params)}
	if sv, ok := lookupParam(params, "start"); ok {
		q["start"] = sv
	}
	return upperView.list(t, q, "filter", "order", "")
}

func (s *state) userMethods() {
	s.methods["user.add"] = func(p *Portal, params map[string]any) (any, error) {
		fields := upperView.storeFields(params)
		delete(fields, "auth")
		if _, set := fields["ACTIVE"]; !set {
			fields["ACTIVE"] = true
		}
		id := s.users.add(fields)
		s.queueEvent(p, "ONUSERADD", map[string]any{"ID": strconv.FormatInt(id, 10)})
		return id, nil
	}
	s.methods["user.update"] = func(p *Portal, params map[string]any) (any, error) {
		_, rec, err := s.users.record(params, "ID", errUserBadID, errUserBadID)
		if err != nil {
			return nil, err
		}
		for k, val := range upperView.storeFields(params) {
			if k != "auth" {
				rec[k] = val
			}
		}
		return true, nil
	}
	s.methods["user.get"] = func(p *Portal, params map[string]any) (any, error) { return s.listTopLevel(s.users, params) }
	s.methods["user.search"] = s.methods["user.get"]
	s.methods["user.current"] = func(p *Portal, params map[string]any) (any, error) {
		id, _ := strconv.ParseInt(UserID, 10, 64)
		rec, ok := s.users.rows[id]
		if !ok {
			return map[string]any{"ID": UserID}, nil // no seeds: the webhook's user is all the portal knows
		}
		return upperView.render(id, rec), nil
	}
}

func (s *state) departmentMethods() {
	s.methods["department.add"] = func(p *Portal, params map[string]any) (any, error) {
		fields := upperView.storeFields(params)
		delete(fields, "auth")
		return s.depts.add(fields), nil
	}
	s.methods["department.update"] = func(p *Portal, params map[string]any) (any, error) {
		_, rec, err := s.depts.record(params, "ID", errDeptNotFound, errDeptNotFound)
		if err != nil {
			return nil, err
		}
		for k, val := range upperView.storeFields(params) {
			if k != "auth" {
				rec[k] = val
			}
		}
		return true, nil
	}
	s.methods["department.delete"] = func(p *Portal, params map[string]any) (any, error) {
		id, _, err := s.depts.record(params, "ID", errDeptNotFound, errDeptNotFound)
		if err != nil {
			return nil, err
		}
		delete(s.depts.rows, id)
		return true, nil
	}
	s.methods["department.get"] = func(p *Portal, params map[string]any) (any, error) { return s.listTopLevel(s.depts, params) }
}

// eventSink delivers the state's events to one URL, in order.
type eventSink struct {
	url, token string
	memberID   string

	mu      sync.Mutex
	queue   []map[string]any
	running bool
	ok, bad int
}

func (e *eventSink) counts() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ok, e.bad
}

// queueEvent keeps the delivery of a change until the call that made it
// is answered. s.mu is held.
func (s *state) queueEvent(p *Portal, name string, data map[string]any) {
	if s.events == nil {
		return
	}
	if a := p.app(); a != nil && s.events.token == "" {
		// An application's portal: its member_id and application token.
		d := a.Event(name, data)
		d["event_handler_id"] = "1"
		s.pending = append(s.pending, d)
		return
	}
	if s.events.memberID == "" {
		s.events.memberID = randomHex(16)
	}
	s.pending = append(s.pending, map[string]any{
		"event":            name,
		"event_handler_id": "1",
		"data":             data,
		"ts":               strconv.FormatInt(time.Now().Unix(), 10),
		"auth": map[string]any{
			"domain":            strings.TrimPrefix(p.URL(), "http://"),
			"client_endpoint":   p.URL() + "/rest/",
			"server_endpoint":   p.URL() + "/rest/",
			"member_id":         s.events.memberID,
			"application_token": s.events.token,
		},
	})
}

// flushEvents hands the events of the last call to the sink's sender.
func (s *state) flushEvents(p *Portal) {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 || s.events == nil {
		return
	}
	e := s.events
	e.mu.Lock()
	e.queue = append(e.queue, batch...)
	start := !e.running
	e.running = true
	e.mu.Unlock()
	if start {
		go e.send(p)
	}
}

// send posts the queued deliveries one by one and stops when none is left,
// so an idle portal keeps no goroutine.
func (e *eventSink) send(p *Portal) {
	for {
		e.mu.Lock()
		if len(e.queue) == 0 {
			e.running = false
			e.mu.Unlock()
			return
		}
		d := e.queue[0]
		e.queue = e.queue[1:]
		e.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		status, err := p.DeliverURL(ctx, e.url, d)
		cancel()
		e.mu.Lock()
		if err == nil && status >= http.StatusOK && status < 300 {
			e.ok++
		} else {
			e.bad++
		}
		e.mu.Unlock()
	}
}
