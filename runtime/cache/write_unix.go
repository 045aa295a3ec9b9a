//go:build unix

package cache

import (
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// atomicWrite never leaves a torn file at path, even after kill -9: the
// bytes go to a temp file in the same directory (which must exist), then
// are renamed over path. It does not fsync: a crash of the process cannot
// tear a renamed file, and what only a power loss could leave (an empty
// entry) reads as a miss with a warning, re-recorded by the next run.
// Two fsyncs per entry made recording 10,000 answers take minutes on
// slow disks and tripled a run's CPU.
//
// It makes the system calls itself: open (0644, exclusive), write,
// close, rename. os.CreateTemp, File.Chmod and os.Rename added seven more
// per entry (four fcntl and an epoll_ctl to try the file on the poller, a
// chmod, an lstat of the target); the chmod is made only when the umask
// takes bits off 0644, which the first entry finds out.
func atomicWrite(path string, data []byte) (err error) {
	dir := "."
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir = path[:i]
	}
	var tmp string
	var fd int
	for try := 0; ; try++ {
		tmp = dir + "/" + tmpPrefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err = syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
		if err == nil {
			break
		}
		if err == syscall.EINTR || (err == syscall.EEXIST && try < 10000) {
			continue
		}
		return &fs.PathError{Op: "open", Path: tmp, Err: err}
	}
	open := true
	defer func() {
		if err != nil {
			if open {
				syscall.Close(fd)
			}
			syscall.Unlink(tmp)
		}
	}()
	for rest := data; len(rest) > 0; {
		n, werr := syscall.Write(fd, rest)
		if werr == syscall.EINTR {
			continue
		}
		if werr != nil {
			return &fs.PathError{Op: "write", Path: tmp, Err: werr}
		}
		if n <= 0 {
			return &fs.PathError{Op: "write", Path: tmp, Err: io.ErrShortWrite}
		}
		rest = rest[n:]
	}
	if err = entryMode(fd, tmp); err != nil {
		return err
	}
	open = false
	if cerr := syscall.Close(fd); cerr != nil {
		return &fs.PathError{Op: "close", Path: tmp, Err: cerr}
	}
	for {
		rerr := syscall.Rename(tmp, path)
		if rerr == syscall.EINTR {
			continue
		}
		if rerr != nil {
			return &os.LinkError{Op: "rename", Old: tmp, New: path, Err: rerr}
		}
		return nil
	}
}

// umaskKeeps0644 is 1 once an entry was created 0644 (the umask takes
// none of its bits, so open's mode is the file's), 2 once one was not
// (every entry is then chmod-ed, as os.CreateTemp's 0600 files were).
var umaskKeeps0644 atomic.Int32

// entryMode makes the new file fd 0644, as entries are meant to be shared.
func entryMode(fd int, name string) error {
	switch umaskKeeps0644.Load() {
	case 1:
		return nil
	case 0:
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err == nil && st.Mode&0o777 == 0o644 {
			umaskKeeps0644.Store(1)
			return nil
		}
		umaskKeeps0644.Store(2)
	}
	if err := syscall.Fchmod(fd, 0o644); err != nil {
		return &fs.PathError{Op: "chmod", Path: name, Err: err}
	}
	return nil
}
