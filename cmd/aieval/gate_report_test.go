package main

// The gate through the CLI: shards and merge, the HTML report, init and
// validate.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// gateShardSuite has 30 tests: every 5th fails, one is skipped, one repeats.
func gateShardSuite() string {
	var b strings.Builder
	b.WriteString("description: Shards\nconfig: cmp.aiconfig.json\ntests:\n")
	for i := 1; i <= 30; i++ {
		n := strconv.Itoa(i)
		want := "q" + n
		if i%5 == 0 {
			want = "never said"
		}
		b.WriteString("  - name: test " + n + "\n    prompt: answer\n    params: {q: q" + n + "}\n")
		switch i {
		case 7:
			b.WriteString("    skip: not today\n")
		case 8:
			b.WriteString("    repeat: 3\n    pass_rate: 1\n")
		}
		b.WriteString("    assert:\n      - type: equals\n        value: " + want + "\n")
	}
	return b.String()
}

// TestShardsMerge: shards 1/3, 2/3, 3/3 cover every test once, and their
// merge equals a single run's report.
func TestShardsMerge(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "shards.eval.yaml", gateShardSuite())
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	o, single := gateRun(t, c, "--cache-mode", "off", suite)
	if o.code != 1 || single.Summary.Total != 30 || single.Summary.Failed != 6 || single.Summary.Skipped != 1 {
		t.Fatalf("single run: exit %d, %+v\n%s", o.code, single.Summary, o.stderr)
	}

	owner := map[string]int{}
	var files []string
	for i := 1; i <= 3; i++ {
		shard := strconv.Itoa(i) + "/3"
		js := filepath.Join(dir, "s"+strconv.Itoa(i)+".json")
		o := c.run("run", "--no-history", "--cache-mode", "off", "--shard", shard, "--json", js, suite)
		if o.code != 0 && o.code != 1 {
			t.Fatalf("shard %s: exit %d\n%s", shard, o.code, o.stderr)
		}
		res, err := results.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("shard %s: %d tests", shard, len(res.Tests))
		if len(res.Tests) == 0 || res.Summary.Total != len(res.Tests) {
			t.Errorf("shard %s: %d tests, summary %+v", shard, len(res.Tests), res.Summary)
		}
		for _, tr := range res.Tests {
			if prev, dup := owner[tr.ID()]; dup {
				t.Errorf("%s in shards %d and %d", tr.ID(), prev, i)
			}
			owner[tr.ID()] = i
		}
		files = append(files, js)
	}
	for _, tr := range single.Tests {
		if _, ok := owner[tr.ID()]; !ok {
			t.Errorf("%s is in no shard", tr.ID())
		}
	}
	if len(owner) != 30 {
		t.Errorf("shards hold %d tests, want 30", len(owner))
	}

	merged, junit := filepath.Join(dir, "merged.json"), filepath.Join(dir, "merged.xml")
	// Shards in any order merge to the run's order.
	o = c.run("merge", files[2], files[0], files[1], "--json", merged, "--junit", junit)
	if o.code != single.ExitCode() {
		t.Errorf("merge exit %d, want %d like the single run\n%s", o.code, single.ExitCode(), o.stderr)
	}
	m, err := results.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID     string
		Status results.Status
		Score  float64
		Output string
		Rate   string
	}
	rows := func(r *results.Results) []row {
		var out []row
		for _, tr := range r.Tests {
			rate := ""
			if tr.PassRate != nil {
				rate = strconv.Itoa(tr.PassRate.Passed) + "/" + strconv.Itoa(tr.PassRate.Runs)
			}
			out = append(out, row{tr.ID(), tr.Status, tr.Score, tr.Output, rate})
		}
		return out
	}
	if got, want := rows(m), rows(single); !slices.Equal(got, want) {
		t.Errorf("merged tests differ from the single run:\n got %v\nwant %v", got, want)
	}
	counts := func(s results.Summary) [5]int { return [5]int{s.Total, s.Passed, s.Failed, s.Errors, s.Skipped} }
	if counts(m.Summary) != counts(single.Summary) {
		t.Errorf("merged summary %+v, single %+v", m.Summary, single.Summary)
	}
	if len(m.Suites) != 1 || m.Suites[0] != single.Suites[0] {
		t.Errorf("merged suites %+v, single %+v", m.Suites, single.Suites)
	}
	for _, tr := range m.Tests {
		if tr.Shard != "" {
			t.Errorf("%s keeps shard %q after the merge", tr.Name, tr.Shard)
		}
	}
	xmllint(t, junit)

	if o := c.run("merge", files[0], files[0], "--json", merged); o.code != 2 || !strings.Contains(o.stderr, "overlap") {
		t.Errorf("merging a shard twice: exit %d, stderr %q", o.code, o.stderr)
	}
	// Each results file records its shard: 2 of 3 shards (whichever holds
	// the failures) is not the run, and says which one is missing.
	for _, drop := range []int{0, 1, 2} {
		var two []string
		for i, f := range files {
			if i != drop {
				two = append(two, f)
			}
		}
		missing := strconv.Itoa(drop+1) + "/3 missing"
		if o := c.run(append([]string{"merge", "--json", merged}, two...)...); o.code != 2 || !strings.Contains(o.stderr, missing) {
			t.Errorf("merging 2 of 3 shards: exit %d, stderr %q, want %q", o.code, o.stderr, missing)
		}
	}
	if o := c.run("merge", single0(t, dir, c, suite), files[1], files[2]); o.code != 2 || !strings.Contains(o.stderr, "no shard") {
		t.Errorf("merging an unsharded run: exit %d, stderr %q", o.code, o.stderr)
	}
	// Shards of different runs (GitHub run ids) do not merge.
	other := filepath.Join(dir, "other.json")
	og := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "GITHUB_RUN_ID", "42")
	if o := og.run("run", "--no-history", "--cache-mode", "off", "--shard", "1/3", "--json", other, suite); o.code > 1 {
		t.Fatalf("shard of run 42: %+v", o)
	}
	if r, _ := results.ReadFile(other); r == nil || r.RunGroup != "42" || r.Shard == nil || *r.Shard != (results.ShardInfo{Index: 1, Count: 3}) {
		t.Errorf("results of run 42 shard 1/3 record %+v", r)
	}
	if o := c.run("merge", other, files[1], files[2]); o.code != 2 || !strings.Contains(o.stderr, `run "42"`) {
		t.Errorf("merging shards of two runs: exit %d, stderr %q", o.code, o.stderr)
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "a/b", "1"} {
		if o := c.run("run", "--shard", bad, suite); o.code != 2 || !strings.Contains(o.stderr, "--shard") {
			t.Errorf("--shard %s: exit %d, stderr %q", bad, o.code, o.stderr)
		}
	}
}

