package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/history"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/reporters"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// gcPercent is the GC target of a run (see cmdRun).
const gcPercent = 200

// limitMemory caps the heap that the GC target lets a run grow to: what
// a run holds is mostly garbage of model calls and reports, and 200 % of
// it put a 10k-test run at ~48 MB RSS. The soft limit follows the live
// heap, read every 100 ms (memLimitFor), so a
// run that holds more (tests kept in memory, large answers in flight)
// never makes the collector run back to back. GOGC or GOMEMLIMIT in the
// environment turn it off. The returned func stops the watch.
func limitMemory(getenv func(string) string) (stop func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(s)
		var live uint64
		if s[0].Value.Kind() == metrics.KindUint64 {
			live = s[0].Value.Uint64()
		}
		debug.SetMemoryLimit(memLimitFor(live))
	}
	set()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				set()
			}
		}
	}()
	return func() {
		close(done)
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// runMemLimit is the least soft memory limit of a run.
const runMemLimit = 20 << 20

// memLimitFor is the soft limit for a live heap: twice it plus 8 MiB, at
// least runMemLimit, and at most 24 MiB of headroom over it, so a run
// that holds a lot (a million rows' index) is not allowed as much again.
func memLimitFor(live uint64) int64 {
	return int64(max(runMemLimit, min(2*live, live+24<<20)+8<<20))
}

type runFlags struct {
	junit, jsonOut, html, markdown string
	concurrency                    int
	filter                         string
	repeat                         int
	timeout                        time.Duration
	retries                        int
	cacheDir, cacheMode            string
	offline                        bool
	dryRun                         bool
	baseline, baselineRef          string
	baselineOut                    string
	quiet, noProgress, verbose     bool
	models                         kvFlag
	maxCost                        float64
	shard, runGroup                string
	history                        string
	noHistory                      bool
	scoreTolerance                 float64
	retryErrors                    string  // --retry-errors FILE
	minPassRate                    float64 // --min-pass-rate F
	junitFlavor                    string
}

func cmdRun(ctx context.Context, args []string, st *state) error {
	// One-time set-up the suites' load and the first model call would
	// otherwise do in turn, done meanwhile on another core.
	go func() {
		runtime.WarmSchema()
		llm.WarmCodecs()
	}()
	f := runFlags{models: kvFlag{}}
	fs := newFlags("run", st)
	fs.StringVar(&f.junit, "junit", st.getenv("AIEVAL_JUNIT"), "write JUnit XML to `FILE`")
	fs.StringVar(&f.jsonOut, "json", st.getenv("AIEVAL_JSON"), "write JSON results to `FILE` (input of compare and --baseline)")
	fs.StringVar(&f.junitFlavor, "junit-flavor", st.getenv("AIEVAL_JUNIT_FLAVOR"), junitFlavorUsage)
	fs.StringVar(&f.html, "html", "", "write a self-contained HTML report to `FILE`")
	fs.StringVar(&f.markdown, "markdown", "", "write a Markdown summary to `FILE`")
	f.evalFlags(fs, st)
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the distinct requests the selected tests would send, as JSON lines; call nothing")
	fs.StringVar(&f.baseline, "baseline", "", "compare with a previous --json `FILE`; a pass-to-fail is a regression")
	fs.StringVar(&f.baselineRef, "baseline-ref", "", "build the baseline by running the suites as they are at git `REF` (from the cache)")
	fs.StringVar(&f.baselineOut, "baseline-out", "", "also write the baseline's results as JSON to `FILE` (the input of github comment --baseline)")
	fs.Float64Var(&f.scoreTolerance, "score-tolerance", 0.05, "score drop against the baseline that is reported")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the totals line and failures")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress line")
	fs.BoolVar(&f.verbose, "verbose", false, "list passing tests too")
	fs.StringVar(&f.shard, "shard", "", "run shard `i/n` of the tests (stable split)")
	fs.StringVar(&f.runGroup, "run-group", envStr(st, "AIEVAL_RUN_GROUP", st.getenv("GITHUB_RUN_ID")), "`ID` shared by the shards of one run, checked by merge (default $GITHUB_RUN_ID)")
	fs.StringVar(&f.history, "history", "", "record the run in this SQLite `FILE` or postgres:// URL (default $AIEVAL_HISTORY, else .aieval/history.db when it exists)")
	fs.BoolVar(&f.noHistory, "no-history", false, "do not record the run in history")
	fs.StringVar(&f.retryErrors, "retry-errors", "", "run only the tests that ended in error in this --json `FILE` and write merged results (the others carried over)")
	fs.Float64Var(&f.minPassRate, "min-pass-rate", 0, "pass the run when this `FRACTION` of its tests pass (0.9), not only when all do; errors still exit 3")
	var mf monitorFlags
	mf.register(fs, st)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	// A run's live heap is small (results stream to disk) while every model
	// call allocates request and response JSON: at the default GOGC the
	// collector ran every few dozen calls. A larger target trades a few MB
	// for less GC CPU; GOGC in the environment still wins.
	if st.getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	defer limitMemory(st.getenv)()
	opts, err := f.options(st)
	if err != nil {
		return inputErr(err)
	}
	if err := reporters.CheckJUnitFlavor(f.junitFlavor); err != nil {
		return inputErr(err)
	}
	var prev *results.Results // --retry-errors: the run to complete
	if f.retryErrors != "" {
		if prev, err = results.ReadFile(f.retryErrors); err != nil {
			return inputErr(err)
		}
		if opts.Rerun, err = results.Errored(prev); err != nil {
			return inputErr(err)
		}
		if len(paths) == 0 {
			// The suites of that run, as it named them (the IDs hold them).
			for _, s := range prev.Suites {
				paths = append(paths, s.Path)
			}
		}
	}
	if prev != nil && len(opts.Rerun) == 0 {
		fmt.Fprintf(st.stderr, "aieval: no test of %s ended in error; nothing to retry, its results are reported as they are\n", f.retryErrors)
		if err := writeReports(st, prev, nil, nil, f); err != nil {
			return &exitError{code: results.ExitErrored, err: err}
		}
		if code := prev.ExitCode(); code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
	if paths, err = suitePaths(paths); err != nil {
		return err
	}
	mon, err := startMonitor(ctx, st, mf)
	if err != nil {
		return err
	}
	defer mon.close(ctx)
	suites, err := mon.loadSuites(ctx, paths)
	if err != nil {
		return err
	}
	if !f.quiet {
		for _, s := range suites {
			for _, w := range s.Warnings {
				warn(st, w)
			}
		}
	}
	if err := eval.Preflight(suites, opts, opts.Warn); err != nil {
		return inputErr(err)
	}
	// Results stream to a spool file while the run goes; it is only needed
	// until the reports are written. A TMPDIR that cannot take it must not
	// lose the results: the runner then spools next to the reports, or
	// keeps them in memory.
	if opts.SpoolDir, err = os.MkdirTemp("", "aieval-run-*"); err != nil {
		opts.Warn(fmt.Sprintf("results spool: %v; trying the reports' directory", err))
		opts.SpoolDir = ""
		opts.SpoolFallbackDir = f.reportDir()
	} else {
		defer os.RemoveAll(opts.SpoolDir)
	}
	defer registerCleanup(func() { os.RemoveAll(opts.SpoolDir) })() // also on a second signal
	if err := resolveCacheDir(&opts, suites); err != nil {
		return err
	}
	if f.dryRun {
		return runDry(ctx, st, suites, opts)
	}
	var base *results.Results
	switch {
	case f.baseline != "" && f.baselineRef != "":
		return inputErr(errors.New("--baseline and --baseline-ref exclude each other"))
	case f.baseline != "":
		if base, err = results.ReadFile(f.baseline); err != nil {
			return inputErr(err)
		}
	case f.baselineRef != "":
		if base, err = baselineFromRef(ctx, f.baselineRef, suites, opts); err != nil {
			return inputErr(err)
		}
	}
	// A missing key is named now (after the baseline, which is a replay that needs none), not after a call's retries.
	if err := checkKeys(ctx, st, suites, opts); err != nil {
		return err
	}
	if base != nil && f.baselineOut != "" {
		if err := writeFile(f.baselineOut, "json", base, reporters.Options{}); err != nil {
			return &exitError{code: results.ExitErrored, err: err}
		}
	}

	var progress *reporters.Progress
	if !f.quiet && !f.noProgress && st.isTTY && st.getenv("CI") == "" {
		progress = reporters.NewProgress(st.stderr, reporters.ProgressOptions{})
		opts.Observer = progress
	}
	opts.Callbacks = mon.cbs // set after the baseline: its runs are not this run's events
	// The reports render while the run goes, unless they report a merged
	// record (--retry-errors), which exists only once the run is over.
	var live *reportSet
	if prev == nil {
		live = startLiveReports(st, base, f)
		opts.Live = live.live
	}
	var shard *results.ShardInfo
	if opts.ShardCount > 0 {
		shard = &results.ShardInfo{Index: opts.ShardIndex, Count: opts.ShardCount}
	}
	// Asking git which commit this is spawns processes: do it while the
	// models answer, not after. The live reports get the answer as soon as
	// it comes, so the JSON report's header is written before its tests.
	type commit struct{ sha, ref string }
	gitc := make(chan commit, 1)
	go func() {
		sha, ref := gitInfo(context.WithoutCancel(ctx), st)
		if live != nil {
			live.live.SetIdentity(results.Identity{GitSHA: sha, GitRef: ref, RunGroup: f.runGroup, Shard: shard})
		}
		gitc <- commit{sha, ref}
	}()
	res, err := eval.Run(ctx, suites, opts)
	if progress != nil {
		progress.Finish()
	}
	if err == nil && opts.SpoolFallbackDir != "" {
		defer os.Remove(eval.SpoolPath(opts.SpoolFallbackDir, res.RunID))
	}
	if err != nil {
		if live != nil {
			live.live.Abort(err)
		}
		return &exitError{code: results.ExitErrored, err: fmt.Errorf("run: %w", err)}
	}
	c := <-gitc
	res.GitSHA, res.GitRef = c.sha, c.ref
	if prev != nil {
		if res, err = results.Retried(prev, res); err != nil {
			return &exitError{code: results.ExitErrored, err: err}
		}
	}
	res.RunGroup, res.Shard = f.runGroup, shard
	var cmp *compare.Report
	if base != nil {
		cmp = compare.Compare(base, res, compare.Options{ScoreTolerance: f.scoreTolerance})
		res.Summary.Regressed = cmp.Regressions()
		res.Summary.BaselineErrors = cmp.BaselineErrors
	}
	if live != nil {
		err = live.closeLiveReports(res, cmp)
	} else {
		err = writeReports(st, res, base, cmp, f)
	}
	if err != nil {
		return &exitError{code: results.ExitErrored, err: err}
	}
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// reportDir is the directory of the first report file asked for, where a
// run spools when the temp dir fails; "" when no report file is asked for.
func (f *runFlags) reportDir() string {
	for _, p := range []string{f.jsonOut, f.junit, f.html, f.markdown} {
		if p != "" {
			return filepath.Dir(p)
		}
	}
	return ""
}

// evalFlags registers the flags of how tests run, shared by run and watch.
func (f *runFlags) evalFlags(fs *flag.FlagSet, st *state) {
	fs.IntVar(&f.concurrency, "concurrency", envInt(st, "AIEVAL_CONCURRENCY", 8), "model calls in flight at once")
	fs.StringVar(&f.filter, "filter", "", "only tests whose name matches `REGEX`")
	fs.IntVar(&f.repeat, "repeat", 0, "run every test `N` times (overrides repeat:)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of one model call attempt")
	fs.IntVar(&f.retries, "retries", envInt(st, "AIEVAL_RETRIES", 4), "retries of a failed model call (429, 5xx, timeouts, resets); 0 disables")
	fs.StringVar(&f.cacheDir, "cache", st.getenv("AIEVAL_CACHE_DIR"), "cache `DIR` (default: the nearest .aieval/cache above the suite, else the user cache dir)")
	fs.StringVar(&f.cacheMode, "cache-mode", envStr(st, "AIEVAL_CACHE_MODE", "read-write"), "read-write | read-only | refresh | off")
	fs.BoolVar(&f.offline, "offline", false, "never call a model: a cache miss is an error for that test")
	fs.Var(f.models, "model", "run prompts of model A on model B (`A=B`, repeatable)")
	fs.Float64Var(&f.maxCost, "max-cost", 0, "stop starting model calls past this budget in `USD`")
}

func (f *runFlags) options(st *state) (eval.Options, error) {
	o := eval.Options{
		Concurrency: f.concurrency,
		Timeout:     f.timeout,
		Retries:     f.retries,
		Repeat:      f.repeat,
		ModelMap:    map[string]string(f.models),
		MaxCost:     f.maxCost,
		CacheDir:    f.cacheDir,
		CacheMode:   f.cacheMode,
		Offline:     f.offline,
		MinPassRate: f.minPassRate,
		Getenv:      st.getenv,
		Stop:        st.stop,
		Warn:        func(msg string) { warn(st, msg) },
	}
	if o.Concurrency < 1 {
		return o, fmt.Errorf("--concurrency must be at least 1, got %d", o.Concurrency)
	}
	if o.Retries < 0 {
		return o, fmt.Errorf("--retries must be 0 or more, got %d", o.Retries)
	}
	if o.Repeat < 0 {
		return o, fmt.Errorf("--repeat must be 1 or more, got %d", o.Repeat)
	}
	switch o.CacheMode {
	case "read-write", "read-only", "refresh", "off":
	default:
		return o, fmt.Errorf("--cache-mode %q: want read-write, read-only, refresh or off", o.CacheMode)
	}
	if o.Offline && (o.CacheMode == "off" || o.CacheMode == "refresh") {
		return o, fmt.Errorf("--offline needs the cache to read: not with --cache-mode %s", o.CacheMode)
	}
	if f.filter != "" {
		re, err := regexp.Compile(f.filter)
		if err != nil {
			return o, fmt.Errorf("--filter %q: %v", f.filter, err)
		}
		o.Filter = re
	}
	if f.shard != "" {
		i, n, err := parseShard(f.shard)
		if err != nil {
			return o, err
		}
		o.ShardIndex, o.ShardCount = i, n
	}
	return o, nil
}

func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n, e.g. 2/3", s)
	}
	return i, n, nil
}

