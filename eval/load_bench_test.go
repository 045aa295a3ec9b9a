package eval

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/heapwatch"
)

// The load benchmarks measure LoadSuite on a large cases file in the
// bench's shape (a name, a prompt, one parameter, 3 assertions): CPU,
// the largest heap while loading (peak-heap-MB, garbage included) and the
// largest the GC found live (peak-live-MB), and what the loaded suite
// keeps (kept-B/row).
//
//	go test -run '^$' -bench 'LoadCases' -benchtime 3x ./eval
func BenchmarkLoadCasesJSONL100k(b *testing.B) { benchLoad(b, 100_000, "jsonl") }

// BenchmarkLoadCasesYAML100k: the same rows as a 21 MB block-style YAML file.
func BenchmarkLoadCasesYAML100k(b *testing.B) { benchLoad(b, 100_000, "yaml") }

// BenchmarkLoadCasesJSONL1M runs only when named (a 190 MB file):
//
//	go test -run '^$' -bench LoadCasesJSONL1M -benchtime 1x ./eval
func BenchmarkLoadCasesJSONL1M(b *testing.B) {
	if !strings.Contains(flagValue("test.bench"), "1M") {
		b.Skip("run by hand: -bench LoadCasesJSONL1M -benchtime 1x")
	}
	benchLoad(b, 1_000_000, "jsonl")
}

// loadCases writes the bench's suite with n rows as format (jsonl, yaml).
func loadCases(b *testing.B, n int, format string) string {
	dir := writeFiles(b, map[string]string{
		"bench.aiconfig.json": `{"name":"bench","schema_version":"latest",
  "metadata":{"models":{"gpt-4o-mini":{"model":"gpt-4o-mini"}},"default_model":"gpt-4o-mini"},
  "prompts":[{"name":"ask","input":"Question {{q}}: reply with the answer 42."}]}`,
		"bench.eval.yaml": "config: bench.aiconfig.json\ntests: file://cases." + format + "\n",
	})
	f, err := os.Create(filepath.Join(dir, "cases."+format))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	for i := range n {
		name := fmt.Sprintf("case-%06d", i)
		if format == "yaml" { // as bench/suite.go writes it
			fmt.Fprintf(w, "- name: %q\n  prompt: \"ask\"\n  params:\n    \"q\": %q\n  assert:\n"+
				"    - type: \"contains\"\n      value: \"42\"\n    - type: \"not-contains\"\n      value: \"As an AI\"\n"+
				"    - type: \"length\"\n      value: {\"max\":500,\"min\":10}\n", name, name)
			continue
		}
		fmt.Fprintf(w, `{"name":%q,"prompt":"ask","params":{"q":%q},"assert":[{"type":"contains","value":"42"},{"type":"not-contains","value":"As an AI"},{"type":"length","value":{"max":500,"min":10}}]}`+"\n", name, name)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "bench.eval.yaml")
}

func benchLoad(b *testing.B, n int, format string) {
	path := loadCases(b, n, format)
	var peak, live, kept uint64
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		goruntime.GC()
		base := heapwatch.Live()
		stop := heapwatch.Peak(&peak, &live)
		before := heapwatch.CPU()
		s, err := LoadSuite(path)
		cpu += heapwatch.CPU() - before
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if s.TestCount() != n {
			b.Fatalf("%d tests", s.TestCount())
		}
		goruntime.GC()
		kept = max(kept, heapwatch.Live()-base)
		goruntime.KeepAlive(s)
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
	b.ReportMetric(float64(kept)/float64(n), "kept-B/row")
}

// BenchmarkRowDecode measures reading a lazy suite's rows back while it
// runs (lazyCursor.test: read, check the row's sum, build its test), per
// row, for 10k rows of each format.
//
//	go test -run '^$' -bench RowDecode -count 5 ./eval
func BenchmarkRowDecode(b *testing.B) {
	for _, format := range []string{"jsonl", "yaml"} {
		b.Run(format, func(b *testing.B) {
			const n = 10_000
			withYAMLRowsMin(b, 0)
			s, err := LoadSuite(loadCases(b, n, format))
			if err != nil {
				b.Fatal(err)
			}
			if s.lazy == nil {
				b.Fatal("not lazy")
			}
			b.ReportAllocs()
			b.ResetTimer()
			rows := 0
			before := heapwatch.CPU()
			defer func() {
				b.ReportMetric(float64(heapwatch.CPU()-before)/float64(b.N), "cpu-ns/row")
			}()
			for rows < b.N {
				cur := s.lazy.open(s)
				for i := 0; i < n && rows < b.N; i++ {
					if _, why := cur.test(i); why != "" {
						b.Fatal(why)
					}
					rows++
				}
				cur.close()
			}
		})
	}
}

// BenchmarkRowIndexName measures finding a lazy row's name, as the runner
// does for every row when it selects and reports tests.
//
//	go test -run '^$' -bench RowIndexName ./eval
func BenchmarkRowIndexName(b *testing.B) {
	var x rowIndex
	const n = 1 << 16
	for i := range n {
		x.add(fmt.Sprintf("case-%06d", i), i+1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(x.name(i&(n-1))) != 11 {
			b.Fatal("bad name")
		}
		i += 7919
	}
}
