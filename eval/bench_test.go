package eval

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// BenchmarkRun1000 measures the runner against a server with a fixed
// latency: 1000 tests of 3 assertions at concurrency 10. efficiency is the
// ideal wall time ceil(N/C)*latency over the measured one (target >= 0.95);
// peak-heap-MB is the largest live heap seen during the run.
//
//	go test -run '^$' -bench Run1000 -benchtime 1x ./eval
func BenchmarkRun1000(b *testing.B) {
	const (
		n       = 1000
		conc    = 10
		latency = 50 * time.Millisecond
	)
	srv := fakeopenai.New(fakeopenai.WithLatency(latency), fakeopenai.WithKeep(0))
	defer srv.Close()
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "  - name: t%04d\n    prompt: ask\n    params: {q: \"answer %d is 42\"}\n"+
			"    assert:\n      - {type: contains, value: \"42\"}\n      - {type: regex, value: \"^answer \\\\d+\"}\n"+
			"      - {type: latency, threshold: 5000}\n", i, i)
	}
	s := fakeSuite(b, srv.URL(), "", sb.String())
	ideal := time.Duration(math.Ceil(float64(n)/conc)) * latency

	var worst float64 = math.Inf(1)
	var peak uint64
	b.ResetTimer()
	for range b.N {
		opts := testOpts(b)
		opts.Concurrency = conc
		stopPeak := samplePeakHeap(&peak)
		start := time.Now()
		res, err := Run(context.Background(), []*Suite{s}, opts)
		wall := time.Since(start)
		stopPeak()
		if err != nil {
			b.Fatal(err)
		}
		if res.Summary.Passed != n {
			b.Fatalf("summary %+v", res.Summary)
		}
		worst = min(worst, float64(ideal)/float64(wall))
	}
	b.ReportMetric(worst, "efficiency")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(ideal.Milliseconds()), "ideal-ms")
}

// samplePeakHeap records the largest live heap until the returned func is
// called. runtime/metrics reads without stopping the world.
func samplePeakHeap(peak *uint64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// BenchmarkRunEcho10k runs 10,000 tests from a JSON Lines cases file on the
// echo parser (no network): the runner's own CPU per test, and its heap.
//
//	go test -run '^$' -bench RunEcho10k -benchtime 1x ./eval
func BenchmarkRunEcho10k(b *testing.B) {
	const n = 10_000
	var cases strings.Builder
	for i := range n {
		fmt.Fprintf(&cases, `{"name": "t%05d", "prompt": "get_activities", "params": {"city": "city %d"}, "assert": [{"type": "contains", "value": "city"}, {"type": "regex", "value": "\\d+"}, {"type": "latency", "threshold": 5000}]}`+"\n", i, i)
	}
	dir := writeFiles(b, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        "config: trip.aiconfig.json\ntests: file://cases.jsonl\n",
		"cases.jsonl":        cases.String(),
	})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		opts := testOpts(b)
		opts.Concurrency = 8
		stopPeak := samplePeakHeap(&peak)
		before := cpuTime()
		res, err := Run(context.Background(), []*Suite{s}, opts)
		cpu += cpuTime() - before
		stopPeak()
		if err != nil || res.Summary.Passed != n {
			b.Fatalf("err %v summary %+v", err, res)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-us/test")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadJSONL1000 measures loading a suite whose 1000 tests are rows
// of a JSONL cases file with 3 assertions each: the work between start-up
// and a run's first model call.
//
//	go test -run '^$' -bench LoadJSONL -benchmem ./eval
func BenchmarkLoadJSONL1000(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, `{"name":"case-%06d","prompt":"ask","params":{"q":"case-%06d"},"assert":[{"type":"contains","value":"42"},{"type":"not-contains","value":"As an AI"},{"type":"length","value":{"min":10,"max":500}}]}`+"\n", i, i)
	}
	dir := writeFiles(b, map[string]string{
		"cases.jsonl":     sb.String(),
		"bench.eval.yaml": "config: bench.aiconfig.json\ntests: file://cases.jsonl\n",
		"bench.aiconfig.json": `{"name":"bench","schema_version":"latest",
  "metadata":{"models":{"gpt-4o-mini":{"model":"gpt-4o-mini"}},"default_model":"gpt-4o-mini"},
  "prompts":[{"name":"ask","input":"Question {{q}}: reply with the answer 42."}]}`,
	})
	suite := filepath.Join(dir, "bench.eval.yaml")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, err := LoadSuite(suite)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Tests) != 1000 {
			b.Fatalf("%d tests", len(s.Tests))
		}
	}
}
