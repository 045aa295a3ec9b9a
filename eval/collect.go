package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/aieval/aieval/reporters"
)

// collector sees finished jobs, one at a time: it folds repeats into one
// result, tells the observer, counts the summary and streams the result to
// disk, keeping no output in memory afterwards. After a write error it
// still takes every result, so no worker is left blocked.
type collector struct {
	r       *runner
	sp      *spool
	res     *reporters.Results
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
		c.werr = c.sp.add(o.ord, t)
	}
}

// repeatAgg folds the runs of a repeated test as they arrive, in any
// order, keeping only the run to show (first failing, else last).
type repeatAgg struct {
	runs, done, passed, errors int
	firstErr                   *reporters.TestResult
	shown                      *reporters.TestResult
	shownSample                int
	shownFails                 bool
	scoreSum, latencySum       float64
	cost                       float64
	tokens                     reporters.Tokens
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
	case reporters.StatusPass:
		a.passed++
	case reporters.StatusError:
		a.errors++
		if a.firstErr == nil {
			a.firstErr = t
		}
	}
	fails := t.Status != reporters.StatusPass
	switch {
	case a.shown == nil,
		fails && (!a.shownFails || o.sample < a.shownSample),
		!fails && !a.shownFails && o.sample > a.shownSample:
		a.shown, a.shownSample, a.shownFails = t, o.sample, fails
	}
	return a.done == a.runs
}

func (a *repeatAgg) result(test *Test) *reporters.TestResult {
	t := *a.shown
	required := test.PassRate
	if required <= 0 {
		required = 1
	}
	lo, hi := reporters.Wilson(a.passed, a.runs)
	pr := &reporters.PassRate{Runs: a.runs, Passed: a.passed, Errors: a.errors,
		Rate: float64(a.passed) / float64(a.runs), Low: lo, High: hi, Required: required}
	t.PassRate = pr
	t.Score = a.scoreSum / float64(a.runs)
	t.LatencyMS = a.latencySum / float64(a.runs)
	t.Cost, t.Tokens, t.Cached = a.cost, a.tokens, a.allCached
	switch {
	case a.errors > 0:
		t.Status = reporters.StatusError
		t.Reason = fmt.Sprintf("%d of %d runs could not be evaluated: %s", a.errors, a.runs, a.firstErr.Reason)
	case float64(a.passed) >= required*float64(a.runs)-1e-9:
		t.Status, t.Reason = reporters.StatusPass, ""
	default:
		t.Status = reporters.StatusFail
		t.Reason = fmt.Sprintf("passed %d of %d runs (%.0f%%, 95%% interval %.0f%%-%.0f%%), needs %.0f%%",
			a.passed, a.runs, 100*pr.Rate, 100*lo, 100*hi, 100*required)
		if a.shownFails && a.shown.Reason != "" {
			t.Reason += "; first failure: " + a.shown.Reason
		}
	}
	return &t
}

// spool streams results to a JSON Lines file in completion order and
// remembers where each one starts, so finish can rewrite the file in
// report order with one offset per test in memory.
type spool struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	off    int64
	at     []spoolRef // by test ordinal
	last   int        // ordinal of the last write, to spot an already sorted file
	sorted bool

	// held keeps results in memory too while they are small, so the usual
	// run's reporters read them without decoding the file again; past
	// heldBudget bytes of JSON only the file is kept (memory stays flat).
	// A run too large to ever fit holds none.
	held     []*reporters.TestResult
	overflow bool

	// enc writes a result's spool line to buf.
	enc *json.Encoder
	buf bytes.Buffer
}

// heldBudget bounds the results kept in memory besides the spool file. Held
// results weigh ~1.5x their JSON and the GC doubles that, so 2 MiB (a
// 1000-test run of usual outputs fits) costs ~6 MB of peak RSS; 8 MiB
// cost ~25 MB on the way to spilling a 100k-test run.
const heldBudget = 2 << 20

