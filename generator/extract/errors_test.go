package extract

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestErrorTableLayouts reads the error tables of every layout the corpus
// uses (fixtures/error-tables.md) by their header's columns: the code,
// status and message each come from their own column, a status is never a
// code, and an empty code ("Empty value", "—", a Code column of statuses)
// keeps its message.
func TestErrorTableLayouts(t *testing.T) {
	page := "api-reference/fixtures/error-tables.md"
	src, err := os.ReadFile(filepath.Join(fixtureRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Page(page, src, fixtureIncludes)
	if len(res.Methods) != 1 {
		t.Fatalf("methods = %d, want 1", len(res.Methods))
	}
	got := map[string]spec.ErrorDoc{}
	for _, e := range res.Methods[0].Errors {
		got[e.Code+"|"+e.Message] = e
	}
	for _, want := range []spec.ErrorDoc{
		{Code: "NOT_FOUND", Message: "Item not found", Description: "An invalid id was passed", Status: 400},
		{Code: "100", Message: "Expected iterable value", Description: "A multiple field got a scalar", Status: 400},
		{Code: "ACCESS_DENIED", Message: "Access denied", Description: "No permission to read the item", Status: 400},
		{Code: "", Message: `The required parameter "type" is not set`, Description: "type is missing"},
		{Code: "", Message: "Section ID is not set", Description: "id is missing"},
		{Code: "lower_case_code", Message: "Lower case codes are codes", Description: "Some modules use them"},
		{Code: "WRONG_DATE", Message: "Date is wrong", Status: 422},
		{Code: "", Message: "Access denied.", Description: "No permission to delete", Status: 403},
		{Code: "QUERY_LIMIT_EXCEEDED", Message: "Too many requests", Description: "The request intensity limit has been exceeded", Status: 503},
	} {
		if e, ok := got[want.Code+"|"+want.Message]; !ok || e != want {
			t.Errorf("error %q %q: got %+v, want %+v", want.Code, want.Message, e, want)
		}
	}
	for _, e := range res.Methods[0].Errors {
		if errorStatusRe.MatchString(e.Code) {
			t.Errorf("status read as a code: %+v", e)
		}
	}
}
