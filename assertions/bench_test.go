package assertions

import (
	"context"
	"testing"
)

// benchChecks are the cheap deterministic assertions every test of the
// scale bench (go run ./bench: contains, not-contains, length and the
// rest of its pool) and of eval's echo benchmarks (contains, regex,
// latency) runs, plus failing ones, whose reasons are longer.
var benchChecks = []struct {
	name string
	spec Spec
}{
	{"contains", Spec{Type: "contains", Value: "42"}},
	{"not-contains", Spec{Type: "not-contains", Value: "As an AI"}},
	{"length", Spec{Type: "length", Value: map[string]any{"min": 10, "max": 500}}},
	{"starts-with", Spec{Type: "starts-with", Value: "Question"}},
	{"ends-with", Spec{Type: "ends-with", Value: "42."}},
	{"icontains", Spec{Type: "icontains", Value: "QUESTION"}},
	{"regex", Spec{Type: "regex", Value: `\d+`}},
	{"latency", Spec{Type: "latency", Threshold: thr(5000)}},
	{"contains-fail", Spec{Type: "contains", Value: "As an AI"}},
	{"not-contains-fail", Spec{Type: "not-contains", Value: "42"}},
	{"length-fail", Spec{Type: "length", Value: map[string]any{"max": 5}}},
	{"equals-fail", Spec{Type: "equals", Value: "the answer is 42"}},
}

// BenchmarkChecks is the CPU and allocations of one check of one output
// by each assertion of benchChecks.
//
//	go test -run '^$' -bench Checks -benchmem ./assertions
func BenchmarkChecks(b *testing.B) {
	in := &Input{Output: "Question case-000042: reply with the answer 42.", LatencyMS: 21.4}
	ctx := context.Background()
	for _, c := range benchChecks {
		a, err := New(c.spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Check(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
