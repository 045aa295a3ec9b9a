package assertions

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// scriptDir copies testdata/exec into a fresh directory (the suite dir of
// the test), executable whatever the checkout kept of file modes.
func scriptDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("exec tests use sh scripts")
	}
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/exec")
	must(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/exec", e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o755))
	}
	return dir
}

func TestExecProtocol(t *testing.T) {
	dir := scriptDir(t)
	spec := func(typ string, v any) Spec { return Spec{Type: typ, Value: v, Dir: dir} }
	runCases(t, []checkCase{
		{name: "exit 0 passes", spec: spec("exec", "./pass.sh"), pass: true, score: 1, reason: "command passed: all good"},
		{name: "exit 3 fails with stderr", spec: spec("exec", "./fail.sh"), reason: "command exited 3: greeting missing"},
		{name: "json rules over exit code", spec: spec("exec", "./json.sh"), pass: true, score: 0.8, reason: "command passed: tone is friendly"},
		{name: "json with threshold", spec: Spec{Type: "exec", Value: "./json.sh", Dir: dir, Threshold: thr(0.9)}, score: 0.8, reason: "command failed: tone is friendly (score 0.80, threshold 0.9)"},
		{name: "quoting", spec: spec("exec", `./args.sh 'a b' "c\"d"`), reason: `command exited 1: 2|a b|c"d`},
		{name: "sh -c quoted script", spec: spec("exec", `sh -c 'grep -q "yes" && echo found'`), in: Input{Output: "yes"}, pass: true, score: 1, reason: "found"},
		{name: "sh -c fails", spec: spec("exec", `sh -c 'grep -q "yes"'`), in: Input{Output: "no"}, reason: "command exited 1: no output"},
		{name: "map value", spec: spec("exec", map[string]any{"command": "./pass.sh", "timeout": 5}), pass: true, score: 1},
		{name: "not-exec fail", spec: spec("not-exec", "./pass.sh"), reason: "command passed: all good but must not"},
		{name: "not-exec pass", spec: spec("not-exec", "./fail.sh"), pass: true, score: 1},
	})
}

func TestExecStdin(t *testing.T) {
	dir := scriptDir(t)
	a, err := New(Spec{Type: "exec", Value: "./record.sh", Dir: dir, Weight: 1})
	must(t, err)
	in := &Input{Output: "the \"answer\"\n", Prompt: "ask", Params: map[string]any{"order_by": "price"}, Test: "t1", Suite: "s.eval.yaml"}
	r, err := a.Check(context.Background(), in)
	if err != nil || !r.Pass {
		t.Fatalf("check = %+v, %v", r, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "stdin.json")) // written in Spec.Dir: the working dir
	must(t, err)
	var got map[string]any
	must(t, json.Unmarshal(b, &got))
	want := map[string]any{"output": "the \"answer\"\n", "prompt": "ask", "params": map[string]any{"order_by": "price"}, "test": "t1", "suite": "s.eval.yaml"}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("stdin = %s\nwant %s", gb, wb)
	}
}

func TestExecRelativeSuiteDir(t *testing.T) {
	dir := scriptDir(t)
	t.Chdir(filepath.Dir(dir))
	a, err := New(Spec{Type: "exec", Value: "./record.sh", Dir: filepath.Base(dir), Weight: 1})
	must(t, err)
	if r, err := a.Check(context.Background(), &Input{Output: "x"}); err != nil || !r.Pass {
		t.Fatalf("check = %+v, %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stdin.json")); err != nil {
		t.Fatalf("command did not run in the suite directory: %v", err)
	}
}

func TestExecErrors(t *testing.T) {
	dir := scriptDir(t)
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"missing script", "./nope.sh", "start command ./nope.sh"},
		{"missing binary", "no-such-binary-aieval", "start command no-such-binary-aieval"},
		{"bad score", "./badscore.sh", "score 7, outside 0..1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(Spec{Type: "exec", Value: tc.value, Dir: dir, Weight: 1})
			must(t, err)
			_, err = a.Check(context.Background(), &Input{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestExecSpecTimeoutAndCancel(t *testing.T) {
	dir := scriptDir(t)
	a, err := New(Spec{Type: "exec", Value: "./slow.sh", Dir: dir, Weight: 1, Timeout: 200 * time.Millisecond})
	must(t, err)
	if _, err := a.Check(context.Background(), &Input{}); err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Fatalf("err = %v, want a timeout from Spec.Timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	a, err = New(Spec{Type: "exec", Value: "./slow.sh", Dir: dir, Weight: 1})
	must(t, err)
	if _, err := a.Check(ctx, &Input{}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want cancellation", err)
	}
}

func TestExecLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"missing", Spec{Type: "exec"}, "missing value"},
		{"pipe without shell", Spec{Type: "exec", Value: "cat | grep x"}, `shell operator "|"`},
		{"redirect without shell", Spec{Type: "exec", Value: "check.py >out"}, `shell operator ">out"`},
		{"unterminated", Spec{Type: "exec", Value: "check 'abc"}, "unterminated ' quote"},
		{"typo key", Spec{Type: "exec", Value: map[string]any{"comand": "x"}}, `unknown key "comand" (did you mean command?)`},
		{"bad timeout", Spec{Type: "exec", Value: map[string]any{"command": "x", "timeout": "soon"}}, "timeout \"soon\" must be a positive duration"},
		{"threshold range", Spec{Type: "exec", Value: "x", Threshold: thr(2)}, "between 0 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadErr(t, tc.spec, tc.want) })
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`python3 check.py --strict`, []string{"python3", "check.py", "--strict"}},
		{`a 'b c' "d e" f\ g`, []string{"a", "b c", "d e", "f g"}},
		{`a "x\"y\\z" '|'`, []string{"a", `x"y\z`, "|"}},
		{`a ''`, []string{"a", ""}},
	} {
		got, err := splitArgs(tc.in)
		if err != nil || strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	got, err := commandArgs(`sh -c echo hi | wc -l`)
	if err != nil || len(got) != 3 || got[2] != "echo hi | wc -l" {
		t.Errorf("unquoted sh -c = %q, %v", got, err)
	}
}
