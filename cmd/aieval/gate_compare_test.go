package main

// The gate through the CLI: compare, baselines (files and git refs),
// pass-rate statistics, stable suite ids and history.

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

const cmpConfig = `{
  "name": "cmp",
  "schema_version": "latest",
  "metadata": {"models": {"gpt-4o-mini": {"model": "gpt-4o-mini"}}, "default_model": "gpt-4o-mini"},
  "prompts": [{"name": "answer", "input": "{{q}}"}]
}`

// cmpSuite: each test asks its own question, so a reply table per run
// decides its verdict.
const cmpSuite = `description: Compare
config: cmp.aiconfig.json
tests:
  - name: regresses
    prompt: answer
    params: {q: one}
    assert:
      - type: icontains
        value: alpha
  - name: gets fixed
    prompt: answer
    params: {q: two}
    assert:
      - type: icontains
        value: beta
  - name: score drops
    prompt: answer
    params: {q: three}
    threshold: 0.5
    assert:
      - {type: icontains, value: red}
      - {type: icontains, value: green}
      - {type: icontains, value: blue}
  - name: steady
    prompt: answer
    params: {q: four}
    assert:
      - type: icontains
        value: four
`

// cmpRun runs the compare suite against a server answering from replies
// (question -> answer) and returns the results file.
func cmpRun(t *testing.T, dir, name string, replies map[string]string, extra ...string) (outcome, string) {
	t.Helper()
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return replies[req.LastUser()] }))
	defer srv.Close()
	js := filepath.Join(dir, name)
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	args := append([]string{"run", "--cache-mode", "off", "--json", js}, extra...)
	if !slices.Contains(extra, "--history") {
		args = append(args, "--no-history")
	}
	o := c.run(append(args, filepath.Join(dir, "cmp.eval.yaml"))...)
	if _, err := os.Stat(js); err != nil {
		t.Fatalf("%s: exit %d, no results\n%s", name, o.code, o.stderr)
	}
	return o, js
}

var (
	cmpBase = map[string]string{"one": "alpha one", "two": "gamma two", "three": "red green blue", "four": "four"}
	// head: one regresses, two is fixed, three loses a colour (1.00 -> 0.67, still a pass).
	cmpHead = map[string]string{"one": "omega one", "two": "beta two", "three": "red green", "four": "four"}
	// calm: the fix and the score drop, no regression.
	cmpCalm = map[string]string{"one": "alpha one", "two": "beta two", "three": "red green", "four": "four"}
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	_, base := cmpRun(t, dir, "base.json", cmpBase)
	_, head := cmpRun(t, dir, "head.json", cmpHead)
	_, calm := cmpRun(t, dir, "calm.json", cmpCalm)

	tests := []struct {
		name, base, head string
		wantCode         int
		want             []string // in stdout, in this order (worst first)
		wantMD           []string // Markdown table rows
	}{
		{
			"regression, fix and score drop", base, head, 1,
			[]string{"1 regression", "REGRESSION  " + filepath.Join(dir, "cmp.eval.yaml") + "::regresses", "pass 1.00 → fail 0.00",
				"::score drops", "pass 1.00 → pass 0.67", "::gets fixed", "fail 0.00 → pass 1.00"},
			[]string{"| test | change | base | head | score Δ |", "::regresses | **regression** | pass 1.00 | fail 0.00 | -1.00 |",
				"::score drops | score drop | pass 1.00 | pass 0.67 | -0.33 |", "::gets fixed | fixed | fail 0.00 | pass 1.00 | +1.00 |"},
		},
		{
			"fix and score drop only", base, calm, 0,
			[]string{"1 score drop, 1 fixed; 2 unchanged", "SCORE DROP", "::score drops", "FIXED", "::gets fixed"},
			[]string{"| test | change | base | head | score Δ |", "| score drop |", "| fixed |"},
		},
		{"identical runs", head, head, 0, []string{"no changes; 4 unchanged"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, js := filepath.Join(t.TempDir(), "cmp.md"), filepath.Join(t.TempDir(), "cmp.json")
			o := newCLI(t).run("compare", tt.base, tt.head, "--markdown", md, "--json", js)
			if o.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s\n%s", o.code, tt.wantCode, o.stdout, o.stderr)
			}
			gateInOrder(t, "stdout", o.stdout, tt.want)
			data, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			gateInOrder(t, "markdown", string(data), tt.wantMD)
			var rep struct {
				Counts map[string]int `json:"counts"`
			}
			raw, _ := os.ReadFile(js)
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatalf("compare --json: %v\n%s", err, raw)
			}
			if got := rep.Counts["regression"]; got != tt.wantCode {
				t.Errorf("compare --json counts %v", rep.Counts)
			}
		})
	}
	if o := newCLI(t).run("compare", base); o.code != 2 {
		t.Errorf("compare with one file: exit %d, want 2", o.code)
	}
	if o := newCLI(t).run("compare", base, filepath.Join(dir, "missing.json")); o.code != 2 || !strings.Contains(o.stderr, "missing.json") {
		t.Errorf("compare with a missing file: %+v", o)
	}
}

