package assertions

import (
	"context"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

func TestDistanceAndBounds(t *testing.T) {
	runCases(t, []checkCase{
		{name: "levenshtein pass", spec: Spec{Type: "levenshtein", Value: "kitten"}, in: Input{Output: "sitting"}, pass: true, score: 1 - 3.0/7, reason: `output is 3 edits from "kitten" (max 5)`},
		{name: "levenshtein fail", spec: Spec{Type: "levenshtein", Value: "kitten", Threshold: thr(2)}, in: Input{Output: "sitting"}, score: 1 - 3.0/7, reason: "3 edits", diff: true},
		{name: "levenshtein runes", spec: Spec{Type: "levenshtein", Value: "café", Threshold: thr(0)}, in: Input{Output: "cafe"}, score: 0.75, reason: "1 edits", diff: true},
		{name: "levenshtein file value", spec: Spec{Type: "levenshtein", Value: "file://expected.txt", Dir: "testdata/suite"}, in: Input{Output: "The capital of France is Paris!"}, pass: true, any: true},
		{name: "not-levenshtein fail", spec: Spec{Type: "not-levenshtein", Value: "abc"}, in: Input{Output: "abc"}, score: 0, reason: "0 edits from \"abc\" (max 5) but must not"},

		{name: "word-count pass", spec: Spec{Type: "word-count", Value: map[string]any{"min": 2, "max": 4}}, in: Input{Output: "one two  three\n"}, pass: true, score: 1, reason: "output has 3 words, within 2..4"},
		{name: "word-count too many", spec: Spec{Type: "word-count", Threshold: thr(2)}, in: Input{Output: "one two three"}, reason: "3 words, more than the maximum 2"},
		{name: "word-count too few", spec: Spec{Type: "word-count", Value: map[string]any{"min": 5}}, in: Input{Output: "one"}, reason: "1 words, fewer than the minimum 5"},
		{name: "not-word-count pass", spec: Spec{Type: "not-word-count", Threshold: thr(2)}, in: Input{Output: "one two three"}, pass: true, score: 1},
		{name: "length runes pass", spec: Spec{Type: "length", Value: map[string]any{"max": 4}}, in: Input{Output: "héllo"[:0] + "hé!!"}, pass: true, score: 1, reason: "4 characters, within at most 4"},
		{name: "length fail", spec: Spec{Type: "length", Value: map[string]any{"min": 1, "max": 3}}, in: Input{Output: "abcd"}, reason: "more than the maximum 3"},
		{name: "not-length fail", spec: Spec{Type: "not-length", Threshold: thr(10)}, in: Input{Output: "abc"}, reason: "within at most 10 but must not"},
	})
}

func TestMetrics(t *testing.T) {
	runCases(t, []checkCase{
		{name: "latency pass", spec: Spec{Type: "latency", Threshold: thr(1000)}, in: Input{LatencyMS: 999.6}, pass: true, score: 1, reason: "within the 1000 ms limit"},
		{name: "latency fail", spec: Spec{Type: "latency", Threshold: thr(1000)}, in: Input{LatencyMS: 1200}, reason: "latency 1200 ms exceeds the 1000 ms limit"},
		{name: "not-latency", spec: Spec{Type: "not-latency", Threshold: thr(1000)}, in: Input{LatencyMS: 5}, reason: "but must not"},
		{name: "cost pass", spec: Spec{Type: "cost", Threshold: thr(0.01)}, in: Input{Cost: 0.0042, HasCost: true}, pass: true, score: 1, reason: "cost $0.0042 is within the $0.01 limit"},
		{name: "cost fail", spec: Spec{Type: "cost", Threshold: thr(0.001)}, in: Input{Cost: 0.0042, HasCost: true}, reason: "exceeds the $0.001 limit"},
		{name: "not-cost fail", spec: Spec{Type: "not-cost", Threshold: thr(0.01)}, in: Input{Cost: 0.001, HasCost: true}, reason: "within the $0.01 limit but must not"},
		{name: "not-tokens pass", spec: Spec{Type: "not-tokens", Threshold: thr(10)}, in: Input{Tokens: results.Tokens{Total: 11}}, pass: true, score: 1},
		{name: "tokens threshold pass", spec: Spec{Type: "tokens", Threshold: thr(100)}, in: Input{Tokens: results.Tokens{Prompt: 40, Completion: 60, Total: 100}}, pass: true, score: 1},
		{name: "tokens total derived", spec: Spec{Type: "tokens", Threshold: thr(99)}, in: Input{Tokens: results.Tokens{Prompt: 40, Completion: 60}}, reason: "total 100 > 99"},
		{name: "tokens map fail", spec: Spec{Type: "tokens", Value: map[string]any{"prompt": 10, "completion": 100}}, in: Input{Tokens: results.Tokens{Prompt: 40, Completion: 60, Total: 100}}, reason: "token limit exceeded: prompt 40 > 10 (tokens used"},
		{name: "tokens map pass", spec: Spec{Type: "tokens", Value: map[string]any{"completion": 60}}, in: Input{Tokens: results.Tokens{Prompt: 40, Completion: 60, Total: 100}}, pass: true, score: 1},
	})
}

func TestMetricErrors(t *testing.T) {
	ctx := context.Background()
	a, err := New(Spec{Type: "cost", Threshold: thr(1), Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Check(ctx, &Input{Cost: 0}); err == nil || err.Error() != "price unknown for model, add it to prices" {
		t.Fatalf("cost without price: err = %v", err)
	}
	a, err = New(Spec{Type: "tokens", Threshold: thr(1), Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Check(ctx, &Input{}); err == nil || !strings.Contains(err.Error(), "token usage not reported") {
		t.Fatalf("tokens without usage: err = %v", err)
	}
}

func TestMetricAndBoundsLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"latency no threshold", Spec{Type: "latency"}, "missing threshold"},
		{"latency value", Spec{Type: "latency", Value: 100}, "put the latency in ms limit in threshold"},
		{"cost negative", Spec{Type: "cost", Threshold: thr(-1)}, "must be >= 0"},
		{"tokens nothing", Spec{Type: "tokens"}, "missing limit"},
		{"tokens typo", Spec{Type: "tokens", Value: map[string]any{"totl": 5}}, `unknown key "totl" (did you mean total?)`},
		{"tokens both", Spec{Type: "tokens", Value: map[string]any{"total": 5}, Threshold: thr(4)}, "keep one"},
		{"tokens fraction", Spec{Type: "tokens", Value: map[string]any{"total": 2.5}}, "total must be a whole number"},
		{"bounds nothing", Spec{Type: "length"}, "missing bounds"},
		{"bounds number", Spec{Type: "word-count", Value: 5}, "use threshold: N for a maximum alone"},
		{"bounds typo", Spec{Type: "word-count", Value: map[string]any{"mx": 5}}, `unknown key "mx" (did you mean max?)`},
		{"bounds inverted", Spec{Type: "length", Value: map[string]any{"min": 5, "max": 2}}, "min 5 is greater than max 2"},
		{"bounds negative", Spec{Type: "length", Value: map[string]any{"min": -1}}, "min must be a whole number >= 0"},
		{"levenshtein negative", Spec{Type: "levenshtein", Value: "a", Threshold: thr(-1)}, "must be >= 0"},
		{"levenshtein missing", Spec{Type: "levenshtein"}, "missing value"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadErr(t, tc.spec, tc.want) })
	}
}
