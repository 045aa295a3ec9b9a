package reporters

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/heapwatch"
)

// BenchmarkTail100k is a 100,000-test run's work after its last answer when
// its reports are rendered after the run (as `aieval run` did before they
// went live, and still does with --retry-errors): the spool put back in
// report order (results finish out of order at concurrency 50), then one
// fan-out read feeding the JSON report, JUnit, HTML, Markdown and the
// console summary, each written to a file. tail-ms is that wall time,
// peak-heap-MB the largest live heap seen meanwhile, cpu-us/test the
// process's CPU per test over the whole iteration (producing the results
// included, as in BenchmarkTailLive100k, which measures the live path).
//
//	go test -run '^$' -bench Tail100k -benchtime 1x ./reporters
func BenchmarkTail100k(b *testing.B) { benchTail(b, 100_000) }

func benchTail(b *testing.B, n int) {
	dir := b.TempDir()
	suite := results.SuiteInfo{Path: "bench.eval.yaml", Description: fmt.Sprintf("bench %d tests", n), Config: "/tmp/b/bench.aiconfig.json", ConfigName: "bench"}
	var tailTotal, cpuTotal time.Duration
	var peak uint64
	for i := range b.N {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("spool%d.jsonl", i))
		sp, err := results.NewSpool(path, n)
		if err != nil {
			b.Fatal(err)
		}
		r := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{suite}, StartedAt: time.Unix(0, 0).UTC()}
		cpu0 := heapwatch.CPU()
		const conc = 50 // completion order: each window of 50 finishes reversed
		for w := 0; w < n; w += conc {
			for ord := min(w+conc, n) - 1; ord >= w; ord-- {
				t := benchResult(ord)
				r.Count(t)
				if err := sp.Add(ord, t); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		stop := heapwatch.Peak(&peak, nil)
		b.StartTimer()
		start := time.Now()
		spool, err := sp.Finish()
		if err != nil {
			b.Fatal(err)
		}
		r.UseSpool(spool)
		write := func(name, file string, o Options) func(v *results.Results) error {
			return func(v *results.Results) error {
				rep, err := Get(name, o)
				if err != nil {
					return err
				}
				f, err := os.Create(filepath.Join(dir, file))
				if err != nil {
					return err
				}
				w := bufio.NewWriterSize(f, 64<<10)
				if err := rep.Report(w, v); err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
				return f.Close()
			}
		}
		errs := r.Fanout(write("json", "out.json", Options{}), write("junit", "out.xml", Options{}),
			write("html", "out.html", Options{}), write("markdown", "out.md", Options{}),
			write("console", "console.txt", Options{Quiet: true}))
		tailTotal += time.Since(start)
		b.StopTimer()
		cpuTotal += heapwatch.CPU() - cpu0
		stop()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if r.SpoolReads() != 1 {
			b.Fatalf("spool read %d times, want once", r.SpoolReads())
		}
		os.Remove(spool)
	}
	b.ReportMetric(float64(tailTotal.Milliseconds())/float64(b.N), "tail-ms")
	b.ReportMetric(float64(cpuTotal.Microseconds())/float64(b.N)/float64(n), "cpu-us/test")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkTailLive100k is the same run with its reports rendered live,
// as `aieval run` now does: the five reports run on views of a
// results.Live from the start, the tests are stored as the collector
// stores them (into the spool, then the live view with the spool's line,
// each window of 50 finishing reversed), and tail-ms is what is left after
// the last test is in: the spool's index, the last batches, every
// report's header and the copy of its spilled part. cpu-us/test is the
// process's CPU over the whole run per test (producing the results
// included), peak-heap-MB the largest live heap of the run.
//
//	go test -run '^$' -bench TailLive100k -benchtime 3x ./reporters
func BenchmarkTailLive100k(b *testing.B) { benchTailLive(b, 100_000) }

func benchTailLive(b *testing.B, n int) {
	dir := b.TempDir()
	suite := results.SuiteInfo{Path: "bench.eval.yaml", Description: fmt.Sprintf("bench %d tests", n), Config: "/tmp/b/bench.aiconfig.json", ConfigName: "bench"}
	var tailTotal, cpuTotal time.Duration
	var peak uint64
	for i := range b.N {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("spool%d.jsonl", i))
		sp, err := results.NewSpool(path, n)
		if err != nil {
			b.Fatal(err)
		}
		r := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{suite}, StartedAt: time.Unix(0, 0).UTC()}
		runtime.GC()
		stop := heapwatch.Peak(&peak, nil)
		cpu0 := heapwatch.CPU()
		b.StartTimer()
		l := results.NewLive(benchWrite(dir, "json", "out.json", Options{}), benchWrite(dir, "junit", "out.xml", Options{}),
			benchWrite(dir, "html", "out.html", Options{}), benchWrite(dir, "markdown", "out.md", Options{}),
			benchWrite(dir, "console", "console.txt", Options{Quiet: true}))
		l.Begin(r)
		const conc = 50 // completion order: each window of 50 finishes reversed
		for w := 0; w < n; w += conc {
			for ord := min(w+conc, n) - 1; ord >= w; ord-- {
				t := benchResult(ord)
				r.Count(t)
				if err := sp.Add(ord, t); err != nil {
					b.Fatal(err)
				}
				l.Add(ord, t, sp.Line())
			}
		}
		start := time.Now()
		spool, err := sp.Finish()
		if err != nil {
			b.Fatal(err)
		}
		l.EndTests()
		r.UseSpool(spool)
		errs := l.Close(r)
		tailTotal += time.Since(start)
		b.StopTimer()
		cpuTotal += heapwatch.CPU() - cpu0
		stop()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if r.SpoolReads() != 0 {
			b.Fatalf("spool read %d times, want none: the reports had every test already", r.SpoolReads())
		}
		os.Remove(spool)
	}
	b.ReportMetric(float64(tailTotal.Milliseconds())/float64(b.N), "tail-ms")
	b.ReportMetric(float64(cpuTotal.Microseconds())/float64(b.N)/float64(n), "cpu-us/test")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// benchWrite renders report name to dir/file, as `aieval run` writes a
