package assertions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // pure Go; already linked for eval/history
)

// is-sql: the output parses as SQL. The parser is SQLite's own (modernc's
// pure-Go build, which aieval already links): each statement is prepared,
// never run, on an empty in-memory database. A syntax error fails the
// check; "no such table/column/function" means it parsed, so it passes.
// SQLite's grammar takes ANSI SQL with CTEs, window functions, UPSERT,
// backtick or bracket quoting; it refuses statements only other engines
// have (SHOW TABLES, MySQL's ALTER ... MODIFY).

func init() {
	Register("is-sql", newSQL)
	describe("is-sql", "output parses as SQL (SQLite grammar: ANSI SQL, CTEs, window functions); statements are prepared, never run")
}

var (
	sqlOnce sync.Once
	sqlDB   *sql.DB
	sqlErr  error
)

func sqlParser() (*sql.DB, error) {
	sqlOnce.Do(func() {
		sqlDB, sqlErr = sql.Open("sqlite", ":memory:")
	})
	return sqlDB, sqlErr
}

func newSQL(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	if spec.Value != nil {
		// promptfoo's {databaseType, allowedTables, allowedColumns} need a
		// dialect-aware AST; say so rather than ignore them.
		return nil, errors.New("value is not supported: is-sql checks SQLite syntax only (no databaseType, allowedTables or allowedColumns); remove value")
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		db, err := sqlParser()
		if err != nil {
			return Result{}, fmt.Errorf("open SQL parser: %w", err)
		}
		stmts := splitSQL(in.Output)
		if len(stmts) == 0 {
			return outcome(false, "output holds no SQL statement; "+found(in.Output)), nil
		}
		for i, st := range stmts {
			if bad := sqlSyntaxError(ctx, db, st); bad != "" {
				where := ""
				if len(stmts) > 1 {
					where = fmt.Sprintf(" (statement %d of %d)", i+1, len(stmts))
				}
				return outcome(false, fmt.Sprintf("output is not valid SQL%s: %s; %s", where, bad, found(in.Output))), nil
			}
		}
		return outcome(true, fmt.Sprintf("output is valid SQL (%d statement%s)", len(stmts), plural(len(stmts)))), nil
	}), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sqlSyntaxError prepares one statement and returns SQLite's message when
// it is a syntax error, "" when the statement parsed.
func sqlSyntaxError(ctx context.Context, db *sql.DB, stmt string) string {
	st, err := db.PrepareContext(ctx, stmt)
	if err == nil {
		st.Close()
		return ""
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "SQL logic error: ")
	msg = strings.TrimSuffix(msg, " (1)")
	for _, syntax := range []string{"syntax error", "incomplete input", "unrecognized token"} {
		if strings.Contains(msg, syntax) {
			return msg
		}
	}
	return "" // parsed; failed later on names the empty database lacks
}

// splitSQL cuts text into statements at semicolons outside quotes and
// comments, dropping empty ones. SQLite prepares only the first statement
// of a string, so each is checked on its own.
func splitSQL(s string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		if st := strings.TrimSpace(s[start:end]); st != "" && !onlyComments(st) {
			out = append(out, st)
		}
		start = end + 1
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"', '`':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				i = len(s)
			} else {
				i += j + 1
			}
		case '[':
			if j := strings.IndexByte(s[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		case '-':
			if i+1 < len(s) && s[i+1] == '-' {
				if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
					i += j
				} else {
					i = len(s)
				}
			}
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
				if j := strings.Index(s[i+2:], "*/"); j >= 0 {
					i += j + 3
				} else {
					i = len(s)
				}
			}
		case ';':
			flush(i)
		}
	}
	if start < len(s) {
		flush(len(s))
	}
	return out
}

// onlyComments reports whether a statement is nothing but comments.
func onlyComments(st string) bool {
	for st != "" {
		st = strings.TrimSpace(st)
		switch {
		case strings.HasPrefix(st, "--"):
			i := strings.IndexByte(st, '\n')
			if i < 0 {
				return true
			}
			st = st[i+1:]
		case strings.HasPrefix(st, "/*"):
			i := strings.Index(st, "*/")
			if i < 0 {
				return true
			}
			st = st[i+2:]
		default:
			return st == ""
		}
	}
	return true
}
