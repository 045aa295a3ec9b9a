package eval

import (
	"fmt"
	"sync"

	"github.com/aieval/aieval/eval/results"
)

// collector sees finished jobs, one at a time: it folds repeats into one
// result, tells the observer, counts the summary and streams the result to
// disk, keeping no output in memory afterwards. After a write error it
// still takes every result, so no worker is left blocked.
type collector struct {
	r       *runner
	sp      *results.Spool
	res     *results.Results
	mu      sync.Mutex
	pending map[int]*repeatAgg
	werr    error
}

func (c *collector) add(o outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := o.res
	if runs := o.runs; runs > 1 {
		a := c.pending[o.ord]
		if a == nil {
			a = &repeatAgg{runs: runs}
			c.pending[o.ord] = a
		}
		if !a.add(o) {
			return
		}
		delete(c.pending, o.ord)
		t = a.result(o.t)
	}
	if c.r.opts.Observer != nil {
		c.r.opts.Observer.Done(t)
	}
	c.res.Count(t)
	if c.werr == nil {
		c.werr = c.sp.Add(o.ord, t)
	}
}

// repeatAgg folds the runs of a repeated test as they arrive, in any
// order, keeping only the run to show (first failing, else last).
type repeatAgg struct {
	runs, done, passed, errors int
	firstErr                   *results.TestResult
	shown                      *results.TestResult
	shownSample                int
	shownFails                 bool
	scoreSum, latencySum       float64
	cost                       float64
	tokens                     results.Tokens
	allCached                  bool
}

// add counts one run; true when every run is in.
func (a *repeatAgg) add(o outcome) bool {
	t := o.res
	if a.done == 0 {
		a.allCached = true
	}
	a.done++
	a.scoreSum += t.Score
	a.latencySum += t.LatencyMS
	a.cost += t.Cost
	a.tokens.Prompt += t.Tokens.Prompt
	a.tokens.Completion += t.Tokens.Completion
	a.tokens.Total += t.Tokens.Total
	a.allCached = a.allCached && t.Cached
	switch t.Status {
	case results.StatusPass:
		a.passed++
	case results.StatusError:
		a.errors++
		if a.firstErr == nil {
			a.firstErr = t
		}
	}
	fails := t.Status != results.StatusPass
	switch {
	case a.shown == nil,
		fails && (!a.shownFails || o.sample < a.shownSample),
		!fails && !a.shownFails && o.sample > a.shownSample:
		a.shown, a.shownSample, a.shownFails = t, o.sample, fails
	}
	return a.done == a.runs
}

func (a *repeatAgg) result(test *Test) *results.TestResult {
	t := *a.shown
	required := test.PassRate
	if required <= 0 {
		required = 1
	}
	lo, hi := results.Wilson(a.passed, a.runs)
	pr := &results.PassRate{Runs: a.runs, Passed: a.passed, Errors: a.errors,
		Rate: float64(a.passed) / float64(a.runs), Low: lo, High: hi, Required: required}
	t.PassRate = pr
	t.Score = a.scoreSum / float64(a.runs)
	t.LatencyMS = a.latencySum / float64(a.runs)
	t.Cost, t.Tokens, t.Cached = a.cost, a.tokens, a.allCached
	switch {
	case a.errors > 0:
		t.Status = results.StatusError
		t.Reason = fmt.Sprintf("%d of %d runs could not be evaluated: %s", a.errors, a.runs, a.firstErr.Reason)
	case float64(a.passed) >= required*float64(a.runs)-1e-9:
		t.Status, t.Reason = results.StatusPass, ""
	default:
		t.Status = results.StatusFail
		t.Reason = fmt.Sprintf("passed %d of %d runs (%.0f%%, 95%% interval %.0f%%-%.0f%%), needs %.0f%%",
			a.passed, a.runs, 100*pr.Rate, 100*lo, 100*hi, 100*required)
		if a.shownFails && a.shown.Reason != "" {
			t.Reason += "; first failure: " + a.shown.Reason
		}
	}
	return &t
}
