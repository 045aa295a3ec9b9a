package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime/llm"
)

func TestPriceTable(t *testing.T) {
	p := newPriceTable([]*Suite{{Prices: map[string]Price{"local-priced": {Input: 1, Output: 2}}}})
	usage := llm.Usage{PromptTokens: 1_000_000, CompletionTokens: 500_000}
	tests := []struct {
		name     string
		req      llm.Request
		wantCost float64
		wantOK   bool
	}{
		{"suite price wins, even on a local server", llm.Request{Provider: "openai", BaseURL: "http://127.0.0.1:8080/v1", Model: "local-priced"}, 2, true},
		{"echo is free", llm.Request{Provider: "echo", Model: "echo"}, 0, true},
		{"localhost is free", llm.Request{Provider: "openai", BaseURL: "http://localhost:11434/v1", Model: "llama3"}, 0, true},
		{"ipv6 loopback is free", llm.Request{Provider: "openai", BaseURL: "http://[::1]:8000/v1", Model: "gpt-4o"}, 0, true},
		{"default price by prefix", llm.Request{Provider: "openai", Model: "gpt-4o-2024-08-06"}, 2.5 + 5, true},
		{"unknown model", llm.Request{Provider: "openai", BaseURL: "https://example.com/v1", Model: "mystery"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := p.cost(&tt.req, &llm.Response{Usage: usage})
			if ok != tt.wantOK || (c-tt.wantCost) > 1e-9 || (tt.wantCost-c) > 1e-9 {
				t.Errorf("cost = %v, %v; want %v, %v", c, ok, tt.wantCost, tt.wantOK)
			}
		})
	}
}

func TestRepeatAggregation(t *testing.T) {
	run := func(sample int, st results.Status, out string) outcome {
		return outcome{sample: sample, res: &results.TestResult{Name: "t", Status: st, Output: out, Reason: out, Score: map[bool]float64{true: 1}[st == results.StatusPass], Cost: 0.5}}
	}
	P, F, E := results.StatusPass, results.StatusFail, results.StatusError
	tests := []struct {
		name       string
		passRate   float64
		runs       []outcome
		wantStatus results.Status
		wantOutput string
		wantReason string
	}{
		{"all pass shows the last run", 0, []outcome{run(1, P, "b"), run(0, P, "a"), run(2, P, "c")}, P, "c", ""},
		{"first failing run is shown", 0.5, []outcome{run(2, F, "late fail"), run(0, P, "a"), run(1, F, "early fail")}, F, "early fail", "passed 1 of 3 runs"},
		{"pass rate met", 0.6, []outcome{run(0, P, "a"), run(1, F, "x"), run(2, P, "c")}, P, "x", ""},
		{"an error wins", 0.1, []outcome{run(0, P, "a"), run(1, E, "boom"), run(2, P, "c")}, E, "a", "1 of 3 runs could not be evaluated: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &repeatAgg{runs: len(tt.runs)}
			for i, o := range tt.runs {
				if done := a.add(o); done != (i == len(tt.runs)-1) {
					t.Fatalf("add %d: done = %v", i, done)
				}
			}
			got := a.result(&Test{PassRate: tt.passRate})
			if got.Status != tt.wantStatus || !strings.HasPrefix(got.Reason, tt.wantReason) {
				t.Errorf("status %s reason %q; want %s %q", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
			}
			if tt.wantStatus != E && got.Output != tt.wantOutput {
				t.Errorf("output %q, want %q", got.Output, tt.wantOutput)
			}
			if got.PassRate.Runs != len(tt.runs) || got.Cost != 0.5*float64(len(tt.runs)) {
				t.Errorf("pass rate %+v cost %v", got.PassRate, got.Cost)
			}
		})
	}
}

// FuzzLoadSuite: no input panics, and every rejection is an *InputError of
// one-line problems.
func FuzzLoadSuite(f *testing.F) {
	f.Add("config: trip.aiconfig.json\nparams: {city: x}\ntests:\n  - {name: a, prompt: get_activities, assert: [{type: contains, value: x}]}\n")
	f.Add("config: trip.aiconfig.json\ntests: file://cases.csv\n")
	f.Add("a: &a [*a]\n")
	f.Add("tests:\n  - <<: [*x]\n")
	f.Add("config: trip.aiconfig.json\ndefaults: {threshold: .nan, repeat: 1e400}\ntests: []\n")
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trip.aiconfig.json"), []byte(tripConfig), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.csv"), []byte("name,prompt\na,get_activities\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "s.eval.yaml")
	f.Fuzz(func(t *testing.T, suite string) {
		if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadSuite(path)
		if err == nil {
			return
		}
		var ie *InputError
		if !errors.As(err, &ie) || len(ie.Problems) == 0 {
			t.Fatalf("error %v (%T) is not an *InputError", err, err)
		}
		for _, p := range ie.Problems {
			if strings.ContainsAny(p.String(), "\r\n") {
				t.Fatalf("multi-line problem %q", p.String())
			}
		}
	})
}
