package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func ptr[T any](v T) *T { return &v }

// richRun is a run using every field of the results format.
func richRun() *results.Results {
	r := &results.Results{
		Version:     results.ResultsVersion,
		RunID:       "gh-1234-1",
		StartedAt:   time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.FixedZone("CET", 3600)),
		GitSHA:      strings.Repeat("ab", 20),
		GitRef:      "refs/pull/7/merge",
		Interrupted: true,
		Suites: []results.SuiteInfo{
			{Path: "trip.eval.yaml", Description: "NYC <trip> & planner", Config: "trip.aiconfig.json", ConfigName: "trip", ConfigSHA256: "c0ffee"},
			{Path: "chat.eval.yaml", Config: "chat.aiconfig.json", ConfigName: "chat", ConfigSHA256: "beef"},
		},
	}
	tests := []results.TestResult{
		{
			Suite: "trip.eval.yaml", Name: "lists attractions", Line: 12, Config: "trip.aiconfig.json", ConfigName: "trip",
			Prompt: "get_activities", Params: map[string]any{"city": "NYC", "days": 3.0, "tags": []any{"a", true, nil}, "nested": map[string]any{"k": "v"}},
			Input: "system: you plan trips\nuser: What to do in NYC?", Output: "Central Park — and the Statue of Liberty 🗽 <b>&</b>",
			Model: "gpt-4o-mini", Provider: "openai", LatencyMS: 812.25, Tokens: results.Tokens{Prompt: 20, Completion: 30, Total: 50},
			Cost: 0.000125, Status: results.StatusPass, Score: 1, FinishReason: "stop",
			Request: &results.Request{Messages: []results.Message{{Role: "system", Content: "you plan trips"}, {Role: "user", Content: "What to do in NYC?"}},
				Settings: map[string]any{"temperature": 0.0}},
			Assertions: []results.AssertionResult{
				{Type: "icontains-any", Pass: true, Score: 1, Reason: "found central park", Weight: 2, Metric: "recall", Line: 14},
				{Type: "not-contains", Pass: true, Score: 1, Reason: "ok"},
			},
		},
		{
			Suite: "trip.eval.yaml", Name: "itinerary by price", Line: 20, Config: "trip.aiconfig.json", ConfigName: "trip",
			Prompt: "gen_itinerary", Output: "1. Museum\n2. Park", Model: "claude-3-5-haiku", Provider: "anthropic",
			LatencyMS: 1500, Cost: 0.002, Status: results.StatusFail, Score: 0.4, Threshold: ptr(0.7),
			Reason: "not ordered by price", Cached: true, Refusal: true, ToolCalls: json.RawMessage(`[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]`),
			Assertions: []results.AssertionResult{
				{Type: "llm-rubric", Pass: false, Score: 0.4, Reason: "not ordered by price", Diff: "-a\n+b", Metric: "recall"},
				{Type: "exec", Pass: false, Error: true, Reason: "command not found"},
			},
			PassRate: &results.PassRate{Runs: 5, Passed: 2, Errors: 1, Rate: 0.4, Low: 0.1176, High: 0.7693, Required: 0.8},
			Shard:    "2/3",
		},
		{Suite: "chat.eval.yaml", Name: "skipped one", Status: results.StatusSkip, Reason: "not today", Assertions: []results.AssertionResult{}},
		{Suite: "chat.eval.yaml", Name: "errored", Status: results.StatusError, Reason: "provider unreachable after 3 retries"},
	}
	for i := range tests {
		r.Tests = append(r.Tests, tests[i])
		r.Count(&tests[i])
	}
	r.Summary.DurationMS = 2345.5
	r.Summary.Regressed = 1
	return r
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestResultsRoundTrip: what Record stores, Results returns: the same
// JSON results and the same tests, on both stores.
func TestResultsRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, target string) {
		db, err := Open(target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		want := richRun()
		if _, err := db.Record(run(0, map[string]results.Status{})); err != nil {
			t.Fatal(err)
		}
		id, err := db.Record(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Results(id)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Errorf("Results(%d) as JSON:\n%s\nwant:\n%s", id, g, w)
		}
		if !reflect.DeepEqual(got.Tests, want.Tests) {
			t.Errorf("tests differ:\n%#v\nwant\n%#v", got.Tests, want.Tests)
		}
		if got.Summary.LatencyMS != want.Summary.LatencyMS || got.ExitCode() != want.ExitCode() {
			t.Errorf("latency %v exit %d, want %v %d", got.Summary.LatencyMS, got.ExitCode(), want.Summary.LatencyMS, want.ExitCode())
		}
		rows, err := db.Runs(0)
		if err != nil || len(rows) != 2 || rows[1].ID != id || rows[1].GitRef != want.GitRef || rows[1].Failed != 1 {
			t.Errorf("Runs = %+v, %v", rows, err)
		}

		if _, err := db.Results(id + 100); !errors.Is(err, ErrNoRun) {
			t.Errorf("Results(unknown) = %v, want ErrNoRun", err)
		}
	})
}

