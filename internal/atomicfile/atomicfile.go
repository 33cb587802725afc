// Package atomicfile replaces files so that a reader, or a crash, never sees
// half a file: write a temporary file beside it, sync, then rename.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// rename is os.Rename; tests replace it to simulate a failing disk.
var rename = os.Rename

// WriteFile replaces path with data. The directory is created with mode 0700
// if missing; the file gets perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SetRenameForTest replaces the rename step and returns a function that
// restores it.
func SetRenameForTest(f func(oldpath, newpath string) error) (restore func()) {
	rename = f
	return func() { rename = os.Rename }
}
