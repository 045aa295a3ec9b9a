package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// ErrNoRun is returned (wrapped) by Results for an id no run has.
var ErrNoRun = errors.New("no such run")

// Results rebuilds the recorded run with row id (RunRow.ID) as the JSON
// results file of that run would read (results.ReadFile): its metadata,
// suites, summary and every test with output, input, params, assertions,
// model, tokens and reason, in run order. Texts longer than
// text.DefaultMax come back capped, as Record stored them. A run recorded
// before the store kept tests in full (schema version 1) comes back with
// what was kept then: statuses, scores, latency, cost, repeats.
func (h *DB) Results(id int64) (*results.Results, error) {
	ctx := context.Background()
	r := &results.Results{Version: results.ResultsVersion}
	var started, hashes, meta string
	var s results.Summary
	err := h.db.QueryRowContext(ctx, h.d.bind(`SELECT run_id, started_at, git_sha, git_ref, config_hashes,
		total, passed, failed, errors, skipped, cost, duration_ms, meta FROM runs WHERE id = ?`), id).
		Scan(&r.RunID, &started, &r.GitSHA, &r.GitRef, &hashes,
			&s.Total, &s.Passed, &s.Failed, &s.Errors, &s.Skipped, &s.Cost, &s.DurationMS, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read history %s: run %d: %w", h.path, id, ErrNoRun)
	}
	if err != nil {
		return nil, h.readErr(err)
	}
	r.Summary = s
	r.StartedAt, _ = time.Parse(timeFormat, started)
	if meta != "" {
		var m runMeta
		if err := json.Unmarshal([]byte(meta), &m); err != nil {
			return nil, fmt.Errorf("read history %s: run %d metadata: %w", h.path, id, err)
		}
		r.Version, r.StartedAt, r.Suites, r.Summary, r.Interrupted = m.Version, m.StartedAt, m.Suites, m.Summary, m.Interrupted
	}

	rows, err := h.db.QueryContext(ctx, h.d.bind(`SELECT suite, name, status, score, latency_ms, cost, cached,
		repeats, repeats_passed, line, config, config_name, prompt, params, input, output, model, provider,
		prompt_tokens, completion_tokens, total_tokens, threshold, reason, assertions, pass_rate, shard, extra
		FROM tests WHERE run = ? ORDER BY seq`), id)
	if err != nil {
		return nil, h.readErr(err)
	}
	defer rows.Close()
	r.Tests = []results.TestResult{}
	var latency float64
	for rows.Next() {
		var t results.TestResult
		var status, params, assertions, passRate, extra string
		var cached, repeats, repeatsPassed int
		var threshold sql.NullFloat64
		if err := rows.Scan(&t.Suite, &t.Name, &status, &t.Score, &t.LatencyMS, &t.Cost, &cached,
			&repeats, &repeatsPassed, &t.Line, &t.Config, &t.ConfigName, &t.Prompt, &params, &t.Input, &t.Output, &t.Model, &t.Provider,
			&t.Tokens.Prompt, &t.Tokens.Completion, &t.Tokens.Total, &threshold, &t.Reason, &assertions, &passRate, &t.Shard, &extra); err != nil {
			return nil, h.readErr(err)
		}
		t.Status, t.Cached = results.Status(status), cached != 0
		if threshold.Valid {
			t.Threshold = &threshold.Float64
		}
		if err := json.Unmarshal([]byte(params), &t.Params); err != nil {
			return nil, fmt.Errorf("read history %s: run %d test %s params: %w", h.path, id, t.ID(), err)
		}
		if err := json.Unmarshal([]byte(assertions), &t.Assertions); err != nil {
			return nil, fmt.Errorf("read history %s: run %d test %s assertions: %w", h.path, id, t.ID(), err)
		}
		if extra != "" {
			var x testExtra
			if err := json.Unmarshal([]byte(extra), &x); err != nil {
				return nil, fmt.Errorf("read history %s: run %d test %s: %w", h.path, id, t.ID(), err)
			}
			t.Request, t.Refusal, t.ToolCalls, t.FinishReason = x.Request, x.Refusal, x.ToolCalls, x.FinishReason
		}
		switch {
		case passRate != "":
			if err := json.Unmarshal([]byte(passRate), &t.PassRate); err != nil {
				return nil, fmt.Errorf("read history %s: run %d test %s pass rate: %w", h.path, id, t.ID(), err)
			}
		case repeats > 0: // recorded at schema version 1
			t.PassRate = &results.PassRate{Runs: repeats, Passed: repeatsPassed, Rate: float64(repeatsPassed) / float64(repeats)}
		}
		latency += t.LatencyMS
		r.Tests = append(r.Tests, t)
	}
	if err := rows.Err(); err != nil {
		return nil, h.readErr(err)
	}
	// Not in the JSON: what Summary.Add sums, for reports that use it.
	r.Summary.LatencyMS = latency
	if meta == "" {
		// Recorded at schema version 1: the suites are known by path only.
		seen := map[string]bool{}
		for _, t := range r.Tests {
			if !seen[t.Suite] {
				seen[t.Suite] = true
				r.Suites = append(r.Suites, results.SuiteInfo{Path: t.Suite})
			}
		}
	}
	return r, nil
}
