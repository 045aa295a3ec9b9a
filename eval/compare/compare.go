// Package compare finds what changed between two runs: regressions, fixes,
// new and removed tests, score moves beyond a tolerance, and pass-rate
// changes judged by their 95% Wilson intervals, each with a word-level diff
// of the output. It reads results with Each, so spooled runs stream.
package compare

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// DefaultTolerance is how far a score may move before it is reported.
const DefaultTolerance = 0.05

// Kind of change of one test.
type Kind string

const (
	KindRegression Kind = "regression"           // pass -> fail/error, or a significant pass-rate drop
	KindBaseError  Kind = "baseline_unavailable" // the base could not evaluate the test: never a pass
	KindScoreDrop  Kind = "score_drop"           // same status, score fell beyond the tolerance
	KindChanged    Kind = "changed"              // another status move (fail <-> error, skip)
	KindNoise      Kind = "within_noise"         // pass-rate moved but the intervals overlap
	KindFixed      Kind = "fixed"                // fail/error -> pass
	KindScoreRise  Kind = "score_rise"           // same status, score rose beyond the tolerance
	KindNew        Kind = "new"                  // only in head
	KindRemoved    Kind = "removed"              // only in base
)

// Kinds in report order: worst first.
var Kinds = []Kind{KindRegression, KindBaseError, KindScoreDrop, KindChanged, KindNoise, KindFixed, KindScoreRise, KindNew, KindRemoved}

func rank(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return len(Kinds)
}

// Options tune Compare.
type Options struct {
	// ScoreTolerance: score moves up to this much are not reported.
	// 0 means DefaultTolerance; a negative value means none.
	ScoreTolerance float64
	// DiffLimit caps each rendered output diff, in bytes; 0 means 2048.
	DiffLimit int
}

// Side is one test as one run saw it.
type Side struct {
	Status   results.Status    `json:"status"`
	Score    float64           `json:"score"`
	Reason   string            `json:"reason,omitempty"`
	PassRate *results.PassRate `json:"pass_rate,omitempty"`
}

// Entry is one changed test.
type Entry struct {
	ID         string  `json:"id"`
	Suite      string  `json:"suite"`
	Name       string  `json:"name"`
	Line       int     `json:"line,omitempty"` // in the suite, head's if present
	Kind       Kind    `json:"kind"`
	Base       *Side   `json:"base,omitempty"`
	Head       *Side   `json:"head,omitempty"`
	ScoreDelta float64 `json:"score_delta"`
	Note       string  `json:"note,omitempty"` // why, when the status alone does not say
	Diff       string  `json:"diff,omitempty"` // word diff of base vs head output

	ops       []op // the diff as operations, for coloured rendering
	headOut   string
	needsDiff bool
}

// RunInfo identifies one side of the comparison.
type RunInfo struct {
	RunID     string          `json:"run_id,omitempty"`
	GitSHA    string          `json:"git_sha,omitempty"`
	GitRef    string          `json:"git_ref,omitempty"`
	StartedAt time.Time       `json:"started_at"`
	Summary   results.Summary `json:"summary"`
}

// Report is the outcome of Compare.
type Report struct {
	Base      RunInfo      `json:"base"`
	Head      RunInfo      `json:"head"`
	Tolerance float64      `json:"score_tolerance"`
	Counts    map[Kind]int `json:"counts"`
	Unchanged int          `json:"unchanged"`
	Entries   []Entry      `json:"entries"`
	// BaselineErrors counts head tests whose base could not be evaluated
	// (Counts["baseline_unavailable"]): a gate fails on them as on
	// regressions, since nothing shows the test did not regress.
	BaselineErrors int `json:"baseline_errors"`
	// Metrics are the metrics whose mean moved, judged by their 95%
	// bootstrap intervals (entries named "metric NAME"); Counts and
	// Entries are per test only. MetricRegressions counts the falls whose
	// intervals do not overlap: they fail a gate like test regressions.
	Metrics           []Entry `json:"metrics,omitempty"`
	MetricRegressions int     `json:"metric_regressions,omitempty"`
	// Warnings are problems that made the report incomplete (an
	// unreadable results spool, a duplicate test id).
	Warnings []string `json:"warnings,omitempty"`

	diffLimit int
}

