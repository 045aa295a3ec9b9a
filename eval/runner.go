package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// DefaultConcurrency is the number of tests run at once when not set.
const DefaultConcurrency = 8

// runner holds one run's shared state.
type runner struct {
	opts   Options
	planMu sync.Mutex // serialises Options.Plan
	suites []*suiteRun
	sel    selection // tests to run, in report order
	shard  string
	prices *priceTable
	cache  *cache.Cache

	spentMu sync.Mutex
	spent   float64 // USD of real (not cached) model calls, for --max-cost

	interrupted atomic.Bool

	matrix matrixGroups // matrix tests waiting for their other models
}

// suiteRun is a suite with its runtime.
type suiteRun struct {
	s       *Suite
	rt      *runtime.Runtime
	info    results.SuiteInfo
	r       *runner
	helpers helpers
}

// selected is one test to run: held (t set) or row `row` of its suite's
// lazy cases file, read when its turn comes.
type selected struct {
	sr   *suiteRun
	t    *Test
	row  int32
	runs int32 // of a held test; a lazy one's are known once it is read
	// model is the matrix model this selection runs the test on ("" when
	// the test has no matrix); it is member mi of the test's mn.
	model  string
	mi, mn int32
}

// job is one run of one test (a test with repeat: N gives N jobs). It
// carries its test, so a lazy suite's test lives only while it runs.
type job struct {
	ord    int
	sample int
	runs   int
	t      *Test
	broken string // why the test could not be read: it ends as an error
	model  string // matrix model, "" outside a matrix
	mi, mn int    // member mi of the test's mn matrix models
}

// outcome is one finished job.
type outcome struct {
	ord         int
	sample      int
	runs        int
	t           *Test
	res         *results.TestResult
	interrupted bool
	mi, mn      int         // matrix member mi of mn
	mx          *matrixPart // assertions waiting for the other models
}

// Preflight checks what a run would select before anything runs: --repeat
// within bounds, and at least one test, since a run of none would pass
// without testing anything. An empty shard of a sharded run is normal (few
// tests, many shards): it is a warning (to warn), not an error. The error
// is invalid input (exit 2).
func Preflight(suites []*Suite, opts Options, warn func(string)) error {
	if opts.Repeat < 0 || opts.Repeat > maxRepeat {
		return fmt.Errorf("--repeat must be from 1 to %d, got %d", maxRepeat, opts.Repeat)
	}
	if m := opts.MaxCost; m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return fmt.Errorf("--max-cost must be a finite number of USD >= 0 (0: no budget), got %v", m)
	}
	if m := opts.MinPassRate; m < 0 || m > 1 || math.IsNaN(m) {
		return fmt.Errorf("--min-pass-rate must be a fraction from 0 to 1 (0.9: nine tests in ten must pass), got %v", m)
	}
	total, matched, inShard, rerun := 0, 0, 0, 0
	r := &runner{opts: opts}
	for _, s := range suites {
		each := func(name string, matrix []string) {
			total++
			if opts.Rerun != nil {
				id := s.Path + "::" + name
				if opts.Rerun[id] {
					rerun++
				}
				for _, m := range matrix {
					if opts.Rerun[id+results.MatrixSuffix(m)] {
						rerun++
					}
				}
			}
			if r.opts.Filter == nil || r.opts.Filter.MatchString(name) {
				matched++
			}
			if r.wanted(s, name) {
				inShard++
			}
		}
		if c := s.lazy; c != nil {
			if opts.Rerun == nil && !r.filters() { // every row counts: no name needed
				total, matched, inShard = total+len(c.sums), matched+len(c.sums), inShard+len(c.sums)
				continue
			}
			for i := range c.sums {
				each(c.name(i), s.Matrix)
			}
			continue
		}
		for _, t := range s.Tests {
			each(t.Name, t.Matrix)
		}
	}
	switch {
	case total == 0:
		return errors.New("no test selected: the suites have no tests")
	case matched == 0:
		return fmt.Errorf("no test selected: --filter %q matches none of the %d tests (it is a regular expression on test names)", opts.Filter, total)
	case opts.Rerun != nil && rerun == 0:
		return fmt.Errorf("no test selected: none of the %d errored tests to retry is in these suites (run the suites the results file was written by)", len(opts.Rerun))
	case inShard == 0 && warn != nil:
		warn(fmt.Sprintf("shard %d/%d selects none of the %d tests: nothing to run in this shard", opts.ShardIndex, opts.ShardCount, matched))
	}
	return nil
}

