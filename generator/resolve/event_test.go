package resolve

import "testing"

func TestIsStructToken(t *testing.T) {
	for tok, want := range map[string]bool{"Chat": true, "User": true, "Message": true, "String": false, "Integer": false,
		"string": false, "crm_status": false, "catalog_price.id": false, "": false, "DateTime": false, "Timestamp": false} {
		if got := isStructToken(tok); got != want {
			t.Errorf("isStructToken(%q) = %v, want %v", tok, got, want)
		}
	}
}