// single0 writes an unsharded run's results and returns the file.
func single0(t *testing.T, dir string, c *cli, suite string) string {
	t.Helper()
	js := filepath.Join(dir, "unsharded.json")
	if o := c.run("run", "--no-history", "--cache-mode", "off", "--json", js, suite); o.code > 1 {
		t.Fatalf("unsharded run: %+v", o)
	}
	return js
}

// TestHTMLReport: report --html writes one self-contained file: nothing is
// fetched from a network, and it holds every test with the baseline's diff.
func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", strings.Replace(cmpSuite, "name: steady", "name: steady <b>&</b>", 1))
	_, base := cmpRun(t, dir, "base.json", cmpBase)
	_, head := cmpRun(t, dir, "head.json", cmpHead)
	out := filepath.Join(dir, "report", "out.html")
	c := newCLI(t)
	if o := c.run("report", head, "--html", out, "--baseline", base); o.code != 0 {
		t.Fatalf("report: exit %d\n%s", o.code, o.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	remote := regexp.MustCompile(`(?i)(src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|<link[^>]+rel=["']?stylesheet[^>]+href=["']?[^"'#]`)
	if m := remote.FindString(html); m != "" {
		t.Errorf("the report loads something from outside: %q", m)
	}
	for _, want := range []string{"<!DOCTYPE html>", "regresses", "gets fixed", "score drops", "steady &lt;b&gt;&amp;&lt;/b&gt;", "omega", "alpha"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(html, "steady <b>&</b>") {
		t.Error("a test name is written unescaped")
	}
	if o := c.run("report", filepath.Join(dir, "missing.json"), "--html", out); o.code != 2 {
		t.Errorf("report of a missing file: exit %d", o.code)
	}
}

// TestInit: init writes the workflow, the cache directory and a starter
// suite that passes offline; it builds on an aiconfig the repository has,
// and never overwrites without --force.
func TestInit(t *testing.T) {
	t.Run("empty repository", func(t *testing.T) {
		dir := t.TempDir()
		c := newCLI(t)
		o := c.run("init", "--dir", dir)
		if o.code != 0 {
			t.Fatalf("init: exit %d\n%s", o.code, o.stderr)
		}
		for _, f := range []string{".github/workflows/aieval.yml", ".aieval/cache", "prompts/hello.aiconfig.json", "prompts/hello.eval.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("init did not write %s: %v", f, err)
			}
		}
		wf, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/aieval.yml"))
		if string(wf) != workflowTemplate {
			t.Error("the workflow is not the template")
		}
		suite := filepath.Join(dir, "prompts", "hello.eval.yaml")
		if !strings.Contains(o.stdout, "Next: aieval run "+suite) {
			t.Errorf("init does not say what to run next:\n%s", o.stdout)
		}
		if o := c.run("validate", suite, filepath.Join(dir, "prompts", "hello.aiconfig.json")); o.code != 0 {
			t.Errorf("the starter files do not validate: %+v", o)
		}
		o, res := gateRun(t, c, "--offline", suite)
		if o.code != 0 || res.Summary.Passed != 1 {
			t.Errorf("the starter suite offline: exit %d, %+v\n%s%s", o.code, res.Summary, o.stdout, o.stderr)
		}
		// From the repository root, plain 'aieval run' finds it.
		t.Chdir(dir)
		if o := c.run("run", "--no-history", "--offline"); o.code != 0 || !strings.Contains(o.stdout, "hello.aiconfig.json") {
			t.Errorf("aieval run in the new repository: exit %d\n%s%s", o.code, o.stdout, o.stderr)
		}
		if files := gateCacheFiles(t, filepath.Join(dir, ".aieval", "cache")); len(files) != 0 {
			t.Errorf("the echo model was cached: %v", files)
		}

		// Twice: every file is kept, edits included; --force rewrites. The
		// starter aiconfig is now the repository's, so it is used, not
		// rewritten.
		write(t, dir, "prompts/hello.eval.yaml", "# mine\n")
		cfg, _ := os.ReadFile(filepath.Join(dir, "prompts", "hello.aiconfig.json"))
		o = c.run("init", "--dir", dir)
		if o.code != 0 || strings.Count(o.stdout, "kept") != 3 || strings.Contains(o.stdout, "wrote") {
			t.Errorf("second init: exit %d\n%s", o.code, o.stdout)
		}
		if b, _ := os.ReadFile(suite); string(b) != "# mine\n" {
			t.Errorf("second init changed the suite: %q", b)
		}
		if o := c.run("init", "--dir", dir, "--force"); o.code != 0 || strings.Count(o.stdout, "wrote") != 3 {
			t.Errorf("init --force: exit %d\n%s", o.code, o.stdout)
		}
		if b, _ := os.ReadFile(suite); string(b) == "# mine\n" {
			t.Error("init --force kept the edited suite")
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "prompts", "hello.aiconfig.json")); string(b) != string(cfg) {
			t.Error("init changed the aiconfig")
		}
		if o, _ := gateRun(t, c, "--offline", suite); o.code != 0 {
			t.Errorf("the starter suite after init --force: exit %d\n%s", o.code, o.stderr)
		}
	})

	t.Run("repository with an aiconfig", func(t *testing.T) {
		srv := fakeopenai.New()
		defer srv.Close()
		dir := t.TempDir()
		write(t, dir, "llm/gate.aiconfig.json", gateConfig)
		c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
		o := c.run("init", "--dir", dir)
		if o.code != 0 {
			t.Fatalf("init: exit %d\n%s", o.code, o.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "prompts")); err == nil {
			t.Error("init wrote the hello starter although the repository has an aiconfig")
		}
		suite := filepath.Join(dir, "llm", "gate.eval.yaml")
		data, err := os.ReadFile(suite)
		if err != nil {
			t.Fatalf("no starter suite beside the aiconfig: %v\n%s", err, o.stdout)
		}
		for _, want := range []string{"config: gate.aiconfig.json", "prompt: facts"} {
			if !strings.Contains(string(data), want) {
				t.Errorf("starter suite lacks %q:\n%s", want, data)
			}
		}
		cacheDir := filepath.Join(dir, ".aieval", "cache")
		// One smoke test per prompt: facts, pitch (chained on facts, whose
		// answer is shared) and slogan.
		if o, res := gateRun(t, c, suite); o.code != 0 || res.Summary.Passed != 3 || srv.Requests() != 3 {
			t.Errorf("starter suite: exit %d, %+v, %d requests\n%s", o.code, res.Summary, srv.Requests(), o.stderr)
		}
		// The run recorded into the project's cache, so it replays offline.
		if n := len(gateCacheFiles(t, cacheDir)); n != 3 {
			t.Errorf("%d entries in the project cache, want 3", n)
		}
		if o, _ := gateRun(t, c, "--offline", suite); o.code != 0 || srv.Requests() != 3 {
			t.Errorf("offline replay: exit %d, %d requests\n%s", o.code, srv.Requests(), o.stderr)
		}
	})
}

