package main

import (
	"os/exec"
	"strings"
	"testing"
)

// gitProject is a committed gate project in a fresh repository, with the
// current directory moved into it.
func gitProject(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir, _ := gateProject(t)
	gateGit(t, dir, "init", "-q", "-b", "main")
	gateGit(t, dir, "add", "-A")
	gateGit(t, dir, "commit", "-q", "-m", "suite")
	t.Chdir(dir)
	return dir
}

// TestBaselineRefIsACommit: --baseline-ref never reaches git as an option
// (--no-checkout gave an empty baseline and exit 0, --lock left a locked
// worktree), and a ref that is not a commit is refused before any
// worktree is made: exit 2, one line, nothing left behind.
func TestBaselineRefIsACommit(t *testing.T) {
	dir := gitProject(t)
	c := newCLI(t)
	tests := []struct{ ref, want string }{
		{"--no-checkout", "may not be empty or start with '-'"},
		{"--lock", "may not be empty or start with '-'"},
		{"-b", "may not be empty or start with '-'"},
		{"--end-of-options", "may not be empty or start with '-'"},
		{"no-such-ref", "--baseline-ref no-such-ref is not a commit in this repository"},
		{"HEAD^{tree}", "is not a commit"},
		{"main:gate.eval.yaml", "is not a commit"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			o := runDeadline(t, c, "run", "--no-history", "--cache-mode", "off", "--baseline-ref", tt.ref, "gate.eval.yaml")
			lines := strings.Split(strings.TrimSpace(o.stderr), "\n")
			if o.code != 2 || len(lines) != 1 || !strings.Contains(o.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line saying %q", o.code, o.stderr, tt.want)
			}
			if wt := gateGit(t, dir, "worktree", "list"); strings.Count(wt, "\n") != 0 {
				t.Errorf("a worktree was left behind:\n%s", wt)
			}
		})
	}
}

// TestBaselineRefByCommitID: a full commit id and a tag work like a branch.
func TestBaselineRefByCommitID(t *testing.T) {
	dir := gitProject(t)
	sha := gateGit(t, dir, "rev-parse", "HEAD")
	gateGit(t, dir, "tag", "v1")
	for _, ref := range []string{sha, "v1", "HEAD"} {
		got, err := verifyCommit(t.Context(), dir, ref)
		if err != nil || got != sha {
			t.Errorf("verifyCommit(%s) = %q, %v; want %s", ref, got, err, sha)
		}
	}
}

func TestCleanupRegistry(t *testing.T) {
	var ran []string
	done1 := registerCleanup(func() { ran = append(ran, "first") })
	done2 := registerCleanup(func() { ran = append(ran, "second") })
	registerCleanup(func() { ran = append(ran, "third") })
	done2() // the deferred path runs it once...
	runCleanups()
	done1() // ...and nothing runs twice
	done2()
	runCleanups()
	if got := strings.Join(ran, ","); got != "second,third,first" {
		t.Errorf("ran %s, want second,third,first", got)
	}
}
