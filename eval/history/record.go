package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

const timeFormat = time.RFC3339Nano

// runMeta is the run's results metadata kept as JSON in runs.meta: what
// Results needs besides the columns to rebuild the run as recorded.
type runMeta struct {
	Version     int                 `json:"version"`
	StartedAt   time.Time           `json:"started_at"` // with its zone, as the JSON results hold it
	Suites      []results.SuiteInfo `json:"suites"`
	Summary     results.Summary     `json:"summary"`
	Interrupted bool                `json:"interrupted,omitempty"`
}

// testColumns are the tests columns Record writes, in the order of
// testArgs.
const testColumns = `run, seq, suite, name, status, score, latency_ms, cost, cached, repeats, repeats_passed,
	line, config, config_name, prompt, params, input, output, model, provider,
	prompt_tokens, completion_tokens, total_tokens, threshold, reason, assertions, pass_rate, shard, extra`

var testColumnCount = strings.Count(testColumns, ",") + 1

// Rows are inserted in batches: one round trip per batch matters to a
// server across a network (100k tests one by one cost minutes). A batch
// is bounded in rows (and so in parameters: SQLite allows 32766) and in
// bytes, as outputs may each be up to text.DefaultMax.
const (
	batchRows  = 100
	batchBytes = 4 << 20
)

