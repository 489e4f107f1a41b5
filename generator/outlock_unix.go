//go:build unix

package generator

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the directory dir, which the kernel
// releases when the process ends however it ends: a killed run never
// leaves a stale lock. It fails with errLocked while another holds it.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return func() { f.Close() }, nil // closing the descriptor drops the lock
}
