package b24

import (
	"encoding/json"
	"testing"
)

// EDIT_FORM_LABEL as crm.deal.userfield.get documents it (by language)
// and as a list filtered by LANG sends it (one text).
func TestLocalizedForms(t *testing.T) {
	var byLang, plain, empty Localized
	if err := json.Unmarshal([]byte(`{"en":"Region","de":"Gebiet"}`), &byLang); err != nil {
		t.Fatal(err)
	}
	if byLang.In("de") != "Gebiet" || byLang.Text() != "Region" {
		t.Errorf("by language: %v, Text %q", byLang, byLang.Text())
	}
	if err := json.Unmarshal([]byte(`"Region"`), &plain); err != nil {
		t.Fatal(err)
	}
	if plain.Text() != "Region" || plain.In("en") != "" {
		t.Errorf("plain: %v", plain)
	}
	if err := json.Unmarshal([]byte(`[]`), &empty); err != nil || empty != nil {
		t.Errorf("empty: %v %v", empty, err)
	}
	if err := json.Unmarshal([]byte(`42`), &empty); err == nil {
		t.Error("a number is not a localized text")
	}
	out, _ := json.Marshal(plain)
	if string(out) != `"Region"` {
		t.Errorf("plain re-encoded as %s", out)
	}
	out, _ = json.Marshal(byLang)
	if string(out) != `{"de":"Gebiet","en":"Region"}` {
		t.Errorf("by language re-encoded as %s", out)
	}
}
