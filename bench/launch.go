//go:build linux || darwin

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// launchEnv, when set, turns this program into a launcher: it runs its
// arguments as a command and writes the command's usage as JSON to the file
// the variable names.
//
// Why a launcher: Go starts children with vfork (CLONE_VM), and on exec Linux
// folds the parent's high-water RSS into the child's ru_maxrss. Measured here:
// a parent holding 200 MB makes /bin/true report 207 MB. The bench process
// hosts the fake server and parses 100k-test reports, so its own peak would
// leak into every figure. A freshly exec'd launcher has a peak of a few MB,
// which is what its child then inherits.
const launchEnv = "AIEVAL_BENCH_LAUNCH_REPORT"

// usage is what the launcher reports of one child run.
type usage struct {
	WallNS   int64 `json:"wall_ns"`
	MaxRSSKB int64 `json:"maxrss_kb"`
	UserNS   int64 `json:"user_ns"`
	SysNS    int64 `json:"sys_ns"`
	Exit     int   `json:"exit"` // -1 when killed by a signal
	// When the child started and ended (Unix ns), so start-up and tail
	// leave out the launcher's own start and exit.
	StartNS int64 `json:"start_ns"`
	EndNS   int64 `json:"end_ns"`
}

func (u usage) wall() time.Duration { return time.Duration(u.WallNS) }
func (u usage) cpu() time.Duration  { return time.Duration(u.UserNS + u.SysNS) }

// launch runs args[0] with args[1:], stdio passed through, and writes its
// usage to reportPath. It returns the launcher's own exit code: 0 when the
// child ran (whatever its exit code, which is in the report), 2 otherwise.
func launch(reportPath string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench launcher: no command given")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child may be this program again (the floor client): without the
	// variable it does not become a launcher in turn.
	cmd.Env = withoutEnv(os.Environ(), launchEnv)
	// SIGTERM comes from the bench on a timeout: take the child down with us.
	// SIGINT from a terminal reaches the child by itself (same process group);
	// catching it (rather than ignoring it) keeps the child's default handler.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench launcher: start %s: %v\n", args[0], err)
		return 2
	}
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM {
				cmd.Process.Kill()
			}
		}
	}()
	_ = cmd.Wait() // a non-zero exit is data, not a launcher failure
	wall := time.Since(start)
	ps := cmd.ProcessState
	u := usage{
		StartNS: start.UnixNano(),
		EndNS:   start.Add(wall).UnixNano(),
		WallNS:  wall.Nanoseconds(),
		UserNS:  ps.UserTime().Nanoseconds(),
		SysNS:   ps.SystemTime().Nanoseconds(),
		Exit:    ps.ExitCode(),
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSKB = maxRSSKB(int64(ru.Maxrss), runtime.GOOS)
	}
	b, _ := json.Marshal(u)
	if err := os.WriteFile(reportPath, b, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "bench launcher: write usage: %v\n", err)
		return 2
	}
	return 0
}

// withoutEnv returns env minus the entries of key.
func withoutEnv(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return out
}

// maxRSSKB converts ru_maxrss to KB: Linux reports KB, macOS bytes.
func maxRSSKB(v int64, goos string) int64 {
	if goos == "darwin" {
		return v / 1024
	}
	return v
}

// readUsage loads a launcher report.
func readUsage(path string) (usage, error) {
	var u usage
	b, err := os.ReadFile(path)
	if err != nil {
		return u, fmt.Errorf("read child usage: %w", err)
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return u, fmt.Errorf("decode child usage %s: %w", path, err)
	}
	return u, nil
}
