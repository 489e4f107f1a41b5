package b24

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The typed keys build the filter keys the portal reads: the operator
// prefix, the key in the entity's own case, the value as given (flags as
// Y/N), and a select and order from the same keys.
func TestTypedKeysBuildTheWireFilter(t *testing.T) {
	const (
		stage   TextKey               = "stageId"
		amount  OrderedKey[float64]   = "opportunity"
		created OrderedKey[time.Time] = "createdTime"
		closed  FlagKey               = "closed"
		owner   Key[int64]            = "assignedById"
	)
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	f := Terms(stage.Eq("C1:WON"), amount.Ge(1000), created.Lt(day), closed.Eq(false),
		owner.In(1, 7), stage.Like("WON"), TextKey("UF_CRM_5").NotLike("x"))
	body, err := encodeParams(map[string]any{"filter": f})
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{"filter":{"!%UF_CRM_5":"x","%stageId":"WON","<createdTime":"2026-01-02T00:00:00Z","=closed":"N","=stageId":"C1:WON",">=opportunity":1000,"@assignedById":[1,7]}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filter sent\n got %s\nwant %v", body, want)
	}
	if cols := Columns(stage, amount, closed, owner); len(cols) != 4 || cols[0] != "stageId" || cols[3] != "assignedById" {
		t.Errorf("select = %v", cols)
	}
	o, _ := json.Marshal(Order{created.Desc(), owner.Asc()})
	if string(o) != `{"createdTime":"DESC","assignedById":"ASC"}` {
		t.Errorf("order = %s", o)
	}
	// With adds to a nil filter, and a later term of the same key wins.
	var g Filter
	g = g.With(amount.Gt(1)).With(amount.Gt(2))
	if len(g) != 1 || g[">opportunity"] != 2.0 {
		t.Errorf("With: %v", g)
	}
}
