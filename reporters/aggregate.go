package reporters

import (
	"fmt"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// failedAssertions returns the assertions that did not pass.
func failedAssertions(t *results.TestResult) []results.AssertionResult {
	var out []results.AssertionResult
	for _, a := range t.Assertions {
		if !a.Pass {
			out = append(out, a)
		}
	}
	return out
}

// firstFailure is the assertion a failed test is reported under: the
// first that failed, else none (a missed threshold or pass rate).
func firstFailure(t *results.TestResult) (results.AssertionResult, bool) {
	for _, a := range t.Assertions {
		if !a.Pass && !a.Error {
			return a, true
		}
	}
	for _, a := range t.Assertions {
		if !a.Pass {
			return a, true
		}
	}
	return results.AssertionResult{}, false
}

// reasonOf is the one reason shown for a test: its own, else the first
// failed assertion's.
func reasonOf(t *results.TestResult) string {
	if t.Reason != "" {
		return t.Reason
	}
	if a, ok := firstFailure(t); ok {
		return a.Reason
	}
	switch t.Status {
	case results.StatusFail:
		return "failed"
	case results.StatusError:
		return "could not be evaluated"
	case results.StatusSkip:
		return "skipped"
	}
	return ""
}

// passRateLine describes a repeated test's pass rate, or "".
func passRateLine(t *results.TestResult) string {
	p := t.PassRate
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("pass rate %d/%d = %.0f%% (95%% CI %.0f-%.0f%%), required %.0f%%",
		p.Passed, p.Runs, 100*text.Finite(p.Rate), 100*text.Finite(p.Low), 100*text.Finite(p.High), 100*text.Finite(p.Required))
	if p.K > 0 {
		s += fmt.Sprintf("; pass@%d %.2f, pass^%d %.2f", p.K, text.Finite(p.PassAtK), p.K, text.Finite(p.PassHatK))
	}
	if p.Errors > 0 {
		s += fmt.Sprintf(", %s", plural(p.Errors, "error"))
	}
	return s
}

// location is "suite.eval.yaml:LINE", or the path alone without a line.
func location(t *results.TestResult) string {
	file, line := t.Where()
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}
