package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/b24gen/b24gen/spec"
)

func TestParagraphs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"One line.", []string{"One line."}},
		{"First\nline.\n\nSecond.", []string{"First line.", "Second."}},
		{"Values:\n- Y — yes\n- N — no", []string{"Values:", "  - Y — yes\n  - N — no"}},
		{"Order:\n- value_n — one of:\n  - ASC — up\n  - DESC — down\n\nAfter.", []string{"Order:", "  - value_n — one of:\n    - ASC — up\n    - DESC — down", "After."}},
		{"Steps:\n1. open\n2. tick", []string{"Steps:", "  1. open\n  2. tick"}},
		// Godoc has one kind per list: mixed items become bullets.
		{"- a\n  1. sub\n1. b\n- c", []string{"  - a\n    1. sub\n  - 1. b\n  - c"}},
		{"1. a\n- b\n2. c", []string{"  - 1. a\n  - b\n  - 2. c"}},
		{"- a\nthen text", []string{"  - a", "then text"}},
		{"from 1 - 10\n\n-1 means all", []string{"from 1 - 10", "-1 means all"}},
		{"  \n\n", nil},
		{"Format:\n\n\t{\n\t\n\t    a: 1,  \n\t}\n\nwhere:\n- a — x", []string{"Format:", "\t{\n\t\n\t    a: 1,\n\t}", "where:", "  - a — x"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, paragraphs(tt.in)); diff != "" {
			t.Errorf("paragraphs(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFieldDocNotes(t *testing.T) {
	tests := []struct {
		p    spec.Param
		want []string
	}{
		{spec.Param{Description: "The stage", Required: true, Default: "P"}, []string{"The stage. Required. Default: P."}},
		// After a list the notes get a paragraph of their own.
		{spec.Param{Description: "Open to all:\n- Y — yes\n- N — no", Default: "N"}, []string{"Open to all:", "  - Y — yes\n  - N — no", "Default: N."}},
		{spec.Param{Description: "Format:\n\n\t{a: 1}", Required: true}, []string{"Format:", "\t{a: 1}", "Required."}},
		{spec.Param{Required: true, Deprecated: true}, []string{"Required.", "Deprecated: the docs mark this field as deprecated."}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, fieldDoc(tt.p)); diff != "" {
			t.Errorf("fieldDoc(%+v) (-want +got):\n%s", tt.p, diff)
		}
	}
}
