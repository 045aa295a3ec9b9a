//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// The reports of a run are open while it runs (they render live): a
// second SIGINT, which exits at once, leaves no temp file of theirs in
// the reports' directory, and no report half-written.
func TestSecondSIGINTLeavesNoReportTemp(t *testing.T) {
	bin := buildBinary(t)
	srv := fakeopenai.New(fakeopenai.WithLatency(time.Minute))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd, stderr, junit, js := signalRun(t, ctx, bin, srv, 8, "--concurrency", "4")
	waitRequests(t, ctx, srv, 4)
	dir := filepath.Dir(junit)
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".aieval-*.tmp")); len(tmps) != 2 {
		t.Errorf("%d report temp files while the run goes, want 2 (JUnit and JSON render live): %v", len(tmps), tmps)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
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
	cmd.Wait()
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".aieval-*.tmp")); len(tmps) != 0 {
		t.Errorf("report temp files left after a second SIGINT: %v", tmps)
	}
	for _, p := range []string{junit, js} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written by a run that was made to exit at once", p)
		}
	}
}
