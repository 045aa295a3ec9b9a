// Package history records every run in a SQLite file (pure Go, no cgo) so
// `aieval history` can show pass-rate and cost trends. The database holds
// only a copy of what the results files say: deleting it loses nothing else.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/safefile"
)

// DefaultPath is where the CLI keeps history unless told otherwise.
const DefaultPath = ".aieval/history.db"

// migrations are applied in order; migration i brings the schema to
// user_version i+1. Append only: never edit a released one.
var migrations = []string{
	`CREATE TABLE runs (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id        TEXT    NOT NULL DEFAULT '',
		started_at    TEXT    NOT NULL,
		git_sha       TEXT    NOT NULL DEFAULT '',
		git_ref       TEXT    NOT NULL DEFAULT '',
		config_hashes TEXT    NOT NULL DEFAULT '{}',
		total         INTEGER NOT NULL DEFAULT 0,
		passed        INTEGER NOT NULL DEFAULT 0,
		failed        INTEGER NOT NULL DEFAULT 0,
		errors        INTEGER NOT NULL DEFAULT 0,
		skipped       INTEGER NOT NULL DEFAULT 0,
		cost          REAL    NOT NULL DEFAULT 0,
		duration_ms   REAL    NOT NULL DEFAULT 0
	);
	CREATE TABLE tests (
		run        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		suite      TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		status     TEXT    NOT NULL,
		score      REAL    NOT NULL DEFAULT 0,
		latency_ms REAL    NOT NULL DEFAULT 0,
		cost       REAL    NOT NULL DEFAULT 0,
		cached     INTEGER NOT NULL DEFAULT 0,
		repeats    INTEGER NOT NULL DEFAULT 0, -- repeat: N runs, 0 when not repeated
		repeats_passed INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX tests_run ON tests(run);
	CREATE INDEX tests_name ON tests(name, run);`,
}

// SchemaVersion is the user_version this binary migrates to.
var SchemaVersion = len(migrations)

// DB is an open history database.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens (creating it and its directory if needed) and migrates the
// history database at path.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open history: empty path (pass --history FILE)")
	}
	if strings.ContainsAny(path, "?#") {
		// The driver reads query parameters after '?'.
		return nil, fmt.Errorf("open history %s: the path may not contain '?' or '#'", path)
	}
	if err := safefile.CheckRegular(path); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open history %s: %w", path, err)
		}
	}
	// WAL lets `aieval history` read while a run writes; busy_timeout waits
	// out a concurrent writer instead of failing; immediate transactions
	// take the write lock up front so two migrating processes serialise.
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	h := &DB{db: db, path: path}
	if err := h.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

// Close closes the database.
func (h *DB) Close() error { return h.db.Close() }

// Path is the file the database lives in.
func (h *DB) Path() string { return h.path }

func (h *DB) version(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read history %s: %w (is it a SQLite file? delete it to start over)", h.path, err)
	}
	return v, nil
}

func (h *DB) migrate(ctx context.Context) error {
	v, err := h.version(ctx, h.db)
	if err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("open history %s: schema version %d is newer than this aieval knows (%d); upgrade aieval or point --history at another file", h.path, v, SchemaVersion)
	}
	for v < SchemaVersion {
		if err := h.step(ctx); err != nil {
			return err
		}
		if v, err = h.version(ctx, h.db); err != nil {
			return err
		}
	}
	return nil
}

// step applies the next migration in one transaction, re-reading the
// version under the write lock in case another process got there first.
func (h *DB) step(ctx context.Context) error {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate history %s: %w", h.path, err)
	}
	defer tx.Rollback()
	v, err := h.version(ctx, tx)
	if err != nil {
		return err
	}
	if v >= SchemaVersion {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return fmt.Errorf("migrate history %s to version %d: %w", h.path, v+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return fmt.Errorf("migrate history %s to version %d: %w", h.path, v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate history %s to version %d: %w", h.path, v+1, err)
	}
	return nil
}

const timeFormat = time.RFC3339Nano

// Record stores one run and its tests, read with r.Each so a spooled run
// is streamed, and returns the run's row id.
func (h *DB) Record(r *results.Results) (runID int64, err error) {
	ctx := context.Background()
	hashes := map[string]string{}
	for _, s := range r.Suites {
		if s.Config != "" && s.ConfigSHA256 != "" {
			hashes[s.Config] = s.ConfigSHA256
		}
	}
	hj, err := json.Marshal(hashes) // map keys sort: stable text
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	started := r.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("record run in %s: %w", h.path, err)
	}
	defer tx.Rollback()
	s := r.Summary
	res, err := tx.ExecContext(ctx, `INSERT INTO runs
		(run_id, started_at, git_sha, git_ref, config_hashes, total, passed, failed, errors, skipped, cost, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.RunID, started.UTC().Format(timeFormat), r.GitSHA, r.GitRef, string(hj),
		s.Total, s.Passed, s.Failed, s.Errors, s.Skipped, s.Cost, s.DurationMS)
	if err != nil {
		return 0, fmt.Errorf("record run in %s: %w", h.path, err)
	}
	if runID, err = res.LastInsertId(); err != nil {
		return 0, fmt.Errorf("record run in %s: %w", h.path, err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO tests
		(run, suite, name, status, score, latency_ms, cost, cached, repeats, repeats_passed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, fmt.Errorf("record tests in %s: %w", h.path, err)
	}
	defer stmt.Close()
	var counted results.Summary
	err = r.Each(func(t *results.TestResult) error {
		counted.Add(t)
		var n, p int
		if t.PassRate != nil {
			n, p = t.PassRate.Runs, t.PassRate.Passed
		}
		_, err := stmt.ExecContext(ctx, runID, t.Suite, t.Name, string(t.Status), t.Score, t.LatencyMS, t.Cost, t.Cached, n, p)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record tests in %s: %w", h.path, err)
	}
	if s.Total == 0 && counted.Total > 0 {
		// A results value built without a summary: use what the tests say.
		_, err := tx.ExecContext(ctx, `UPDATE runs SET total=?, passed=?, failed=?, errors=?, skipped=?, cost=? WHERE id=?`,
			counted.Total, counted.Passed, counted.Failed, counted.Errors, counted.Skipped, counted.Cost, runID)
		if err != nil {
			return 0, fmt.Errorf("record run in %s: %w", h.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record run in %s: %w", h.path, err)
	}
	return runID, nil
}
