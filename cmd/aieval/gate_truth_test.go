package main

// Reports that tell the truth, through the CLI: --quiet, wall time beside
// model latency, replayed cost as saved, annotation paths.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

func TestQuietTimesAndSavedCost(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpHead[req.LastUser()] }))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "cmp.eval.yaml", cmpSuite)
	cacheDir := filepath.Join(dir, "cache")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	o, rec := gateRun(t, c, "--cache", cacheDir, suite)
	if o.code != 1 || !strings.Contains(o.stdout, "LATENCY") || !strings.Contains(o.stdout, "wall, ") || !strings.Contains(o.stdout, "model latency summed") {
		t.Errorf("record: exit %d, no labelled wall and model times:\n%s", o.code, o.stdout)
	}
	if rec.Summary.Cost <= 0 || rec.Summary.CostSaved != 0 {
		t.Fatalf("recording run cost %v saved %v, want spent only", rec.Summary.Cost, rec.Summary.CostSaved)
	}
	// The replay spends nothing: the same money is shown as saved.
	o, rep := gateRun(t, c, "--offline", "--cache", cacheDir, suite)
	if rep.Summary.Cost != 0 || rep.Summary.CostSaved != rec.Summary.Cost || !strings.Contains(o.stdout, "$0.0000 spent, $") || !strings.Contains(o.stdout, "saved by replay") {
		t.Errorf("replay cost %v saved %v (recorded %v):\n%s", rep.Summary.Cost, rep.Summary.CostSaved, rec.Summary.Cost, o.stdout)
	}
	// --quiet: the failures and the totals line, no suite table.
	o = c.run("run", "--no-history", "--quiet", "--offline", "--cache", cacheDir, suite)
	if o.code != 1 || strings.Contains(o.stdout, "SUITE") || !strings.Contains(o.stdout, "FAIL ") || !strings.Contains(o.stdout, "FAILED: 4 tests") {
		t.Errorf("--quiet: exit %d\n%s", o.code, o.stdout)
	}
	if lines := strings.Count(strings.TrimSpace(o.stdout), "\n"); lines > 12 {
		t.Errorf("--quiet printed %d lines:\n%s", lines, o.stdout)
	}
}

// TestAnnotationPathsFromTheWorkspace: a run started in a subdirectory
// names its suite relative to $GITHUB_WORKSPACE, so the annotation
// attaches; a file outside the workspace is not named at all.
func TestAnnotationPathsFromTheWorkspace(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpHead[req.LastUser()] }))
	defer srv.Close()
	ws := t.TempDir()
	sub := filepath.Join(ws, "prompts", "cmp")
	write(t, sub, "cmp.aiconfig.json", cmpConfig)
	write(t, sub, "cmp.eval.yaml", cmpSuite)
	t.Chdir(sub)
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", ws)
	o := c.run("run", "--no-history", "--cache-mode", "off", "cmp.eval.yaml")
	want := "::error file=prompts/cmp/cmp.eval.yaml,line=" + strconv.Itoa(gateLineOf(t, cmpSuite, "name: regresses")) + ",title=regresses failed::"
	if o.code != 1 || !strings.Contains(o.stdout, want) {
		t.Errorf("exit %d, no annotation %q in:\n%s", o.code, want, o.stdout)
	}
	other := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "GITHUB_ACTIONS", "true", "GITHUB_WORKSPACE", t.TempDir())
	o = other.run("run", "--no-history", "--cache-mode", "off", "cmp.eval.yaml")
	if !strings.Contains(o.stdout, "::error title=regresses failed::") || strings.Contains(o.stdout, "file=") {
		t.Errorf("a suite outside the workspace is named:\n%s", o.stdout)
	}
}

// TestMissingKeyNamedUpFront: a key that calls need is named at the start
// of run (exit 2, no call made, no retries) and by validate (a warning;
// an error with --strict); prompts replayed from the cache need none.
func TestMissingKeyNamedUpFront(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	hosted := write(t, dir, "hosted.eval.yaml", cmpSuite) // the default endpoint
	c := newCLI(t)
	start := time.Now()
	o := c.run("run", "--no-history", "--cache", filepath.Join(dir, "empty"), hosted)
	want := "OPENAI_API_KEY is not set; needed by 4 tests of " + hosted + " (model gpt-4o-mini)"
	if o.code != 2 || !strings.Contains(o.stderr, want) || time.Since(start) > 2*time.Second {
		t.Errorf("run without a key: exit %d after %v\n%s", o.code, time.Since(start), o.stderr)
	}

	// A suite naming its key: recorded, it replays without the key; with
	// one entry gone, that test's call needs it.
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpBase[req.LastUser()] }))
	defer srv.Close()
	named := write(t, dir, "named.eval.yaml", strings.Replace(cmpSuite, "config: cmp.aiconfig.json\n",
		"config: cmp.aiconfig.json\nmodels: {gpt-4o-mini: {base_url: \""+srv.URL()+"\", api_key_env: MY_KEY}}\n", 1))
	cacheDir := filepath.Join(dir, ".aieval", "cache")
	write(t, cacheDir, ".gitkeep", "")
	if o := newCLI(t, "MY_KEY", "sk-test").run("run", "--no-history", named); o.code != 1 {
		t.Fatalf("record: exit %d\n%s", o.code, o.stderr)
	}
	if o := c.run("run", "--no-history", named); o.code != 1 {
		t.Errorf("replay without the key: exit %d, want 1 (the suite's own failure)\n%s", o.code, o.stderr)
	}
	if o := c.run("validate", named); o.code != 0 || strings.Contains(o.stderr, "MY_KEY") {
		t.Errorf("validate of a recorded suite: exit %d\n%s", o.code, o.stderr)
	}
	files := gateCacheFiles(t, cacheDir)
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	want = "MY_KEY is not set; needed by 1 test of " + named + " (model gpt-4o-mini)"
	if o := c.run("run", "--no-history", named); o.code != 2 || !strings.Contains(o.stderr, want) || srv.Requests() != 4 {
		t.Errorf("run with an entry missing: exit %d, %d requests\n%s", o.code, srv.Requests(), o.stderr)
	}
	if o := c.run("validate", named); o.code != 0 || !strings.Contains(o.stderr, "warning: "+named+": "+want) {
		t.Errorf("validate: exit %d\n%s", o.code, o.stderr)
	}
	if o := c.run("validate", "--strict", named); o.code != 2 || !strings.Contains(o.stderr, want) {
		t.Errorf("validate --strict: exit %d\n%s", o.code, o.stderr)
	}
	if o := newCLI(t, "MY_KEY", "sk-test").run("validate", "--strict", named); o.code != 0 {
		t.Errorf("validate --strict with the key set: exit %d\n%s", o.code, o.stderr)
	}
}
