//go:build unix

package cache

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestEntryModeWhateverTheUmask: an entry is 0644 under the usual umask
// (no chmod made) and under one that takes group and other bits (chmod
// made), and no temp file is left.
func TestEntryModeWhateverTheUmask(t *testing.T) {
	for _, tt := range []struct {
		umask int
		state int32 // umaskKeeps0644 after the first entry
	}{{0o022, 1}, {0o077, 2}, {0o002, 1}} {
		old := syscall.Umask(tt.umask)
		umaskKeeps0644.Store(0)
		dir := t.TempDir()
		c := open(t, dir, ReadWrite, Options{})
		for _, q := range []string{"a", "b"} {
			if _, err := c.Wrap(&fake{}).Complete(context.Background(), request(q), nil); err != nil {
				t.Fatal(err)
			}
		}
		syscall.Umask(old)
		if got := umaskKeeps0644.Load(); got != tt.state {
			t.Errorf("umask %03o: state %d, want %d", tt.umask, got, tt.state)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
		if len(files) != 2 {
			t.Fatalf("umask %03o: files %v, want two entries", tt.umask, files)
		}
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil || st.Mode().Perm() != 0o644 || filepath.Ext(f) != ".json" {
				t.Errorf("umask %03o: %s: %v %v, want a 0644 entry", tt.umask, f, st.Mode(), err)
			}
		}
	}
	umaskKeeps0644.Store(0)
}
