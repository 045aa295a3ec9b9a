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
	"github.com/aieval/aieval/internal/otlptest"
)

// TestSIGINTFlushesMonitoring: after a SIGINT mid-run the events file ends
// with run_complete and the receiver has every test's span and the run's,
// sent before the process exits.
func TestSIGINTFlushesMonitoring(t *testing.T) {
	bin := buildBinary(t)
	sink := otlptest.Start(t)
	srv := fakeopenai.New(fakeopenai.WithLatency(time.Second))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), gracePeriod+10*time.Second)
	defer cancel()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	const n = 12
	cmd, stderr, _, _ := signalRun(t, ctx, bin, srv, n, "--concurrency", "2", "--retries", "0", "--events", events, "--otlp", sink.URL)
	waitRequests(t, ctx, srv, 3)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the run did not end after SIGINT: %s", stderr.String())
	}
	if err == nil {
		t.Fatal("an interrupted run exited 0")
	}
	evs, _ := readEvents(t, events)
	if last := evs[len(evs)-1]; last.Name != "run_complete" || last.Data["interrupted"] != true {
		t.Errorf("last event %s %v", last.Name, last.Data)
	}
	// Everything was exported before exit: no waiting here.
	d := sink.Dump(t)
	tests, interrupted, run := 0, 0, 0
	for _, s := range d.Spans {
		switch {
		case s.Name == "aieval run":
			run++
		case strings.HasPrefix(s.Name, "test "):
			tests++
			if s.Attrs["aieval.status"] == "error" && strings.Contains(s.StatusMsg, "interrupted") {
				interrupted++
			}
		}
	}
	if run != 1 || tests != n || interrupted == 0 {
		t.Errorf("spans after SIGINT: %d run, %d tests (%d interrupted), want 1, %d (some)", run, tests, interrupted, n)
	}
	if len(d.Points) == 0 {
		t.Error("no metrics after SIGINT")
	}
}
