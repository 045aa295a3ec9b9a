package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// The run itself: the worker pool and its job feed, the spool the results
// stream to, and what is settled once every test is in (model order, gate).

func (r *runner) stopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	if r.opts.Stop == nil {
		return false
	}
	select {
	case <-r.opts.Stop:
		return true
	default:
		return false
	}
}

// run feeds every job to a fixed pool of workers and collects results as
// they finish.
func (r *runner) run(ctx context.Context) (*results.Results, error) {
	start := time.Now()
	res := &results.Results{Version: results.ResultsVersion, RunID: newRunID(), StartedAt: start}
	for _, sr := range r.suites {
		res.Suites = append(res.Suites, sr.info)
	}
	res.Gate = r.gate() // before the first test: the live reports' headers hold it
	sp := r.openSpool(res.RunID)
	if r.opts.Observer != nil {
		r.opts.Observer.Start(r.sel.len())
	}

	// Workers take their next job and hand in its result themselves, under
	// two small locks: no producer or collector goroutine to wake up for
	// every test.
	f := &feed{r: r}
	defer f.close()
	col := &collector{r: r, sp: sp, res: res, pending: map[int]*repeatAgg{}}
	var wg sync.WaitGroup
	jobCount := 0
	for _, g := range r.sel.segs {
		if g.lazy {
			jobCount = r.opts.Concurrency // runs unknown until read
			break
		}
		for _, s := range g.held {
			jobCount += int(s.runs)
		}
	}
	for range min(r.opts.Concurrency, max(jobCount, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A worker's own child of the run's context: every call's
			// timeout context registers with it, not all of them with the
			// one context the workers share (a contended lock a call).
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			for {
				j, ok := f.next()
				if !ok {
					return
				}
				o := r.runObserved(ctx, j)
				if !waitsForModels(&o) {
					col.add(o) // without gather's slice of one
					continue
				}
				for _, o := range r.gather(ctx, o) {
					col.add(o)
				}
			}
		}()
	}
	wg.Wait()
	if r.opts.OnCacheDone != nil {
		r.opts.OnCacheDone(r.cache)
	}
	col.finish()
	res.Summary.Finish()
	r.orderModels(&res.Summary)
	res.Interrupted = r.interrupted.Load()
	res.Summary.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// orderModels puts the per-model totals in matrix order (the order the
// models are first selected in), not the order they finished.
func (r *runner) orderModels(s *results.Summary) {
	if len(s.Models) < 2 {
		return
	}
	rank := map[string]int{}
	see := func(model string) {
		if _, ok := rank[model]; !ok && model != "" {
			rank[model] = len(rank)
		}
	}
	for _, g := range r.sel.segs {
		for _, m := range g.matrix {
			see(m)
		}
		for _, sel := range g.held {
			see(sel.model)
		}
	}
	slices.SortStableFunc(s.Models, func(a, b results.ModelSummary) int { return rank[a.Model] - rank[b.Model] })
}

// gate is the run's pass-rate gate: --min-pass-rate, else the suites'
// top-level pass_rate; nil when neither is set (every test must pass).
func (r *runner) gate() *results.PassRateGate {
	if r.opts.MinPassRate > 0 {
		return &results.PassRateGate{Min: r.opts.MinPassRate}
	}
	var g *results.PassRateGate
	for _, sr := range r.suites {
		if sr.s.PassRate > 0 {
			if g == nil {
				g = &results.PassRateGate{Suites: map[string]float64{}}
			}
			g.Suites[sr.s.Path] = sr.s.PassRate
		}
	}
	return g
}

// openSpool creates the run's spool in the first directory that takes it:
// Options.SpoolDir (else the temp dir), then SpoolFallbackDir. With none
// writable (a full or read-only TMPDIR) the results stay in memory: a run
// never loses the results it holds for want of a scratch file.
func (r *runner) openSpool(runID string) *results.Spool {
	first := r.opts.SpoolDir
	if first == "" {
		first = os.TempDir()
	}
	var errs []string
	for _, dir := range []string{first, r.opts.SpoolFallbackDir} {
		if dir == "" {
			continue
		}
		if dir != first {
			_ = os.MkdirAll(dir, 0o755) // the reports' directory, made early
		}
		sp, err := results.NewSpool(SpoolPath(dir, runID), r.sel.len())
		if err == nil {
			if len(errs) > 0 {
				r.warn("results spool: %s; spooling to %s instead", strings.Join(errs, "; "), dir)
			}
			return sp
		}
		errs = append(errs, err.Error())
	}
	r.warn("results spool: %s; keeping the results in memory", strings.Join(errs, "; "))
	return nil
}

func (r *runner) warn(format string, args ...any) {
	if r.opts.Warn != nil {
		r.opts.Warn(fmt.Sprintf(format, args...))
	}
}

// feed hands out every job in report order, reading lazy suites' rows as
// it goes: one sequential pass over each cases file.
type feed struct {
	r      *runner
	mu     sync.Mutex
	ord    int      // selection of the next job
	sel    selected // that selection
	k      int      // run of that selection
	t      *Test
	runs   int
	broken string
	cur    *lazyCursor
	// lastBroken and lastRuns are those of the lazy row last read, for
	// the other matrix models of that row.
	lastBroken string
	lastRuns   int
}

func (f *feed) next() (job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.t == nil || f.k >= f.runs {
		if f.t != nil {
			f.ord++
		}
		if f.ord >= f.r.sel.len() {
			return job{}, false
		}
		s := f.r.sel.at(f.ord)
		f.sel = s
		prev := f.t
		f.t, f.runs, f.broken, f.k = s.t, int(s.runs), "", 0
		if f.t == nil && s.mi > 0 && f.cur != nil && f.cur.s == s.sr.s {
			// The next model of the row just read: the same test.
			f.t, f.broken, f.runs = prev, f.lastBroken, f.lastRuns
		} else if f.t == nil {
			if f.cur == nil || f.cur.s != s.sr.s {
				f.cur.close()
				f.cur = s.sr.s.lazy.open(s.sr.s)
			}
			f.t, f.broken = f.cur.test(int(s.row))
			f.runs = f.r.runsOf(f.t)
			if f.broken != "" {
				f.runs = 1
			}
			f.lastBroken, f.lastRuns = f.broken, f.runs
		}
	}
	s := f.sel
	j := job{ord: f.ord, sample: f.k, runs: f.runs, t: f.t, broken: f.broken, model: s.model, mi: int(s.mi), mn: int(s.mn)}
	f.k++
	return j, true
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur.close()
	f.cur = nil
}

// SpoolPath is where Run streams the tests of run id under dir (Options.
// SpoolDir, or the temp dir); the caller removes it when done reporting.
func SpoolPath(dir, runID string) string {
	return filepath.Join(dir, "aieval-"+runID+".jsonl")
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
