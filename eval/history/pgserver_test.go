package history

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The PostgreSQL tests run against a real server: AIEVAL_TEST_POSTGRES (a
// postgres:// URL) when set, else a throwaway cluster this package starts
// from the installed server binaries (Debian's postgresql package puts
// them in /usr/lib/postgresql/*/bin) on a unix socket in a temp dir, so
// it needs no port and cannot meet another test's server. Each test gets
// a fresh schema (search_path) and drops it after. Under CI=true a
// missing server fails the tests instead of skipping them.

var pgServer struct {
	once  sync.Once
	dsn   string // admin URL of the server
	err   error
	stop  func()
	count atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer.stop != nil {
		pgServer.stop()
	}
	os.Exit(code)
}

// postgresTarget returns a postgres:// URL of a fresh, empty schema.
func postgresTarget(t *testing.T) string {
	t.Helper()
	pgServer.once.Do(func() {
		if dsn := os.Getenv("AIEVAL_TEST_POSTGRES"); dsn != "" {
			pgServer.dsn = dsn
			return
		}
		pgServer.dsn, pgServer.stop, pgServer.err = startPostgres()
	})
	if pgServer.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v (CI=true: install the postgresql package or set AIEVAL_TEST_POSTGRES)", pgServer.err)
		}
		t.Skipf("PostgreSQL: %v (install the postgresql package or set AIEVAL_TEST_POSTGRES)", pgServer.err)
	}
	schema := fmt.Sprintf("aieval_test_%d_%d", os.Getpid(), pgServer.count.Add(1))
	admin, err := sql.Open("pgx", pgServer.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", Redact(pgServer.dsn), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", pgServer.dsn)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(pgServer.dsn)
	if err != nil {
		t.Fatalf("AIEVAL_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgBinDir finds the directory of initdb and pg_ctl: PATH first, then the
// newest Debian install.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// startPostgres creates and starts a cluster in a temp dir, listening on
// a unix socket only. initdb refuses to run as root: as root, the server
// runs as the postgres user (created by the Debian package), with the
// temp dir handed to it.
func startPostgres() (dsn string, stop func(), err error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "aieval-pg-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	data, logf := filepath.Join(dir, "data"), filepath.Join(dir, "log")
	run := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
		if uid >= 0 {
			runAs(cmd, uid, gid)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", name, err, out)
		}
		return nil
	}
	start := time.Now()
	if err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		cleanup()
		return "", nil, err
	}
	// fsync off and no TCP: a disposable server for tests only.
	opts := fmt.Sprintf("-c listen_addresses='' -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off", dir)
	if err := run("pg_ctl", "-D", data, "-l", logf, "-o", opts, "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(logf)
		cleanup()
		return "", nil, fmt.Errorf("%v\n%s", err, log)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "started PostgreSQL (%s) in %s in %v\n", bin, dir, time.Since(start).Round(time.Millisecond))
	}
	stop = func() {
		if err := run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		}
		cleanup()
	}
	dsn = "postgres://postgres@/postgres?sslmode=disable&host=" + url.QueryEscape(dir)
	return dsn, stop, nil
}
