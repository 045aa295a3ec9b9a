package eval

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// fakeConfig runs on model "fake", mapped by the suite to a fakeopenai
// server that answers with the last user message. Chat context is on (the
// SDK's default), so "base" comes first: its request is the same whatever
// the test's other params.
const fakeConfig = `{
  "name": "fake",
  "schema_version": "latest",
  "metadata": {"models": {"fake": {"model": "fake"}}, "default_model": "fake"},
  "prompts": [
    {"name": "base", "input": "Facts about {{topic}}"},
    {"name": "chain", "input": "Answer {{q}} using {{base.output}}"},
    {"name": "ask", "input": "{{q}}", "metadata": {"remember_chat_context": false}}
  ]
}
`

// fakeSuite writes a suite whose tests (YAML list items) run against url.
func fakeSuite(t testing.TB, url, extra, tests string) *Suite {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"fake.aiconfig.json": fakeConfig,
		"s.eval.yaml": "config: fake.aiconfig.json\nparams: {q: none, topic: none}\n" +
			"models:\n  fake: {base_url: \"" + url + "\", api_key_env: FAKE_KEY}\n" + extra + "tests:\n" + tests,
	})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatalf("LoadSuite: %v", err)
	}
	return s
}

// echoSuite writes a suite on the echo parser.
func echoSuite(t testing.TB, tests string) *Suite {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        "config: trip.aiconfig.json\nparams: {city: NYC}\ntests:\n" + tests,
	})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatalf("LoadSuite: %v", err)
	}
	return s
}

func testOpts(t testing.TB) Options {
	return Options{
		Concurrency: 4,
		CacheMode:   "off",
		Retries:     0,
		SpoolDir:    t.TempDir(),
		Getenv:      func(string) string { return "test-key-not-secret" },
	}
}

