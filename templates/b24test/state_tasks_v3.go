package b24test

import (
	"maps"
	"strings"
)

// The REST 3.0 tasks (tasks.task.add, .update, .get, .list and .delete
// under /rest/api/), kept apart from the REST 2 ones: the two APIs name a
// task's fields differently (creatorId against createdBy) and shape their
// answers differently, so each keeps its records in its own form.
//
//   - add stores fields under the next id and answers {"item": task};
//   - update merges fields into the task and answers {"result": true};
//   - get answers {"item": task} with select applied, dotted names
//     ("responsible.name") selecting fields of the related objects;
//   - list filters, orders, selects and pages as [Portal.ServeListV3] says;
//   - delete removes the task and answers {"result": true}.
//
// A missing task is answered as the pages document: get with 400
// ENTITYNOTFOUNDEXCEPTION, update and delete with 400
// ACCESSDENIEDEXCEPTION. The records start as the task of tasks.task.get's
// page.

var (
	errTaskV3NoID     = Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "Add id to the request body")
	errTaskV3NoFields = Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "Add fields to the request body")
	errTaskV3Denied   = Errorf(400, v3Exception+"ACCESSDENIEDEXCEPTION", "Access denied")
)

func errTaskV3NotFound(id int64) error {
	return Errorf(400, v3Exception+"ENTITYNOTFOUNDEXCEPTION", "Record with ID = `%d` not found", id)
}

func (s *state) taskV3Methods() {
	t := s.tasksV3
	s.methodsV3["tasks.task.add"] = func(p *Portal, params map[string]any) (any, error) {
		in, ok := params["fields"].(map[string]any)
		if !ok {
			return nil, errTaskV3NoFields
		}
		for _, k := range []string{"title", "creatorId", "responsibleId"} {
			if _, set := in[k]; !set {
				return nil, Errorf(400, v3Exception+"VALIDATION_REQUESTVALIDATIONEXCEPTION", "Add %s to the request body", k)
			}
		}
		row := map[string]any{"status": "pending", "priority": "average", "created": now(), "changed": now()}
		maps.Copy(row, in)
		delete(row, "id")
		id := t.add(row)
		return map[string]any{"item": taskV3Row(id, row)}, nil
	}
	s.methodsV3["tasks.task.update"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := idParam(params, "id", errTaskV3NoID)
		if err != nil {
			return nil, err
		}
		row, ok := t.rows[id]
		if !ok {
			return nil, errTaskV3Denied
		}
		in, ok := params["fields"].(map[string]any)
		if !ok {
			return nil, errTaskV3NoFields
		}
		maps.Copy(row, in)
		delete(row, "id")
		row["changed"] = now()
		return map[string]any{"result": true}, nil
	}
	s.methodsV3["tasks.task.get"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := idParam(params, "id", errTaskV3NoID)
		if err != nil {
			return nil, err
		}
		row, ok := t.rows[id]
		if !ok {
			return nil, errTaskV3NotFound(id)
		}
		sel, _ := params["select"].([]any)
		return map[string]any{"item": selectV3(s.taskV3Related(taskV3Row(id, row)), sel, "id")}, nil
	}
	s.methodsV3["tasks.task.delete"] = func(p *Portal, params map[string]any) (any, error) {
		id, err := idParam(params, "id", errTaskV3NoID)
		if err != nil {
			return nil, err
		}
		if _, ok := t.rows[id]; !ok {
			return nil, errTaskV3Denied
		}
		delete(t.rows, id)
		return map[string]any{"result": true}, nil
	}
	s.methodsV3["tasks.task.list"] = func(p *Portal, params map[string]any) (any, error) {
		rows := make([]map[string]any, 0, len(t.rows))
		for _, id := range t.sortedIDs() {
			rows = append(rows, s.taskV3Related(taskV3Row(id, t.rows[id])))
		}
		return listV3(rows, params, ListOptionsV3{IDField: "id", MaxLimit: 1000})
	}
}

// taskV3Row is a stored task as REST 3.0 answers it: the id a number.
func taskV3Row(id int64, row map[string]any) map[string]any {
	out := maps.Clone(row)
	out["id"] = id
	return out
}

// taskV3Related fills the related users a task names by id (creatorId →
// creator, responsibleId → responsible), from the state's users, as the
// portal does for a select of "responsible.name". A user the state does
// not have is left out.
func (s *state) taskV3Related(row map[string]any) map[string]any {
	for idKey, objKey := range map[string]string{"creatorId": "creator", "responsibleId": "responsible"} {
		id, ok := toInt(row[idKey])
		if _, has := row[objKey]; has || !ok {
			continue
		}
		u, ok := s.users.rows[id]
		if !ok {
			continue
		}
		name := strings.TrimSpace(scalarText(u["NAME"]) + " " + scalarText(u["LAST_NAME"]))
		row[objKey] = map[string]any{"id": id, "name": name, "email": u["EMAIL"]}
	}
	return row
}

// seedTasksV3 loads the task tasks.task.get's REST 3.0 page shows.
func (s *state) seedTasksV3(docs map[string]string) {
	for _, r := range documentedRows(docs, "tasks.task.get@3", "item") {
		if id, ok := toInt(jsonNum(r["id"])); ok {
			delete(r, "id")
			s.tasksV3.put(id, r)
		}
	}
}