// gateInOrder checks that every want string is in s, in this order.
func gateInOrder(t *testing.T, what, s string, want []string) {
	t.Helper()
	rest := s
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: %q missing or out of order in:\n%s", what, w, s)
			return
		}
		rest = rest[i+len(w):]
	}
}

// TestRunBaseline: run --baseline gates on regressions, in the exit code,
// the JSON summary and the console.
func TestRunBaseline(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	_, base := cmpRun(t, dir, "base.json", cmpBase)
	tests := []struct {
		name          string
		replies       map[string]string
		wantCode      int
		wantRegressed int
		want          []string
	}{
		{"regression", cmpHead, 1, 1, []string{"REGRESSION", "::regresses"}},
		{"no regression", cmpCalm, 0, 0, []string{"PASSED: 4 tests", "1 score drop, 1 fixed", "FIXED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, js := cmpRun(t, dir, "head-"+strconv.Itoa(tt.wantCode)+".json", tt.replies, "--baseline", base)
			if o.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s\n%s", o.code, tt.wantCode, o.stdout, o.stderr)
			}
			res, err := results.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			if res.Summary.Regressed != tt.wantRegressed {
				t.Errorf("summary.regressed = %d, want %d", res.Summary.Regressed, tt.wantRegressed)
			}
			gateInOrder(t, "stdout", o.stdout, tt.want)
		})
	}
}

// TestBaselinePassRateRegression: a repeated test whose pass rate falls
// significantly is a regression and exits 1, even though it still meets its
// pass_rate, so every head test passes.
func TestBaselinePassRateRegression(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "flaky.eval.yaml", `config: cmp.aiconfig.json
tests:
  - name: flaky
    prompt: answer
    params: {q: five}
    repeat: 20
    pass_rate: 0.5
    assert:
      - type: icontains
        value: good
`)
	// good answers the first `good` of the 20 samples, bad the rest.
	runWith := func(good int64, extra ...string) (outcome, *results.Results) {
		var n atomic.Int64
		srv := fakeopenai.New(fakeopenai.WithReply(func(fakeopenai.ChatRequest) string {
			if n.Add(1) <= good {
				return "good"
			}
			return "bad"
		}))
		defer srv.Close()
		o, res := gateRun(t, newCLI(t, "OPENAI_BASE_URL", srv.URL()), append([]string{"--cache-mode", "off", suite}, extra...)...)
		if srv.Requests() != 20 {
			t.Errorf("%d requests for 20 repeats", srv.Requests())
		}
		return o, res
	}
	o, base := runWith(20)
	if o.code != 0 || base.Tests[0].PassRate == nil || base.Tests[0].PassRate.Passed != 20 {
		t.Fatalf("base: exit %d, %+v\n%s", o.code, base.Tests[0].PassRate, o.stderr)
	}
	baseFile := filepath.Join(dir, "base.json")
	raw, _ := json.Marshal(base)
	write(t, dir, "base.json", string(raw))

	tests := []struct {
		name     string
		good     int64
		wantCode int
		want     string
	}{
		// 20/20 [84–100%] vs 11/20 [34–74%]: disjoint.
		{"significant drop", 11, 1, "95% intervals do not overlap"},
		// 20/20 vs 18/20 [70–97%]: overlapping, noise.
		{"within noise", 18, 0, "within noise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, head := runWith(tt.good, "--baseline", baseFile)
			if head.Summary.Passed != 1 {
				t.Errorf("head test does not pass: %+v", head.Tests[0])
			}
			if o.code != tt.wantCode || head.Summary.Regressed != tt.wantCode {
				t.Errorf("exit %d, regressed %d; want %d\n%s", o.code, head.Summary.Regressed, tt.wantCode, o.stdout)
			}
			if !strings.Contains(o.stdout, tt.want) {
				t.Errorf("stdout does not say %q:\n%s", tt.want, o.stdout)
			}
		})
	}
}

