package history

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/history/historytest"
	"github.com/aieval/aieval/eval/results"
)

func run(i int, statuses map[string]results.Status) *results.Results {
	r := &results.Results{
		Version:   results.ResultsVersion,
		RunID:     "run-" + string(rune('a'+i)),
		StartedAt: time.Date(2025, 1, 1+i, 12, 0, 0, 0, time.UTC),
		GitSHA:    strings.Repeat(string(rune('0'+i)), 40),
		GitRef:    "main",
		Suites: []results.SuiteInfo{
			{Path: "a.eval.yaml", Config: "a.aiconfig.json", ConfigSHA256: "aaa"},
			{Path: "b.eval.yaml", Config: "b.aiconfig.json", ConfigSHA256: "bbb"},
		},
	}
	for _, name := range []string{"greets", "summarises", "flaky"} {
		t := results.TestResult{Suite: "a.eval.yaml", Name: name, Status: statuses[name], Score: 0.5,
			LatencyMS: 100 * float64(i+1), Cost: 0.01}
		if t.Status == results.StatusPass {
			t.Score = 1
		}
		if name == "flaky" {
			t.PassRate = &results.PassRate{Runs: 10, Passed: 10 - 2*i}
		}
		r.Tests = append(r.Tests, t)
		r.Summary.Add(&t)
	}
	r.Summary.DurationMS = 1500
	return r
}

const (
	pass = results.StatusPass
	fail = results.StatusFail
)

func TestMain(m *testing.M) {
	code := m.Run()
	historytest.Stop()
	os.Exit(code)
}

// eachBackend runs fn against a fresh SQLite file and a fresh schema on a
// real PostgreSQL server (see package historytest): one suite for both.
func eachBackend(t *testing.T, fn func(t *testing.T, target string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "nested", ".aieval", "history.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, historytest.Target(t))
	})
}

func TestRecordAndTrends(t *testing.T) { eachBackend(t, testRecordAndTrends) }

func testRecordAndTrends(t *testing.T, path string) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		g := pass
		if i == 2 {
			g = fail
		}
		id, err := db.Record(run(i, map[string]results.Status{"greets": g, "summarises": pass, "flaky": pass}))
		if err != nil || id != int64(i+1) {
			t.Fatalf("record %d: id %d, %v", i, id, err)
		}
	}

	runs, err := db.Runs(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != 2 || runs[2].ID != 4 {
		t.Fatalf("Runs(3) = %+v, want runs 2..4 oldest first", runs)
	}
	r3 := runs[1]
	if r3.Total != 3 || r3.Passed != 2 || r3.Failed != 1 || r3.RunID != "run-c" || r3.GitRef != "main" ||
		r3.ConfigHashes["b.aiconfig.json"] != "bbb" || !r3.StartedAt.Equal(time.Date(2025, 1, 3, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("run 3 = %+v", r3)
	}
	if got := r3.PassRate(); got < 0.66 || got > 0.67 {
		t.Errorf("run 3 pass rate %v", got)
	}
	if all, _ := db.Runs(0); len(all) != 4 {
		t.Errorf("Runs(0) = %d rows", len(all))
	}

	tests := []struct {
		name      string
		limit     int
		wantRuns  []int64
		wantRates []float64
	}{
		{"greets", 0, []int64{1, 2, 3, 4}, []float64{1, 1, 0, 1}},
		{"a.eval.yaml::greets", 2, []int64{3, 4}, []float64{0, 1}},
		{"flaky", 0, []int64{1, 2, 3, 4}, []float64{1, 0.8, 0.6, 0.4}},
		{"nope", 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.TestTrend(tt.name, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tt.wantRuns) {
				t.Fatalf("rows %+v", rows)
			}
			for i, r := range rows {
				if r.Run != tt.wantRuns[i] || r.PassRate != tt.wantRates[i] || r.Cost != 0.01 {
					t.Errorf("row %d = %+v, want run %d rate %v", i, r, tt.wantRuns[i], tt.wantRates[i])
				}
			}
		})
	}
	rows, _ := db.TestTrend("greets", 0)
	if rows[2].Status != "fail" || rows[2].Score != 0.5 || rows[2].LatencyMS != 300 {
		t.Errorf("greets run 3 = %+v", rows[2])
	}

	var buf bytes.Buffer
	if err := RenderRuns(&buf, runs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "PASS RATE") || !strings.Contains(buf.String(), "66.7%") ||
		!strings.Contains(buf.String(), "22222222 main") {
		t.Errorf("runs table:\n%s", buf.String())
	}
	buf.Reset()
	flaky, _ := db.TestTrend("flaky", 0)
	RenderTrend(&buf, "flaky", flaky)
	if !strings.Contains(buf.String(), "60.0% (6/10)") {
		t.Errorf("trend table:\n%s", buf.String())
	}
	buf.Reset()
	RenderTrend(&buf, "nope", nil)
	if !strings.Contains(buf.String(), `no recorded run has a test named "nope"`) {
		t.Errorf("empty trend: %s", buf.String())
	}

	// Reopening migrates nothing and keeps the data.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if all, _ := db.Runs(0); len(all) != 4 {
		t.Errorf("after reopen %d runs", len(all))
	}
}

func TestRecordStreamsSpoolAndCountsWithoutSummary(t *testing.T) {
	eachBackend(t, testRecordStreamsSpool)
}

func testRecordStreamsSpool(t *testing.T, target string) {
	dir := t.TempDir()
	var buf bytes.Buffer
	enc := results.NewSpoolEncoder(&buf)
	for _, s := range []results.Status{pass, fail, results.StatusSkip} {
		enc.Encode(&results.TestResult{Suite: "s", Name: string(s), Status: s})
	}
	if err := os.WriteFile(filepath.Join(dir, "spool.jsonl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &results.Results{Version: 1}
	r.UseSpool(filepath.Join(dir, "spool.jsonl"))
	db, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, err := db.Record(r)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := db.Runs(0)
	if len(runs) != 1 || runs[0].Total != 3 || runs[0].Passed != 1 || runs[0].Skipped != 1 || runs[0].StartedAt.IsZero() {
		t.Errorf("runs %+v", runs)
	}
	// The summary counted from the tests is the one Results returns.
	got, err := db.Results(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.Total != 3 || got.Summary.Failed != 1 || len(got.Tests) != 3 || got.Tests[2].Status != results.StatusSkip {
		t.Errorf("Results = %+v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	future := filepath.Join(dir, "future.db")
	db, err := sql.Open("sqlite", future)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 100), 0o644)

	tests := []struct {
		path string
		want string
	}{
		{future, "schema version 99 is newer than this aieval knows (3); upgrade aieval"},
		{garbage, "garbage.db"},
		{"", "empty path"},
		{filepath.Join(dir, "a?b.db"), "may not contain"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			h, err := Open(tt.path)
			if err == nil {
				h.Close()
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestMigrationSetsVersionAndWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var v int
	var mode string
	h.db.QueryRow("PRAGMA user_version").Scan(&v)
	h.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if v != SchemaVersion || mode != "wal" {
		t.Errorf("user_version %d journal_mode %q", v, mode)
	}
	// Two handles on one file, as a run and `aieval history` would be.
	h2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if _, err := h2.Record(run(0, map[string]results.Status{})); err != nil {
		t.Fatal(err)
	}
	if rows, _ := h.Runs(0); len(rows) != 1 {
		t.Errorf("second handle's run not visible")
	}
}
