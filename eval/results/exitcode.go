package results

import "fmt"

// Exit codes of the contract, decided here from the results only.
const (
	ExitOK      = 0 // every test passed, nothing regressed
	ExitFailed  = 1 // a test failed or regressed
	ExitInput   = 2 // invalid usage or input; nothing evaluated
	ExitErrored = 3 // a test could not be evaluated; wins over 1
)

// PassRateGate gates a run on the fraction of tests passed instead of
// on every test: Min over the whole run (--min-pass-rate), else each
// suite's own (its top-level pass_rate:) over its tests. The fraction is
// passed / (tests - skipped); errors count as not passed.
type PassRateGate struct {
	Min    float64            `json:"min,omitempty"`
	Suites map[string]float64 `json:"suites,omitempty"` // suite path -> required fraction
}

// ExitCode maps the run's results to the contract's exit code. Errors
// exit 3 whatever the pass rate; a regression against a baseline exits 1
// even when the pass-rate gate is met.
func (r *Results) ExitCode() int {
	s := r.Summary
	switch {
	case s.Errors > 0 || s.BaselineErrors > 0 || r.Interrupted:
		return ExitErrored
	case s.Regressed > 0:
		return ExitFailed
	case s.Failed > 0 && !r.gateMet():
		return ExitFailed
	}
	return ExitOK
}

// PassFraction is passed / (total - skipped) of s; 1 when nothing ran.
func PassFraction(s Summary) float64 {
	ran := s.Total - s.Skipped
	if ran <= 0 {
		return 1
	}
	return float64(s.Passed) / float64(ran)
}

// gateMet reports whether the pass-rate gate lets the failed tests go:
// the run's fraction reaches Min, or else every suite with failures has
// its own rate and reaches it.
func (r *Results) gateMet() bool {
	g := r.Gate
	if g == nil {
		return false
	}
	if g.Min > 0 {
		return PassFraction(r.Summary) >= g.Min-1e-9
	}
	if len(g.Suites) == 0 {
		return false
	}
	for path, sum := range r.suiteSummaries() {
		if sum.Failed == 0 {
			continue
		}
		need, ok := g.Suites[path]
		if !ok || PassFraction(sum) < need-1e-9 {
			return false
		}
	}
	return true
}

// GateNotes say, one line per gate, what the pass-rate gate decided;
// nil without a gate.
func (r *Results) GateNotes() []string {
	g := r.Gate
	if g == nil {
		return nil
	}
	line := func(what string, s Summary, need float64) string {
		verdict := "meets"
		if PassFraction(s) < need-1e-9 {
			verdict = "is below"
		}
		return fmt.Sprintf("pass rate %d/%d = %.1f%% %s the required %.1f%% (%s)",
			s.Passed, s.Total-s.Skipped, 100*PassFraction(s), verdict, 100*need, what)
	}
	if g.Min > 0 {
		return []string{line("--min-pass-rate", r.Summary, g.Min)}
	}
	var out []string
	sums := r.suiteSummaries()
	for _, si := range r.Suites {
		if need, ok := g.Suites[si.Path]; ok {
			out = append(out, line("pass_rate of "+si.Path, sums[si.Path], need))
		}
	}
	return out
}

// suiteSummaries totals the tests per suite: what Count recorded, else a
// pass over the tests.
func (r *Results) suiteSummaries() map[string]Summary {
	order, _, _ := Suites(r) // counted during the run, else one pass
	out := make(map[string]Summary, len(order))
	for _, st := range order {
		out[st.Info.Path] = st.Summary
	}
	return out
}

// Verdict is the run's one-word outcome, as every report shows it: it
// follows ExitCode, so no format can call a run that exits 1 "PASSED".
func (r *Results) Verdict() string {
	switch r.ExitCode() {
	case ExitErrored:
		return "ERRORED"
	case ExitFailed:
		return "FAILED"
	}
	return "PASSED"
}