// suitePaths is the suites a command was given, else every *.eval.yaml
// below the current directory.
func suitePaths(paths []string) ([]string, error) {
	if len(paths) > 0 {
		return paths, nil
	}
	paths, err := eval.Discover(".")
	if err != nil {
		return nil, inputErr(err)
	}
	if len(paths) == 0 {
		return nil, inputErr(errors.New("no *.eval.yaml found below the current directory (pass a suite path, or run 'aieval init')"))
	}
	return paths, nil
}

// resolveCacheDir fills in the cache directory a run uses (--cache, else
// the nearest .aieval/cache above the first suite), made absolute.
func resolveCacheDir(opts *eval.Options, suites []*eval.Suite) error {
	if opts.CacheDir == "" && opts.CacheMode != "off" {
		opts.CacheDir = findProjectPath(filepath.Dir(suites[0].Path), "cache")
	}
	if opts.CacheDir == "" {
		return nil
	}
	abs, err := filepath.Abs(opts.CacheDir)
	if err != nil {
		return inputErr(err)
	}
	opts.CacheDir = abs
	return nil
}

// checkKeys names, before any call, the key variables the selected tests
// need and lack (see missingKeys): an input error.
func checkKeys(ctx context.Context, st *state, suites []*eval.Suite, opts eval.Options) error {
	missing, err := missingKeys(ctx, st, suites, opts)
	if err != nil {
		return inputErr(err)
	}
	if len(missing) > 0 {
		return inputErr(errors.New(strings.Join(missing, "\naieval: ")))
	}
	return nil
}

