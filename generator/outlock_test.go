package generator

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestGenerateConcurrentRunsOnOneOut: a second generate on the same output
// waits for the first instead of removing the tree the first is writing
// (which it would take for a crash's leftover). Both succeed.
func TestGenerateConcurrentRunsOnOneOut(t *testing.T) {
	s := loadFixture(t)
	out := filepath.Join(t.TempDir(), "gen")
	opt := Options{OutDir: out, ImportPath: "example.com/x/gen"}
	paused, resume := make(chan string), make(chan struct{})
	var once sync.Once
	afterWrite = func(tmp string) {
		once.Do(func() {
			paused <- tmp
			<-resume
		})
	}
	t.Cleanup(func() { afterWrite = nil })

	first := make(chan error, 1)
	go func() { _, err := Generate(s, opt); first <- err }()
	tmp := <-paused
	second := make(chan error, 1)
	go func() { _, err := Generate(s, opt); second <- err }()
	time.Sleep(300 * time.Millisecond) // the second run's chance to interfere
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("the first run's tree was removed while it was being written: %v", err)
	}
	select {
	case err := <-second:
		t.Errorf("the second run finished while the first was writing: %v", err)
	default:
	}
	close(resume)
	if err := <-first; err != nil {
		t.Errorf("first run: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("second run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "b24")); err != nil {
		t.Errorf("no tree in place after both runs: %v", err)
	}
}
