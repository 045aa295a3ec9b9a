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

// TestExecJudgeEnvHasNoCredentials: a judge that prints the key finds
// nothing; variables the suite names with env: do reach it; what it needs
// to run (PATH, HOME, LC_*) still does.
func TestExecJudgeEnvHasNoCredentials(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-judge-must-not-see-0123456789")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-0123456789")
	t.Setenv("JUDGE_TOKEN", "named-token-ok")
	t.Setenv("LC_ALL", "C")
	script := `sh -c 'echo "key=[$OPENAI_API_KEY] aws=[$AWS_SECRET_ACCESS_KEY] named=[$JUDGE_TOKEN] lc=[$LC_ALL] path=[${PATH:+set}]"; exit 1'`
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no env", Spec{Type: "exec", Value: script}, "key=[] aws=[] named=[] lc=[C] path=[set]"},
		{"env in value", Spec{Type: "exec", Value: map[string]any{"command": script, "env": []any{"JUDGE_TOKEN"}}}, "named=[named-token-ok]"},
		{"env on the spec (suite env:)", Spec{Type: "exec", Value: script, Env: []string{"JUDGE_TOKEN"}}, "named=[named-token-ok]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.spec)
			must(t, err)
			r, err := a.Check(context.Background(), &Input{})
			must(t, err)
			if !strings.Contains(r.Reason, tt.want) || strings.Contains(r.Reason, "must-not-see") || strings.Contains(r.Reason, "aws-secret") {
				t.Errorf("reason %q, want %q and no key", r.Reason, tt.want)
			}
		})
	}
	for _, bad := range []any{
		map[string]any{"command": "true", "env": "JUDGE_TOKEN"},
		map[string]any{"command": "true", "env": []any{"NOT A NAME"}},
		map[string]any{"command": "true", "env": []any{"X=1"}},
	} {
		if _, err := New(Spec{Type: "exec", Value: bad}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestExecBackgroundChildKilled: a judge that forks `sleep 60 &` and exits
// at once is done at once, and its child does not outlive it.
func TestExecBackgroundChildKilled(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "bg.pid")
	a, err := New(Spec{Type: "exec", Value: `sh -c 'sleep 60 & echo $! > ` + pidFile + `; echo done'`})
	must(t, err)
	start := time.Now()
	r, err := a.Check(context.Background(), &Input{})
	must(t, err)
	if !r.Pass || time.Since(start) > 900*time.Millisecond {
		t.Errorf("result %+v after %v; want a pass well under the 1 s pipe wait", r, time.Since(start))
	}
	b, err := os.ReadFile(pidFile)
	must(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	must(t, err)
	deadline := time.Now().Add(2 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") || syscall.Kill(pid, 0) != nil {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("background child %d outlived the judge", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
