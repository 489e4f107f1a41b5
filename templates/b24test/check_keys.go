package b24test

import (
	"fmt"
	"strings"
)

// methodKeysSource holds, for the REST 2 lists whose rows are an entity
// with a fields page, the entity's request keys, comma-separated, keyed as
// methodParamsSource is. The generator fills it (method_params_gen.go); in
// the template it stays empty and no key is checked.
var methodKeysSource map[string]string

// filterOps are the REST 2 filter operator prefixes, longest first.
var filterOps = []string{"!=%", "!%=", "!@", "!%", "!=", "=%", "%=", ">=", "<=", "@", "%", ">", "<", "=", "!"}

// stripOp cuts the operator prefix off a REST 2 filter key.
func stripOp(k string) string {
	for _, op := range filterOps {
		if rest, ok := strings.CutPrefix(k, op); ok {
			return rest
		}
	}
	return k
}

// checkEntityKeys refuses, under strict checks, a filter, select or order
// key the list's entity does not have in that spelling: the portal
// answers such a filter with no rows and no error, so a test must say it.
// Custom fields (UF_…) and the select wildcards ("*", "UF_*") pass.
func checkEntityKeys(probs *[]problem, method string, version int, params map[string]any) {
	src := methodKeysSource[documentedKey(method, version)]
	if src == "" {
		return
	}
	keys := strings.Split(src, ",") // sorted by the generator
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	check := func(param, key string) {
		if key == "" || known[key] || strings.HasPrefix(key, "UF_") || key == "*" {
			return
		}
		hint := ""
		for _, k := range keys {
			if strings.EqualFold(strings.ReplaceAll(k, "_", ""), strings.ReplaceAll(key, "_", "")) {
				hint = fmt.Sprintf(" (the entity spells it %q)", k)
				break
			}
		}
		*probs = append(*probs, problem{field: param + "[" + key + "]", kind: "unknown", code: "INVALID_ARG_VALUE",
			message: fmt.Sprintf("%s key %q is no field of the rows' entity%s; the portal would match no row", param, key, hint)})
	}
	for name, v := range params {
		switch strings.ToLower(name) {
		case "filter":
			if m, ok := v.(map[string]any); ok {
				for k := range m {
					check(name, stripOp(k))
				}
			}
		case "order":
			if m, ok := v.(map[string]any); ok {
				for k := range m {
					check(name, k)
				}
			}
		case "select":
			var items []any
			switch l := v.(type) {
			case []any:
				items = l
			case map[string]any: // a form-encoded list: select[0]=ID
				for _, k := range l {
					items = append(items, k)
				}
			}
			for _, k := range items {
				if s, ok := k.(string); ok {
					check(name, s)
				}
			}
		}
	}
}
