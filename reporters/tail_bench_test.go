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

// BenchmarkTail100k is a 100,000-test run's work after its last answer, as
// `aieval run --json --junit --html --markdown` does it: the spool put back in report order
// (results finish out of order at concurrency 50), then one fan-out read
// feeding the JSON report, JUnit, HTML, Markdown and the console summary, each written to
// a file. tail-ms is that wall time (issue 9: ≤ 500 ms), peak-heap-MB the
// largest live heap seen meanwhile.
//
//	go test -run '^$' -bench Tail100k -benchtime 1x ./reporters
func BenchmarkTail100k(b *testing.B) { benchTail(b, 100_000) }

func benchTail(b *testing.B, n int) {
	dir := b.TempDir()
	suite := results.SuiteInfo{Path: "bench.eval.yaml", Description: fmt.Sprintf("bench %d tests", n), Config: "/tmp/b/bench.aiconfig.json", ConfigName: "bench"}
	var tailTotal time.Duration
	var peak uint64
	for i := range b.N {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("spool%d.jsonl", i))
		sp, err := results.NewSpool(path, n)
		if err != nil {
			b.Fatal(err)
		}
		r := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{suite}, StartedAt: time.Unix(0, 0).UTC()}
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
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
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
