// Package historytest gives tests a real PostgreSQL server for the
// history store: AIEVAL_TEST_POSTGRES (a postgres:// URL) when set, else
// a throwaway cluster started from the installed server binaries
// (Debian's postgresql package puts them in /usr/lib/postgresql/*/bin) on
// a unix socket in a temp dir, so it needs no port and cannot meet
// another test's server. Each test gets a fresh schema (search_path) and
// drops it after. Under CI=true a missing server fails the test instead
// of skipping it.
package historytest

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

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvVar names a server to use instead of starting one.
const EnvVar = "AIEVAL_TEST_POSTGRES"

var shared struct {
	once sync.Once
	dsn  string
	stop func()
	err  error
}

var schemas atomic.Int64

// Target returns the URL of a fresh, empty schema on the package's shared
// server, started on first use. A package using it calls Stop from its
// TestMain, after m.Run.
func Target(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.dsn, shared.stop, shared.err = server() })
	require(t, shared.err)
	return Schema(t, shared.dsn)
}

// Stop stops the shared server, if Target started one.
func Stop() {
	if shared.stop != nil {
		shared.stop()
	}
}

// Start gives t a server of its own (or AIEVAL_TEST_POSTGRES), stopped
// when t ends, and returns its admin URL: for a package without a
// TestMain. Pass it to Schema for a fresh schema.
func Start(t testing.TB) string {
	t.Helper()
	dsn, stop, err := server()
	require(t, err)
	if stop != nil {
		t.Cleanup(stop)
	}
	return dsn
}

func server() (dsn string, stop func(), err error) {
	if dsn := os.Getenv(EnvVar); dsn != "" {
		return dsn, nil, nil
	}
	return startPostgres()
}

func require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL: %v (CI=true: install the postgresql package or set %s)", err, EnvVar)
	}
	t.Skipf("PostgreSQL: %v (install the postgresql package or set %s)", err, EnvVar)
}

// Schema creates a fresh schema on the server at admin, dropped when t
// ends, and returns admin's URL with search_path set to it.
func Schema(t testing.TB, admin string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: not a URL", EnvVar)
	}
	shown := *u
	shown.User = nil
	schema := fmt.Sprintf("aieval_test_%d_%d", os.Getpid(), schemas.Add(1))
	exec := func(q string) error {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(q)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", shown.Redacted(), err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
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

// startPostgres creates a cluster in a temp dir and runs its server as
// a child process listening on a unix socket only. initdb refuses to run
// as root: as root, both run as the postgres user (created by the Debian
// package), with the temp dir handed to it.
func startPostgres() (dsn string, stop func(), err error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "aieval-pg-")
	if err != nil {
		return "", nil, err
	}
	fail := func(err error) (string, func(), error) {
		os.RemoveAll(dir)
		return "", nil, err
	}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root and no postgres user to run the server as: %w", err))
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
		serverProc(cmd, uid, gid)
		return cmd
	}
	start := time.Now()
	data := filepath.Join(dir, "data")
	if out, err := command("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	// No TCP, no fsync: a disposable server for tests only.
	var log strings.Builder
	srv := command("postgres", "-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	out := &syncWriter{w: &log}
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stop = func() {
		srv.Process.Signal(os.Interrupt) // fast shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	}
	dsn = "postgres://postgres@/postgres?sslmode=disable&host=" + url.QueryEscape(dir)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			stop()
			return "", nil, fmt.Errorf("postgres exited: %v\n%s", err, out.String())
		default:
		}
		if db.Ping() == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("postgres not ready after 30s\n%s", out.String())
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "historytest: started PostgreSQL (%s) in %s in %v\n", bin, dir, time.Since(start).Round(time.Millisecond))
	}
	return dsn, stop, nil
}

// syncWriter serialises the server's stdout and stderr into one log.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
