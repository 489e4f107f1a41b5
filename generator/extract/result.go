package extract

import (
	"errors"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// responseExamples finds the success example (the first JSON object with
// "result" from the code examples on) and the error example after it. Every
// response example on the page is counted and parsed, not only the first.
func (pc *pageCtx) responseExamples(from int) (success, errStart int) {
	success, errStart = -1, len(pc.blocks)
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bCode {
			continue
		}
		hasResult := strings.Contains(b.Raw, `"result"`)
		if !hasResult && (success < 0 || errStart < len(pc.blocks) || !strings.Contains(b.Raw, `"error"`)) {
			continue
		}
		e := pc.example(i)
		if e == nil {
			continue
		}
		if e.root == nil {
			if hasResult {
				pc.stats.ResponseExamples++
				line := b.Line
				var ee *exampleError
				if errors.As(e.err, &ee) {
					line += 1 + ee.Line // the example starts on the line after the fence
				}
				pc.problem(line, "bad-json", "response example does not parse, even without comments, ellipses and trailing commas: %v", e.err)
				if success < 0 {
					success = i
				}
			}
			continue
		}
		if e.root.get("result") != nil {
			pc.stats.ResponseExamples++
			pc.stats.ExamplesParsed++
			if success < 0 {
				success = i
			}
			continue
		}
		if success >= 0 && errStart == len(pc.blocks) && e.root.get("error") != nil {
			errStart = i
		}
	}
	if success < 0 {
		// Some pages show the response without its envelope
		// ({"extras": [...], "total": 1}): take the first JSON object
		// after the examples that is not an error.
		for i := from; i < len(pc.blocks); i++ {
			b := pc.blocks[i]
			if b.Kind != bCode || b.Depth > 0 || !strings.HasPrefix(strings.TrimSpace(b.Raw), "{") {
				continue
			}
			if e := pc.example(i); e != nil && e.root != nil && e.root.Kind == 'o' && e.root.get("error") == nil && e.root.get("event") == nil {
				pc.stats.ResponseExamples++
				pc.stats.ExamplesParsed++
				return i, errStart
			}
		}
	}
	return success, errStart
}

// unwrapped is the example's "result", or, for an example shown without the
// envelope, the example without its envelope keys.
func unwrapped(root *jnode) *jnode {
	if r := root.get("result"); r != nil {
		return r
	}
	if root.Kind != 'o' {
		return root
	}
	n := &jnode{Kind: 'o'}
	for i, k := range root.Keys {
		if !envelopeKeys[k] {
			n.Keys = append(n.Keys, k)
			n.Vals = append(n.Vals, root.Vals[i])
		}
	}
	return n
}

// envelopeKeys are the keys of the response envelope around "result".
var envelopeKeys = map[string]bool{"result": true, "time": true, "total": true, "next": true, "error": true, "error_description": true}

