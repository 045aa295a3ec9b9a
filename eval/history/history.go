// Package history records every run so `aieval history` (and `aieval
// view`) can show pass-rate and cost trends and each run's tests: in a
// SQLite file by default (pure Go, no cgo), or in a PostgreSQL server
// (postgres:// URL) that every branch and runner of a team records into.
// Both hold one schema, built by one list of migrations. The store holds
// only a copy of what the results files say: deleting it loses nothing
// else.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aieval/aieval/internal/safefile"
)

// DefaultPath is where the CLI keeps history unless told otherwise.
const DefaultPath = ".aieval/history.db"

// EnvVar names the store when no flag does: a file path or a postgres://
// URL, so CI can keep the URL (and its password) in a secret.
const EnvVar = "AIEVAL_HISTORY"

// migration is one schema step. sqlite is the SQL both dialects run
// unless postgres is set: a variant only where types differ.
type migration struct{ sqlite, postgres string }

// migrations are applied in order; migration i brings the schema to
// version i+1 (SQLite's user_version, PostgreSQL's schema_version table).
// Append only: never edit a released one.
var migrations = []migration{
	{
		sqlite: `CREATE TABLE runs (
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
		// PostgreSQL's REAL is 4 bytes: DOUBLE PRECISION keeps what
		// SQLite's REAL (8 bytes) keeps.
		postgres: `CREATE TABLE runs (
		id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
		cost          DOUBLE PRECISION NOT NULL DEFAULT 0,
		duration_ms   DOUBLE PRECISION NOT NULL DEFAULT 0
	);
	CREATE TABLE tests (
		run        BIGINT  NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		suite      TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		status     TEXT    NOT NULL,
		score      DOUBLE PRECISION NOT NULL DEFAULT 0,
		latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
		cost       DOUBLE PRECISION NOT NULL DEFAULT 0,
		cached     INTEGER NOT NULL DEFAULT 0,
		repeats    INTEGER NOT NULL DEFAULT 0,
		repeats_passed INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX tests_run ON tests(run);
	CREATE INDEX tests_name ON tests(name, run);`,
	},
	{
		// What a viewer shows of a test, and the run's results metadata
		// (results version, suites, full summary, interrupted) as JSON, so
		// Results rebuilds the run as recorded. One SQL for both: TEXT,
		// INTEGER and DOUBLE PRECISION mean the same to each. JSON is
		// kept as TEXT: PostgreSQL's jsonb refuses \u0000.
		sqlite: `ALTER TABLE runs ADD COLUMN meta TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tests ADD COLUMN line INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tests ADD COLUMN config TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN config_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN params TEXT NOT NULL DEFAULT 'null';
	ALTER TABLE tests ADD COLUMN input TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN output TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN model TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN provider TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tests ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tests ADD COLUMN total_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tests ADD COLUMN threshold DOUBLE PRECISION;
	ALTER TABLE tests ADD COLUMN reason TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN assertions TEXT NOT NULL DEFAULT 'null';
	ALTER TABLE tests ADD COLUMN pass_rate TEXT NOT NULL DEFAULT '';
	ALTER TABLE tests ADD COLUMN shard TEXT NOT NULL DEFAULT '';
	CREATE INDEX tests_run_seq ON tests(run, seq);`,
	},
	{
		// The rest of a test's record (its full request, refusal, tool
		// calls, finish reason), as one JSON object: fields the run
		// record gains later land here without a migration each.
		sqlite: `ALTER TABLE tests ADD COLUMN extra TEXT NOT NULL DEFAULT '';`,
	},
}

// SchemaVersion is the schema version this binary migrates to.
var SchemaVersion = len(migrations)

// DB is an open history store.
type DB struct {
	db      *sql.DB
	d       dialect
	path    string   // what messages name: the file, or the URL without credentials
	secrets []string // what messages must never contain
}

// openTimeout bounds connecting and migrating, so an unreachable server
// costs a run a warning, not minutes of TCP retries.
const openTimeout = 30 * time.Second

// Open opens and migrates the history store at target: a postgres:// or
// postgresql:// URL (PostgreSQL through pgx), else a SQLite file path
// (created with its directory if needed).
func Open(target string) (*DB, error) {
	if target == "" {
		return nil, errors.New("open history: empty path (pass --history FILE or a postgres:// URL)")
	}
	var h *DB
	var err error
	if IsPostgres(target) {
		h, err = openPostgres(target)
	} else {
		h, err = openSQLite(target)
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	if err := h.db.PingContext(ctx); err != nil {
		h.db.Close()
		return nil, fmt.Errorf("open history %s: %w", h.path, h.scrub(err))
	}
	if !h.Postgres() {
		if err := setWAL(ctx, h.db); err != nil {
			h.db.Close()
			return nil, fmt.Errorf("open history %s: %w", h.path, err)
		}
	}
	if err := h.migrate(ctx); err != nil {
		h.db.Close()
		return nil, err
	}
	return h, nil
}

// setWAL puts a SQLite file in WAL mode, so `aieval history` reads while a
// run writes. The mode belongs to the file and persists, so it is set once
// here rather than by every connection: switching takes an exclusive lock,
// and SQLite answers a second process switching at the same moment
// SQLITE_BUSY at once, without waiting in its busy handler (two of sixty
// runs of six concurrent first opens failed so). A busy answer is retried
// until ctx ends.
func setWAL(ctx context.Context, db *sql.DB) error {
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err // a file system without WAL keeps its mode: no error
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

func openSQLite(path string) (*DB, error) {
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
	// busy_timeout waits out a concurrent writer instead of failing;
	// immediate transactions take the write lock up front so two migrating
	// processes serialise. WAL is set once the file is open (setWAL).
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	return &DB{db: db, d: sqliteDialect{}, path: path}, nil
}

func openPostgres(url string) (*DB, error) {
	h := &DB{d: postgresDialect{}, path: Redact(url), secrets: secrets(url)}
	// pgx knows a URL by its scheme, in lower case only.
	scheme, rest, _ := strings.Cut(url, "://")
	db, err := sql.Open("pgx", strings.ToLower(scheme)+"://"+rest)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", h.path, h.scrub(err))
	}
	// A run records over one connection; a second lets a read overlap.
	db.SetMaxOpenConns(2)
	h.db = db
	return h, nil
}

// Close closes the database.
func (h *DB) Close() error { return h.db.Close() }

// Path is where the store lives, fit for messages: the file, or the
// server's URL without its credentials.
func (h *DB) Path() string { return h.path }

// Postgres reports whether the store is a PostgreSQL server.
func (h *DB) Postgres() bool { _, ok := h.d.(postgresDialect); return ok }

func (h *DB) version(ctx context.Context, q querier) (int, error) {
	v, err := h.d.version(ctx, q)
	if err != nil {
		if h.Postgres() {
			return 0, fmt.Errorf("read history %s: %w", h.path, h.scrub(err))
		}
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
		return fmt.Errorf("open history %s: schema version %d is newer than this aieval knows (%d); upgrade aieval or point --history elsewhere", h.path, v, SchemaVersion)
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
// version under the dialect's lock in case another process got there
// first. Both dialects run DDL inside transactions, so a failed step
// leaves the schema as it was.
func (h *DB) step(ctx context.Context) error {
	fail := func(v int, err error) error {
		return fmt.Errorf("migrate history %s to version %d: %w", h.path, v+1, h.scrub(err))
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate history %s: %w", h.path, h.scrub(err))
	}
	defer tx.Rollback()
	if err := h.d.lock(ctx, tx); err != nil {
		return fmt.Errorf("migrate history %s: %w", h.path, h.scrub(err))
	}
	v, err := h.version(ctx, tx)
	if err != nil {
		return err
	}
	if v >= SchemaVersion {
		return nil
	}
	if _, err := tx.ExecContext(ctx, h.d.migration(migrations[v])); err != nil {
		return fail(v, err)
	}
	if err := h.d.setVersion(ctx, tx, v+1); err != nil {
		return fail(v, err)
	}
	if err := tx.Commit(); err != nil {
		return fail(v, err)
	}
	return nil
}
