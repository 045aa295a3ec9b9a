package eval

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// collector sees finished jobs, one at a time: it folds repeats into one
// result, tells the observer, counts the summary and streams the result to
// disk, keeping no output in memory afterwards. After a write error it
// still takes every result, so no worker is left blocked.
type collector struct {
	r       *runner
	sp      *results.Spool // nil once it failed, or when none could be made
	res     *results.Results
	mu      sync.Mutex
	pending map[int]*repeatAgg
	werr    error

	// When the spool fails, results are kept in mem instead: those it had
	// taken are read back (see salvage).
	mem    map[int]*results.TestResult
	status []statusCode // by ordinal: what a result lost with the spool was
}

// statusCode is a results.Status in a byte: the collector keeps one per
// test.
type statusCode uint8

var statusCodes = []results.Status{"", results.StatusPass, results.StatusFail, results.StatusError, results.StatusSkip}

func codeOf(s results.Status) statusCode {
	for i, v := range statusCodes {
		if v == s {
			return statusCode(i)
		}
	}
	return 0
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
	finite(t)
	scrub(t)
	if c.r.opts.Observer != nil {
		c.r.opts.Observer.Done(t)
	}
	c.res.Count(t)
	c.store(o.ord, t)
}

// store puts a finished result in the spool, or in memory once the spool
// has failed.
func (c *collector) store(ord int, t *results.TestResult) {
	if c.status == nil {
		c.status = make([]statusCode, c.r.sel.len())
	}
	c.status[ord] = codeOf(t.Status)
	if c.sp != nil {
		err := c.sp.Add(ord, t)
		if err == nil {
			c.live(ord, t, c.sp.Line())
			return
		}
		c.werr = err
		c.r.warn("results spool: %v; keeping the results in memory", err)
		c.salvage()
	}
	c.live(ord, t, nil)
	if c.mem == nil {
		c.mem = map[int]*results.TestResult{}
	}
	c.mem[ord] = t
}

// live hands a stored result to the run's live view (Options.Live), with
// its spool line when the spool encoded it: the reports render it while
// the run goes. A failed spool does not touch the live view, which has
// every result already.
func (c *collector) live(ord int, t *results.TestResult, line []byte) {
	if l := c.r.opts.Live; l != nil {
		l.Begin(c.res)
		l.Add(ord, t, line)
	}
}

// salvage moves what the failed spool holds into mem: from its memory when
// it still holds them, else read back from its file; a result neither has
// keeps its status with a note that its details were lost.
func (c *collector) salvage() {
	got, taken := c.sp.Salvage()
	c.sp = nil
	if c.mem == nil {
		c.mem = map[int]*results.TestResult{}
	}
	for ord, t := range got {
		c.mem[ord] = t
	}
	for _, ord := range taken {
		if c.mem[ord] == nil {
			sel := c.r.sel.at(ord)
			name := ""
			if sel.t != nil {
				name = sel.t.Name
			} else if lz := sel.sr.s.lazy; lz != nil {
				name = lz.name(int(sel.row))
			}
			c.mem[ord] = &results.TestResult{Suite: sel.sr.s.Path, Name: name, Config: sel.sr.s.ConfigPath,
				ConfigName: sel.sr.info.ConfigName, Status: statusCodes[c.status[ord]], Assertions: []results.AssertionResult{},
				Reason: "details lost: the results spool could not be written (" + text.OneLine(c.werr.Error(), 0) + ")"}
		}
	}
}

// finish puts the results into res: from memory when they fit (or the
// spool failed), else as the spool file in report order.
func (c *collector) finish() {
	if l := c.r.opts.Live; l != nil {
		l.Begin(c.res)
		l.EndTests() // the caller closes it once the record is complete
	}
	if c.sp != nil {
		if tests, ok := c.sp.InMemory(); ok {
			c.sp.Discard()
			c.res.Tests = tests
			return
		}
		path, err := c.sp.Finish()
		if err == nil {
			c.res.UseSpool(path)
			return
		}
		c.werr = err
		c.r.warn("results spool: %v; keeping the results in memory", err)
		c.salvage()
	}
	ords := make([]int, 0, len(c.mem))
	for ord := range c.mem {
		ords = append(ords, ord)
	}
	slices.Sort(ords)
	c.res.Tests = make([]results.TestResult, 0, len(ords))
	for _, ord := range ords {
		c.res.Tests = append(c.res.Tests, *c.mem[ord])
	}
}

// finite makes a result with a NaN or infinite number (a score, a cost
// from a huge token count, a parameter) an error saying which: such a
// number compares false with every threshold and cannot be written to a
// JSON report, so it must neither pass nor stop the reports.
func finite(t *results.TestResult) {
	var bad []string
	fixed := func(what string, f *float64) {
		bad = append(bad, fmt.Sprintf("%s is %v", what, *f))
		*f = 0
	}
	fix := func(what string, f *float64) {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			fixed(what, f)
		}
	}
	fix("score", &t.Score)
	fix("latency", &t.LatencyMS)
	fix("cost", &t.Cost)
	if t.Threshold != nil {
		th := *t.Threshold
		fix("threshold", &th)
		t.Threshold = &th
	}
	for i := range t.Assertions {
		a := &t.Assertions[i]
		// Labelled only when wrong: two strings an assertion a test showed in profiles.
		if math.IsNaN(a.Score) || math.IsInf(a.Score, 0) {
			fixed("assertion "+a.Type+" score", &a.Score)
		}
		if math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) {
			fixed("assertion "+a.Type+" weight", &a.Weight)
		}
	}
	if p := t.PassRate; p != nil {
		fix("pass rate", &p.Rate)
		fix("pass rate interval", &p.Low)
		fix("pass rate interval", &p.High)
		fix("required pass rate", &p.Required)
	}
	if len(t.Params) > 0 {
		params, changed := finiteValue(t.Params, "params", &bad)
		if changed {
			t.Params = params.(map[string]any)
		}
	}
	if len(bad) == 0 {
		return
	}
	t.Status = results.StatusError
	t.Reason = "not a finite number: " + strings.Join(bad, ", ")
}

// finiteValue replaces non-finite floats in v by their text, copying what
// it changes.
func finiteValue(v any, path string, bad *[]string) (any, bool) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			*bad = append(*bad, fmt.Sprintf("%s is %v", path, x))
			return fmt.Sprint(x), true
		}
	case float32:
		return finiteValue(float64(x), path, bad)
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if ne, changed := finiteValue(e, path+"."+k, bad); changed {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			if ne, changed := finiteValue(e, fmt.Sprintf("%s[%d]", path, i), bad); changed {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
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
	metrics                    map[string][]float64 // every run's metric scores
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
	for _, ar := range t.Assertions {
		if ar.Metric != "" {
			if a.metrics == nil {
				a.metrics = map[string][]float64{}
			}
			a.metrics[ar.Metric] = append(a.metrics[ar.Metric], ar.Score)
		}
	}
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
	k := a.runs
	if test.PassK > 0 {
		k = min(test.PassK, a.runs) // --repeat may run fewer than pass_k
	}
	pr := &results.PassRate{Runs: a.runs, Passed: a.passed, Errors: a.errors,
		Rate: float64(a.passed) / float64(a.runs), Low: lo, High: hi, Required: required,
		K: k, PassAtK: results.PassAtK(a.runs, a.passed, k), PassHatK: results.PassHatK(a.runs, a.passed, k)}
	t.PassRate = pr
	t.MetricScores = a.metrics
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
