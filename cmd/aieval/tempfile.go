package main

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// createReportTemp makes the temp file a report is written to before its
// rename. Unlike os.CreateTemp (always 0600) it asks for 0644 and lets the
// kernel apply the umask, so a report reads like any file the user writes
// (CI uploads it; a shared runner's other users may need to read it).
func createReportTemp(dir string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, ".aieval-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, ".aieval-*.tmp"), Err: fs.ErrExist}
}
