//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// buildBinary builds the real aieval into a temp dir: signals need a
// process of their own. The go build cache makes the second build cheap.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aieval")
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	if out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer the test may read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signalRun starts `aieval run` on an n-test suite against srv.
func signalRun(t *testing.T, ctx context.Context, bin string, srv *fakeopenai.Server, n int, extra ...string) (*exec.Cmd, *syncBuffer, string, string) {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	var b strings.Builder
	b.WriteString("description: interrupts\nconfig: shop.aiconfig.json\ntests:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: test %02d\n    prompt: facts\n    params: {item: item%02d}\n    assert:\n      - type: icontains\n        value: item%02d\n", i, i, i)
	}
	suite := write(t, dir, "sig.eval.yaml", b.String())
	junit, js := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "results.json")
	args := append([]string{"run", "--cache-mode", "off", "--no-history", "--no-progress", "--junit", junit, "--json", js}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, suite)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+srv.URL(), "OPENAI_API_KEY=k", "CI=")
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr, junit, js
}

// waitRequests polls until srv has received at least n requests.
func waitRequests(t *testing.T, ctx context.Context, srv *fakeopenai.Server, n int64) {
	t.Helper()
	for srv.Requests() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d requests arrived, want %d", srv.Requests(), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestSIGINTWritesReports: a SIGINT mid-run starts no new call, lets the
// in-flight ones finish within the grace period, writes valid JUnit and
// JSON listing every test (unfinished ones as interrupted errors) and
// exits non-zero.
func TestSIGINTWritesReports(t *testing.T) {
	bin := buildBinary(t) // before the clock starts
	srv := fakeopenai.New(fakeopenai.WithLatency(2 * time.Second))
	defer srv.Close()
	// The grace period (10 s) plus a margin: a run that ignores the signal
	// would take 40/4 * 2 s = 20 s and be killed by the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), gracePeriod+5*time.Second)
	defer cancel()
	cmd, stderr, junit, js := signalRun(t, ctx, bin, srv, 40, "--concurrency", "4", "--retries", "0")

	// Once the second batch of 4 is in flight, the first has finished and
	// the next would start 2 s later: a window far wider than the signal
	// needs.
	waitRequests(t, ctx, srv, 8)
	started := srv.Requests()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("still running after the grace period: killed\n%s", stderr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
		t.Fatalf("exit %v, want a non-zero exit code\n%s", err, stderr)
	}
	if got := srv.Requests(); got != started {
		t.Errorf("%d requests started after the signal (%d before, %d in all)", got-started, started, got)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", stderr)
	}

	res, rerr := results.ReadFile(js)
	if rerr != nil {
		t.Fatalf("JSON report after SIGINT: %v\n%s", rerr, stderr)
	}
	if len(res.Tests) != 40 || res.Summary.Total != 40 {
		t.Fatalf("JSON lists %d tests (summary %d), want all 40", len(res.Tests), res.Summary.Total)
	}
	if !res.Interrupted {
		t.Error("JSON does not mark the run as interrupted")
	}
	passed, interrupted := 0, 0
	for _, tr := range res.Tests {
		switch {
		case tr.Status == results.StatusPass:
			passed++
		case tr.Status == results.StatusError && strings.Contains(tr.Reason, "interrupted"):
			interrupted++
		default:
			t.Errorf("%s: status %s, reason %q; want pass, or error mentioning the interrupt", tr.Name, tr.Status, tr.Reason)
		}
	}
	// Every call started before the signal finished inside the grace
	// period and was scored; the rest never ran.
	if passed != int(started) || interrupted != 40-int(started) {
		t.Errorf("%d passed and %d interrupted; want %d and %d", passed, interrupted, started, 40-started)
	}
	xmllint(t, junit)
}

// TestSecondSIGINTExitsAtOnce: a second signal leaves at once with 130,
// without waiting for in-flight calls or the grace period.
func TestSecondSIGINTExitsAtOnce(t *testing.T) {
	bin := buildBinary(t)
	srv := fakeopenai.New(fakeopenai.WithLatency(time.Minute))
	defer srv.Close()
	// Far below both the call latency and the grace period.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd, stderr, _, _ := signalRun(t, ctx, bin, srv, 8, "--concurrency", "4")
	waitRequests(t, ctx, srv, 4) // the signal handler is installed by now
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Unix merges a signal into one already pending, so the second is
	// sent once the first has been seen, as a person pressing ^C twice.
	for !strings.Contains(stderr.String(), "signal again") {
		select {
		case <-ctx.Done():
			t.Fatalf("the first SIGINT was not acknowledged\n%s", stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("a second SIGINT did not end the process at once\n%s", stderr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want code 130\n%s", err, stderr)
	}
}
