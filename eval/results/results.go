// Package results is the run record: what happened to every test of a run,
// its totals, the exit code they imply, the spool format large runs stream
// to disk, merging shards, and the statistics verdicts rest on. The runner
// produces it; reporters, compare and history only read it. It imports no
// rendering code.
package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/internal/text"
)

// Status of one test.
type Status string

const (
	StatusPass  Status = "pass"
	StatusFail  Status = "fail"
	StatusError Status = "error"
	StatusSkip  Status = "skip"
)

// AssertionResult is one assertion's verdict.
type AssertionResult struct {
	Type   string  `json:"type"`
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Reason string  `json:"reason"`
	Weight float64 `json:"weight,omitempty"`
	Metric string  `json:"metric,omitempty"`
	Diff   string  `json:"diff,omitempty"`
	Error  bool    `json:"error,omitempty"` // could not evaluate
	Line   int     `json:"line,omitempty"`  // line of the assertion in the suite
	// Transformed is what this assertion scored when it has its own
	// transform: (nil otherwise).
	Transformed *string `json:"transformed,omitempty"`
}

// Tokens used by a test's model call(s).
type Tokens struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
	Total      int `json:"total"`
}

// PassRate summarises a repeated test (repeat: N).
type PassRate struct {
	Runs     int     `json:"runs"`
	Passed   int     `json:"passed"`
	Errors   int     `json:"errors,omitempty"`
	Rate     float64 `json:"rate"`
	Low      float64 `json:"low"`  // 95% Wilson interval
	High     float64 `json:"high"` // 95% Wilson interval
	Required float64 `json:"required"`
	// PassAtK is the chance that at least one of K runs drawn from these
	// passes, PassHatK that all K do (pass@k and pass^k, unbiased
	// estimators over the runs); K defaults to Runs.
	K        int     `json:"k,omitempty"`
	PassAtK  float64 `json:"pass_at_k"`
	PassHatK float64 `json:"pass_hat_k"`
}

// TestResult is one test of one suite.
type TestResult struct {
	Suite      string         `json:"suite"`            // suite file path, as given
	Name       string         `json:"name"`             // unique within the suite
	Line       int            `json:"line,omitempty"`   // line of the test in the suite
	Config     string         `json:"config"`           // aiconfig path
	ConfigName string         `json:"config_name"`      // aiconfig name
	Prompt     string         `json:"prompt"`           // prompt name
	Params     map[string]any `json:"params,omitempty"` // resolved params
	Input      string         `json:"input,omitempty"`  // resolved prompt text
	Output     string         `json:"output"`
	// Transform and Transformed: the test's transform (as written) and
	// the output it made, which every assertion scored; Output stays raw.
	Transform   string  `json:"transform,omitempty"`
	Transformed *string `json:"transformed,omitempty"`
	// Refusal: the model declined; Output is its explanation.
	Refusal bool `json:"refusal,omitempty"`
	// ToolCalls are the tool calls the model made, as the API gave them
	// (Output holds their JSON when the reply had no text).
	ToolCalls json.RawMessage `json:"tool_calls,omitempty"`
	// FinishReason is why the model stopped: stop, length, tool_calls,
	// content_filter.
	FinishReason string            `json:"finish_reason,omitempty"`
	Model        string            `json:"model,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	LatencyMS    float64           `json:"latency_ms"`
	Tokens       Tokens            `json:"tokens"`
	Cost         float64           `json:"cost"`
	Cached       bool              `json:"cached"`
	Status       Status            `json:"status"`
	Score        float64           `json:"score"`
	Threshold    *float64          `json:"threshold,omitempty"`
	Reason       string            `json:"reason,omitempty"` // error, skip reason, or first failed assertion's reason
	Assertions   []AssertionResult `json:"assertions"`
	PassRate     *PassRate         `json:"pass_rate,omitempty"`
	Shard        string            `json:"shard,omitempty"`
	// Matrix is the model of a matrix test (suite or test `matrix:`), as
	// listed there; Name then ends in " [model]", so the identity, JUnit
	// names and comparisons are per test x model. "" outside a matrix.
	Matrix string `json:"matrix,omitempty"`
	// MetricScores holds, for a repeated test, every run's scores per
	// metric name (the Assertions are those of one run only), so metric
	// statistics count every repeat.
	MetricScores map[string][]float64 `json:"metric_scores,omitempty"`

	// Request is the full request sent (system prompt, chat context,
	// settings); nil when no model was called.
	Request *Request `json:"request,omitempty"`

	// File and FileLine are where a test written in a cases file
	// (file://cases.csv) is: that file and its line. Empty for a test
	// written in the suite itself (then Suite and Line say where).
	File     string `json:"file,omitempty"`
	FileLine int    `json:"file_line,omitempty"`
}

// Where is the file and line a test is written at: its cases file's
// row, else its suite's line.
func (t *TestResult) Where() (file string, line int) {
	if t.File != "" {
		return t.File, t.FileLine
	}
	return t.Suite, t.Line
}

// Request is what a test sent its model: every message of the chat (system
// prompt, context, the user turn) and the API settings, so a reader of the
// record sees the whole request, not only the last user message. Message
// contents are capped like outputs in reports.
type Request struct {
	Messages []Message      `json:"messages,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
}