// Regressions counts what fails a gate: test regressions and metric
// regressions.
func (r *Report) Regressions() int { return r.Counts[KindRegression] + r.MetricRegressions }

// all is the test entries, then the metric ones: what the renderers list.
func (r *Report) all() []Entry {
	if len(r.Metrics) == 0 {
		return r.Entries
	}
	return append(r.Entries[:len(r.Entries):len(r.Entries)], r.Metrics...)
}

// ExitCode is results.ExitErrored when a baseline test could not be
// evaluated (it wins, as in a run), results.ExitFailed when anything
// regressed.
func (r *Report) ExitCode() int {
	if r.BaselineErrors > 0 {
		return results.ExitErrored
	}
	if r.Regressions() > 0 {
		return results.ExitFailed
	}
	return results.ExitOK
}

// baseTest is what is kept of a base test between passes: no output, so a
// large run costs little memory; outputs are re-read for changed tests only.
type baseTest struct {
	side  Side
	line  int
	order int
	hash  uint64 // of the output
	seen  bool
	suite string
	name  string
}

func hashOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func info(r *results.Results) RunInfo {
	return RunInfo{RunID: r.RunID, GitSHA: r.GitSHA, GitRef: r.GitRef, StartedAt: r.StartedAt, Summary: r.Summary}
}

// Compare matches base and head tests by ID and reports what changed.
func Compare(base, head *results.Results, opts Options) *Report {
	tol := opts.ScoreTolerance
	switch {
	case tol == 0:
		tol = DefaultTolerance
	case tol < 0:
		tol = 0
	}
	limit := opts.DiffLimit
	if limit <= 0 {
		limit = 2048
	}
	rep := &Report{Base: info(base), Head: info(head), Tolerance: tol, Counts: map[Kind]int{}, Entries: []Entry{}, diffLimit: limit}

	bases := map[string]*baseTest{}
	err := base.Each(func(t *results.TestResult) error {
		id := t.ID()
		if _, dup := bases[id]; dup {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("base has test %s twice; the first is compared", id))
			return nil
		}
		bases[id] = &baseTest{side: sideOf(t), line: t.Line, order: len(bases), hash: hashOf(t.Output), suite: t.Suite, name: t.Name}
		return nil
	})
	if err != nil {
		rep.Warnings = append(rep.Warnings, "base: "+err.Error())
	}

	headSeen := map[string]bool{}
	err = head.Each(func(t *results.TestResult) error {
		id := t.ID()
		if headSeen[id] {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("head has test %s twice; the first is compared", id))
			return nil
		}
		headSeen[id] = true
		h := sideOf(t)
		e := Entry{ID: id, Suite: t.Suite, Name: t.Name, Line: t.Line, Head: &h}
		b, ok := bases[id]
		if !ok {
			e.Kind = KindNew
			rep.Entries = append(rep.Entries, e)
			return nil
		}
		b.seen = true
		bs := b.side
		e.Base = &bs
		e.ScoreDelta = round(h.Score - bs.Score)
		e.Kind, e.Note = classify(bs, h, tol)
		if e.Kind == "" {
			rep.Unchanged++
			return nil
		}
		if b.hash != hashOf(t.Output) {
			e.needsDiff, e.headOut = true, t.Output
		}
		rep.Entries = append(rep.Entries, e)
		return nil
	})
	if err != nil {
		rep.Warnings = append(rep.Warnings, "head: "+err.Error())
	}

	var removed []*baseTest
	for _, b := range bases {
		if !b.seen {
			removed = append(removed, b)
		}
	}
	sort.Slice(removed, func(i, j int) bool { return removed[i].order < removed[j].order })
	for _, b := range removed {
		bs := b.side
		rep.Entries = append(rep.Entries, Entry{ID: b.suite + "::" + b.name, Suite: b.suite, Name: b.name, Line: b.line, Kind: KindRemoved, Base: &bs})
	}

	rep.addDiffs(base, limit)
	sort.SliceStable(rep.Entries, func(i, j int) bool { return rank(rep.Entries[i].Kind) < rank(rep.Entries[j].Kind) })
	for _, e := range rep.Entries {
		rep.Counts[e.Kind]++
	}
	rep.BaselineErrors = rep.Counts[KindBaseError]
	rep.Metrics = metricChanges(base.Summary.Metrics, head.Summary.Metrics)
	for _, e := range rep.Metrics {
		if e.Kind == KindRegression {
			rep.MetricRegressions++
		}
	}
	return rep
}

