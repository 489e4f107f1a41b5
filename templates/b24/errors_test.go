package b24

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The description rules, on texts taken from the docs' error tables and
// examples (spec/bitrix24.json errors[].message with an empty code, and the
// corpus's {"error":"","error_description":…} blocks).
func TestDescriptionCode(t *testing.T) {
	tests := map[string]string{
		"Not found":                             "NOT_FOUND",
		"Not found.":                            "NOT_FOUND",
		"  not FOUND  ":                         "NOT_FOUND",
		"The Preset with ID '347' is not found": "NOT_FOUND",
		"User not found":                        "NOT_FOUND",
		"Recurring deal is not found.":          "NOT_FOUND",
		"productProperty does not exist.":       "NOT_FOUND",
		"Basket item (position) not found":      "NOT_FOUND",
		"Access denied":                         "ACCESS_DENIED",
		"Access denied.":                        "ACCESS_DENIED",
		"[Contact #2647] You do not have permission to view this item":                   "ACCESS_DENIED",
		"You do not have permissions to modify templates":                                "ACCESS_DENIED",
		"User has no permissions to delete group":                                        "ACCESS_DENIED",
		"The user does not have \"read\" access permission for the deal":                 "ACCESS_DENIED",
		"The current method required more scopes. (crm)":                                 "insufficient_scope",
		"ID is not defined or invalid.":                                                  "ERROR_ARGUMENT",
		"Parameter 'fields' must be array.":                                              "ERROR_ARGUMENT",
		"The parameter ownerEntityID is invalid or not defined.":                         "ERROR_ARGUMENT",
		"The 'USER_TYPE_ID' field is not found.":                                         "ERROR_ARGUMENT",
		`The required parameter "type" for the method "calendar.section.get" is not set`: "ERROR_ARGUMENT",
		"Wrong group ID": "ERROR_ARGUMENT",
		// No sentinel: a missing module is neither a missing record nor a bad argument.
		"Module documentgenerator is not installed":                              "",
		`"Currencies" module not found! Please install the "Currencies" module.`: "",
		"Deal already has recurring settings.":                                   "",
		"":                                                                       "",
	}
	for in, want := range tests {
		if got := DescriptionCode(in); got != want {
			t.Errorf("DescriptionCode(%q) = %q, want %q", in, got, want)
		}
	}
	e := &APIError{Description: "Not found"}
	if !errors.Is(e, ErrNotFound) || errors.Is(e, ErrAccessDenied) || errors.Is(&APIError{}, ErrNotFound) {
		t.Error("errors.Is by description")
	}
	if (&APIError{Code: "ERROR_CORE", Description: "Not found"}).Is(ErrNotFound) {
		t.Error("a real code must win over the description")
	}
}

// The committed spec's error tables: every row with an empty code whose
// message is "Not found" or "Access denied" maps to its sentinel; the counts
// are logged as the evidence behind the rules.
func TestDescriptionCodeOnSpec(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "spec", "bitrix24.json"))
	if err != nil {
		t.Skipf("spec not found: %v", err)
	}
	var spec struct {
		Methods []struct {
			Name   string `json:"name"`
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	rows, mapped := 0, map[string]int{}
	for _, m := range spec.Methods {
		for _, e := range m.Errors {
			if e.Code != "" {
				continue
			}
			rows++
			code := DescriptionCode(e.Message)
			mapped[code]++
			switch normalizeDescription(e.Message) {
			case "not found":
				if code != "NOT_FOUND" {
					t.Errorf("%s: %q → %q", m.Name, e.Message, code)
				}
			case "access denied":
				if code != "ACCESS_DENIED" {
					t.Errorf("%s: %q → %q", m.Name, e.Message, code)
				}
			}
		}
	}
	if rows < 200 {
		t.Errorf("only %d empty-code rows in the spec", rows)
	}
	t.Logf("%d error-table rows with an empty code: %v (\"\" = no sentinel)", rows, mapped)
}
