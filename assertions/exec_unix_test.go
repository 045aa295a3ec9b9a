//go:build unix

package assertions

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecTimeoutKillsGroup(t *testing.T) {
	dir := scriptDir(t)
	a, err := New(Spec{Type: "exec", Value: map[string]any{"command": "./slow.sh", "timeout": "300ms"}, Dir: dir, Weight: 1})
	must(t, err)
	start := time.Now()
	_, err = a.Check(context.Background(), &Input{})
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("err = %v, want a timeout error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	must(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	must(t, err)
	// The background child must die with the group (gone, or a zombie
	// waiting for its new parent to reap it).
	deadline := time.Now().Add(3 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") || syscall.Kill(pid, 0) != nil {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d still running after the timeout", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
