package results

import (
	"slices"

	"github.com/aieval/aieval/internal/text"
)

// MetricSummary aggregates scores of assertions sharing a `metric` name.
// Count and Mean take every run of a repeated test; Low and High are the
// 95% bootstrap interval of the mean over those scores (Finish sets them).
type MetricSummary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	Pass  int     `json:"pass"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// ModelSummary totals the tests of one matrix model.
type ModelSummary struct {
	Model   string `json:"model"`
	Total   int    `json:"total"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Errors  int    `json:"errors"`
	Skipped int    `json:"skipped"`
	// PassRate is Passed over the tests that ran (not skipped).
	PassRate  float64 `json:"pass_rate"`
	Cost      float64 `json:"cost"`
	CostSaved float64 `json:"cost_saved,omitempty"`
	// LatencyMS is the mean model latency of its tests.
	LatencyMS float64 `json:"latency_ms"`
	Score     float64 `json:"score"` // mean test score
}

func (m *ModelSummary) add(t *TestResult) {
	ran := m.Total - m.Skipped // tests in the means before this one
	m.Total++
	switch t.Status {
	case StatusPass:
		m.Passed++
	case StatusFail:
		m.Failed++
	case StatusError:
		m.Errors++
	case StatusSkip:
		m.Skipped++
		return
	}
	if t.Cached {
		m.CostSaved += text.Finite(t.Cost)
	} else {
		m.Cost += text.Finite(t.Cost)
	}
	m.LatencyMS = (m.LatencyMS*float64(ran) + text.Finite(t.LatencyMS)) / float64(ran+1)
	m.Score = (m.Score*float64(ran) + text.Finite(t.Score)) / float64(ran+1)
	m.PassRate = float64(m.Passed) / float64(ran+1)
}

// Summary totals a run.
type Summary struct {
	Total     int `json:"total"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Errors    int `json:"errors"`
	Skipped   int `json:"skipped"`
	Regressed int `json:"regressed,omitempty"`
	// BaselineErrors counts tests whose baseline could not be evaluated
	// (a replay miss at the base ref, say): the gate fails on them.
	BaselineErrors int     `json:"baseline_errors,omitempty"`
	DurationMS     float64 `json:"duration_ms"`
	// Cost is what the run spent on model calls; replayed (cached)
	// tests cost nothing and count in CostSaved instead.
	Cost      float64                  `json:"cost"`
	CostSaved float64                  `json:"cost_saved,omitempty"`
	Tokens    Tokens                   `json:"tokens"`
	Cached    int                      `json:"cached"`
	Metrics   map[string]MetricSummary `json:"metrics,omitempty"`
	// Models totals each model of a matrix run, in the order first seen
	// (a suite's matrix order); empty without a matrix.
	Models []ModelSummary `json:"models,omitempty"`

	// samples holds every metric score seen, for Finish's intervals.
	samples map[string][]float64

	// LatencyMS sums the tests' model latency (JUnit's per-suite time).
	LatencyMS float64 `json:"-"`
}

// Add counts one test into the summary: its counts (see addCounts), its
// model's totals and its metric scores.
func (s *Summary) Add(t *TestResult) {
	s.addCounts(t)
	s.addModelsAndMetrics(t)
}

// addCounts counts one test's status, cost, latency and tokens: all a
// per-suite total shows.
func (s *Summary) addCounts(t *TestResult) {
	s.Total++
	switch t.Status {
	case StatusPass:
		s.Passed++
	case StatusFail:
		s.Failed++
	case StatusError:
		s.Errors++
	case StatusSkip:
		s.Skipped++
	}
	if t.Cached {
		s.CostSaved += text.Finite(t.Cost)
	} else {
		s.Cost += text.Finite(t.Cost)
	}
	s.LatencyMS += text.Finite(t.LatencyMS)
	s.Tokens.Prompt += t.Tokens.Prompt
	s.Tokens.Completion += t.Tokens.Completion
	s.Tokens.Total += t.Tokens.Total
	if t.Cached {
		s.Cached++
	}
}

// addModelsAndMetrics adds one test to its model's totals and its metric
// scores to the run's metrics.
func (s *Summary) addModelsAndMetrics(t *TestResult) {
	if t.Matrix != "" {
		i := slices.IndexFunc(s.Models, func(m ModelSummary) bool { return m.Model == t.Matrix })
		if i < 0 {
			s.Models = append(s.Models, ModelSummary{Model: t.Matrix})
			i = len(s.Models) - 1
		}
		s.Models[i].add(t)
	}
	for _, a := range t.Assertions {
		if a.Metric == "" {
			continue
		}
		if s.Metrics == nil {
			s.Metrics = map[string]MetricSummary{}
		}
		m := s.Metrics[a.Metric]
		if a.Pass {
			m.Pass++
		}
		if _, all := t.MetricScores[a.Metric]; !all {
			s.metricScore(&m, a.Metric, a.Score)
		}
		s.Metrics[a.Metric] = m
	}
	// A repeated test's scores: every run, not just the one shown.
	for name := range t.MetricScores { // each name only touches its own entries: no order needed
		if s.Metrics == nil {
			s.Metrics = map[string]MetricSummary{}
		}
		m := s.Metrics[name]
		for _, v := range t.MetricScores[name] {
			s.metricScore(&m, name, v)
		}
		s.Metrics[name] = m
	}
}

func (s *Summary) metricScore(m *MetricSummary, name string, v float64) {
	v = text.Finite(v)
	m.Mean = (m.Mean*float64(m.Count) + v) / float64(m.Count+1)
	m.Count++
	if s.samples == nil {
		s.samples = map[string][]float64{}
	}
	s.samples[name] = append(s.samples[name], v)
}

// Finish sets the metrics' bootstrap intervals from the scores Add saw.
// Call it once every test is added; a summary read from a file keeps the
// intervals it was written with.
func (s *Summary) Finish() {
	for name, xs := range s.samples {
		m := s.Metrics[name]
		m.Low, m.High = Bootstrap(xs)
		s.Metrics[name] = m
	}
	s.samples = nil // the scores are not part of the record
}

// Count adds a finished test to the summary and to its suite's totals. The
// producer of the results (the runner) calls it once per test.
func (r *Results) Count(t *TestResult) {
	r.Summary.Add(t)
	if r.bySuite == nil {
		r.bySuite = map[string]*Summary{}
	}
	s := r.bySuite[t.Suite]
	if s == nil {
		s = &Summary{}
		r.bySuite[t.Suite] = s
	}
	s.addCounts(t) // reporters show only counts per suite; metrics are the run's
}

// Counted reports whether Count saw the tests (bySuite is set) and how
// many suites it saw.
func (r *Results) Counted() (suites int, ok bool) {
	return len(r.bySuite), r.bySuite != nil
}