// Message is one chat turn of a Request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
}

// ID is the test's stable identity across runs.
func (t *TestResult) ID() string { return t.Suite + "::" + t.Name }

// TestName is the test's name as written in the suite: Name without the
// matrix model suffix.
func (t *TestResult) TestName() string {
	if t.Matrix == "" {
		return t.Name
	}
	return strings.TrimSuffix(t.Name, MatrixSuffix(t.Matrix))
}

// MatrixSuffix is what a matrix test's name gets for model m.
func MatrixSuffix(m string) string { return " [" + m + "]" }

// SuiteInfo describes one suite file of the run.
type SuiteInfo struct {
	Path         string `json:"path"`
	Description  string `json:"description,omitempty"`
	Config       string `json:"config"`
	ConfigName   string `json:"config_name"`
	ConfigSHA256 string `json:"config_sha256"`
}

// Name is what JUnit and tables call the suite.
func (s SuiteInfo) Name() string {
	if s.Description != "" {
		return s.Description
	}
	return s.Path
}

// MetricSummary aggregates scores of assertions sharing a `metric` name.
// Count and Mean take every run of a repeated test; Low and High are the
// 95% bootstrap interval of the mean over those scores (Finish sets them).
type MetricSummary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	Pass  int     `json:"pass"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// ModelSummary totals the tests of one matrix model.
type ModelSummary struct {
	Model   string `json:"model"`
	Total   int    `json:"total"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Errors  int    `json:"errors"`
	Skipped int    `json:"skipped"`
	// PassRate is Passed over the tests that ran (not skipped).
	PassRate  float64 `json:"pass_rate"`
	Cost      float64 `json:"cost"`
	CostSaved float64 `json:"cost_saved,omitempty"`
	// LatencyMS is the mean model latency of its tests.
	LatencyMS float64 `json:"latency_ms"`
	Score     float64 `json:"score"` // mean test score
}

func (m *ModelSummary) add(t *TestResult) {
	ran := m.Total - m.Skipped // tests in the means before this one
	m.Total++
	switch t.Status {
	case StatusPass:
		m.Passed++
	case StatusFail:
		m.Failed++
	case StatusError:
		m.Errors++
	case StatusSkip:
		m.Skipped++
		return
	}
	if t.Cached {
		m.CostSaved += text.Finite(t.Cost)
	} else {
		m.Cost += text.Finite(t.Cost)
	}
	m.LatencyMS = (m.LatencyMS*float64(ran) + text.Finite(t.LatencyMS)) / float64(ran+1)
	m.Score = (m.Score*float64(ran) + text.Finite(t.Score)) / float64(ran+1)
	m.PassRate = float64(m.Passed) / float64(ran+1)
}

