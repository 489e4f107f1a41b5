//go:build !unix

package generator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// lockDir takes the lock as a file created exclusively in dir, removed on
// unlock. A run killed while holding it leaves the file behind; the error
// then names it, to be removed by hand.
func lockDir(dir string) (unlock func(), err error) {
	p := filepath.Join(dir, ".b24gen.lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errLocked
		}
		return nil, err
	}
	f.Close()
	return func() { os.Remove(p) }, nil
}
