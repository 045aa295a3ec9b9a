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
	"strings"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/safefile"
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
