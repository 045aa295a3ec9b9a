//go:build unix

package safefile

import (
	"io/fs"
	"syscall"
)

// readFast is ReadFile for a regular file within limit, made with six
// system calls (stat, open, fstat, read until EOF, close): os.Open and
// File.Stat add four fcntl, an epoll_ctl and a second fstat per file,
// and the cache reads one file per replayed call. ok is false for
// anything else but a missing file (not regular, over the limit, a read
// error): ReadFile then takes its usual path and gives its usual error.
// A missing file's error is os.Stat's own.
func readFast(path string, limit int64) (b []byte, ok bool, err error) {
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Stat(path, &st) }); err != nil {
		if err == syscall.ENOENT {
			return nil, true, &fs.PathError{Op: "stat", Path: path, Err: err}
		}
		return nil, false, nil
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > limit {
		return nil, false, nil
	}
	var fd int
	if err := ignoringEINTR(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		return err
	}); err != nil {
		return nil, false, nil
	}
	defer syscall.Close(fd)
	// What was opened must be a regular file (the path may have been
	// swapped since the stat), and is read through the limit.
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > limit {
		return nil, false, nil
	}
	buf := make([]byte, 0, st.Size+512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := syscall.Read(fd, buf[len(buf):cap(buf)])
		if rerr == syscall.EINTR {
			continue
		}
		if rerr != nil {
			return nil, false, nil
		}
		if n == 0 {
			return buf, true, nil
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, false, nil // grew past the cap while read: ReadFile says so
		}
	}
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}
