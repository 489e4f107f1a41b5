package resolve

import (
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// The entity families the typing issue names: crm, tasks, user,
// department, disk and im.
func coveredFamily(fam string) bool {
	for _, p := range []string{"crm.", "tasks.", "disk.", "im."} {
		if strings.HasPrefix(fam, p) {
			return true
		}
	}
	return fam == "user" || fam == "department"
}

// typedField reports a field model can give a concrete type.
func typedField(p spec.Param) bool {
	switch p.Kind {
	case "", spec.KindAny:
		return false
	case spec.KindObject:
		return len(p.Fields) > 0 || p.Type == LocalizedType || p.Elem != ""
	}
	return true
}

// Of the result keys the family's methods document for their entity, the
// entity types ≥ 98%; and the rows of the main lists carry every field of
// their family's *.fields page.
func TestCommittedSpecEntities(t *testing.T) {
	s, err := spec.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := Resolve(s)
	// A REST 3.0 family has an entity of its own beside the REST 2 one.
	byFamily := map[[2]any]*spec.Entity{}
	for i := range out.Entities {
		byFamily[[2]any{out.Entities[i].Family, out.Entities[i].Version == 3}] = &out.Entities[i]
	}
	keys, typed := 0, 0
	var misses []string
	group := func(fam string) string { return strings.SplitN(fam, ".", 2)[0] }
	groupKeys, groupTyped := map[string]int{}, map[string]int{}
	for _, m := range out.Methods {
		if m.Result == nil || m.Result.Entity == "" || !coveredFamily(m.Result.Entity) {
			continue
		}
		e := byFamily[[2]any{m.Result.Entity, m.Version == 3}]
		idx := map[string]spec.Param{}
		for _, f := range e.Fields {
			idx[normKey(f.Name)] = f
		}
		for _, p := range m.Result.Fields {
			if dynamicKey(p.Name) {
				continue // documented as a pattern: Extra
			}
			keys++
			g := group(m.Result.Entity)
			groupKeys[g]++
			if f, ok := idx[normKey(p.Name)]; ok && typedField(f) {
				typed++
				groupTyped[g]++
			} else {
				misses = append(misses, m.Name+" "+p.Name)
			}
		}
	}
	for _, g := range []string{"crm", "tasks", "user", "department", "disk", "im"} {
		t.Logf("  %s: %d of %d", g, groupTyped[g], groupKeys[g])
		if groupKeys[g] == 0 || float64(groupTyped[g]) < 0.98*float64(groupKeys[g]) {
			t.Errorf("%s: %d of %d result keys typed, want ≥ 98%%", g, groupTyped[g], groupKeys[g])
		}
	}
	share := float64(typed) / float64(max(keys, 1))
	t.Logf("entity result keys typed: %d of %d (%.1f%%) in %d entities", typed, keys, 100*share, len(out.Entities))
	t.Logf("misses: %v", misses)
	if share < 0.98 {
		t.Errorf("only %.1f%% of the documented result keys are typed; misses: %v", 100*share, misses)
	}

	lists := map[string]string{
		"crm.deal.list": "crm.deal.fields", "crm.lead.list": "crm.lead.fields", "crm.contact.list": "crm.contact.fields",
		"crm.company.list": "crm.company.fields", "crm.item.list": "crm.item.fields", "tasks.task.list": "tasks.task.getFields",
	}
	for list, fields := range lists {
		var lm, fm *spec.Method
		for i := range out.Methods {
			m := &out.Methods[i]
			if m.Version == 2 && m.Name == list {
				lm = m
			}
			if m.Version == 2 && m.Name == fields {
				fm = m
			}
		}
		if lm == nil || fm == nil {
			t.Errorf("%s or %s missing from the spec", list, fields)
			continue
		}
		e := byFamily[[2]any{lm.Result.Entity, false}]
		if e == nil {
			t.Errorf("%s does not return an entity", list)
			continue
		}
		have := map[string]bool{}
		for _, f := range e.Fields {
			have[normKey(f.Name)] = true
		}
		for _, d := range descriptorFields(fm) {
			if !have[normKey(d.Name)] && !dynamicKey(d.Name) {
				t.Errorf("%s rows lack %s, a field of %s", list, d.Name, fields)
			}
		}
	}
}
