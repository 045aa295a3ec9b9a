package reporters

import "fmt"

// suiteStats totals the tests of one suite; reporters that show a table
// per suite build these in one pass over Results.Each.
type suiteStats struct {
	Info                     SuiteInfo
	Tests                    int
	Pass, Fail, Error, Skip  int
	LatencyMS, Cost          float64
	Prompt, Completion, Toks int
}

func (s *suiteStats) add(t *TestResult) {
	s.Tests++
	switch t.Status {
	case StatusPass:
		s.Pass++
	case StatusFail:
		s.Fail++
	case StatusError:
		s.Error++
	case StatusSkip:
		s.Skip++
	}
	s.LatencyMS += finite(t.LatencyMS)
	s.Cost += finite(t.Cost)
	s.Toks += t.Tokens.Total
}

// collectSuites reads every test once, totals them per suite and calls
// also (when non-nil) for each test in the same pass. Suites come in the
// order of r.Suites, then any suite met only in tests (merged or partial
// results), in first-seen order, so output never depends on map order.
func collectSuites(r *Results, also func(t *TestResult) error) ([]*suiteStats, *suiteStats, error) {
	if also == nil {
		if order, total, ok := countedSuites(r); ok {
			return order, total, nil
		}
	}
	var order []*suiteStats
	byPath := map[string]*suiteStats{}
	for _, s := range r.Suites {
		if _, dup := byPath[s.Path]; dup {
			continue
		}
		st := &suiteStats{Info: s}
		byPath[s.Path] = st
		order = append(order, st)
	}
	total := &suiteStats{Info: SuiteInfo{Path: "TOTAL"}}
	err := r.Each(func(t *TestResult) error {
		st, ok := byPath[t.Suite]
		if !ok {
			st = &suiteStats{Info: SuiteInfo{Path: t.Suite, Config: t.Config, ConfigName: t.ConfigName}}
			byPath[t.Suite] = st
			order = append(order, st)
		}
		st.add(t)
		total.add(t)
		if also != nil {
			return also(t)
		}
		return nil
	})
	return order, total, err
}

// countedSuites builds the per-suite totals from what Count recorded, when
// that covers every test and every test belongs to a known suite: a large
// run's reports then skip one full pass over the spool.
func countedSuites(r *Results) ([]*suiteStats, *suiteStats, bool) {
	if r.bySuite == nil {
		return nil, nil, false
	}
	from := func(info SuiteInfo, s *Summary) *suiteStats {
		return &suiteStats{Info: info, Tests: s.Total, Pass: s.Passed, Fail: s.Failed, Error: s.Errors, Skip: s.Skipped,
			LatencyMS: finite(s.LatencyMS), Cost: finite(s.Cost), Toks: s.Tokens.Total}
	}
	seen := map[string]bool{}
	var order []*suiteStats
	counted := 0
	for _, info := range r.Suites {
		if seen[info.Path] {
			continue
		}
		seen[info.Path] = true
		s := r.bySuite[info.Path]
		if s == nil {
			s = &Summary{}
		}
		counted += s.Total
		order = append(order, from(info, s))
	}
	if counted != r.Summary.Total || len(seen) < len(r.bySuite) {
		return nil, nil, false
	}
	total := from(SuiteInfo{Path: "TOTAL"}, &r.Summary)
	return order, total, true
}

// failedAssertions returns the assertions that did not pass.
func failedAssertions(t *TestResult) []AssertionResult {
	var out []AssertionResult
	for _, a := range t.Assertions {
		if !a.Pass {
			out = append(out, a)
		}
	}
	return out
}

// firstFailure is the assertion a failed test is reported under: the
// first that failed, else none (a missed threshold or pass rate).
func firstFailure(t *TestResult) (AssertionResult, bool) {
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
	return AssertionResult{}, false
}

// reasonOf is the one reason shown for a test: its own, else the first
// failed assertion's.
func reasonOf(t *TestResult) string {
	if t.Reason != "" {
		return t.Reason
	}
	if a, ok := firstFailure(t); ok {
		return a.Reason
	}
	switch t.Status {
	case StatusFail:
		return "failed"
	case StatusError:
		return "could not be evaluated"
	case StatusSkip:
		return "skipped"
	}
	return ""
}

// passRateLine describes a repeated test's pass rate, or "".
func passRateLine(t *TestResult) string {
	p := t.PassRate
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("pass rate %d/%d = %.0f%% (95%% CI %.0f-%.0f%%), required %.0f%%",
		p.Passed, p.Runs, 100*finite(p.Rate), 100*finite(p.Low), 100*finite(p.High), 100*finite(p.Required))
	if p.Errors > 0 {
		s += fmt.Sprintf(", %s", plural(p.Errors, "error"))
	}
	return s
}

// location is "suite.eval.yaml:LINE", or the path alone without a line.
func location(t *TestResult) string {
	if t.Line > 0 {
		return fmt.Sprintf("%s:%d", t.Suite, t.Line)
	}
	return t.Suite
}