func newRunner(suites []*Suite, opts Options) (*runner, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Repeat < 0 || opts.Repeat > maxRepeat {
		return nil, fmt.Errorf("repeat must be from 1 to %d, got %d", maxRepeat, opts.Repeat)
	}
	if opts.ShardCount < 0 || (opts.ShardCount > 0 && (opts.ShardIndex < 1 || opts.ShardIndex > opts.ShardCount)) {
		return nil, fmt.Errorf("shard %d/%d: the index must be from 1 to the count", opts.ShardIndex, opts.ShardCount)
	}
	r := &runner{opts: opts, prices: newPriceTable(suites)}
	if opts.ShardCount > 0 {
		r.shard = fmt.Sprintf("%d/%d", opts.ShardIndex, opts.ShardCount)
	}
	wrap, err := r.wrapper()
	if err != nil {
		return nil, err
	}
	parsers := opts.Parsers
	if parsers == nil {
		parsers = runtime.Parsers(llm.OpenAIOptions{
			HTTPClient: r.httpClient(),
			Retry:      r.retryPolicy(),
			Timeout:    opts.Timeout,
			Getenv:     opts.Getenv,
		})
	}
	cbs := r.pricedCallbacks()
	for _, s := range suites {
		if s == nil || s.Config == nil {
			return nil, errors.New("run suites: a suite was not loaded (use LoadSuite)")
		}
		sr := &suiteRun{s: s, r: r, info: results.SuiteInfo{
			Path: s.Path, Description: s.Description, Config: s.ConfigPath,
			ConfigName: s.Config.Name(), ConfigSHA256: s.Config.SHA256(),
		}}
		sr.rt = runtime.New(runtime.Options{
			Parsers: parsers, Endpoints: s.Models, ModelMap: opts.ModelMap,
			Wrap: wrap, Callbacks: cbs, Getenv: opts.Getenv,
		})
		r.suites = append(r.suites, sr)
		if c := s.lazy; c != nil {
			want := func(int) bool { return true } // no row's name needed
			if r.filters() {
				want = func(i int) bool { return r.wanted(s, c.name(i)) }
			}
			r.sel.add(lazyRows(sr, len(c.sums), want))
			continue
		}
		var held []selected
		for _, t := range s.Tests {
			if r.wanted(s, t.Name) {
				held = appendMatrix(held, selected{sr: sr, t: t, row: -1, runs: int32(r.runsOf(t))}, t.Matrix)
			}
		}
		r.sel.add(segment{sr: sr, held: held})
	}
	if opts.Rerun != nil {
		r.sel = r.rerunOnly(r.sel)
	}
	return r, nil
}

// rerunOnly keeps the selections whose result ID is in Options.Rerun
// (--retry-errors). A matrix test keeps all its models when one of them
// is asked for: select-best compares them all, and the group must be
// whole for the runner to wait for it.
func (r *runner) rerunOnly(sel selection) selection {
	var out selection
	for i := 0; i < sel.len(); {
		n := min(max(int(sel.at(i).mn), 1), sel.len()-i)
		keep := false
		for k := range n {
			if r.opts.Rerun[r.selID(sel.at(i+k))] {
				keep = true
			}
		}
		if keep {
			for k := range n {
				out.push(sel.at(i + k))
			}
		}
		i += n
	}
	return out
}

// selID is the result ID a selection will have (TestResult.ID).
func (r *runner) selID(s selected) string {
	name := ""
	if s.t != nil {
		name = s.t.Name
	} else if lz := s.sr.s.lazy; lz != nil {
		name = lz.name(int(s.row))
	}
	if s.model != "" {
		name += results.MatrixSuffix(s.model)
	}
	return s.sr.s.Path + "::" + name
}

// appendMatrix selects sel once per matrix model, side by side in matrix
// order, or once when there is no matrix.
func appendMatrix(out []selected, sel selected, matrix []string) []selected {
	if len(matrix) == 0 {
		return append(out, sel)
	}
	for i, m := range matrix {
		s := sel
		s.model, s.mi, s.mn = m, int32(i), int32(len(matrix))
		out = append(out, s)
	}
	return out
}