// gateGit runs git in dir with a fixed identity, failing the test on error.
func gateGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestBaselineRef: in a repository with a committed cache, a branch that
// changes a prompt is compared with main's suites replayed from the cache:
// only the changed prompts call the model, and the comparison names the
// tests they broke.
func TestBaselineRef(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
	defer srv.Close()
	dir, _ := gateProject(t)
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	gateGit(t, dir, "init", "-q", "-b", "main")
	write(t, dir, ".aieval/cache/.gitkeep", "")
	t.Chdir(dir)
	if o := c.run("run", "--no-history", "gate.eval.yaml"); o.code != 0 {
		t.Fatalf("record: exit %d\n%s", o.code, o.stderr)
	}
	if n := len(gateCacheFiles(t, filepath.Join(dir, ".aieval", "cache"))); n != 6 {
		t.Fatalf("the default cache .aieval/cache has %d entries, want 6", n)
	}
	gateGit(t, dir, "add", "-A")
	gateGit(t, dir, "commit", "-q", "-m", "suite and recorded cache")
	gateGit(t, dir, "checkout", "-q", "-b", "coffee")
	write(t, dir, "gate.aiconfig.json", strings.Replace(gateConfig, "List facts about {{item}}.", "List facts about coffee.", 1))
	gateGit(t, dir, "commit", "-q", "-am", "facts about coffee")

	recorded := srv.Requests()
	o, res := gateRun(t, c, "--baseline-ref", "main", "--cache-mode", "read-only", "gate.eval.yaml")
	if o.code != 1 {
		t.Errorf("exit %d, want 1 (regressions)\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	// Head calls the model for facts and pitch only; main replays entirely.
	if n := srv.Requests() - recorded; n != 2 {
		t.Errorf("%d model calls, want 2 (the changed prompt and its dependent)", n)
	}
	if res.Summary.Regressed != 2 {
		t.Errorf("summary.regressed = %d, want 2", res.Summary.Regressed)
	}
	for _, name := range []string{"gate.eval.yaml::facts mention tea", "gate.eval.yaml::pitch uses the facts"} {
		if !strings.Contains(o.stdout, "REGRESSION  "+name) {
			t.Errorf("comparison does not name %s:\n%s", name, o.stdout)
		}
	}
	if strings.Contains(o.stdout, "::slogan") {
		t.Errorf("unchanged slogan tests listed in the comparison:\n%s", o.stdout)
	}
	if res.GitRef != "coffee" || len(res.GitSHA) != 40 {
		t.Errorf("results git ref %q sha %q", res.GitRef, res.GitSHA)
	}
	if wt := gateGit(t, dir, "worktree", "list"); strings.Count(wt, "\n") != 0 {
		t.Errorf("the baseline worktree was left behind:\n%s", wt)
	}
	if st := gateGit(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("the run changed the checkout:\n%s", st)
	}
	if o := c.run("run", "--no-history", "--baseline-ref", "no-such-ref", "gate.eval.yaml"); o.code != 2 || !strings.Contains(o.stderr, "no-such-ref") {
		t.Errorf("unknown ref: exit %d, stderr %q", o.code, o.stderr)
	}
}

// TestHistory: several recorded runs show with their pass rates, one test's
// trend shows per run, and deleting the database loses nothing else.
func TestHistory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	db := filepath.Join(dir, ".aieval", "history.db")
	runs := []struct {
		replies map[string]string
		rate    string
	}{
		{cmpBase, "75.0%"},            // gets fixed fails
		{map[string]string{}, "0.0%"}, // every answer empty
		{cmpCalm, "100.0%"},           // all pass
	}
	for i, r := range runs {
		_, js := cmpRun(t, dir, "run"+strconv.Itoa(i)+".json", r.replies, "--history", db)
		if _, err := os.Stat(js); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("--history wrote no database: %v", err)
	}
	c := newCLI(t)
	o := c.run("history", "--db", db)
	if o.code != 0 {
		t.Fatalf("history: exit %d\n%s", o.code, o.stderr)
	}
	lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "PASS RATE") {
		t.Fatalf("want a header and 3 runs:\n%s", o.stdout)
	}
	for i, r := range runs {
		if f := strings.Fields(lines[i+1]); f[0] != strconv.Itoa(i+1) || !slices.Contains(f, r.rate) {
			t.Errorf("run %d: want pass rate %s in %q", i+1, r.rate, lines[i+1])
		}
	}

	trends := []struct {
		test string
		want []string // status of runs 1..3
	}{
		{"regresses", []string{"pass", "fail", "pass"}},
		{"gets fixed", []string{"fail", "fail", "pass"}},
		{filepath.Join(dir, "cmp.eval.yaml") + "::steady", []string{"pass", "fail", "pass"}}, // suite::name
	}
	for _, tt := range trends {
		t.Run(filepath.Base(tt.test), func(t *testing.T) {
			o := c.run("history", "--db", db, "--test", tt.test)
			lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
			if o.code != 0 || len(lines) != 4 {
				t.Fatalf("exit %d, want a header and 3 rows:\n%s%s", o.code, o.stdout, o.stderr)
			}
			for i, st := range tt.want {
				if !slices.Contains(strings.Fields(lines[i+1]), st) {
					t.Errorf("run %d: want %s in %q", i+1, st, lines[i+1])
				}
			}
		})
	}
	if o := c.run("history", "--db", db, "--test", "no such test"); o.code != 0 || !strings.Contains(o.stdout, "no recorded run") {
		t.Errorf("unknown test: %+v", o)
	}

	// The project's .aieval/history.db is found without --db, and runs
	// record there by default once it exists.
	t.Chdir(dir)
	if o := c.run("history"); o.code != 0 || strings.Count(o.stdout, "\n") != 4 {
		t.Errorf("history without --db: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}

	// Deleting the database loses nothing else: results files, suites and
	// the next run are untouched, and the next run starts a new history.
	before := gateListTree(t, dir)
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	if o := c.run("history"); o.code != 2 || !strings.Contains(o.stderr, "history.db") {
		t.Errorf("history with no database: exit %d, stderr %q", o.code, o.stderr)
	}
	cmpRun(t, dir, "run3.json", cmpCalm, "--history", db)
	o = c.run("history", "--db", db)
	if lines := strings.Split(strings.TrimSpace(o.stdout), "\n"); o.code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "100.0%") {
		t.Errorf("history after deleting the database: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	after := gateListTree(t, dir)
	for _, f := range before {
		if !slices.Contains(after, f) && !strings.HasPrefix(f, db) {
			t.Errorf("%s was lost with the database", f)
		}
	}
}

// gateListTree lists the files below dir.
func gateListTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestSuiteSpellings: a suite named ./x, x, or by its absolute path is one
// suite, so a baseline made with one spelling matches a run with another
// (before, every test showed as removed and new, and nothing regressed).
func TestSuiteSpellings(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	write(t, dir, "sub/.keep", "")
	t.Chdir(dir)
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpBase[req.LastUser()] }))
	defer srv.Close()
	_, base := gateRun(t, newCLI(t, "OPENAI_BASE_URL", srv.URL()), "--cache-mode", "off", "./cmp.eval.yaml")
	if base.Tests[0].Suite != "cmp.eval.yaml" {
		t.Errorf("suite id %q, want cmp.eval.yaml", base.Tests[0].Suite)
	}
	raw, _ := json.Marshal(base)
	write(t, dir, "base.json", string(raw))
	head := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpHead[req.LastUser()] }))
	defer head.Close()
	for _, spelling := range []string{"cmp.eval.yaml", filepath.Join(dir, "cmp.eval.yaml"), "./sub/../cmp.eval.yaml"} {
		t.Run(spelling, func(t *testing.T) {
			o, res := gateRun(t, newCLI(t, "OPENAI_BASE_URL", head.URL()), "--cache-mode", "off", "--baseline", "base.json", spelling)
			if o.code != 1 || res.Summary.Regressed != 1 || strings.Contains(o.stdout, "NEW") {
				t.Errorf("exit %d, regressed %d\n%s", o.code, res.Summary.Regressed, o.stdout)
			}
		})
	}
}

