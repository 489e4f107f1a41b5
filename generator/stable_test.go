package generator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator/extract"
	"github.com/b24gen/b24gen/generator/model"
	"github.com/b24gen/b24gen/spec"
)

// docsDir finds a docs snapshot: $B24_DOCS (or ../shared/b24restdocs from
// the module root) for "pinned", the -2026-01 sibling for "older".
func docsDir(t *testing.T, older bool) string {
	t.Helper()
	dir := os.Getenv("B24_DOCS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "shared", "b24restdocs")
	}
	if older {
		dir += "-2026-01"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("docs snapshot %s is absent (set B24_DOCS): %v", dir, err)
	}
	return dir
}

// TestNamesStableAcrossSnapshots generates the model from two snapshots of
// the docs and checks that a method documented identically in both gets
// identical Go identifiers, and that every method in both keeps its
// function name, whatever was added or removed around it.
func TestNamesStableAcrossSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the extraction of two docs snapshots")
	}
	newDir, oldDir := docsDir(t, false), docsDir(t, true)
	oldSpec, err := extract.Dir(oldDir, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	newSpec, err := extract.Dir(newDir, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	oldIDs, oldSigs := methodIdentifiers(oldSpec)
	newIDs, newSigs := methodIdentifiers(newSpec)
	var both, same, renamed, recased int
	for key, oldNames := range oldIDs {
		newNames, ok := newIDs[key]
		if !ok {
			continue
		}
		both++
		if oldNames[0] != newNames[0] {
			renamed++
			t.Errorf("%s: function %s became %s", key, oldNames[0], newNames[0])
			continue
		}
		if oldSigs[key] == newSigs[key] {
			same++
			switch {
			case slices.Equal(oldNames, newNames):
			case slices.EqualFunc(oldNames, newNames, strings.EqualFold):
				// The vocabulary is learned from the docs: a join the
				// newer docs show twice recapitalises a run-together key
				// (Getmanifest → GetManifest). Counted, not failed; any
				// other rename fails.
				recased++
				t.Logf("%s: identifiers recased by the vocabulary", key)
			default:
				t.Errorf("%s is documented identically but its identifiers changed:\n old %v\n new %v", key, oldNames, newNames)
			}
		}
	}
	t.Logf("%d methods in the older snapshot, %d in the pinned one; %d in both, %d documented identically, %d of them recased", len(oldIDs), len(newIDs), both, same, recased)
	if recased > 3 {
		t.Errorf("%d methods recased by the vocabulary: the word rule has become unstable", recased)
	}
	if both == 0 {
		t.Fatal("no method in common: the snapshots were not read")
	}
}

// methodIdentifiers returns, per method key, the package-qualified
// function name followed by every identifier declared for it, and a
// signature of its documented params and result.
func methodIdentifiers(s *spec.Spec) (map[string][]string, map[string]string) {
	m, _, _ := model.Build(s, model.Options{ImportPath: "x"})
	ids := map[string][]string{}
	for _, p := range m.Packages {
		for _, f := range p.Files {
			for _, fn := range f.Funcs {
				key := fn.Key()
				names := []string{p.Name + "." + fn.Name}
				for _, st := range fn.Structs {
					names = append(names, st.Name)
					for _, fl := range st.Fields {
						names = append(names, st.Name+"."+fl.Name)
					}
				}
				for _, e := range fn.Enums {
					names = append(names, e.Name)
					for _, v := range e.Values {
						names = append(names, v.Name)
					}
				}
				ids[key] = names
			}
		}
	}
	sigs := map[string]string{}
	for _, sm := range s.Methods {
		var r spec.Result
		if sm.Result != nil {
			r = *sm.Result
			r.Fields = stripLines(r.Fields)
		}
		b, _ := json.Marshal(struct {
			P []spec.Param
			R spec.Result
			D bool
		}{stripLines(sm.Params), r, sm.Deprecated})
		sigs[sm.Key()] = string(b)
	}
	return ids, sigs
}

// stripLines drops line numbers, which move when a page is edited above.
func stripLines(ps []spec.Param) []spec.Param {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Line = 0
		out[i].Fields = stripLines(out[i].Fields)
	}
	return out
}