// runsOf is how many times t runs.
func (r *runner) runsOf(t *Test) int {
	switch {
	case t.Skip != "":
		return 1
	case r.opts.Repeat > 0:
		return r.opts.Repeat
	}
	return max(t.Repeat, 1)
}

// filters reports whether wanted can refuse a test.
func (r *runner) filters() bool {
	return r.opts.Filter != nil || r.opts.Select != nil || r.opts.ShardCount > 1
}

// wanted applies --filter, Select and --shard.
func (r *runner) wanted(s *Suite, name string) bool {
	if r.opts.Filter != nil && !r.opts.Filter.MatchString(name) {
		return false
	}
	if r.opts.Select != nil && !r.opts.Select(s.Path, name) {
		return false
	}
	return r.opts.ShardCount <= 1 || ShardOf(s.Path, name, r.opts.ShardCount) == r.opts.ShardIndex
}

// ShardOf is the 1-based shard of a test among n: a stable hash of its
// identity, so shards 1..n of the same suites cover every test once.
func ShardOf(suitePath, testName string, n int) int {
	if n <= 1 {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(suitePath + "::" + testName))
	return int(h.Sum64()%uint64(n)) + 1
}

func (r *runner) retryPolicy() *llm.RetryPolicy {
	if r.opts.Retry != nil {
		return r.opts.Retry
	}
	if r.opts.Retries < 0 {
		return nil // the client's default
	}
	p := llm.DefaultRetry
	p.MaxRetries = r.opts.Retries
	return &p
}

// httpClient shares connections between all calls: enough idle ones per
// host that a full pool of workers never redials.
func (r *runner) httpClient() *http.Client {
	if r.opts.HTTPClient != nil {
		return r.opts.HTTPClient
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(100, 4*r.opts.Concurrency)
	tr.MaxIdleConnsPerHost = max(16, 2*r.opts.Concurrency)
	return &http.Client{Transport: tr}
}

// wrapper builds memo(cache(meter(parser))): identical requests of one run
// are made once (shared chained dependencies), the cache replays and
// records, and the meter counts what was really spent (with --max-cost
// only: it prices every call).
func (r *runner) wrapper() (func(llm.Client) llm.Client, error) {
	mode, err := cache.ParseMode(r.opts.CacheMode)
	if err != nil {
		return nil, err
	}
	if mode != cache.Off || r.opts.Offline {
		dir := r.opts.CacheDir
		if dir == "" && mode != cache.Off {
			if dir, err = cache.DefaultDir(); err != nil {
				return nil, err
			}
		}
		copts := cache.Options{Offline: r.opts.Offline, Warn: r.opts.Warn, Note: r.opts.CacheNote,
			ReadFirst: r.opts.CacheReadFirst, Endpoint: cache.EndpointOf(r.opts.Getenv),
			// Only OnCacheDone can ask the cache which keys it used.
			NoUsed: r.opts.OnCacheDone == nil}
		if r.cache, err = cache.Open(dir, mode, copts); err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	done := map[llm.Client]llm.Client{}
	return func(p llm.Client) llm.Client {
		comparable := p != nil && reflect.TypeOf(p).Comparable()
		if comparable {
			mu.Lock()
			defer mu.Unlock()
			if w, ok := done[p]; ok {
				return w // one memo per parser for the whole run
			}
		}
		c := p
		if r.opts.MaxCost > 0 { // only a budget reads what was spent
			c = &meter{next: p, r: r}
		}
		if r.cache != nil {
			c = r.cache.Wrap(c)
		}
		w := cache.NewMemo(c, 0)
		if comparable {
			done[p] = w
		}
		return w
	}, nil
}

// meter adds the cost of every call that reached a model to the budget.
type meter struct {
	next llm.Client
	r    *runner
}

func (m *meter) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	resp, err := m.next.Complete(ctx, req, onChunk)
	if err == nil && resp != nil && !resp.Cached {
		if c, ok := m.r.prices.cost(req, resp); ok && c > 0 {
			m.r.spentMu.Lock()
			m.r.spent += c
			m.r.spentMu.Unlock()
		}
	}
	return resp, err
}

// overBudget reports whether --max-cost has been reached.
func (r *runner) overBudget() bool {
	if r.opts.MaxCost <= 0 {
		return false
	}
	r.spentMu.Lock()
	defer r.spentMu.Unlock()
	return r.spent >= r.opts.MaxCost
}

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
	res.Gate = r.gate()
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
