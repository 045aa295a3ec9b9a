//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBaselineWorktreeRemovedOnSignal: a CI job cancelled (two SIGINTs)
// while the baseline runs in its temporary worktree leaves no worktree,
// neither the directory nor git's record of it.
func TestBaselineWorktreeRemovedOnSignal(t *testing.T) {
	bin := buildBinary(t) // before gitProject moves into the project
	dir := gitProject(t)
	tmp := t.TempDir()
	started := filepath.Join(t.TempDir(), "judge-started")
	// The baseline is a replay and calls no model: a slow exec judge (on
	// the echo model) keeps it running in its worktree instead.
	write(t, dir, "gate.eval.yaml", fmt.Sprintf(`description: Gate
config: gate.aiconfig.json
tests:
  - name: slow judge
    prompt: slogan
    assert:
      - type: exec
        value: {command: "sh -c 'touch %s; sleep 60'", timeout: 120s}
`, started))
	gateGit(t, dir, "commit", "-q", "-am", "slow judge")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--no-history", "--no-progress", "--model", "gpt-4o-mini=echo", "--baseline-ref", "main", "gate.eval.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPENAI_API_KEY=k", "CI=", "TMPDIR="+tmp)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for { // the baseline is running in its worktree
		if _, err := os.Stat(started); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the baseline's judge never started\n%s", stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if wt := gateGit(t, dir, "worktree", "list"); strings.Count(wt, "\n") != 1 {
		t.Fatalf("no baseline worktree while the baseline runs:\n%s", wt)
	}
	cmd.Process.Signal(os.Interrupt)
	for !strings.Contains(stderr.String(), "signal again") {
		select {
		case <-ctx.Done():
			t.Fatalf("first SIGINT not acknowledged\n%s", stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\n%s", err, stderr)
	}
	if wt := gateGit(t, dir, "worktree", "list"); strings.Count(wt, "\n") != 0 {
		t.Errorf("the baseline worktree outlived the signal:\n%s", wt)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
