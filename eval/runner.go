package eval

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"sync/atomic"

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
