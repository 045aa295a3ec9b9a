package history

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// RunRow is one recorded run.
type RunRow struct {
	ID           int64             `json:"id"` // the row id: what Results and TestRow.Run take
	RunID        string            `json:"run_id,omitempty"`
	StartedAt    time.Time         `json:"started_at"`
	GitSHA       string            `json:"git_sha,omitempty"`
	GitRef       string            `json:"git_ref,omitempty"`
	ConfigHashes map[string]string `json:"config_hashes,omitempty"`
	Total        int               `json:"total"`
	Passed       int               `json:"passed"`
	Failed       int               `json:"failed"`
	Errors       int               `json:"errors"`
	Skipped      int               `json:"skipped"`
	Cost         float64           `json:"cost"`
	DurationMS   float64           `json:"duration_ms"`
}

// PassRate is passed over tests that ran (skips excluded); 0 when none ran.
func (r RunRow) PassRate() float64 {
	if n := r.Total - r.Skipped; n > 0 {
		return float64(r.Passed) / float64(n)
	}
	return 0
}

// TestRow is one test's outcome in one run. When several suites hold a
// test of that name, the row aggregates them.
type TestRow struct {
	Run       int64     `json:"run"`
	RunID     string    `json:"run_id,omitempty"`
	StartedAt time.Time `json:"started_at"`
	GitSHA    string    `json:"git_sha,omitempty"`
	Status    string    `json:"status"` // the status, or "mixed"
	Tests     int       `json:"tests"`  // matching tests in the run
	Runs      int       `json:"runs"`   // evaluations: repeats count each
	Passed    int       `json:"passed"`
	PassRate  float64   `json:"pass_rate"`
	Score     float64   `json:"score"`      // mean
	LatencyMS float64   `json:"latency_ms"` // mean
	Cost      float64   `json:"cost"`       // sum
}

// Runs returns the latest limit runs (all when limit <= 0), oldest first,
// so a table reads as a trend.
func (h *DB) Runs(limit int) ([]RunRow, error) {
	rows, err := h.db.QueryContext(context.Background(), h.d.bind(`SELECT * FROM (
		SELECT id, run_id, started_at, git_sha, git_ref, config_hashes,
		       total, passed, failed, errors, skipped, cost, duration_ms
		FROM runs ORDER BY id DESC LIMIT ?) AS recent ORDER BY id`), noLimit(limit))
	if err != nil {
		return nil, h.readErr(err)
	}
	defer rows.Close()
	var out []RunRow
	for rows.Next() {
		var r RunRow
		var started, hashes string
		if err := rows.Scan(&r.ID, &r.RunID, &started, &r.GitSHA, &r.GitRef, &hashes,
			&r.Total, &r.Passed, &r.Failed, &r.Errors, &r.Skipped, &r.Cost, &r.DurationMS); err != nil {
			return nil, h.readErr(err)
		}
		r.StartedAt, _ = time.Parse(timeFormat, started)
		if err := json.Unmarshal([]byte(hashes), &r.ConfigHashes); err != nil {
			return nil, fmt.Errorf("read history %s: run %d config hashes: %w", h.path, r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, h.readErr(err)
	}
	return out, nil
}

// TestTrend returns, for the latest limit runs holding the test, its
// outcome per run, oldest first. name is a test name or a "suite::name" id.
func (h *DB) TestTrend(name string, limit int) ([]TestRow, error) {
	where, args := "t.name = ?", []any{name}
	if suite, tname, isID := strings.Cut(name, "::"); isID {
		where, args = "t.name = ? OR (t.suite = ? AND t.name = ?)", []any{name, suite, tname}
	}
	// GROUP BY r.id covers r's other columns: id is its primary key,
	// which PostgreSQL accepts as determining them.
	rows, err := h.db.QueryContext(context.Background(), h.d.bind(`SELECT * FROM (
		SELECT r.id, r.run_id, r.started_at, r.git_sha, COUNT(*),
		       SUM(CASE WHEN t.repeats > 0 THEN t.repeats WHEN t.status <> 'skip' THEN 1 ELSE 0 END),
		       SUM(CASE WHEN t.repeats > 0 THEN t.repeats_passed WHEN t.status = 'pass' THEN 1 ELSE 0 END),
		       AVG(t.score), AVG(t.latency_ms), SUM(t.cost), MIN(t.status), MAX(t.status)
		FROM tests t JOIN runs r ON r.id = t.run
		WHERE `+where+`
		GROUP BY r.id ORDER BY r.id DESC LIMIT ?) AS recent ORDER BY 1`), append(args, noLimit(limit))...)
	if err != nil {
		return nil, h.readErr(err)
	}
	defer rows.Close()
	var out []TestRow
	for rows.Next() {
		var r TestRow
		var started, lo, hi string
		if err := rows.Scan(&r.Run, &r.RunID, &started, &r.GitSHA, &r.Tests, &r.Runs, &r.Passed,
			&r.Score, &r.LatencyMS, &r.Cost, &lo, &hi); err != nil {
			return nil, h.readErr(err)
		}
		r.StartedAt, _ = time.Parse(timeFormat, started)
		r.Status = lo
		if lo != hi {
			r.Status = "mixed"
		}
		if r.Runs > 0 {
			r.PassRate = float64(r.Passed) / float64(r.Runs)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, h.readErr(err)
	}
	return out, nil
}

// noLimit maps limit <= 0 (all) to a LIMIT both dialects accept:
// SQLite's -1 and PostgreSQL's ALL are each the other's syntax error.
func noLimit(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}

func (h *DB) readErr(err error) error {
	return fmt.Errorf("read history %s: %w", h.path, h.scrub(err))
}

// RenderRuns writes runs as an aligned text table.
func RenderRuns(w io.Writer, rows []RunRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no runs recorded yet (run with --history)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tGIT\tTESTS\tPASS\tFAIL\tERROR\tSKIP\tPASS RATE\tCOST\tDURATION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.ID, stamp(r.StartedAt), gitLabel(r.GitSHA, r.GitRef),
			r.Total, r.Passed, r.Failed, r.Errors, r.Skipped, percent(r.PassRate()), money(r.Cost), seconds(r.DurationMS))
	}
	return tw.Flush()
}

// RenderTrend writes one test's trend as an aligned text table.
func RenderTrend(w io.Writer, name string, rows []TestRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "no recorded run has a test named %q\n", name)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tGIT\tSTATUS\tPASS RATE\tSCORE\tLATENCY\tCOST")
	for _, r := range rows {
		rate := percent(r.PassRate)
		if r.Runs > 1 {
			rate = fmt.Sprintf("%s (%d/%d)", rate, r.Passed, r.Runs)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r.Run, stamp(r.StartedAt), gitLabel(r.GitSHA, ""),
			r.Status, rate, r.Score, seconds(r.LatencyMS), money(r.Cost))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func gitLabel(sha, ref string) string {
	if len(sha) > 8 {
		sha = sha[:8]
	}
	switch {
	case sha == "" && ref == "":
		return "-"
	case ref == "":
		return sha
	case sha == "":
		return ref
	}
	return sha + " " + ref
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
func money(f float64) string   { return fmt.Sprintf("$%.4f", f) }
func seconds(ms float64) string {
	return fmt.Sprintf("%.2fs", ms/1000)
}
