package assertions

import (
	"context"
	"strings"
	"sync"
	"testing"
)

func TestEveryTypeRegisteredAndDescribed(t *testing.T) {
	want := []string{"answer-relevance", "bleu", "contains", "contains-all", "contains-any", "contains-json",
		"contains-xml", "context-faithfulness", "context-recall", "context-relevance", "cost", "ends-with",
		"equals", "exec", "factuality", "finish-reason", "g-eval", "icontains", "icontains-all", "icontains-any",
		"is-json", "is-refusal", "is-sql", "is-valid-openai-tools-call", "is-valid-tool-call", "is-xml",
		"json-path", "json-schema", "latency", "length", "levenshtein", "llm-rubric", "model-graded-closedqa",
		"moderation", "perplexity", "perplexity-score", "regex", "rouge-n", "select-best", "similar",
		"starts-with", "tokens", "tool-call", "tool-call-f1", "word-count"}
	got := Names()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v\nwant %v", got, want)
	}
	for _, n := range got {
		if d := Describe(n); d == "" || strings.Contains(d, "\n") {
			t.Errorf("Describe(%q) = %q, want one line", n, d)
		}
	}
	if d := Describe("not-contains"); !strings.HasPrefix(d, "passes when contains fails") {
		t.Errorf("Describe(not-contains) = %q", d)
	}
	if Describe("nope") != "" {
		t.Error("Describe of an unknown type should be empty")
	}
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown type", Spec{Type: "contain", Value: "x"}, `unknown assertion type "contain" (did you mean contains?)`},
		{"unknown negated", Spec{Type: "not-bogus-type"}, `unknown assertion type "not-bogus-type"`},
		{"negative weight", Spec{Type: "contains", Value: "x", Weight: -1}, "contains: weight -1 must be a number >= 0"},
		{"type prefix on error", Spec{Type: "not-contains"}, "not-contains: missing value"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadErr(t, tc.spec, tc.want) })
	}
}

// Weights, metrics and lines ride along in Spec for eval to combine; the
// assertion itself does not change with them.
func TestSpecCarriesWeightAndMetric(t *testing.T) {
	spec := Spec{Type: "contains", Value: "a", Weight: 2.5, Metric: "quality", File: "s.eval.yaml", Line: 7}
	a, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Check(context.Background(), &Input{Output: "abc"})
	if err != nil || !r.Pass || r.Score != 1 {
		t.Fatalf("check = %+v, %v", r, err)
	}
	zero := spec
	zero.Weight = 0 // a zero weight is allowed: the assertion is informational
	if _, err := New(zero); err != nil {
		t.Fatalf("weight 0: %v", err)
	}
}

func TestNegationClearsDiffAndInvertsScore(t *testing.T) {
	a, err := New(Spec{Type: "not-contains-all", Value: []any{"a", "b", "c", "d"}, Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Check(context.Background(), &Input{Output: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Pass || r.Score != 0.75 || r.Diff != "" {
		t.Fatalf("negated = %+v, want pass, score 0.75, no diff", r)
	}
}

// One built assertion serves every test of a run, from many goroutines.
func TestConcurrentChecks(t *testing.T) {
	specs := []Spec{
		{Type: "regex", Value: `\d+`},
		{Type: "json-schema", Value: answerSchema},
		{Type: "contains-json", Value: answerSchema},
		{Type: "json-path", Value: map[string]any{"path": "$.answer", "equals": 1}},
		{Type: "not-contains", Value: "one"},
		{Type: "levenshtein", Value: `{"answer": 2}`, Threshold: thr(1)},
	}
	var wg sync.WaitGroup
	for _, s := range specs {
		s.Weight = 1
		a, err := New(s)
		must(t, err)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := `{"answer": 1}`
				if i%2 == 1 {
					out = `{"answer": "one"}`
				}
				r, err := a.Check(context.Background(), &Input{Output: out})
				if err != nil || r.Pass != (i%2 == 0) {
					t.Errorf("%s on %s: %+v, %v", s.Type, out, r, err)
				}
			}()
		}
	}
	wg.Wait()
}
