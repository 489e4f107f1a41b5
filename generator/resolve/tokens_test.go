package resolve

import (
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestUnionKind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want spec.Kind
	}{
		{"integer | string", spec.KindString},
		{"integer | null", spec.KindInteger},
		{"boolean|integer", spec.KindBoolean},
		{"integer | number", spec.KindNumber},
		{"string[] | string", ""},
		{"string | object", ""},
		{"string | array", ""},
		{"datetime | string", spec.KindString},
		{"string", ""},
	} {
		if got := unionKind(tc.in); got != tc.want {
			t.Errorf("unionKind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnionKindSideBySide(t *testing.T) {
	if got := unionKind("string integer"); got != spec.KindString {
		t.Errorf(`unionKind("string integer") = %q, want string`, got)
	}
	if got := unionKind("crm_status"); got != "" {
		t.Errorf(`unionKind("crm_status") = %q, want ""`, got)
	}
}

// The flags say what the tokens say, nested rows included, and the input
// spec keeps its rows as they were.
func TestTokensSetFlags(t *testing.T) {
	in := &spec.Spec{Methods: []spec.Method{{Name: "test.a.add", Version: 2, Params: []spec.Param{
		{Name: "fields", Kind: spec.KindObject, Fields: []spec.Param{
			{Name: "OPENED", Type: "char", Kind: spec.KindBoolean},
			{Name: "ACTIVE", Type: "boolean (Y/N)", Kind: spec.KindBoolean},
			{Name: "FLAG", Type: "boolean", Kind: spec.KindBoolean},
			{Name: "PHONE", Type: "crm_multifield[]", Kind: spec.KindArray},
			{Name: "NAME", Type: LocalizedType, Kind: spec.KindObject},
			{Name: "VALUE", Type: "integer | string", Kind: spec.KindAny},
			{Name: "TYPE", Type: "integer", Kind: spec.KindEnum, Enum: []spec.EnumValue{{Value: "1"}, {Value: "2"}}},
			{Name: "MODE", Type: "integer", Kind: spec.KindEnum, Enum: []spec.EnumValue{{Value: "1"}, {Value: "all"}}},
		}},
	}}, {Name: "test.a.update", Version: 3, Params: []spec.Param{{Name: "ACTIVE", Type: "boolean (Y/N)", Kind: spec.KindBoolean}}}}}
	out, _ := Resolve(in)
	got := map[string]spec.Param{}
	for _, p := range out.Methods[0].Params[0].Fields {
		got[p.Name] = p
	}
	for name, ok := range map[string]bool{
		"OPENED SentAsYN":   got["OPENED"].SentAsYN,
		"ACTIVE SentAsYN":   got["ACTIVE"].SentAsYN,
		"FLAG plain":        !got["FLAG"].SentAsYN,
		"PHONE Multifield":  got["PHONE"].Multifield,
		"NAME Localized":    got["NAME"].Localized,
		"VALUE Union":       got["VALUE"].Union == spec.KindString,
		"TYPE IntEnum":      got["TYPE"].IntEnum,
		"MODE not IntEnum":  !got["MODE"].IntEnum,
		"REST 3.0 Y/N text": !out.Methods[1].Params[0].SentAsYN,
	} {
		if !ok {
			t.Errorf("%s: does not hold", name)
		}
	}
	if in.Methods[0].Params[0].Fields[0].SentAsYN {
		t.Error("Resolve set a flag on its input")
	}
}