// addDiffs re-reads base outputs for the entries whose output changed.
func (rep *Report) addDiffs(base *results.Results, limit int) {
	want := map[string]*Entry{}
	for i := range rep.Entries {
		if e := &rep.Entries[i]; e.needsDiff {
			want[e.ID] = e
		}
	}
	if len(want) == 0 {
		return
	}
	err := base.Each(func(t *results.TestResult) error {
		if e, ok := want[t.ID()]; ok {
			e.ops = wordDiff(t.Output, e.headOut)
			e.Diff = render(e.ops, limit)
			e.headOut, e.needsDiff = "", false
			delete(want, t.ID()) // only the first of duplicates
		}
		return nil
	})
	if err != nil {
		rep.Warnings = append(rep.Warnings, "base diffs: "+err.Error())
	}
}

func sideOf(t *results.TestResult) Side {
	s := Side{Status: t.Status, Score: t.Score, Reason: t.Reason}
	if t.PassRate != nil {
		pr := *t.PassRate
		s.PassRate = &pr
	}
	return s
}

func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func ran(s results.Status) bool { return s == results.StatusPass || s == results.StatusFail }

// classify decides the kind of change of one test; "" means unchanged.
func classify(b, h Side, tol float64) (Kind, string) {
	// A base that could not be evaluated shows nothing about the head:
	// whatever the head did, it is not a pass of the gate.
	if b.Status == results.StatusError {
		return KindBaseError, "baseline unavailable: the base could not evaluate this test"
	}
	repeated := b.PassRate != nil && h.PassRate != nil && b.PassRate.Runs > 0 && h.PassRate.Runs > 0 && ran(b.Status) && ran(h.Status)
	// The test's own verdict going pass -> fail is a regression whatever
	// the intervals say: the test itself says the change is not good
	// enough. The intervals only qualify moves that keep the status.
	if repeated && b.Status == results.StatusPass && h.Status == results.StatusFail {
		if k, note := passRateChange(b, h); k == KindRegression {
			return k, note
		}
		return KindRegression, rateDesc(b.PassRate, h.PassRate) + ": the test's status went pass → fail (the 95% intervals overlap; the test's own verdict rules)"
	}
	if repeated {
		if k, note := passRateChange(b, h); k != "" {
			return k, note
		}
	} else {
		switch {
		case b.Status == results.StatusPass && (h.Status == results.StatusFail || h.Status == results.StatusError):
			return KindRegression, ""
		case h.Status == results.StatusPass && (b.Status == results.StatusFail || b.Status == results.StatusError):
			return KindFixed, ""
		case b.Status != h.Status:
			return KindChanged, ""
		}
	}
	if b.Status != h.Status || !ran(h.Status) {
		return "", ""
	}
	const eps = 1e-9 // 1.00 -> 0.95 is a move of exactly the tolerance, not more
	switch d := h.Score - b.Score; {
	case d < -tol-eps:
		return KindScoreDrop, ""
	case d > tol+eps:
		return KindScoreRise, ""
	}
	return "", ""
}

