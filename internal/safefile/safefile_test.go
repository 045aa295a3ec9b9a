package safefile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small.json", "{}")
	big := write("big.json", strings.Repeat("x", 2000))
	link := filepath.Join(dir, "link.json")
	os.Symlink(small, link)
	zero := filepath.Join(dir, "zero.json")
	os.Symlink("/dev/zero", zero)
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	tests := []struct {
		name, path string
		limit      int64
		want       string // substring of the error; "" = read ok
		is         error
	}{
		{"regular", small, 100, "", nil},
		{"exactly the limit", big, 2000, "", nil},
		{"symlink to a regular file", link, 100, "", nil},
		{"over the limit", big, 1999, "file " + big + " is over 1999 bytes (raise the limit with AIEVAL_MAX_FILE_MB=MiB)", ErrTooLarge},
		{"symlink to /dev/zero", zero, 1 << 20, "it is a symbolic link to /dev/zero (a character device), not a regular file", ErrNotRegular},
		{"device", "/dev/zero", 1 << 20, "it is a character device, not a regular file", ErrNotRegular},
		{"FIFO", fifo, 1 << 20, "it is a FIFO (named pipe), not a regular file", ErrNotRegular},
		{"socket", sock, 1 << 20, "it is a socket, not a regular file", ErrNotRegular},
		{"directory", dir, 1 << 20, "it is a directory, not a regular file", ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), 1 << 20, "no such file", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b, err := ReadFile(tt.path, tt.limit)
			if time.Since(start) > time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				want, _ := os.ReadFile(tt.path)
				if string(b) != string(want) {
					t.Errorf("read %d bytes, want %d", len(b), len(want))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want %q (%v)", err, tt.want, tt.is)
			}
		})
	}
}

func TestOpenRefusesFIFOWithoutBlocking(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "p")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Open(fifo); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
	if err := CheckRegular(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("CheckRegular = %v", err)
	}
	if err := CheckRegular(fifo + ".missing"); err != nil {
		t.Errorf("CheckRegular(missing) = %v", err)
	}
}

func TestLimit(t *testing.T) {
	t.Setenv(EnvVar, "")
	if Limit() != DefaultMB<<20 {
		t.Errorf("default %d", Limit())
	}
	t.Setenv(EnvVar, "2")
	if Limit() != 2<<20 || LargeLimit() != 32<<20 {
		t.Errorf("env: %d", Limit())
	}
	t.Setenv(EnvVar, "lots")
	if Limit() != DefaultMB<<20 {
		t.Errorf("bad env not ignored: %d", Limit())
	}
	SetLimit(5 << 20)
	defer SetLimit(0)
	if Limit() != 5<<20 {
		t.Errorf("override: %d", Limit())
	}
	for _, s := range []string{"0", "-1", "x", "1.5", ""} {
		if _, err := ParseMB(s); err == nil {
			t.Errorf("ParseMB(%q) accepted", s)
		}
	}
	if n, err := ParseMB(" 128 "); err != nil || n != 128<<20 {
		t.Errorf("ParseMB(128) = %d, %v", n, err)
	}
}