// TestRecordCapsAndCleans: long texts are capped as the reports cap
// them, and what PostgreSQL cannot hold (NUL, invalid UTF-8) becomes
// U+FFFD in both stores alike.
func TestRecordCapsAndCleans(t *testing.T) {
	long := strings.Repeat("x", 100<<10) + "THE END"
	eachBackend(t, func(t *testing.T, target string) {
		db, err := Open(target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		r := &results.Results{Version: 1, Tests: []results.TestResult{{
			Suite: "s", Name: "big", Status: fail, Output: long, Input: long, Reason: "bad\x00byte \xff",
			Params:     map[string]any{"p": "nul\x00"},
			Assertions: []results.AssertionResult{{Type: "equals", Reason: long, Diff: long}},
		}}}
		id, err := db.Record(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Results(id)
		if err != nil {
			t.Fatal(err)
		}
		tr := got.Tests[0]
		want := text.Cap(long, text.DefaultMax)
		for name, s := range map[string]string{"output": tr.Output, "input": tr.Input, "reason": tr.Assertions[0].Reason, "diff": tr.Assertions[0].Diff} {
			if s != want || len(s) > text.DefaultMax || !strings.HasSuffix(s, "THE END") {
				t.Errorf("%s: %d bytes, want capped to %d with the tail kept", name, len(s), text.DefaultMax)
			}
		}
		if tr.Reason != "bad\uFFFDbyte \uFFFD" || tr.Params["p"] != "nul\x00" {
			t.Errorf("reason %q params %q", tr.Reason, tr.Params)
		}
	})
}

// TestConcurrentRecorders: runners that open a fresh store at once (all
// migrating it) and record at once all succeed, each run whole.
func TestConcurrentRecorders(t *testing.T) {
	const runners, tests = 6, 2*batchRows + 7 // several batches, the last partial
	eachBackend(t, func(t *testing.T, target string) {
		var wg sync.WaitGroup
		errs := make(chan error, runners)
		for i := 0; i < runners; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				db, err := Open(target)
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				r := &results.Results{Version: 1, RunID: fmt.Sprint("runner-", i)}
				for j := 0; j < tests; j++ {
					tr := results.TestResult{Suite: "s", Name: fmt.Sprint("t", j), Status: pass, Output: fmt.Sprint(i, "/", j)}
					r.Tests = append(r.Tests, tr)
					r.Count(&tr)
				}
				if _, err := db.Record(r); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		db, err := Open(target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Runs(0)
		if err != nil || len(rows) != runners {
			t.Fatalf("Runs = %d rows, %v; want %d", len(rows), err, runners)
		}
		for _, row := range rows {
			got, err := db.Results(row.ID)
			if err != nil {
				t.Fatal(err)
			}
			runner := strings.TrimPrefix(got.RunID, "runner-")
			if row.Total != tests || len(got.Tests) != tests {
				t.Fatalf("run %d: %d/%d tests, want %d", row.ID, row.Total, len(got.Tests), tests)
			}
			for j, tr := range got.Tests {
				if tr.Output != fmt.Sprint(runner, "/", j) {
					t.Fatalf("run %d test %d: output %q: order or run mixed up", row.ID, j, tr.Output)
				}
			}
		}
	})
}

// TestMigrateFromVersion1: a store recorded by the previous schema is
// migrated in place, its runs still read, and new runs record in full.
func TestMigrateFromVersion1(t *testing.T) {
	eachBackend(t, func(t *testing.T, target string) {
		var h *DB
		var err error
		if IsPostgres(target) {
			h, err = openPostgres(target)
		} else {
			h, err = openSQLite(target)
		}
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tx, err := h.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		stmts := []string{h.d.migration(migrations[0]),
			`INSERT INTO runs (run_id, started_at, total, passed, failed, cost, duration_ms) VALUES ('old', '2025-01-01T00:00:00Z', 2, 1, 1, 0.5, 10)`,
			`INSERT INTO tests (run, suite, name, status, score, repeats, repeats_passed) VALUES (1, 's.eval.yaml', 'a', 'pass', 1, 4, 3)`,
			`INSERT INTO tests (run, suite, name, status) VALUES (1, 's.eval.yaml', 'b', 'fail')`,
		}
		if err := h.d.lock(ctx, tx); err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		if err := h.d.setVersion(ctx, tx, 1); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		h.Close()

		db, err := Open(target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if v, err := db.version(ctx, db.db); err != nil || v != SchemaVersion {
			t.Fatalf("version %d, %v; want %d", v, err, SchemaVersion)
		}
		old, err := db.Results(1)
		if err != nil {
			t.Fatal(err)
		}
		if old.RunID != "old" || old.Summary.Total != 2 || len(old.Tests) != 2 || len(old.Suites) != 1 ||
			old.Tests[0].PassRate == nil || old.Tests[0].PassRate.Passed != 3 || old.Tests[1].Status != fail {
			t.Errorf("old run = %s", jsonOf(t, old))
		}
		id, err := db.Record(richRun())
		if err != nil || id != 2 {
			t.Fatalf("record after migrating: %d, %v", id, err)
		}
		if got, err := db.Results(id); err != nil || jsonOf(t, got) != jsonOf(t, richRun()) {
			t.Errorf("new run after migrating: %v", err)
		}
	})
}