// minResultJSON is less than any result's JSON (its field names alone).
const minResultJSON = 128

type spoolRef struct {
	off int64
	n   int
}

func newSpool(path string, tests int) (*spool, error) {
	f, err := os.Create(path + ".part")
	if err != nil {
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	s := &spool{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), at: make([]spoolRef, tests), last: -1, sorted: true}
	s.enc = reporters.NewSpoolEncoder(&s.buf)
	if tests > heldBudget/minResultJSON {
		s.overflow = true
	} else {
		s.held = make([]*reporters.TestResult, tests)
	}
	return s, nil
}

func (s *spool) add(ord int, t *reporters.TestResult) error {
	s.buf.Reset()
	if err := s.enc.Encode(t); err != nil {
		return fmt.Errorf("encode result %q: %w", t.Name, err)
	}
	data := s.buf.Bytes()
	if _, err := s.w.Write(data); err != nil {
		return fmt.Errorf("write results spool: %w", err)
	}
	s.at[ord] = spoolRef{off: s.off, n: len(data)}
	s.off += int64(len(data))
	s.sorted = s.sorted && ord > s.last
	s.last = ord
	if !s.overflow {
		if s.off > heldBudget {
			s.overflow, s.held = true, nil
		} else {
			s.held[ord] = t
		}
	}
	return nil
}

// inMemory returns the results in report order when they all fit the
// budget; the spool file is then no longer needed.
func (s *spool) inMemory() ([]reporters.TestResult, bool) {
	if s.overflow {
		return nil, false
	}
	out := make([]reporters.TestResult, 0, len(s.held))
	for _, t := range s.held {
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, true
}

// finish writes the spool in report order and returns its path.
func (s *spool) finish() (string, error) {
	part := s.f.Name()
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return "", fmt.Errorf("write results spool: %w", err)
	}
	if s.sorted {
		if err := s.f.Close(); err != nil {
			return "", fmt.Errorf("write results spool: %w", err)
		}
		return s.path, os.Rename(part, s.path)
	}
	defer s.f.Close()
	out, err := os.Create(s.path)
	if err != nil {
		return "", fmt.Errorf("create results file: %w", err)
	}
	w := bufio.NewWriterSize(out, 256<<10)
	win := window{f: s.f, buf: make([]byte, 0, reorderWindow)}
	for _, ref := range s.at {
		if ref.n == 0 {
			continue
		}
		b, err := win.read(ref)
		if err != nil {
			out.Close()
			return "", fmt.Errorf("reorder results spool: %w", err)
		}
		w.Write(b)
	}
	err = errors.Join(w.Flush(), out.Close())
	if err != nil {
		return "", fmt.Errorf("write results file: %w", err)
	}
	s.f.Close()
	return s.path, os.Remove(part)
}

// reorderWindow is how much of the spool finish reads at once. Results
// finish roughly in report order (a few concurrency slots apart), so one
// large read serves hundreds of them where a read per result cost 100k
// system calls on a 100k-test run.
const reorderWindow = 1 << 20

// window serves spooled results from the last large read of the file when
// they fall inside it, and reads again at the result's offset otherwise.
type window struct {
	f   *os.File
	off int64 // file offset of buf[0]
	buf []byte
}

func (w *window) read(ref spoolRef) ([]byte, error) {
	if ref.off >= w.off && ref.off+int64(ref.n) <= w.off+int64(len(w.buf)) {
		start := ref.off - w.off
		return w.buf[start : start+int64(ref.n)], nil
	}
	if ref.n > cap(w.buf) {
		w.buf = make([]byte, 0, ref.n)
	}
	n, err := w.f.ReadAt(w.buf[:cap(w.buf)], ref.off)
	if n < ref.n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.buf = w.buf[:0]
		return nil, err
	}
	w.off, w.buf = ref.off, w.buf[:n]
	return w.buf[:ref.n], nil
}
