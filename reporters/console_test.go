package reporters

import (
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

func TestConsole(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		want     []string
		wantNot  []string
		wantANSI bool
	}{
		{
			name: "plain",
			want: []string{
				"FAIL NYC trip planner › answers as JSON (examples/travel.eval.yaml:30)",
				"      +{\"answer\": \"Central Park\", \"count\": 3}",
				"ERROR examples/extract.eval.yaml › extract name (examples/extract.eval.yaml:8)",
				"SKIP examples/extract.eval.yaml › needs vision: needs a vision model",
				"relevance      2   0.70   0.40–1.00      1",
				"ERRORED: 10 tests, 4 passed, 4 failed, 1 error, 1 skipped",
			},
			wantNot: []string{"PASS NYC trip planner"},
		},
		{
			name:     "colour and verbose",
			opts:     Options{Color: true, Verbose: true},
			want:     []string{"\x1b[32mPASS\x1b[0m NYC trip planner › lists attractions (1.23s)", "\x1b[31m-{\"answer\""},
			wantANSI: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, "console", tt.opts, fixture(true)))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("unexpected %q", w)
				}
			}
			if has := strings.Contains(out, "\x1b"); has != tt.wantANSI {
				t.Errorf("ANSI escapes present = %v, want %v", has, tt.wantANSI)
			}
		})
	}
}

func TestConsoleCutsLongDiffs(t *testing.T) {
	r := manyFailures(1, 0)
	r.Tests[0].Assertions[0].Diff = strings.Repeat("-x\n+y\n", 100)
	out := string(render(t, "console", Options{}, r))
	if got := strings.Count(out, "\n      -x"); got != consoleMaxDiff/2 {
		t.Errorf("%d diff lines shown, want %d", got, consoleMaxDiff/2)
	}
	if !strings.Contains(out, "... 140 more diff lines") {
		t.Errorf("no note of the cut diff lines:\n%s", out)
	}
}

func TestConsoleTotals(t *testing.T) {
	tests := []struct {
		name string
		r    *results.Results
		want string
	}{
		{"passed", &results.Results{Tests: []results.TestResult{{Suite: "s", Name: "a", Status: results.StatusPass}}}, "PASSED: 1 test, 1 passed, 0 failed, 0 errors, 0 skipped"},
		{"interrupted", &results.Results{Interrupted: true}, "run interrupted: not every test ran\nERRORED: 0 tests"},
		{"regressed", &results.Results{Summary: results.Summary{Regressed: 2}, Tests: []results.TestResult{{Suite: "s", Name: "a", Status: results.StatusPass}}}, "FAILED: 1 test, 1 passed, 0 failed, 0 errors, 0 skipped, 2 regressed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := string(render(t, "console", Options{}, tt.r)); !strings.Contains(out, tt.want) {
				t.Errorf("missing %q in:\n%s", tt.want, out)
			}
		})
	}
}
