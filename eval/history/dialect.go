package history

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aieval/aieval/internal/text"
)

// dialect is what differs between the SQLite file and a PostgreSQL
// server: everything else (schema, queries, reads) is shared.
type dialect interface {
	// bind rewrites a query written with ? placeholders for the driver.
	bind(q string) string
	// lock starts a migration: it takes whatever lock makes concurrent
	// migrators serialise, inside tx.
	lock(ctx context.Context, tx *sql.Tx) error
	// version reads the schema version (0 for an empty database).
	version(ctx context.Context, q querier) (int, error)
	// setVersion records the schema version inside tx.
	setVersion(ctx context.Context, tx *sql.Tx, v int) error
	// migration returns the SQL of m for this dialect.
	migration(m migration) string
}

type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

type sqliteDialect struct{}

func (sqliteDialect) bind(q string) string { return q }

// lock: the SQLite handle opens immediate transactions (_txlock), so
// BeginTx already holds the write lock.
func (sqliteDialect) lock(context.Context, *sql.Tx) error { return nil }

func (sqliteDialect) version(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func (sqliteDialect) setVersion(ctx context.Context, tx *sql.Tx, v int) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
	return err
}

func (sqliteDialect) migration(m migration) string { return m.sqlite }

type postgresDialect struct{}

// bind numbers the placeholders: $1, $2, ... The history's queries hold no
// '?' inside a literal, so a plain scan is exact.
func (postgresDialect) bind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// migrationLock is the advisory lock key migrators of one database take:
// the first 8 bytes of "aieval/h" read as a number, unlikely to collide
// with another application's key.
const migrationLock = 0x6169_6576_616c_2f68

// lock takes a transaction-scoped advisory lock, so two runners that open
// a fresh store at once do not both create its tables; it is released at
// commit or rollback. It then makes sure the version table exists.
func (postgresDialect) lock(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
	return err
}

func (postgresDialect) version(ctx context.Context, q querier) (int, error) {
	// Read without the lock, so `aieval history` never waits on a
	// migrator; to_regclass is NULL until the first migration.
	var exists bool
	if err := q.QueryRowContext(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&v)
	return v, err
}

func (postgresDialect) setVersion(ctx context.Context, tx *sql.Tx, v int) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_version"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", v)
	return err
}

func (postgresDialect) migration(m migration) string {
	if m.postgres != "" {
		return m.postgres
	}
	return m.sqlite
}

// IsPostgres reports whether target names a PostgreSQL server (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(target string) bool {
	l := strings.ToLower(target)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Redact returns target fit for messages: a URL loses its userinfo and
// any password-like query parameter; a file path is returned as is.
func Redact(target string) string {
	if !IsPostgres(target) {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		// Unparseable: keep the scheme only, never guess what is secret.
		scheme, _, _ := strings.Cut(target, "://")
		return scheme + "://REDACTED"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			if secretParam(k) {
				q.Set(k, "REDACTED")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretParam reports whether a libpq URL parameter holds a secret.
func secretParam(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || k == "user"
}

// secrets are the strings of target that must never appear in a message:
// the userinfo's password and any password-like parameter, raw and
// URL-escaped.
func secrets(target string) []string {
	if !IsPostgres(target) {
		return nil
	}
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		// Take everything between the scheme and the host as secret.
		rest := target[strings.Index(target, "://")+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			add(rest[:at])
		}
		return out
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
	}
	for k, vs := range u.Query() {
		if secretParam(k) && k != "user" {
			for _, v := range vs {
				add(v)
			}
		}
	}
	return out
}

// scrubbed is an error whose text had secrets replaced. It deliberately
// does not unwrap: nothing down the chain may print the original text.
type scrubbed struct{ msg string }

func (e *scrubbed) Error() string { return e.msg }

// scrub makes a driver's error fit for a message: its secrets (the
// driver's messages are not trusted to leave the password out) replaced,
// and folded onto one line (pgx lists each connection attempt on a line).
func (h *DB) scrub(err error) error {
	if err == nil || len(h.secrets) == 0 && !strings.Contains(err.Error(), "\n") {
		return err
	}
	msg := err.Error()
	for _, s := range h.secrets {
		msg = strings.ReplaceAll(msg, s, "REDACTED")
	}
	return &scrubbed{msg: text.OneLine(msg, 0)}
}