// Summary totals a run.
type Summary struct {
	Total     int `json:"total"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Errors    int `json:"errors"`
	Skipped   int `json:"skipped"`
	Regressed int `json:"regressed,omitempty"`
	// BaselineErrors counts tests whose baseline could not be evaluated
	// (a replay miss at the base ref, say): the gate fails on them.
	BaselineErrors int     `json:"baseline_errors,omitempty"`
	DurationMS     float64 `json:"duration_ms"`
	// Cost is what the run spent on model calls; replayed (cached)
	// tests cost nothing and count in CostSaved instead.
	Cost      float64                  `json:"cost"`
	CostSaved float64                  `json:"cost_saved,omitempty"`
	Tokens    Tokens                   `json:"tokens"`
	Cached    int                      `json:"cached"`
	Metrics   map[string]MetricSummary `json:"metrics,omitempty"`
	// Models totals each model of a matrix run, in the order first seen
	// (a suite's matrix order); empty without a matrix.
	Models []ModelSummary `json:"models,omitempty"`

	// samples holds every metric score seen, for Finish's intervals.
	samples map[string][]float64

	// LatencyMS sums the tests' model latency (JUnit's per-suite time).
	LatencyMS float64 `json:"-"`
}

// Add counts one test into the summary: its counts (see addCounts), its
// model's totals and its metric scores.
func (s *Summary) Add(t *TestResult) {
	s.addCounts(t)
	s.addModelsAndMetrics(t)
}

// addCounts counts one test's status, cost, latency and tokens: all a
// per-suite total shows.
func (s *Summary) addCounts(t *TestResult) {
	s.Total++
	switch t.Status {
	case StatusPass:
		s.Passed++
	case StatusFail:
		s.Failed++
	case StatusError:
		s.Errors++
	case StatusSkip:
		s.Skipped++
	}
	if t.Cached {
		s.CostSaved += text.Finite(t.Cost)
	} else {
		s.Cost += text.Finite(t.Cost)
	}
	s.LatencyMS += text.Finite(t.LatencyMS)
	s.Tokens.Prompt += t.Tokens.Prompt
	s.Tokens.Completion += t.Tokens.Completion
	s.Tokens.Total += t.Tokens.Total
	if t.Cached {
		s.Cached++
	}
}

// addModelsAndMetrics adds one test to its model's totals and its metric
// scores to the run's metrics.
func (s *Summary) addModelsAndMetrics(t *TestResult) {
	if t.Matrix != "" {
		i := slices.IndexFunc(s.Models, func(m ModelSummary) bool { return m.Model == t.Matrix })
		if i < 0 {
			s.Models = append(s.Models, ModelSummary{Model: t.Matrix})
			i = len(s.Models) - 1
		}
		s.Models[i].add(t)
	}
	for _, a := range t.Assertions {
		if a.Metric == "" {
			continue
		}
		if s.Metrics == nil {
			s.Metrics = map[string]MetricSummary{}
		}
		m := s.Metrics[a.Metric]
		if a.Pass {
			m.Pass++
		}
		if _, all := t.MetricScores[a.Metric]; !all {
			s.metricScore(&m, a.Metric, a.Score)
		}
		s.Metrics[a.Metric] = m
	}
	// A repeated test's scores: every run, not just the one shown.
	for name := range t.MetricScores { // each name only touches its own entries: no order needed
		if s.Metrics == nil {
			s.Metrics = map[string]MetricSummary{}
		}
		m := s.Metrics[name]
		for _, v := range t.MetricScores[name] {
			s.metricScore(&m, name, v)
		}
		s.Metrics[name] = m
	}
}

func (s *Summary) metricScore(m *MetricSummary, name string, v float64) {
	v = text.Finite(v)
	m.Mean = (m.Mean*float64(m.Count) + v) / float64(m.Count+1)
	m.Count++
	if s.samples == nil {
		s.samples = map[string][]float64{}
	}
	s.samples[name] = append(s.samples[name], v)
}

// Finish sets the metrics' bootstrap intervals from the scores Add saw.
// Call it once every test is added; a summary read from a file keeps the
// intervals it was written with.
func (s *Summary) Finish() {
	for name, xs := range s.samples {
		m := s.Metrics[name]
		m.Low, m.High = Bootstrap(xs)
		s.Metrics[name] = m
	}
	s.samples = nil // the scores are not part of the record
}

// ResultsVersion is the version of the JSON results format.
const ResultsVersion = 1

// Results is a whole run. Tests are either held in memory (Tests) or
// streamed from a JSON Lines spool on disk, so a 100k-test run does not
// keep every output in memory; reporters read them with Each.
type Results struct {
	Version   int         `json:"version"`
	RunID     string      `json:"run_id,omitempty"`
	StartedAt time.Time   `json:"started_at"`
	GitSHA    string      `json:"git_sha,omitempty"`
	GitRef    string      `json:"git_ref,omitempty"`
	Suites    []SuiteInfo `json:"suites"`
	Summary   Summary     `json:"summary"`
	// Interrupted is set when the run was stopped before every test ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Shard is set by `run --shard i/n`: which part of the run this is,
	// so merge can refuse a missing or repeated shard.
	Shard *ShardInfo `json:"shard,omitempty"`
	// RunGroup names the run the shards belong to (--run-group, else
	// $GITHUB_RUN_ID): merge refuses shards of different runs.
	RunGroup string `json:"run_group,omitempty"`
	// Gate, when set, lets failed tests pass the run as long as enough
	// passed (--min-pass-rate, suite pass_rate:); see ExitCode.
	Gate *PassRateGate `json:"pass_rate_gate,omitempty"`

	Tests []TestResult `json:"tests"`

	spool string // JSON Lines file holding the tests when Tests is nil

	// bySuite totals the tests per suite path as Count sees them, so
	// reporters need no extra pass over a large spool to get them.
	bySuite map[string]*Summary

	// decodes counts full reads of the spool, so a test can hold the
	// reports to one pass over a large run.
	decodes *atomic.Int32

	// feed, when set, makes this a view of a Fanout: its tests stream past
	// once from the one read of the spool.
	feed *fanFeed
}

// ShardInfo is shard Index (from 1) of Count.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func (s ShardInfo) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Count adds a finished test to the summary and to its suite's totals. The
// producer of the results (the runner) calls it once per test.
func (r *Results) Count(t *TestResult) {
	r.Summary.Add(t)
	if r.bySuite == nil {
		r.bySuite = map[string]*Summary{}
	}
	s := r.bySuite[t.Suite]
	if s == nil {
		s = &Summary{}
		r.bySuite[t.Suite] = s
	}
	s.addCounts(t) // reporters show only counts per suite; metrics are the run's
}

// UseSpool makes Each read tests from a JSON Lines file written by a Spool.
func (r *Results) UseSpool(path string) { r.spool, r.Tests, r.decodes = path, nil, new(atomic.Int32) }

// Each calls fn for every test in run order. fn must not keep t.
func (r *Results) Each(fn func(t *TestResult) error) error {
	if r.feed != nil {
		return r.feed.each(func(b *fanBatch, i int) error { return fn(&b.tests[i]) })
	}
	if r.spool == "" {
		for i := range r.Tests {
			if err := fn(&r.Tests[i]); err != nil {
				return err
			}
		}
		return nil
	}
	common := map[string]string{}
	_, err := r.EachLine(func(line []byte) error {
		var t TestResult
		if err := decodeSpooledIn(line, &t, common); err != nil {
			return fmt.Errorf("read results spool: %w", err)
		}
		return fn(&t)
	})
	return err
}

// EachLine calls fn with the JSON of every spooled test, in run order,
// without decoding it: the JSON report re-indents the lines as they are
// (spool writers escape no HTML, like the report). ok is false when the
// tests are held in memory instead.
func (r *Results) EachLine(fn func(line []byte) error) (ok bool, err error) {
	if r.feed != nil {
		return true, r.feed.each(func(b *fanBatch, i int) error { return fn(b.lines[i]) })
	}
	if r.spool == "" {
		return false, nil
	}
	f, err := os.Open(r.spool)
	if err != nil {
		return true, fmt.Errorf("read results spool: %w", err)
	}
	defer f.Close()
	r.decodes.Add(1)
	if start, n, ok, err := spoolIndex(f); err != nil {
		return true, fmt.Errorf("read results spool: %w", err)
	} else if ok {
		return true, eachIndexed(f, start, n, fn)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var long []byte // a line longer than the buffer, assembled
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line, long = append(long, line...), nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if ferr := fn(line); ferr != nil {
				return true, ferr
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return true, fmt.Errorf("read results spool: %w", err)
		}
	}
}

// SpoolReads is how many times the spool has been read in full.
func (r *Results) SpoolReads() int {
	if r.decodes == nil {
		return 0
	}
	return int(r.decodes.Load())
}

// Spooled reports whether the tests live in a spool file, not in memory,
// or stream past a view (a fan-out's, a live run's): a reader should then
// expect a large run and buffer on disk.
func (r *Results) Spooled() bool { return r.spool != "" || r.feed != nil }

// Counted reports whether Count saw the tests (bySuite is set) and how
// many suites it saw.
func (r *Results) Counted() (suites int, ok bool) {
	return len(r.bySuite), r.bySuite != nil
}

// Suite returns the info of the suite at path.
func (r *Results) Suite(path string) (SuiteInfo, bool) {
	for _, s := range r.Suites {
		if s.Path == path {
			return s, true
		}
	}
	return SuiteInfo{}, false
}

// ReadFile loads a JSON results file (the --json artifact).
func ReadFile(path string) (*Results, error) {
	data, err := safefile.ReadFile(path, safefile.LargeLimit())
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	if r.Version != ResultsVersion {
		return nil, fmt.Errorf("read results %s: version %d, this aieval reads version %d", path, r.Version, ResultsVersion)
	}
	return &r, nil
}

// Exit codes of the contract, decided here from the results only.
const (
	ExitOK      = 0 // every test passed, nothing regressed
	ExitFailed  = 1 // a test failed or regressed
	ExitInput   = 2 // invalid usage or input; nothing evaluated
	ExitErrored = 3 // a test could not be evaluated; wins over 1
)

// PassRateGate gates a run on the fraction of tests passed instead of
// on every test: Min over the whole run (--min-pass-rate), else each
// suite's own (its top-level pass_rate:) over its tests. The fraction is
// passed / (tests - skipped); errors count as not passed.
type PassRateGate struct {
	Min    float64            `json:"min,omitempty"`
	Suites map[string]float64 `json:"suites,omitempty"` // suite path -> required fraction
}

// ExitCode maps the run's results to the contract's exit code. Errors
// exit 3 whatever the pass rate; a regression against a baseline exits 1
// even when the pass-rate gate is met.
func (r *Results) ExitCode() int {
	s := r.Summary
	switch {
	case s.Errors > 0 || s.BaselineErrors > 0 || r.Interrupted:
		return ExitErrored
	case s.Regressed > 0:
		return ExitFailed
	case s.Failed > 0 && !r.gateMet():
		return ExitFailed
	}
	return ExitOK
}

// PassFraction is passed / (total - skipped) of s; 1 when nothing ran.
func PassFraction(s Summary) float64 {
	ran := s.Total - s.Skipped
	if ran <= 0 {
		return 1
	}
	return float64(s.Passed) / float64(ran)
}

// gateMet reports whether the pass-rate gate lets the failed tests go:
// the run's fraction reaches Min, or else every suite with failures has
// its own rate and reaches it.
func (r *Results) gateMet() bool {
	g := r.Gate
	if g == nil {
		return false
	}
	if g.Min > 0 {
		return PassFraction(r.Summary) >= g.Min-1e-9
	}
	if len(g.Suites) == 0 {
		return false
	}
	for path, sum := range r.suiteSummaries() {
		if sum.Failed == 0 {
			continue
		}
		need, ok := g.Suites[path]
		if !ok || PassFraction(sum) < need-1e-9 {
			return false
		}
	}
	return true
}

// GateNotes say, one line per gate, what the pass-rate gate decided;
// nil without a gate.
func (r *Results) GateNotes() []string {
	g := r.Gate
	if g == nil {
		return nil
	}
	line := func(what string, s Summary, need float64) string {
		verdict := "meets"
		if PassFraction(s) < need-1e-9 {
			verdict = "is below"
		}
		return fmt.Sprintf("pass rate %d/%d = %.1f%% %s the required %.1f%% (%s)",
			s.Passed, s.Total-s.Skipped, 100*PassFraction(s), verdict, 100*need, what)
	}
	if g.Min > 0 {
		return []string{line("--min-pass-rate", r.Summary, g.Min)}
	}
	var out []string
	sums := r.suiteSummaries()
	for _, si := range r.Suites {
		if need, ok := g.Suites[si.Path]; ok {
			out = append(out, line("pass_rate of "+si.Path, sums[si.Path], need))
		}
	}
	return out
}

// suiteSummaries totals the tests per suite: what Count recorded, else a
// pass over the tests.
func (r *Results) suiteSummaries() map[string]Summary {
	order, _, _ := Suites(r) // counted during the run, else one pass
	out := make(map[string]Summary, len(order))
	for _, st := range order {
		out[st.Info.Path] = st.Summary
	}
	return out
}

// Verdict is the run's one-word outcome, as every report shows it: it
// follows ExitCode, so no format can call a run that exits 1 "PASSED".
func (r *Results) Verdict() string {
	switch r.ExitCode() {
	case ExitErrored:
		return "ERRORED"
	case ExitFailed:
		return "FAILED"
	}
	return "PASSED"
}
