// Package eval loads YAML test suites, runs their tests through the runtime
// concurrently and decides pass or fail.
package eval

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// Suite is one loaded, validated *.eval.yaml file.
type Suite struct {
	Path        string // as given
	Dir         string
	Description string
	ConfigPath  string
	Config      *runtime.Config
	Params      map[string]any
	Models      map[string]runtime.Endpoint
	Grader      string
	// Matrix lists the models every test runs on (suite matrix:); a test's
	// own matrix: replaces it. Nil: each test runs on its prompt's model.
	Matrix []string
	// PassRate is the suite's top-level pass_rate: the fraction of its
	// tests that must pass; 0 = every test.
	PassRate float64
	// Tests is nil when the tests come from a cases file of more than
	// LazyThreshold rows: they are read when run. TestCount counts both.
	Tests []*Test

	ConfigLine int              // line of `config:` in the suite
	Prices     map[string]Price // `prices:`, over llm's defaults
	Warnings   []string         // non-fatal findings of the aiconfig checks, one line each

	lazy       *lazyCases // the tests, when Tests is nil
	matrixLine int        // line of the suite's matrix:

	// reads is, per prompt, the parameter names a run of it can read
	// (runtime.Config.ParamsRead), filled once the aiconfig is loaded.
	reads map[string]map[string]bool
}

// Price of a model in USD per 1M tokens.
type Price = llm.Price

// Test is one entry of tests[], with defaults merged in.
type Test struct {
	Name      string
	Line      int
	Prompt    string
	Params    map[string]any
	Asserts   []*Assert
	Threshold *float64
	Repeat    int
	PassRate  float64
	Skip      string // reason; "" = run it
	// Transform rewrites the output before every assertion scores it
	// (`transform:`, else the defaults'); nil = none.
	Transform *assertions.Transform
	// Matrix: the models the test runs on, each as its own result named
	// "name [model]"; nil runs it once on its prompt's model.
	Matrix []string
	// PassK is the k of pass@k and pass^k for a repeated test; 0 = repeat.
	PassK int

	// File and FileLine are where the test is written: the suite, or a
	// file:// cases file (then Line is the reference's line in the suite).
	File     string
	FileLine int
}

// Source is "FILE:LINE" where the test is written.
func (t *Test) Source() string { return fmt.Sprintf("%s:%d", t.File, t.FileLine) }

// Assert is a validated assertion ready to check.
type Assert struct {
	Spec assertions.Spec
	Impl assertions.Assertion
	// Transform is the assertion's own transform (Impl applies it); kept
	// to know that an exec transform reads the parameters.
	Transform *assertions.Transform
}

// Observer sees progress; it is called from one goroutine at a time.
type Observer interface {
	Start(total int)
	Done(t *results.TestResult)
}

// Options of a run.
type Options struct {
	Concurrency int
	Timeout     time.Duration // per model call attempt
	Retries     int           // retries after the first try; 0 = never; -1 = the client's default
	Filter      *regexp.Regexp
	Repeat      int // overrides tests' repeat when > 0
	ModelMap    map[string]string
	MaxCost     float64 // USD; 0 = no budget
	CacheDir    string
	CacheMode   string // read-write | read-only | refresh | off
	Offline     bool
	ShardIndex  int // 1-based; 0 = no sharding
	ShardCount  int
	SpoolDir    string // where results stream as JSON Lines; "" = os.TempDir()
	Observer    Observer
	Getenv      func(string) string
	Callbacks   *runtime.CallbackManager

	// Select, when set, runs only the tests it accepts (by suite path and
	// test name), after Filter: `aieval watch` reruns the affected ones.
	Select func(suite, test string) bool
	// Stop, when closed, stops starting new tests but lets the ones in
	// flight finish (the first SIGINT); cancelling ctx also cancels them
	// (the end of the grace period, or a second signal).
	Stop <-chan struct{}
	// Retry, when set, replaces the policy built from Retries (tests use
	// it to shorten backoffs).
	Retry *llm.RetryPolicy
	// HTTPClient is used for every model call; nil builds one with enough
	// idle connections for Concurrency.
	HTTPClient *http.Client
	// Parsers replaces the built-in model parsers by id ("openai", "echo").
	Parsers map[string]llm.Client
	// Warn receives one-line warnings (corrupt cache entries, failed cache
	// writes); nil drops them.
	Warn func(string)
	// OnCacheDone, when set, gets the run's cache after the last test
	// (nil when no cache was used): `cache prune` reads what was used.
	OnCacheDone func(*cache.Cache)
	// Live, when set, is given every result as it is stored, so reports
	// render while the run goes (see results.Live and collect.go); the
	// caller closes it with the final record.
	Live *results.Live
	// CacheNote is written into every cache entry recorded by this run
	// (e.g. "hand-written fixture" for example caches).
	CacheNote string
	// SpoolFallbackDir is tried when SpoolDir cannot be written (e.g. the
	// directory of the report files); when neither can, results are kept
	// in memory.
	SpoolFallbackDir string
	// Rerun, when not nil, runs only the tests whose result IDs it holds
	// (--retry-errors: those that ended in error; see results.Retried).
	Rerun map[string]bool
	// MinPassRate, when above 0, gates the run on the fraction of tests
	// passed (--min-pass-rate) instead of on every test, over the suites'
	// own pass_rate:. Errors still exit 3.
	MinPassRate float64
	// CacheReadFirst are cache directories read (never written) before
	// CacheDir: the baseline of --baseline-ref reads the cache at its ref.
	CacheReadFirst []string
	// Plan, when set, makes the run a dry run: each selected test's
	// requests are resolved and handed to Plan instead of sent, and the
	// test is reported as skipped. No model is called.
	Plan PlanFunc
}

// Run evaluates the suites and returns the results (tests spooled on disk).
// A provider failure makes that test an error, never the whole run; ctx
// cancellation stops starting new calls and marks the rest unfinished.
func Run(ctx context.Context, suites []*Suite, opts Options) (*results.Results, error) {
	r, err := newRunner(suites, opts)
	if err != nil {
		return nil, err
	}
	return r.observed(ctx)
}
