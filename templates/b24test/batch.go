package b24test

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// maxBatch is the portal's limit of commands in one batch.
const maxBatch = 50

// batchRun holds what the commands of one batch produced so far, for the
// $result[...] references of later commands.
type batchRun struct {
	result, errs, total, next, times map[string]any
}

// runBatch executes a batch request the way the portal does: commands in
// order, each "method?query" decoded PHP-style, references to earlier results
// substituted, halt stopping at the first error, more than 50 commands
// refused one by one.
func (p *Portal) runBatch(params map[string]any, order []string) map[string]any {
	br := &batchRun{result: map[string]any{}, errs: map[string]any{}, total: map[string]any{}, next: map[string]any{}, times: map[string]any{}}
	halt := truthy(params["halt"])
	cmds := map[string]string{}
	switch t := params["cmd"].(type) {
	case map[string]any:
		for k, v := range t {
			cmds[k] = scalarText(v)
		}
		if len(order) != len(cmds) { // no usable order was sent
			order = slices.Sorted(maps.Keys(t))
		}
	case []any:
		order = nil
		for i, v := range t {
			k := strconv.Itoa(i)
			cmds[k] = scalarText(v)
			order = append(order, k)
		}
	}
	for i, key := range order {
		if halt && len(br.errs) > 0 {
			break
		}
		if i >= maxBatch {
			br.errs[key] = errorBody(2, &b24.APIError{Code: "ERROR_BATCH_LENGTH_EXCEEDED", Description: "Max batch length exceeded"})
			continue
		}
		p.runCommand(br, key, cmds[key])
	}
	return map[string]any{"result": map[string]any{
		"result":       phpMap(br.result),
		"result_error": phpMap(br.errs),
		"result_total": phpMap(br.total),
		"result_next":  phpMap(br.next),
		"result_time":  phpMap(br.times),
	}}
}

func (p *Portal) runCommand(br *batchRun, key, cmd string) {
	started := time.Now()
	method, query, _ := strings.Cut(cmd, "?")
	method = strings.TrimSuffix(method, ".json")
	call := Call{Method: method, Version: 2, BatchKey: key}
	fail := func(e *b24.APIError) {
		br.errs[key] = errorBody(2, e)
		p.record(call)
	}
	params := map[string]any{}
	if query != "" {
		m, err := b24.DecodeForm(query)
		if err != nil {
			fail(&b24.APIError{Code: "INVALID_REQUEST", Description: err.Error()})
			return
		}
		params = m
	}
	params = br.substitute(params).(map[string]any)
	call.Params = params
	if strings.EqualFold(method, "batch") {
		fail(&b24.APIError{Code: "ERROR_BATCH_METHOD_NOT_ALLOWED", Description: "Method is not allowed for batch usage"})
		return
	}
	if f, ok := p.nextFault(method, Fault.inBatch); ok {
		call.Fault = f.Kind
		code, desc := f.code()
		fail(&b24.APIError{Code: code, Description: desc})
		return
	}
	res, apiErr, ran := p.run(method, 2, params) // batch commands are REST 2
	call.Ran = ran
	if apiErr != nil {
		fail(apiErr)
		return
	}
	p.record(call)
	v, err := genericFast(res.Value)
	if err != nil {
		br.errs[key] = errorBody(2, &b24.APIError{Code: "INTERNAL_SERVER_ERROR", Description: err.Error()})
		return
	}
	br.result[key] = v
	if res.Total != 0 || res.HasNext {
		br.total[key] = res.Total
	}
	if res.HasNext {
		br.next[key] = res.Next
	}
	br.times[key] = p.callTiming(method, started)
}

// refRE matches $result[key][a][b]… and its result_* siblings.
var refRE = regexp.MustCompile(`\$(result|result_error|result_total|result_next|result_time)\[([^\]]+)\]((?:\[[^\]]*\])*)`)

// substitute replaces references in every string of v. A string that is one
// whole reference takes the referenced value itself (object, list or scalar);
// a reference inside longer text is replaced by the value's text. A reference
// to nothing becomes empty, as on the portal.
func (br *batchRun) substitute(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = br.substitute(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = br.substitute(x)
		}
		return t
	case string:
		if !strings.Contains(t, "$result") {
			return t
		}
		if m := refRE.FindStringSubmatch(t); m != nil && m[0] == t {
			val, _ := br.resolve(m)
			if val == nil {
				return ""
			}
			if _, isMap := val.(map[string]any); isMap {
				return val
			}
			if _, isList := val.([]any); isList {
				return val
			}
			return scalarText(val)
		}
		return refRE.ReplaceAllStringFunc(t, func(ref string) string {
			val, _ := br.resolve(refRE.FindStringSubmatch(ref))
			return scalarText(val)
		})
	}
	return v
}

// resolve walks m = [whole, table, key, "[a][b]…"].
func (br *batchRun) resolve(m []string) (any, bool) {
	table := map[string]map[string]any{
		"result": br.result, "result_error": br.errs, "result_total": br.total,
		"result_next": br.next, "result_time": br.times,
	}[m[1]]
	cur, ok := table[m[2]]
	if !ok {
		return nil, false
	}
	path := strings.TrimSuffix(strings.TrimPrefix(m[3], "["), "]")
	if path == "" {
		return cur, true
	}
	for _, seg := range strings.Split(path, "][") {
		switch t := cur.(type) {
		case map[string]any:
			cur, ok = t[seg]
		case []any:
			cur, ok = element(t, seg)
		case []map[string]any: // rows as ServeList keeps them
			cur, ok = element(t, seg)
		default:
			ok = false
		}
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// element returns l[seg] when seg is an index within l.
func element[E any](l []E, seg string) (any, bool) {
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 || i >= len(l) {
		return nil, false
	}
	return l[i], true
}

// phpMap renders an empty map as [] the way PHP's json_encode renders an
// empty array.
func phpMap(m map[string]any) any {
	if len(m) == 0 {
		return []any{}
	}
	return m
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case json.Number:
		return t != "0" && t != ""
	case string:
		s := strings.ToLower(strings.TrimSpace(t))
		return s != "" && s != "0" && s != "false" && s != "n"
	}
	return false
}

// genericFast skips the JSON round trip for values that already have the
// shapes references walk (ServeList's pages), which keeps big batches cheap.
func genericFast(v any) (any, error) {
	switch t := v.(type) {
	case []map[string]any:
		return t, nil
	case map[string]any:
		for _, x := range t {
			switch x.(type) {
			case []map[string]any, string, float64, json.Number, bool, nil:
			default:
				return generic(v)
			}
		}
		return t, nil
	}
	return generic(v)
}
