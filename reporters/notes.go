package reporters

import (
	"fmt"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// responseNote says what a test's model did that its output alone does
// not show: a refusal, or a stop by the content filter or the token limit.
// "" when nothing is worth saying. Every format shows it, whatever the
// test's status: a passing test that was cut short is news too.
func responseNote(t *results.TestResult) string {
	var notes []string
	if t.Refusal {
		notes = append(notes, "refusal: the model declined")
	}
	switch t.FinishReason {
	case "content_filter":
		notes = append(notes, "stopped by the content filter (finish_reason content_filter)")
	case "length":
		notes = append(notes, "cut at the token limit (finish_reason length)")
	}
	return strings.Join(notes, "; ")
}

// costLine is "$0.0012 spent" plus, when replays avoided calls, "$0.0300
// saved by replay": replayed calls are not money spent.
func costLine(s results.Summary) string {
	line := fmt.Sprintf("$%.4f spent", text.Finite(s.Cost))
	if s.CostSaved > 0 {
		line += fmt.Sprintf(", $%.4f saved by replay", text.Finite(s.CostSaved))
	}
	return line
}

// timeLine is the run's wall time beside the model latency its tests
// summed (calls overlap, so the sum exceeds the wall time).
func timeLine(r *results.Results, t *results.SuiteTotal) string {
	return fmt.Sprintf("%s wall, %s model latency summed", duration(r.Summary.DurationMS), duration(t.LatencyMS))
}

// transformLine is "transformed by $.answer: \"...\"" for a test whose
// transform: rewrote the output its assertions scored (Output stays the
// raw reply); "" when it has none or it did not apply.
func transformLine(t *results.TestResult, max int) string {
	if t.Transformed == nil {
		return ""
	}
	return "transformed by " + text.OneLine(t.Transform, 0) + ": " + quoted(*t.Transformed, max)
}

// assertionTransform is " (scored \"...\")" for an assertion with its
// own transform; "" otherwise.
func assertionTransform(a results.AssertionResult, max int) string {
	if a.Transformed == nil {
		return ""
	}
	return " (scored its transformed output " + quoted(*a.Transformed, max) + ")"
}

func quoted(s string, max int) string {
	return fmt.Sprintf("%q", text.OneLine(s, max))
}