func (pc *pageCtx) readResult(examples, success, errStart int) *spec.Result {
	var ex *jsonExample
	var rows []spec.Param
	// Without a response example (the older crm *.fields pages), the
	// returned-data table is the first parameters table after the code
	// examples that no code follows: a table with code after it is the
	// parameters of a second call form (imbot.app.register's IFRAME).
	from := examples
	if success >= 0 {
		ex = pc.example(success)
		from = success + 1
	}
	for i := from; i >= 0 && i < errStart; i++ {
		if pc.blocks[i].Kind == bTable && pc.table(i).Kind == tParams && !pc.isSubTable(i) {
			if ex == nil && pc.codeAfter(i) {
				break
			}
			rows = pc.build(pc.rowsOf(i), map[int]bool{})
			break
		}
	}
	if ex == nil && !describesMembers(rows) {
		return nil
	}
	r := &spec.Result{Shape: "unknown"}
	var exResult *jnode
	if ex != nil && ex.root != nil {
		r.Example = ex.raw
		exResult = unwrapped(ex.root)
		if ex.root.get("total") != nil || ex.root.get("next") != nil {
			r.Paginated = true
		}
	}
	var resultRow *spec.Param
	var extra []spec.Param
	for i := range rows {
		switch rows[i].Name {
		case "result":
			resultRow = &rows[i]
		case "total", "next":
			r.Paginated = true
		default:
			if !envelopeKeys[rows[i].Name] {
				extra = append(extra, rows[i])
			}
		}
	}
	if resultRow != nil {
		setShape(r, resultRow.Kind, resultRow.Elem)
		r.Fields = resultRow.Fields
		if exResult != nil && exResult.Kind == 'a' && resultRow.Kind == spec.KindObject && len(resultRow.Fields) == 0 {
			// A bare `object` over an example that is a list (PHP calls
			// lists arrays and arrays objects): the example decides.
			k, e := kindOfJSON(exResult)
			r.Shape, r.Kind = "", ""
			setShape(r, k, e)
		}
	}
	if len(r.Fields) == 0 && len(extra) > 0 && (resultRow == nil || resultRow.Kind == spec.KindObject || resultRow.Kind == spec.KindAny) {
		// Rows listed beside "result" are its keys ("item" under result).
		r.Fields = extra
		if r.Shape == "unknown" {
			r.Shape = "object"
		}
	}
	if len(r.Fields) == 0 && len(extra) > 0 && resultRow != nil && resultRow.Kind == spec.KindArray &&
		(resultRow.Elem == "" || resultRow.Elem == spec.KindObject || resultRow.Elem == spec.KindAny) &&
		!describesFields(extra, exResult) {
		// A flat table: "result `array` | Array with file fields" and the
		// file's fields listed after it as its siblings. They are the
		// members of what result holds: the rows of a list, or one object
		// where the example shows one (PHP calls an object an array).
		r.Fields = extra
		r.Shape, r.Kind = "array", spec.KindObject
		if exResult != nil && exResult.Kind == 'o' && fieldsDescribe(extra, exResult) {
			r.Shape, r.Kind = "object", ""
		}
	}
	if exResult != nil {
		if r.Shape == "unknown" {
			k, e := kindOfJSON(exResult)
			setShape(r, k, e)
		}
		// A single key holding the object or the rows: the wrapper
		// ("task" for tasks.task.get, "items" for crm.item.list).
		if exResult.Kind == 'o' && len(exResult.Keys) == 1 && (exResult.Vals[0].Kind == 'o' || exResult.Vals[0].Kind == 'a') && !isDigits(exResult.Keys[0]) {
			key := exResult.Keys[0]
			inner := exResult.Vals[0]
			// One array row over one array key is the same member even
			// where the names differ (catalog.measure.list documents
			// "measure", its example answers "measures"): the example's
			// key is what arrives.
			sameList := len(r.Fields) == 1 && r.Fields[0].Name != key && r.Fields[0].Kind == spec.KindArray && inner.Kind == 'a'
			if sameList {
				pc.problem(r.Fields[0].Line, "key-conflict", "result row %q is a list, the example's only key is %q; using %q", r.Fields[0].Name, key, key)
			}
			if len(r.Fields) == 0 || len(r.Fields) == 1 && r.Fields[0].Name == key || sameList || fieldsDescribe(r.Fields, inner) {
				r.Wrapper = key
				var wrapped *spec.Param
				if len(r.Fields) == 1 {
					wrapped = &r.Fields[0]
				}
				k, e := kindOfJSON(inner)
				r.Shape, r.Kind = "", ""
				setShape(r, k, e)
				if wrapped != nil {
					r.Fields = wrapped.Fields
					r.Link = wrapped.Link
				} else if !fieldsDescribe(r.Fields, inner) {
					r.Fields = nil
				}
				exResult = inner
			}
		}
		if len(r.Fields) == 0 && (r.Shape == "object" || r.Shape == "array" && r.Kind == spec.KindObject) {
			r.Fields = fieldsFromJSON(exResult, 0)
		}
		fillKinds(r.Fields, exResult, 0)
	}
	return r
}

// fieldsDescribe reports whether most documented fields are keys of the
// example object (or of its first row): the table describes what sits under
// the wrapper key, without a row for the wrapper itself.
func fieldsDescribe(fs []spec.Param, n *jnode) bool {
	if n.Kind == 'a' && len(n.Vals) > 0 {
		n = n.Vals[0]
	}
	if n.Kind != 'o' || len(fs) == 0 {
		return false
	}
	hits := 0
	for _, f := range fs {
		if n.get(f.Name) != nil {
			hits++
		}
	}
	return hits*2 > len(fs)
}

func setShape(r *spec.Result, k, elem spec.Kind) {
	switch k {
	case spec.KindObject:
		r.Shape = "object"
	case spec.KindArray:
		r.Shape = "array"
		r.Kind = elem
	case spec.KindAny, "":
		r.Shape = "unknown"
	default:
		r.Shape = "scalar"
		r.Kind = k
	}
}

// isCodeToken reports whether an unquoted cell is an error code itself
// ("ERROR_CORE", "100") rather than prose ("Empty value").
func isCodeToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t") && strings.ToUpper(s) == s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// describesFields reports whether the rows are the keys of a fields
// description (disk.file.getFields: "ID" is an integer on the page and
// {"TYPE": "integer", "USE_IN_FILTER": true} in the example): most keys the
// example shows hold an object where the row gives a scalar.
func describesFields(fs []spec.Param, n *jnode) bool {
	if n == nil || n.Kind != 'o' {
		return false
	}
	hits, objs := 0, 0
	for _, f := range fs {
		v := n.get(f.Name)
		if v == nil {
			continue
		}
		hits++
		if v.Kind == 'o' && f.Kind != spec.KindObject && f.Kind != spec.KindArray && f.Kind != spec.KindAny {
			objs++
		}
	}
	return hits > 0 && objs*2 > hits
}

// codeAfter reports whether a code block follows block i.
func (pc *pageCtx) codeAfter(i int) bool {
	for _, b := range pc.blocks[i+1:] {
		if b.Kind == bCode {
			return true
		}
	}
	return false
}

// describesMembers reports whether rows name anything beyond the envelope
// and a bare result: without an example, a lone "result" row says nothing
// of the shape.
func describesMembers(rows []spec.Param) bool {
	for _, r := range rows {
		if !envelopeKeys[r.Name] || r.Name == "result" && len(r.Fields) > 0 {
			return true
		}
	}
	return false
}
