package eval

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/internal/heapwatch"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
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
		stopPeak := heapwatch.Peak(&peak, nil)
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

// BenchmarkRunEcho10k runs 10,000 tests from a JSON Lines cases file on the
// echo parser (no network): the runner's own CPU per test, and its heap.
// peak-heap-MB is the largest heap seen (garbage included, so it scales
// with GOGC); peak-live-MB the largest heap the GC found live, and
// live-B/test that over the tests: what the run keeps per test.
//
//	go test -run '^$' -bench RunEcho10k -benchtime 1x -count 3 ./eval
func BenchmarkRunEcho10k(b *testing.B) { benchEcho(b, 10_000) }

// BenchmarkRunEcho100k is BenchmarkRunEcho10k at 100,000 tests: its peak
// heap should be that of 10k.
//
//	go test -run '^$' -bench RunEcho100k -benchtime 1x -count 3 ./eval
func BenchmarkRunEcho100k(b *testing.B) { benchEcho(b, 100_000) }

// BenchmarkRunEcho1M is BenchmarkRunEcho10k at 1,000,000 tests (a 230 MB
// cases file in the temp dir, ~1 minute). It only runs when asked for by
// name with -benchtime 1x, never in a -bench . sweep:
//
//	go test -run '^$' -bench RunEcho1M -benchtime 1x ./eval
func BenchmarkRunEcho1M(b *testing.B) {
	if b.N > 1 || !strings.Contains(flagValue("test.bench"), "1M") {
		b.Skip("run by hand: -bench RunEcho1M -benchtime 1x")
	}
	benchEcho(b, 1_000_000)
}

func benchEcho(b *testing.B, n int) {
	dir := echoCases(b, n, tripConfig, "get_activities")
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	benchRuns(b, n, func() Options {
		opts := testOpts(b)
		opts.Concurrency = 8
		return opts
	}, s)
}

// echoCases writes an aiconfig, a suite and its n-row JSON Lines cases
// file (3 assertions a row) to a new temp dir.
func echoCases(b *testing.B, n int, config, prompt string) string {
	dir := writeFiles(b, map[string]string{
		"trip.aiconfig.json": config,
		"s.eval.yaml":        "config: trip.aiconfig.json\ntests: file://cases.jsonl\n",
	})
	f, err := os.Create(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f) // streamed: a 1M-row file would be 230 MB of bench heap
	for i := range n {
		fmt.Fprintf(w, `{"name": "t%07d", "prompt": %q, "params": {"city": "city %d"}, "assert": [{"type": "contains", "value": "city"}, {"type": "regex", "value": "\\d+"}, {"type": "latency", "threshold": 5000}]}`+"\n", i, prompt, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchRuns runs the suites b.N times with the options opts makes, every
// test expected to pass, and reports the process's CPU per test and the
// heap (see BenchmarkRunEcho10k).
func benchRuns(b *testing.B, n int, opts func() Options, suites ...*Suite) {
	var peak, live, allocs uint64
	var cpu time.Duration
	goruntime.GC()
	base := heapwatch.Live()
	var ms goruntime.MemStats
	for range b.N {
		o := opts()
		stopPeak := heapwatch.Peak(&peak, &live)
		goruntime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		before := heapwatch.CPU()
		res, err := Run(context.Background(), suites, o)
		cpu += heapwatch.CPU() - before
		goruntime.ReadMemStats(&ms)
		allocs += ms.Mallocs - mallocs
		stopPeak()
		if err != nil || res.Summary.Passed != n {
			b.Fatalf("err %v summary %+v", err, res)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-us/test")
	// Allocations of the run alone (the suite's loading is not in them),
	// the heapwatch sampler's included: a few a millisecond.
	b.ReportMetric(float64(allocs)/float64(b.N*n), "allocs/test")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
	b.ReportMetric((float64(live)-float64(base))/float64(n), "live-B/test")
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
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

// replayConfig is tripConfig on a real model, so its answers go through
// the cache (echo's bypass it).
const replayConfig = `{"name": "trip", "schema_version": "latest",
  "metadata": {"models": {"gpt-4o-mini": {"model": "gpt-4o-mini"}}, "default_model": "gpt-4o-mini"},
  "prompts": [{"name": "get_activities", "input": "Tell me 10 fun attractions to do in {{city}}."}]}`

// answerClient answers a chat at once with its last message.
type answerClient struct{}

func (answerClient) Complete(_ context.Context, req *llm.Request, _ llm.ChunkFunc) (*llm.Response, error) {
	return &llm.Response{Text: req.Messages[len(req.Messages)-1].Content, Role: "assistant", FinishReason: "stop",
		Usage: llm.Usage{PromptTokens: 7, CompletionTokens: 7, TotalTokens: 14}}, nil
}

// refuseClient fails every call: an offline replay must make none.
type refuseClient struct{}

func (refuseClient) Complete(context.Context, *llm.Request, llm.ChunkFunc) (*llm.Response, error) {
	return nil, errors.New("a model was called during an offline replay")
}

// BenchmarkReplay10k replays 10,000 tests offline from a cache recorded
// before the timer starts (one entry a test): the cache's reads and the
// set of keys it used (for cache prune) with the runner's own costs.
//
//	go test -run '^$' -bench Replay10k -benchtime 1x -count 3 ./eval
func BenchmarkReplay10k(b *testing.B) { benchReplay(b, 10_000) }

// BenchmarkReplay1M is BenchmarkReplay10k at 1,000,000 tests, by hand
// only: recording its cache writes a million files (~4 GB of disk, several
// minutes) before the replay is measured.
//
//	go test -run '^$' -bench Replay1M -benchtime 1x -timeout 60m ./eval
func BenchmarkReplay1M(b *testing.B) {
	if b.N > 1 || !strings.Contains(flagValue("test.bench"), "1M") {
		b.Skip("run by hand: -bench Replay1M -benchtime 1x")
	}
	benchReplay(b, 1_000_000)
}

func benchReplay(b *testing.B, n int) {
	dir := echoCases(b, n, replayConfig, "get_activities")
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	cacheDir := filepath.Join(dir, "cache")
	rec := testOpts(b)
	rec.Concurrency, rec.CacheDir, rec.CacheMode = 8, cacheDir, "read-write"
	rec.Parsers = map[string]llm.Client{runtime.ParserOpenAI: answerClient{}}
	if res, err := Run(context.Background(), []*Suite{s}, rec); err != nil || res.Summary.Passed != n {
		b.Fatalf("record: err %v summary %+v", err, res)
	}
	var c *cache.Cache
	b.ResetTimer()
	benchRuns(b, n, func() Options {
		opts := testOpts(b)
		opts.Concurrency, opts.CacheDir, opts.CacheMode, opts.Offline = 8, cacheDir, "read-only", true
		opts.Parsers = map[string]llm.Client{runtime.ParserOpenAI: refuseClient{}}
		opts.OnCacheDone = func(cc *cache.Cache) { c = cc }
		return opts
	}, s)
	b.StopTimer()
	if st := c.Stats(); st.Hits != int64(n) || st.Writes != 0 {
		b.Fatalf("replay: cache %+v, want %d hits", st, n)
	}
}
