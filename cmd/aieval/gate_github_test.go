package main

// The gate through the CLI: GitHub annotations, step summary and outputs,
// the composite action's scripts run locally, and the workflows linted.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"gopkg.in/yaml.v3"
)

// gateLineOf is the 1-based line of the first line of s containing sub.
func gateLineOf(t *testing.T, s, sub string) int {
	t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%q not found", sub)
	return 0
}

// TestGitHubActions: under GITHUB_ACTIONS=true a run annotates failures at
// their suite line, appends the Markdown summary (and the comparison) to
// the step summary, and sets the step outputs.
func TestGitHubActions(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "cmp.eval.yaml", cmpSuite)
	_, base := cmpRun(t, dir, "base.json", cmpBase)
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpHead[req.LastUser()] }))
	defer srv.Close()
	summary, output := filepath.Join(dir, "summary.md"), filepath.Join(dir, "output.txt")
	write(t, dir, "summary.md", "# earlier step\n")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "GITHUB_ACTIONS", "true",
		"GITHUB_STEP_SUMMARY", summary, "GITHUB_OUTPUT", output)
	junit, js := filepath.Join(dir, "out", "junit.xml"), filepath.Join(dir, "out", "results.json")
	o := c.run("run", "--no-history", "--cache-mode", "off", "--junit", junit, "--json", js, "--baseline", base, suite)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	want := "::error file=" + suite + ",line=" + strconv.Itoa(gateLineOf(t, cmpSuite, "name: regresses")) + ",title=regresses failed::"
	if !strings.Contains(o.stdout, want) {
		t.Errorf("no annotation %q in:\n%s", want, o.stdout)
	}
	if n := strings.Count(o.stdout, "::error "); n != 1 {
		t.Errorf("%d annotations, want 1 (one failed test)", n)
	}
	md, _ := os.ReadFile(summary)
	gateInOrder(t, "step summary", string(md), []string{"# earlier step\n", "| ", "regresses", "## aieval compare", "| test | change |", "**regression**"})
	out, _ := os.ReadFile(output)
	for _, line := range []string{"total=4", "passed=3", "failed=1", "errors=0", "regressed=1", "baseline_errors=0", "exit-code=1", "junit=" + junit, "json=" + js} {
		if !slices.Contains(strings.Split(string(out), "\n"), line) {
			t.Errorf("GITHUB_OUTPUT has no line %q:\n%s", line, out)
		}
	}

	// Outside GitHub Actions none of this happens.
	plain := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "GITHUB_STEP_SUMMARY", summary, "GITHUB_OUTPUT", output)
	before, _ := os.ReadFile(summary)
	o = plain.run("run", "--no-history", "--cache-mode", "off", suite)
	after, _ := os.ReadFile(summary)
	if strings.Contains(o.stdout, "::error") || len(after) != len(before) {
		t.Errorf("GitHub output without GITHUB_ACTIONS=true:\n%s", o.stdout)
	}
}

// gateBuildAieval runs the action's own "Install aieval" step with no
// release ref, so it builds from source into RUNNER_TEMP, and returns that
// RUNNER_TEMP.
func gateBuildAieval(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", gateActionScript(t, "Install aieval"))
	cmd.Env = append(gateCleanEnv(), "GITHUB_ACTION_PATH="+root, "RUNNER_TEMP="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the action's build step: %v\n%s", err, out)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); !strings.HasPrefix(lines[len(lines)-1], "aieval ") {
		t.Errorf("the build step's version line: %q", out)
	}
	return dir
}

// gateActionScript extracts the run: block of the composite action's step.
func gateActionScript(t *testing.T, step string) string {
	t.Helper()
	for _, s := range gateActionSteps(t) {
		if s.Name == step {
			if s.Shell != "bash" {
				t.Fatalf("step %q runs in %q, want bash", step, s.Shell)
			}
			return s.Run
		}
	}
	t.Fatalf("action.yml has no step %q", step)
	return ""
}

type gateActionStep struct{ Name, Run, Shell string }

func gateActionSteps(t *testing.T) []gateActionStep {
	t.Helper()
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Runs struct {
			Using string
			Steps []gateActionStep
		}
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" {
		t.Fatalf("action.yml runs using %q, want composite", action.Runs.Using)
	}
	return action.Runs.Steps
}

// TestActionShellcheck: actionlint does not look inside a composite
// action's scripts, so shellcheck them here when it is installed.
func TestActionShellcheck(t *testing.T) {
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed")
	}
	for _, s := range gateActionSteps(t) {
		if s.Run == "" {
			continue
		}
		cmd := exec.Command(bin, "--shell=bash", "-")
		cmd.Stdin = strings.NewReader(s.Run)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck of step %q: %v\n%s", s.Name, err, out)
		}
	}
}