// Record stores one run and its tests in one transaction, read with
// r.Each so a spooled run is streamed, and returns the run's row id.
// Outputs, inputs and reasons are capped (text.Cap) so the store stays
// small; text is made valid UTF-8 without NUL, which PostgreSQL requires,
// in both dialects so they hold the same.
func (h *DB) Record(r *results.Results) (runID int64, err error) {
	ctx := context.Background()
	hashes := map[string]string{}
	for _, s := range r.Suites {
		if s.Config != "" && s.ConfigSHA256 != "" {
			hashes[clean(s.Config)] = clean(s.ConfigSHA256)
		}
	}
	hj, err := marshal(hashes) // map keys sort: stable text
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	started := r.StartedAt
	if started.IsZero() {
		started = time.Now().UTC()
	}
	meta := runMeta{Version: r.Version, StartedAt: started, Suites: r.Suites, Summary: r.Summary, Interrupted: r.Interrupted}
	mj, err := marshal(meta)
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	fail := func(what string, err error) (int64, error) {
		return 0, fmt.Errorf("record %s in %s: %w", what, h.path, h.scrub(err))
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fail("run", err)
	}
	defer tx.Rollback()
	s := r.Summary
	err = tx.QueryRowContext(ctx, h.d.bind(`INSERT INTO runs
		(run_id, started_at, git_sha, git_ref, config_hashes, total, passed, failed, errors, skipped, cost, duration_ms, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		clean(r.RunID), started.UTC().Format(timeFormat), clean(r.GitSHA), clean(r.GitRef), hj,
		s.Total, s.Passed, s.Failed, s.Errors, s.Skipped, text.Finite(s.Cost), text.Finite(s.DurationMS), mj).Scan(&runID)
	if err != nil {
		return fail("run", err)
	}

	var counted results.Summary
	b := batch{h: h, tx: tx}
	seq := 0
	err = r.Each(func(t *results.TestResult) error {
		counted.Add(t)
		args, size, err := testArgs(runID, seq, t)
		if err != nil {
			return err
		}
		seq++
		return b.add(ctx, args, size)
	})
	if err == nil {
		err = b.flush(ctx)
	}
	if err != nil {
		return fail("tests", err)
	}
	if s.Total == 0 && counted.Total > 0 {
		// A results value built without a summary: use what the tests say.
		counted.DurationMS = s.DurationMS
		meta.Summary = counted
		if mj, err = marshal(meta); err != nil {
			return 0, fmt.Errorf("record run: %w", err)
		}
		_, err := tx.ExecContext(ctx, h.d.bind(`UPDATE runs SET total=?, passed=?, failed=?, errors=?, skipped=?, cost=?, meta=? WHERE id=?`),
			counted.Total, counted.Passed, counted.Failed, counted.Errors, counted.Skipped, counted.Cost, mj, runID)
		if err != nil {
			return fail("run", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("run", err)
	}
	return runID, nil
}

// testArgs are the column values of one test, in testColumns order, and
// roughly their size in bytes.
func testArgs(runID int64, seq int, t *results.TestResult) ([]any, int, error) {
	var n, p int
	var pr string
	if t.PassRate != nil {
		n, p = t.PassRate.Runs, t.PassRate.Passed
		j, err := marshal(t.PassRate)
		if err != nil {
			return nil, 0, fmt.Errorf("test %s: pass rate: %w", t.ID(), err)
		}
		pr = j
	}
	params, err := marshal(t.Params)
	if err != nil {
		return nil, 0, fmt.Errorf("test %s: params: %w", t.ID(), err)
	}
	as := make([]results.AssertionResult, len(t.Assertions))
	for i, a := range t.Assertions {
		a.Type, a.Metric = clean(a.Type), clean(a.Metric)
		a.Reason, a.Diff = capped(a.Reason), capped(a.Diff)
		a.Score, a.Weight = text.Finite(a.Score), text.Finite(a.Weight)
		as[i] = a
	}
	if t.Assertions == nil {
		as = nil
	}
	assertions, err := marshal(as)
	if err != nil {
		return nil, 0, fmt.Errorf("test %s: assertions: %w", t.ID(), err)
	}
	var threshold sql.NullFloat64
	if t.Threshold != nil {
		threshold = sql.NullFloat64{Float64: text.Finite(*t.Threshold), Valid: true}
	}
	cached := 0
	if t.Cached {
		cached = 1
	}
	extra, err := marshalExtra(t)
	if err != nil {
		return nil, 0, fmt.Errorf("test %s: %w", t.ID(), err)
	}
	input, output, reason := capped(t.Input), capped(t.Output), capped(t.Reason)
	args := []any{runID, seq, clean(t.Suite), clean(t.Name), clean(string(t.Status)),
		text.Finite(t.Score), text.Finite(t.LatencyMS), text.Finite(t.Cost), cached, n, p,
		t.Line, clean(t.Config), clean(t.ConfigName), clean(t.Prompt), params, input, output, clean(t.Model), clean(t.Provider),
		t.Tokens.Prompt, t.Tokens.Completion, t.Tokens.Total, threshold, reason, assertions, pr, clean(t.Shard), extra}
	size := len(params) + len(input) + len(output) + len(reason) + len(assertions) + len(extra) + 256
	return args, size, nil
}

// batch collects test rows and inserts them with one statement per batch.
type batch struct {
	h     *DB
	tx    *sql.Tx
	args  []any
	rows  int
	bytes int
}

func (b *batch) add(ctx context.Context, args []any, size int) error {
	b.args = append(b.args, args...)
	b.rows++
	b.bytes += size
	if b.rows >= batchRows || b.bytes >= batchBytes {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO tests (" + testColumns + ") VALUES ")
	row := "(" + strings.Repeat("?, ", testColumnCount-1) + "?)"
	for i := 0; i < b.rows; i++ {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	if _, err := b.tx.ExecContext(ctx, b.h.d.bind(q.String()), b.args...); err != nil {
		return err
	}
	b.args, b.rows, b.bytes = b.args[:0], 0, 0
	return nil
}

// capped is s capped the way reports cap outputs, then cleaned.
func capped(s string) string { return clean(text.Cap(s, text.DefaultMax)) }

// clean makes s storable in both dialects: valid UTF-8 (PostgreSQL's
// UTF8 encoding refuses anything else) and no NUL (no PostgreSQL text
// holds one), each replaced by U+FFFD as the reports do.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// marshal is JSON without HTML escaping, so text in the store reads as
// written; NaN and infinities have no JSON form and are refused.
func marshal(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return clean(strings.TrimSuffix(buf.String(), "\n")), nil
}

// testExtra is what the extra column holds.
type testExtra struct {
	Request      *results.Request `json:"request,omitempty"`
	Refusal      bool             `json:"refusal,omitempty"`
	ToolCalls    json.RawMessage  `json:"tool_calls,omitempty"`
	FinishReason string           `json:"finish_reason,omitempty"`
}

// marshalExtra is the extra column of t: "" when it has none of them.
func marshalExtra(t *results.TestResult) (string, error) {
	x := testExtra{Refusal: t.Refusal, ToolCalls: t.ToolCalls, FinishReason: clean(t.FinishReason)}
	if r := t.Request; r != nil {
		c := *r
		c.Messages = make([]results.Message, len(r.Messages))
		for i, m := range r.Messages {
			m.Content = capped(m.Content)
			c.Messages[i] = m
		}
		x.Request = &c
	}
	if x.Request == nil && !x.Refusal && len(x.ToolCalls) == 0 && x.FinishReason == "" {
		return "", nil
	}
	b, err := marshal(x)
	if err != nil {
		return "", fmt.Errorf("extra: %w", err)
	}
	return b, nil
}