// runAll runs suites and reads every test back from the spool.
func runAll(t testing.TB, ctx context.Context, opts Options, suites ...*Suite) (*results.Results, []results.TestResult) {
	t.Helper()
	res, err := Run(ctx, suites, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var tests []results.TestResult
	if err := res.Each(func(tr *results.TestResult) error { tests = append(tests, *tr); return nil }); err != nil {
		t.Fatal(err)
	}
	return res, tests
}

func byName(tests []results.TestResult) map[string]results.TestResult {
	m := make(map[string]results.TestResult, len(tests))
	for _, t := range tests {
		m[t.Name] = t
	}
	return m
}

func TestRunVerdicts(t *testing.T) {
	s := echoSuite(t, `
  - name: pass
    prompt: get_activities
    assert: [{type: contains, value: NYC}]
  - name: fail
    prompt: get_activities
    assert: [{type: contains, value: Paris}]
  - name: weighted pass
    prompt: get_activities
    threshold: 0.7
    assert:
      - {type: contains, value: NYC, weight: 3}
      - {type: contains, value: Paris}
  - name: weighted fail
    prompt: get_activities
    threshold: 0.8
    assert:
      - {type: contains, value: NYC, weight: 3}
      - {type: contains, value: Paris}
  - name: zero weight still gates without threshold
    prompt: get_activities
    assert:
      - {type: contains, value: NYC}
      - {type: contains, value: Paris, weight: 0}
  - name: skipped
    prompt: get_activities
    skip: flaky upstream
  - name: no assertions
    prompt: get_activities
  - name: params override
    prompt: get_activities
    params: {city: Rome}
    assert: [{type: contains, value: Rome}, {type: not-contains, value: NYC}]
  - name: chained
    prompt: gen_itinerary
    params: {order_by: price}
    assert: [{type: contains, value: "ordered by price for: Tell me 10 fun attractions to do in NYC."}]
`)
	obs := &recorder{}
	opts := testOpts(t)
	opts.Observer = obs
	res, tests := runAll(t, context.Background(), opts, s)
	want := []struct {
		name   string
		status results.Status
		score  float64
		reason string
	}{
		{"pass", results.StatusPass, 1, ""},
		{"fail", results.StatusFail, 0, "contains:"},
		{"weighted pass", results.StatusPass, 0.75, ""},
		{"weighted fail", results.StatusFail, 0.75, "score 0.75 is below the test threshold 0.80 (first failed: contains:"},
		{"zero weight still gates without threshold", results.StatusFail, 1, "contains:"},
		{"skipped", results.StatusSkip, 0, "flaky upstream"},
		{"no assertions", results.StatusPass, 1, ""},
		{"params override", results.StatusPass, 1, ""},
		{"chained", results.StatusPass, 1, ""},
	}
	if len(tests) != len(want) {
		t.Fatalf("got %d tests, want %d", len(tests), len(want))
	}
	for i, w := range want {
		got := tests[i] // report order is suite order
		if got.Name != w.name || got.Status != w.status || got.Score != w.score || !strings.HasPrefix(got.Reason, w.reason) {
			t.Errorf("test %d = %q %s score %v reason %q; want %q %s %v %q", i, got.Name, got.Status, got.Score, got.Reason, w.name, w.status, w.score, w.reason)
		}
		if got.Suite != s.Path || got.Config != s.ConfigPath || got.ConfigName != "trip" || got.Line == 0 {
			t.Errorf("test %q identity: %+v", got.Name, got)
		}
	}
	if m := byName(tests)["params override"]; m.Output != "Tell me 10 fun attractions to do in Rome." || m.Input != m.Output || m.Params["city"] != "Rome" {
		t.Errorf("params override: output %q input %q params %v", m.Output, m.Input, m.Params)
	}
	if c := byName(tests)["pass"]; c.Model != "echo" || c.Cost != 0 || c.Tokens.Total == 0 {
		t.Errorf("pass: model %q cost %v tokens %+v", c.Model, c.Cost, c.Tokens)
	}
	sum := res.Summary
	if sum.Total != 9 || sum.Passed != 5 || sum.Failed != 3 || sum.Skipped != 1 || sum.Errors != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if res.ExitCode() != results.ExitFailed || res.RunID == "" || len(res.Suites) != 1 || res.Suites[0].ConfigSHA256 == "" {
		t.Errorf("exit %d run %q suites %+v", res.ExitCode(), res.RunID, res.Suites)
	}
	if obs.total != 9 || len(obs.done) != 9 {
		t.Errorf("observer saw start %d, done %d", obs.total, len(obs.done))
	}
}

type recorder struct {
	mu    sync.Mutex
	total int
	done  []string
}

func (r *recorder) Start(total int) { r.total = total }
func (r *recorder) Done(t *results.TestResult) {
	r.mu.Lock()
	r.done = append(r.done, t.Name)
	r.mu.Unlock()
}

func TestRunRepeatPassRate(t *testing.T) {
	// Each distinct question alternates good and bad answers.
	var mu sync.Mutex
	seen := map[string]int{}
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		mu.Lock()
		defer mu.Unlock()
		q := req.LastUser()
		seen[q]++
		if seen[q]%2 == 0 {
			return "bad"
		}
		return "good " + q
	}))
	defer srv.Close()
	s := fakeSuite(t, srv.URL(), "", `
  - name: half needed
    prompt: ask
    params: {q: a}
    repeat: 10
    pass_rate: 0.5
    assert: [{type: contains, value: good}]
  - name: most needed
    prompt: ask
    params: {q: b}
    repeat: 10
    pass_rate: 0.8
    assert: [{type: contains, value: good}]
  - name: all needed
    prompt: ask
    params: {q: c}
    repeat: 4
    assert: [{type: contains, value: good}]
`)
	_, tests := runAll(t, context.Background(), testOpts(t), s)
	if len(tests) != 3 {
		t.Fatalf("got %d results, want one per test", len(tests))
	}
	m := byName(tests)
	half, most, all := m["half needed"], m["most needed"], m["all needed"]
	if half.Status != results.StatusPass || half.PassRate == nil || half.PassRate.Runs != 10 || half.PassRate.Passed != 5 || half.PassRate.Required != 0.5 {
		t.Errorf("half needed = %s %+v", half.Status, half.PassRate)
	}
	if pr := half.PassRate; pr != nil && (pr.Low > 0.5 || pr.High < 0.5 || pr.Low <= 0 || pr.High >= 1) {
		t.Errorf("Wilson interval %v..%v should hold 0.5", pr.Low, pr.High)
	}
	if half.Output != "bad" || half.Score != 0.5 {
		t.Errorf("a passing repeated test shows its first failing run: output %q score %v", half.Output, half.Score)
	}
	if most.Status != results.StatusFail || !strings.Contains(most.Reason, "passed 5 of 10 runs") || !strings.Contains(most.Reason, "needs 80%") {
		t.Errorf("most needed = %s %q", most.Status, most.Reason)
	}
	if all.Status != results.StatusFail || all.PassRate.Required != 1 {
		t.Errorf("all needed = %s %+v", all.Status, all.PassRate)
	}
	if got := srv.Requests(); got != 24 {
		t.Errorf("server saw %d requests, want 24 (every repeat is its own sample)", got)
	}

	// --repeat overrides the suite's repeat.
	opts := testOpts(t)
	opts.Repeat = 2
	_, tests = runAll(t, context.Background(), opts, s)
	for _, tr := range tests {
		if tr.PassRate == nil || tr.PassRate.Runs != 2 {
			t.Errorf("%s: --repeat 2 gave %+v", tr.Name, tr.PassRate)
		}
	}
}