// TestActionRunScript runs the composite action's "Run suites" script as
// GitHub would (bash -eo pipefail) with the built binary, and checks what
// fails the step for each fail-on and the reports it leaves.
func TestActionRunScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	script := gateActionScript(t, "Run suites")
	runner := gateBuildAieval(t)
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		if r, ok := cmpHead[req.LastUser()]; ok && strings.Contains(req.LastUser(), "regress") {
			return r
		}
		return cmpCalm[req.LastUser()]
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		replies    string // head replies: "head" (a regression and its failure), "base" (a failure, no regression), "calm" (all pass)
		offline    string
		cacheMode  string
		baseline   bool
		failOn     string
		wantStep   int // the step's exit code
		wantAieval string
	}{
		{"failure fails on failure", "base", "false", "off", false, "failure", 1, "1"},
		{"failure passes on regression", "base", "false", "off", false, "regression", 0, "1"},
		{"failure passes on never", "base", "false", "off", false, "never", 0, "1"},
		{"regression fails on regression", "head", "false", "off", true, "regression", 1, "1"},
		{"regression fails on failure", "head", "false", "off", true, "failure", 1, "1"},
		{"regression passes on never", "head", "false", "off", true, "never", 0, "1"},
		{"all pass", "calm", "false", "off", true, "failure", 0, "0"},
		{"offline replay", "calm", "true", "read-only", false, "failure", 0, "0"},
		{"bad input fails even on never", "calm", "true", "off", false, "never", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "cmp.aiconfig.json", cmpConfig)
			write(t, dir, "cmp.eval.yaml", cmpSuite)
			t.Chdir(dir) // the baseline's suite ids match the step's, as in a checkout
			_, base := cmpRun(t, dir, "base.json", cmpBase)
			replies := map[string]map[string]string{"head": cmpHead, "base": cmpBase, "calm": cmpCalm}[tt.replies]
			cacheDir := filepath.Join(dir, ".aieval", "cache")
			// The live server answers with the scenario's replies; it also
			// records the offline case's cache (the endpoint is in the key).
			live := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return replies[req.LastUser()] }))
			defer live.Close()
			var recorded int64
			if tt.offline == "true" {
				o := newCLI(t, "OPENAI_BASE_URL", live.URL()).run("run", "--no-history", "--cache", cacheDir, filepath.Join(dir, "cmp.eval.yaml"))
				if o.code != 0 {
					t.Fatalf("record: %+v", o)
				}
				recorded = live.Requests()
			}
			extra := "--concurrency 2"
			if tt.baseline {
				extra += " --baseline " + base
			}
			summary, output := filepath.Join(dir, "summary.md"), filepath.Join(dir, "output.txt")
			cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(gateCleanEnv(),
				"GITHUB_ACTIONS=true", "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary,
				"RUNNER_TEMP="+runner, "SUITES=cmp.eval.yaml", "CACHE_DIR=", "CACHE_MODE="+tt.cacheMode,
				"OFFLINE="+tt.offline, "BASELINE_REF=", "FAIL_ON="+tt.failOn, "EXTRA_ARGS="+extra,
				"OUT=aieval-results", "OPENAI_BASE_URL="+live.URL(), "XDG_CACHE_HOME="+filepath.Join(dir, "xdg"))
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantStep {
				t.Errorf("step exit %d, want %d\n%s", code, tt.wantStep, out)
			}
			if tt.offline == "true" && live.Requests() != recorded {
				t.Errorf("offline step made %d requests", live.Requests()-recorded)
			}
			outputs, _ := os.ReadFile(output)
			if tt.wantAieval == "" {
				if len(outputs) != 0 {
					t.Errorf("invalid input still set outputs:\n%s", outputs)
				}
				return
			}
			lines := strings.Split(string(outputs), "\n")
			for _, want := range []string{"exit-code=" + tt.wantAieval, "junit=aieval-results/junit.xml", "json=aieval-results/results.json"} {
				if !slices.Contains(lines, want) {
					t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, outputs)
				}
			}
			for _, f := range []string{"junit.xml", "results.json", "report.html"} {
				if fi, err := os.Stat(filepath.Join(dir, "aieval-results", f)); err != nil || fi.Size() == 0 {
					t.Errorf("report %s not written: %v", f, err)
				}
			}
			if md, _ := os.ReadFile(summary); !strings.Contains(string(md), "| ") {
				t.Errorf("no Markdown table in the step summary:\n%s", md)
			}
			if tt.wantAieval == "1" && !strings.Contains(string(out), "::error file=cmp.eval.yaml,line=") {
				t.Errorf("no annotation in the step's output:\n%s", out)
			}
		})
	}
}

// gateCleanEnv is the test's environment without what would steer aieval or
// pretend to be GitHub.
func gateCleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "AIEVAL_") || strings.HasPrefix(k, "OPENAI_") || k == "RUNNER_TEMP" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestActionlint lints aieval's workflows, the example workflow and the one
// aieval init writes (actionlint also reads action.yml, used as ./ by ci).
func TestActionlint(t *testing.T) {
	bin, err := exec.LookPath("actionlint")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "actionlint")
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("actionlint is required in CI (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)")
			}
			t.Skip("actionlint not installed")
		}
	}
	files, _ := filepath.Glob("../../.github/workflows/*.yml")
	examples, _ := filepath.Glob("../../examples/workflows/*.yml")
	files = append(append(files, examples...), "templates/workflow.yml")
	if len(files) < 3 {
		t.Fatalf("workflows missing: %v", files)
	}
	cmd := exec.Command(bin, files...)
	cmd.Dir = "." // actionlint finds the repository (and ./action.yml) from here
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint %v: %v\n%s", files, err, out)
	}
	example, _ := os.ReadFile("../../examples/workflows/aieval.yml")
	if string(example) != workflowTemplate {
		t.Error("examples/workflows/aieval.yml and the workflow aieval init writes differ")
	}
}
