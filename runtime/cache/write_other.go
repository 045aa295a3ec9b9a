//go:build !unix

package cache

import (
	"os"
	"path/filepath"
)

// atomicWrite never leaves a torn file at path, even after a kill: the
// bytes go to a temp file in the same directory (which must exist), then
// are renamed over path (see write_unix.go).
func atomicWrite(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes 0600; entries are meant to be shared
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