func TestRunFilterAndShard(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "  - {name: t%02d, prompt: get_activities}\n", i)
	}
	s := echoSuite(t, b.String())

	opts := testOpts(t)
	opts.Filter = regexp.MustCompile(`^t0[0-4]$`)
	_, tests := runAll(t, context.Background(), opts, s)
	if len(tests) != 5 {
		t.Errorf("filter kept %d tests, want 5", len(tests))
	}

	seen := map[string]int{}
	for i := 1; i <= 3; i++ {
		opts := testOpts(t)
		opts.ShardIndex, opts.ShardCount = i, 3
		_, tests := runAll(t, context.Background(), opts, s)
		if len(tests) == 0 || len(tests) == 30 {
			t.Errorf("shard %d/3 has %d tests: the split is degenerate", i, len(tests))
		}
		for _, tr := range tests {
			seen[tr.Name]++
			if tr.Shard != fmt.Sprintf("%d/3", i) {
				t.Errorf("%s: shard %q", tr.Name, tr.Shard)
			}
			if ShardOf(s.Path, tr.Name, 3) != i {
				t.Errorf("%s ran in shard %d, ShardOf says %d", tr.Name, i, ShardOf(s.Path, tr.Name, 3))
			}
		}
	}
	if len(seen) != 30 {
		t.Errorf("shards covered %d tests, want 30", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s ran in %d shards", name, n)
		}
	}
	bad := testOpts(t)
	bad.ShardIndex, bad.ShardCount = 4, 3
	if _, err := Run(context.Background(), []*Suite{s}, bad); err == nil {
		t.Error("shard 4/3: want an error")
	}
}

func TestRunSharesDependencies(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "  - {name: t%d, prompt: chain, params: {q: question%d, topic: cats}}\n", i, i)
	}
	b.WriteString("  - {name: other topic, prompt: chain, params: {q: question0, topic: dogs}}\n")
	s := fakeSuite(t, srv.URL(), "", b.String())
	opts := testOpts(t)
	opts.Concurrency = 8
	res, tests := runAll(t, context.Background(), opts, s)
	if res.Summary.Passed != 21 {
		t.Fatalf("summary = %+v; first: %+v", res.Summary, tests[0])
	}
	// 21 distinct final prompts, 2 distinct dependencies (cats, dogs).
	if got := srv.Requests(); got != 23 {
		t.Errorf("server saw %d requests, want 23: a shared dependency must run once", got)
	}
	if out := byName(tests)["t3"].Output; out != "Answer question3 using Facts about cats" {
		t.Errorf("chained output = %q", out)
	}
}