// TestBaselineRefReadsTheRefsCache: the baseline replays the cache as
// committed at the ref, so pruning the base's entries on the branch does
// not hide a regression (before, the base called a model that by then
// answered otherwise, and "fail → fail" showed nothing). With the base's
// entries missing at the ref too, the base is unavailable: exit 3,
// baseline_errors counted, and the action fails under fail-on: regression.
func TestBaselineRefReadsTheRefsCache(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	// The action script and binary, read before the test leaves the repo.
	script, runner := gateActionScript(t, "Run suites"), ""
	if _, err := exec.LookPath("bash"); err == nil && !testing.Short() {
		runner = gateBuildAieval(t)
	}
	var moved atomic.Bool // the live model no longer answers as recorded
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		if moved.Load() {
			return "no idea"
		}
		return gateGradingReply(req)
	}))
	defer srv.Close()
	dir, _ := gateProject(t)
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	gateGit(t, dir, "init", "-q", "-b", "main")
	write(t, dir, ".gitignore", "results.json\n")
	gateGit(t, dir, "add", "-A")
	gateGit(t, dir, "commit", "-q", "-m", "suite, no cache yet")
	gateGit(t, dir, "tag", "nocache")
	write(t, dir, ".aieval/cache/.gitkeep", "")
	t.Chdir(dir)
	if o := c.run("run", "--no-history", "gate.eval.yaml"); o.code != 0 {
		t.Fatalf("record: exit %d\n%s", o.code, o.stderr)
	}
	gateGit(t, dir, "add", "-A")
	gateGit(t, dir, "commit", "-q", "-m", "recorded cache")
	gateGit(t, dir, "checkout", "-q", "-b", "coffee")
	write(t, dir, "gate.aiconfig.json", strings.Replace(gateConfig, "List facts about {{item}}.", "List facts about coffee.", 1))
	gateGit(t, dir, "commit", "-q", "-am", "facts about coffee")
	moved.Store(true)
	cacheDir := filepath.Join(dir, ".aieval", "cache")

	// prune keeps what the default branch's suites use, and says so.
	o := c.run("cache", "prune", "gate.eval.yaml")
	if o.code != 0 || !strings.Contains(o.stdout, "removed 0 unused") || !strings.Contains(o.stdout, "2 more used by the suites at main") {
		t.Errorf("prune on the branch: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if n := len(gateCacheFiles(t, cacheDir)); n != 6 {
		t.Errorf("prune on the branch left %d entries, want main's 6", n)
	}
	// Told to keep only the branch's, it drops main's facts and pitch.
	o = c.run("cache", "prune", "--keep-ref", "none", "gate.eval.yaml")
	if o.code != 0 || !strings.Contains(o.stdout, "removed 2 unused") {
		t.Fatalf("prune --keep-ref none: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}

	o, res := gateRun(t, c, "--baseline-ref", "main", "--cache-mode", "read-only", "gate.eval.yaml")
	if o.code != 1 || res.Summary.Regressed != 2 || res.Summary.BaselineErrors != 0 {
		t.Errorf("baseline at main with the branch pruned: exit %d, regressed %d, baseline errors %d; want 1, 2, 0\n%s\n%s",
			o.code, res.Summary.Regressed, res.Summary.BaselineErrors, o.stdout, o.stderr)
	}

	// At nocache the base's entries are nowhere: the base is unavailable.
	o, res = gateRun(t, c, "--baseline-ref", "nocache", "--cache-mode", "read-only", "gate.eval.yaml")
	if o.code != 3 || res.Summary.BaselineErrors != 2 {
		t.Errorf("baseline with no entries: exit %d, baseline errors %d; want 3, 2\n%s\n%s", o.code, res.Summary.BaselineErrors, o.stdout, o.stderr)
	}
	for _, want := range []string{"2 baseline unavailable", "BASELINE UNAVAILABLE  gate.eval.yaml::facts mention tea", "no cached output"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("the comparison does not say %q:\n%s", want, o.stdout)
		}
	}

	// The action's step fails under fail-on: regression.
	if runner == "" {
		t.Skip("bash not installed")
	}
	summary, output := filepath.Join(t.TempDir(), "summary.md"), filepath.Join(t.TempDir(), "output.txt")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(gateCleanEnv(),
		"GITHUB_ACTIONS=true", "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary,
		"RUNNER_TEMP="+runner, "SUITES=gate.eval.yaml", "CACHE_DIR=", "CACHE_MODE=read-only",
		"OFFLINE=false", "BASELINE_REF=nocache", "FAIL_ON=regression", "EXTRA_ARGS=--no-history",
		"OUT="+filepath.Join(t.TempDir(), "out"), "OPENAI_BASE_URL="+srv.URL(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("action step under fail-on regression: %v, want exit 3\n%s", err, out)
	}
	if outputs, _ := os.ReadFile(output); !slices.Contains(strings.Split(string(outputs), "\n"), "baseline_errors=2") {
		t.Errorf("GITHUB_OUTPUT lacks baseline_errors=2:\n%s", outputs)
	}
}

// TestStatusFlipIsARegression: a repeat: 3 test going 3/3 → 0/3 fails its
// own verdict, so it is a regression though the Wilson intervals overlap
// (before: "WITHIN NOISE", exit 0); and a base that errored is "baseline
// unavailable", exit 3, never a fix.
func TestStatusFlipIsARegression(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "three.eval.yaml", `config: cmp.aiconfig.json
tests:
  - name: thrice
    prompt: answer
    params: {q: six}
    repeat: 3
    assert:
      - type: icontains
        value: good
`)
	run := func(name, reply string, extra ...string) string {
		srv := fakeopenai.New(fakeopenai.WithReply(func(fakeopenai.ChatRequest) string { return reply }))
		defer srv.Close()
		js := filepath.Join(dir, name)
		newCLI(t, "OPENAI_BASE_URL", srv.URL()).run(append([]string{"run", "--no-history", "--cache-mode", "off", "--json", js}, append(extra, suite)...)...)
		return js
	}
	base, head := run("base.json", "good"), run("head.json", "bad")
	o := newCLI(t).run("compare", base, head)
	if o.code != 1 || !strings.Contains(o.stdout, "REGRESSION") || !strings.Contains(o.stdout, "3/3") || !strings.Contains(o.stdout, "status went pass → fail") {
		t.Errorf("compare 3/3 → 0/3: exit %d\n%s", o.code, o.stdout)
	}
	// A base that could not be evaluated (server down) is no pass.
	down := fakeopenai.New()
	url := down.URL()
	down.Close()
	broken := filepath.Join(dir, "broken.json")
	newCLI(t, "OPENAI_BASE_URL", url).run("run", "--no-history", "--cache-mode", "off", "--retries", "0", "--json", broken, suite)
	js := filepath.Join(dir, "cmp.json")
	o = newCLI(t).run("compare", broken, run("good.json", "good"), "--json", js)
	if o.code != 3 || !strings.Contains(o.stdout, "BASELINE UNAVAILABLE") || strings.Contains(o.stdout, "FIXED") {
		t.Errorf("compare from an errored base: exit %d\n%s", o.code, o.stdout)
	}
	var rep struct {
		BaselineErrors int `json:"baseline_errors"`
	}
	raw, _ := os.ReadFile(js)
	if err := json.Unmarshal(raw, &rep); err != nil || rep.BaselineErrors != 1 {
		t.Errorf("compare --json baseline_errors %d (%v)\n%s", rep.BaselineErrors, err, raw)
	}
}
