package audit

import (
	"slices"
	"strings"
)

// The compatibility table: which Go classes a documented type token
// accepts. A token outside this vocabulary (a linked type such as `item`,
// `chat`, `select`) is checked for presence only; so is a row without a
// type. A Y/N boolean must be b24.Bool: a Go bool would be sent as
// true/false, which such a field refuses or ignores.
//
//	integer, int, long, user, *.id, crm_company … → int
//	double, float, decimal                           → number
//	number                                           → number or int
//	string, text, crm_status, crm_currency, enum     → string (b24.Bool too when the row lists Y and N)
//	char                                             → string or b24.Bool
//	boolean, bool                                    → bool or b24.Bool; b24.Bool only when the row lists Y and N
//	date, datetime                                   → time
//	timestamp                                        → time or int
//	T[]                                              → slice
//	array                                            → slice, struct or map: PHP's array is a list
//	                                                   or a keyed map, and the pages use it for both
//	                                                   (disk's filter and data, crm's fields)
//	object, lang_map                                 → struct or map
//	crm_multifield                                   → struct, map or a slice of them (the portal sends a list)
//	file                                             → file, string, slice, struct or map
//
// Any typed token refuses a raw Go type (any, json.RawMessage).
var tokenClasses = map[string][]goClass{
	"integer": {gInt}, "int": {gInt}, "long": {gInt}, "bigint": {gInt}, "user": {gInt},
	"crm_company": {gInt}, "crm_contact": {gInt}, "crm_lead": {gInt}, "crm_deal": {gInt}, "crm_quote": {gInt}, "crm_category": {gInt},
	"double": {gNumber}, "float": {gNumber}, "decimal": {gNumber}, "number": {gNumber, gInt},
	"string": {gString}, "text": {gString}, "crm_status": {gString}, "crm_currency": {gString}, "enum": {gString},
	"char":    {gString, gYN},
	"boolean": {gBool, gYN}, "bool": {gBool, gYN},
	"date": {gTime}, "datetime": {gTime}, "timestamp": {gTime, gInt},
	"array":  {gSlice, gStruct, gMap},
	"object": {gStruct, gMap}, "lang_map": {gStruct, gMap}, "crm_multifield": {gStruct, gMap, gSlice},
	"file": {gFile, gString, gSlice, gStruct, gMap},
}

// docAccepts is the Go classes a row's type accepts (nil: presence only)
// and a label naming the documented type.
func docAccepts(r *docRow) ([]goClass, string) {
	tok := r.docType()
	if strings.HasSuffix(tok, "[]") {
		return []goClass{gSlice}, "array"
	}
	if strings.HasSuffix(tok, ".id") {
		return []goClass{gInt}, "integer"
	}
	acc, ok := tokenClasses[tok]
	if !ok {
		return nil, "untyped"
	}
	yn := r.listsYN()
	switch {
	case (tok == "boolean" || tok == "bool") && yn:
		return []goClass{gYN}, "Y/N"
	case acc[0] == gString && yn:
		return []goClass{gString, gYN}, "Y/N"
	}
	return acc, string(acc[0])
}

// typeMatches checks a member's Go type against its row.
func typeMatches(r *docRow, t *goType) (bool, string) {
	acc, label := docAccepts(r)
	if acc == nil {
		return true, ""
	}
	c := t.class
	if c == gOther || slices.Contains(acc, c) {
		return true, ""
	}
	if c == gBool && label == "Y/N" {
		return false, "documented Y/N, Go " + t.name + " sends true/false"
	}
	return false, "documented " + r.docType() + ", Go " + t.name + " (" + string(c) + ")"
}