// loadSuites loads every suite before anything runs, so a bad file stops
// the run with exit 2 and no model call.
func loadSuites(paths []string) ([]*eval.Suite, error) {
	suites := make([]*eval.Suite, 0, len(paths))
	for _, p := range paths {
		s, err := eval.LoadSuite(p)
		if err != nil {
			return nil, inputErr(err)
		}
		s.Path = suiteID(p)
		suites = append(suites, s)
	}
	return suites, nil
}

// suiteID is the suite path that names its tests in results, baselines,
// history and shards: cleaned and, below the current directory, relative
// to it, so "./a.eval.yaml", "a.eval.yaml" and its absolute path are one
// suite (and GitHub annotations get a workspace path).
func suiteID(path string) string {
	p := filepath.Clean(path)
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

// findProjectPath returns the nearest existing .aieval/NAME at or above dir,
// else "" (callers then use their own default).
func findProjectPath(dir, name string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(abs, ".aieval", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

func recordHistory(st *state, res *results.Results, f runFlags) error {
	if f.noHistory {
		return nil
	}
	path := f.history
	if path == "" {
		path = st.getenv(history.EnvVar) // a file or a postgres:// URL (a CI secret)
	}
	if path == "" {
		// Recording is opt-in: on when the project has a .aieval/history.db.
		if path = findProjectPath(".", "history.db"); path == "" {
			return nil
		}
	}
	db, err := history.Open(path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer db.Close()
	if _, err := db.Record(res); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

func color(st *state) bool {
	return st.isTTY && st.getenv("NO_COLOR") == "" && st.getenv("TERM") != "dumb"
}

func envStr(st *state, name, def string) string {
	if v := st.getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(st *state, name string, def int) int {
	if v, err := strconv.Atoi(st.getenv(name)); err == nil {
		return v
	}
	return def
}