// TestValidateCorpus: every real aiconfig of the corpus validates (warnings
// allowed), except the one shipped upstream with a trailing comma, which
// exits 2 with one line naming FILE:LINE; so do the example suites.
func TestValidateCorpus(t *testing.T) {
	const broken = "cookbooks__RAG-with-MongoDB__rag.aiconfig.json"
	corpus, err := filepath.Glob("../../runtime/testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob("../../examples/*/*.eval.yaml")
	configs, _ := filepath.Glob("../../examples/*/*.aiconfig.json")
	if len(corpus) < 40 || len(examples) < 3 || len(configs) < 3 {
		t.Fatalf("corpus %d files, examples %d suites and %d aiconfigs", len(corpus), len(examples), len(configs))
	}
	c := newCLI(t)
	var all []string
	for _, f := range append(append(corpus, examples...), configs...) {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		all = append(all, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			o := c.run("validate", f)
			if filepath.Base(f) != broken {
				if o.code != 0 || !strings.Contains(o.stdout, "ok  "+f) {
					t.Errorf("exit %d\n%s%s", o.code, o.stdout, o.stderr)
				}
				for _, l := range strings.Split(strings.TrimSpace(o.stderr), "\n") {
					if l != "" && !strings.HasPrefix(l, "warning: ") {
						t.Errorf("stderr line is not a warning: %q", l)
					}
				}
				return
			}
			lines := strings.Split(strings.TrimRight(o.stderr, "\n"), "\n")
			if o.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], f+":8: ") || !strings.Contains(lines[0], "trailing comma") {
				t.Errorf("exit %d, want 2 and one line %s:8: ...; stderr:\n%s", o.code, f, o.stderr)
			}
			if o.stdout != "" {
				t.Errorf("stdout %q for an invalid file", o.stdout)
			}
		})
	}
	// All at once: the one problem, and a count of the files checked.
	o := c.run(append([]string{"validate", "--quiet"}, all...)...)
	var problems []string
	for _, l := range strings.Split(strings.TrimSpace(o.stderr), "\n") {
		if !strings.HasPrefix(l, "warning: ") {
			problems = append(problems, l)
		}
	}
	want := []string{"../../runtime/testdata/corpus/" + broken + ":8: invalid JSON: trailing comma before } (remove the comma)",
		"aieval: 1 of " + strconv.Itoa(len(all)) + " files invalid"}
	if o.code != 2 || !slices.Equal(problems, want) || o.stdout != "" {
		t.Errorf("validate all: exit %d, stdout %q, problems:\n%s", o.code, o.stdout, strings.Join(problems, "\n"))
	}
}