func TestRunReportOrderIsStable(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithLatency(2e6)) // 2ms
	defer srv.Close()
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "  - {name: t%02d, prompt: ask, params: {q: q%d}, repeat: %d}\n", i, i, 1+i%3)
	}
	s := fakeSuite(t, srv.URL(), "", b.String())
	opts := testOpts(t)
	opts.Concurrency = 16
	_, tests := runAll(t, context.Background(), opts, s)
	if len(tests) != 60 {
		t.Fatalf("got %d tests", len(tests))
	}
	for i, tr := range tests {
		if want := fmt.Sprintf("t%02d", i); tr.Name != want {
			t.Fatalf("position %d holds %s, want %s: reports must follow suite order", i, tr.Name, want)
		}
	}
}

func TestRunConcurrencyBound(t *testing.T) {
	tests := []struct {
		name  string
		conc  int
		tests string
		want  int64
	}{
		{"repeats of one test fill the pool", 8, "  - {name: a, prompt: ask, params: {q: x}, repeat: 8}\n", 8},
		{"never more than the pool", 3, func() string {
			var b strings.Builder
			for i := range 12 {
				fmt.Fprintf(&b, "  - {name: t%d, prompt: ask, params: {q: x%d}}\n", i, i)
			}
			return b.String()
		}(), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeopenai.New(fakeopenai.WithLatency(100e6)) // 100ms
			defer srv.Close()
			s := fakeSuite(t, srv.URL(), "", tt.tests)
			opts := testOpts(t)
			opts.Concurrency = tt.conc
			runAll(t, context.Background(), opts, s)
			if got := srv.MaxInFlight(); got != tt.want {
				t.Errorf("max in flight = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestHelpers: a suite's graders, embedders, moderators and cases-file
// names are made once per model (or file) and are what was made for every
// check before: a structured grader on an OpenAI-compatible endpoint, a
// plain one elsewhere.
func TestHelpers(t *testing.T) {
	s := fakeSuite(t, "http://127.0.0.1:1", "", "  - {name: a, prompt: ask, params: {q: x}, assert: [{type: contains, value: x}]}\n")
	r, err := newRunner([]*Suite{s}, testOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	sr := r.suites[0]
	cases := []struct {
		kind  uint8
		model string
		want  any
	}{
		{helperGrader, "fake", structuredGrader{grader{rt: sr.rt, model: "fake"}}},
		{helperGrader, "echo", grader{rt: sr.rt, model: "echo"}},
		{helperEmbedder, defaultEmbedModel, embedder{rt: sr.rt, model: defaultEmbedModel}},
		{helperEmbedder, "echo", embedder{rt: sr.rt, model: "echo"}},
		{helperModerator, "", moderator{rt: sr.rt}},
		{helperModerator, "fake", moderator{rt: sr.rt, model: "fake"}},
		{helperCasesFile, s.Path, ""},
		{helperCasesFile, "d/../cases.jsonl", "cases.jsonl"},
	}
	for _, c := range cases {
		got := sr.helper(c.kind, c.model)
		if got != c.want {
			t.Errorf("helper %d %q = %#v, want %#v", c.kind, c.model, got, c.want)
		}
		if kept, ok := (*sr.helpers.m.Load())[helperKey{c.kind, c.model}]; !ok || kept != got {
			t.Errorf("helper %d %q not kept for the next check (%#v)", c.kind, c.model, kept)
		}
	}
	if g := r.graderFor(sr, "echo"); g != (grader{rt: sr.rt, model: "echo"}) {
		t.Errorf("graderFor echo = %#v", g)
	}
}
