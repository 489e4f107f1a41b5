package extract

import (
	"bytes"
	"os"
	"testing"
)

// TestCommittedSpecIsCurrent re-extracts the pinned snapshot and fails on
// any difference from the committed spec/bitrix24.json (the embedded spec
// everything downstream is generated from): an extractor change must come
// with its re-extracted spec (`make extract`).
func TestCommittedSpecIsCurrent(t *testing.T) {
	want, err := pinnedSpec(t).Marshal() // the corpus tests' extraction, shared
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../spec/bitrix24.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		line := 1 + bytes.Count(want[:commonPrefix(have, want)], []byte("\n"))
		t.Fatalf("spec/bitrix24.json differs from the extraction of %s from line %d on; run `make extract` and commit", docsRoot(t), line)
	}
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