// passRateChange compares two repeated tests by their 95% Wilson
// intervals: only intervals that do not overlap are a real change.
func passRateChange(b, h Side) (Kind, string) {
	bp, hp := b.PassRate, h.PassRate
	bl, bh := results.Wilson(bp.Passed, bp.Runs)
	hl, hh := results.Wilson(hp.Passed, hp.Runs)
	br, hr := float64(bp.Passed)/float64(bp.Runs), float64(hp.Passed)/float64(hp.Runs)
	desc := rateDesc(bp, hp)
	disjoint := hh < bl || bh < hl
	switch {
	case disjoint && hr < br:
		return KindRegression, desc + ": 95% intervals do not overlap"
	case disjoint && hr > br:
		if h.Status == results.StatusPass && b.Status != results.StatusPass {
			return KindFixed, desc + ": 95% intervals do not overlap"
		}
		return KindScoreRise, desc + ": 95% intervals do not overlap"
	case br != hr || b.Status != h.Status:
		return KindNoise, desc + ": within noise (95% intervals overlap)"
	}
	return "", ""
}

// rateDesc is "pass rate 3/3 [44–100%] → 0/3 [0–56%]".
func rateDesc(bp, hp *results.PassRate) string {
	bl, bh := results.Wilson(bp.Passed, bp.Runs)
	hl, hh := results.Wilson(hp.Passed, hp.Runs)
	return fmt.Sprintf("pass rate %s → %s", rateText(bp.Passed, bp.Runs, bl, bh), rateText(hp.Passed, hp.Runs, hl, hh))
}

func rateText(passed, runs int, lo, hi float64) string {
	return fmt.Sprintf("%d/%d [%.0f–%.0f%%]", passed, runs, lo*100, hi*100)
}

// metricStatus marks a metric's side of a comparison: its mean, not a
// test's status.
const metricStatus results.Status = "mean"

// metricChanges compares each metric both runs have by the 95% bootstrap
// intervals of its mean: a fall is a regression only when the intervals
// do not overlap; a move within them is noise. A run written before the
// intervals were recorded (both bounds 0 over a non-zero mean) has none,
// so its moves are never called regressions.
func metricChanges(base, head map[string]results.MetricSummary) []Entry {
	var out []Entry
	names := make([]string, 0, len(head))
	for name := range head {
		if _, ok := base[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b, h := base[name], head[name]
		if b.Count == 0 || h.Count == 0 || round(b.Mean) == round(h.Mean) {
			continue
		}
		known := !(b.Low == 0 && b.High == 0 && b.Mean != 0) && !(h.Low == 0 && h.High == 0 && h.Mean != 0)
		disjoint := known && !results.Overlap(b.Low, b.High, h.Low, h.High)
		desc := fmt.Sprintf("metric %s mean %.3f [%.3f–%.3f] over %d → %.3f [%.3f–%.3f] over %d",
			name, b.Mean, b.Low, b.High, b.Count, h.Mean, h.Low, h.High, h.Count)
		e := Entry{ID: "metric " + name, Name: "metric " + name, ScoreDelta: round(h.Mean - b.Mean),
			Base: &Side{Status: metricStatus, Score: b.Mean}, Head: &Side{Status: metricStatus, Score: h.Mean}}
		switch {
		case disjoint && h.Mean < b.Mean:
			e.Kind, e.Note = KindRegression, desc+": 95% bootstrap intervals do not overlap"
		case disjoint:
			e.Kind, e.Note = KindScoreRise, desc+": 95% bootstrap intervals do not overlap"
		case known:
			e.Kind, e.Note = KindNoise, desc+": within noise (95% bootstrap intervals overlap)"
		default:
			e.Kind, e.Note = KindNoise, desc+": the base records no interval, so the move is not judged"
		}
		out = append(out, e)
	}
	return out
}
