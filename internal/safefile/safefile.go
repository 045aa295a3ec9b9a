// Package safefile opens the files aieval reads from a repository
// (aiconfigs, suites, cases, schemas, expected files, cache entries,
// results) as regular files within a size cap, so a pull request cannot
// crash or hang a run with a symlink to /dev/zero, a FIFO, or a huge file.
//
// Caps: Limit (default 64 MiB, AIEVAL_MAX_FILE_MB or SetLimit) for every
// input file; LargeLimit (16x Limit) for results files, which grow with the
// number of tests.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// DefaultMB is the default cap of one input file, in MiB.
const DefaultMB = 64

// EnvVar tunes the cap, in MiB.
const EnvVar = "AIEVAL_MAX_FILE_MB"

var (
	// ErrNotRegular is wrapped by errors for devices, FIFOs, sockets and
	// directories.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is wrapped by errors for files over the cap.
	ErrTooLarge = errors.New("file too large")
)

var override atomic.Int64 // bytes; 0 = none

// SetLimit sets the cap in bytes for the whole process (a flag, or a
// test); n <= 0 returns to the default or the environment.
func SetLimit(n int64) { override.Store(max(n, 0)) }

// ParseMB reads a cap given in MiB (the value of AIEVAL_MAX_FILE_MB or of a
// flag) and returns it in bytes.
func ParseMB(s string) (int64, error) {
	mb, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || mb <= 0 || mb > 1<<20 {
		return 0, fmt.Errorf("file size cap %q: want a whole number of MiB between 1 and 1048576", s)
	}
	return mb << 20, nil
}

// Limit is the cap of one input file, in bytes: SetLimit's, else
// AIEVAL_MAX_FILE_MB's (an unreadable value is ignored; callers that want
// it refused check it with ParseMB at start), else DefaultMB.
func Limit() int64 {
	if n := override.Load(); n > 0 {
		return n
	}
	if v := os.Getenv(EnvVar); v != "" {
		if n, err := ParseMB(v); err == nil {
			return n
		}
	}
	return DefaultMB << 20
}

// LargeLimit is the cap of a results file (baseline, compare inputs).
func LargeLimit() int64 { return 16 * Limit() }

// reason is the cause inside a *fs.PathError, so callers that print
// PathError.Err ("read suite: it is a FIFO (named pipe), not a regular
// file") stay one line.
type reason struct {
	kind error
	text string
}

func (r *reason) Error() string { return r.text }
func (r *reason) Unwrap() error { return r.kind }

// Open opens path for reading if it is, after symlinks, a regular file.
// Anything else is refused before it is read: a FIFO cannot block (it is
// opened non-blocking, then checked on the open descriptor), a device is
// never opened at all.
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	// The path may have been swapped between Stat and open: what counts
	// is that what was opened is a regular file. (Another regular file is
	// fine: a cache entry renamed into place by a concurrent writer.)
	fst, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fst.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, fst.Mode())
	}
	return f, nil
}

// ReadFile reads a regular file whole, refusing one over limit bytes
// (limit <= 0: Limit()).
func ReadFile(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = Limit()
	}
	if b, ok, err := readFast(path, limit); ok {
		return b, err
	}
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	// Sized from Stat, read through a limit: a file growing while read is
	// still cut at the cap.
	buf := make([]byte, 0, st.Size()+512)
	for {
		n, err := io.ReadFull(io.LimitReader(f, limit+1-int64(len(buf))), buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, tooLarge(path, limit)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return buf, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		buf = append(buf, 0)[:len(buf)] // full: grow
	}
}

// CheckRegular reports an error when path exists and is not, after
// symlinks, a regular file (for files opened by other libraries, such as
// a SQLite database). A missing path is not an error.
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return notRegular(path, st.Mode())
	}
	return nil
}

// tooLarge names the file itself (no PathError around it), so the
// message reads the same wherever it is printed.
func tooLarge(path string, limit int64) error {
	return &reason{ErrTooLarge, fmt.Sprintf("file %s is over %s (raise the limit with %s=MiB)", path, mib(limit), EnvVar)}
}

func mib(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func notRegular(path string, m fs.FileMode) error {
	what := describe(m)
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(path); err == nil {
			what = "a symbolic link to " + target + " (" + what + ")"
		}
	}
	return &fs.PathError{Op: "open", Path: path, Err: &reason{ErrNotRegular, "it is " + what + ", not a regular file"}}
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
