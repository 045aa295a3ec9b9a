package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// TestFiniteMakesNonFiniteResultsErrors: a NaN or infinity that arises
// while scoring makes the test an error saying which number, and leaves a
// result JSON can encode, so every report is still written.
func TestFiniteMakesNonFiniteResultsErrors(t *testing.T) {
	th := math.Inf(1)
	tr := &results.TestResult{
		Status: results.StatusPass, Score: math.NaN(), Cost: math.Inf(1), Threshold: &th,
		Params:     map[string]any{"ok": 1.5, "deep": []any{map[string]any{"x": math.NaN()}}},
		Assertions: []results.AssertionResult{{Type: "similar", Score: math.NaN(), Pass: true}},
	}
	finite(tr)
	if tr.Status != results.StatusError {
		t.Fatalf("status %s", tr.Status)
	}
	for _, want := range []string{"score is NaN", "cost is +Inf", "threshold is +Inf", "assertion similar score is NaN", "params.deep[0].x is NaN"} {
		if !strings.Contains(tr.Reason, want) {
			t.Errorf("reason lacks %q: %s", want, tr.Reason)
		}
	}
	sp, err := results.NewSpool(SpoolPath(t.TempDir(), "x"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Discard()
	if err := sp.Add(0, tr); err != nil {
		t.Errorf("the fixed result does not encode: %v", err)
	}
	ok := &results.TestResult{Status: results.StatusPass, Score: 1, Params: map[string]any{"a": 2.0}}
	finite(ok)
	if ok.Status != results.StatusPass || ok.Reason != "" {
		t.Errorf("a finite result changed: %+v", ok)
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "Yes", "on", "1", " On "} {
		if v, ok := parseBool(s); !v || !ok {
			t.Errorf("%q: %v %v", s, v, ok)
		}
	}
	for _, s := range []string{"false", "FALSE", "No", "off", "0"} {
		if v, ok := parseBool(s); v || !ok {
			t.Errorf("%q: %v %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "maybe", "y", "2", "flaky upstream"} {
		if _, ok := parseBool(s); ok {
			t.Errorf("%q read as a boolean", s)
		}
	}
}
