//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReportModeFollowsUmask: reports are 0644 less the umask (they were
// 0600 whatever the umask).
func TestReportModeFollowsUmask(t *testing.T) {
	for _, tt := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o644}} {
		old := syscall.Umask(tt.umask)
		p := filepath.Join(t.TempDir(), "r.json")
		err := writeWith(p, func(w writer) error { _, err := w.Write([]byte("{}")); return err })
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != tt.want {
			t.Errorf("umask %03o: mode %v, want %v", tt.umask, st.Mode().Perm(), tt.want)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".aieval-*")); len(left) != 0 {
			t.Errorf("temp files left: %v", left)
		}
	}
}