// report file.
func benchWrite(dir, name, file string, o Options) func(v *results.Results) error {
	return func(v *results.Results) error {
		rep, err := Get(name, o)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		if err := rep.Report(f, v); err != nil { // the file itself, as writeWith gives it
			f.Close()
			return err
		}
		return f.Close()
	}
}

// benchResult is test i of the bench's suite as aieval records it.
func benchResult(i int) *results.TestResult {
	name := fmt.Sprintf("case-%06d", i)
	text := "Question " + name + ": reply with the answer 42."
	return &results.TestResult{Suite: "bench.eval.yaml", Name: name, Line: 3, Config: "/tmp/b/bench.aiconfig.json", ConfigName: "bench",
		Prompt: "ask", Params: map[string]any{"q": name}, Input: text, Output: text, FinishReason: "stop", Model: "gpt-4o-mini",
		Provider: "openai", LatencyMS: 20.3, Tokens: results.Tokens{Prompt: 7, Completion: 7, Total: 14}, Cost: 0.00000525,
		Status: results.StatusPass, Score: 1, File: "/tmp/b/cases.jsonl", FileLine: i + 1,
		Assertions: []results.AssertionResult{
			{Type: "contains", Pass: true, Score: 1, Reason: `output contains "42"`, Weight: 1},
			{Type: "not-contains", Pass: true, Score: 1, Reason: `output does not contain "As an AI"; found "` + text + `"`, Weight: 1},
			{Type: "length", Pass: true, Score: 1, Reason: "output has 47 characters, within 10..500", Weight: 1},
		},
		Request: &results.Request{Messages: []results.Message{{Role: "user", Content: text}}, Settings: map[string]any{"temperature": 0.0}},
	}
}
