// Package assertions holds the scoring plugins behind one small registry.
// A factory validates its spec when the suite loads, so a bad regex or
// schema is an input error before any model is called.
package assertions

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// Spec is one `assert:` entry of a suite, already decoded.
type Spec struct {
	Type      string   // as written, may start with "not-"
	Value     any      // decoded YAML value (string, number, list, map)
	Threshold *float64 // nil when not set
	Weight    float64  // default 1
	Metric    string
	Provider  string // grader model override (llm-rubric, similar, graded metrics)
	// RubricPrompt replaces a graded metric's grader prompt (`rubric_prompt:`
	// on the assertion): text or file://, with {{output}}, {{input}} ...
	// placeholders. The reply format is still appended, so the verdict stays
	// parseable.
	RubricPrompt string
	Dir          string // suite directory, for file:// values
	File         string // suite file, for messages
	Line         int    // line of the entry in the suite
	// Timeout bounds one check of an external command (exec); 0 means the
	// default. A `value: {command, timeout}` map overrides it.
	Timeout time.Duration
	// Env names variables passed to an exec judge besides its allow-list
	// (the suite's env:, on the assertion or the whole suite).
	Env []string
}

// Input is what an assertion scores.
type Input struct {
	Output    string
	Prompt    string // the resolved prompt text sent to the model
	Params    map[string]any
	Test      string
	Suite     string
	LatencyMS float64
	Tokens    results.Tokens // as counted by the endpoint
	Cost      float64
	HasCost   bool // false when the model's price is unknown
	Grader    Grader
	Embedder  Embedder
	// Refusal: the model declined (Output is its explanation).
	Refusal bool
	// FinishReason is why the model stopped ("stop", "length", ...).
	FinishReason string
	Moderator    Moderator // moderation; nil when no moderation endpoint is set

	// ToolCalls is the response's tool calls in OpenAI's shape
	// ([{"id", "type": "function", "function": {"name", "arguments"}}]),
	// nil when the model called none.
	ToolCalls json.RawMessage
	// Tools is what the prompt declared: its model settings' `tools` (OpenAI
	// list) or legacy `functions` list; nil when it declared none.
	Tools json.RawMessage
	// Logprobs are the output tokens' log probabilities when the endpoint
	// returned them (perplexity); nil otherwise.
	Logprobs []float64
}

// Result of one assertion. Score is in [0,1].
type Result struct {
	Pass   bool
	Score  float64
	Reason string
	Diff   string // for text comparisons: expected vs actual
	// Transformed is the output the check scored when the assertion has
	// its own transform (nil otherwise).
	Transformed *string

	// diff builds Diff only if the final verdict is a failure: a passing
	// not- check must not pay for a diff it throws away.
	diff lazyText
}

// lazyText is a TextDiff(want, got) to make if a failure needs it: the two
// texts, not a closure, so a check that passes once negated (not-contains)
// allocates nothing for it.
type lazyText struct {
	want, got string
	set       bool
}

// lazyDiff defers TextDiff(expected, actual) until a failure needs it.
func lazyDiff(expected, actual string) lazyText {
	return lazyText{want: expected, got: actual, set: true}
}

// Assertion scores one output. An error means it could not be evaluated
// (grader down, command failed to start), which is not a failure.
type Assertion interface {
	Check(ctx context.Context, in *Input) (Result, error)
}

// Grader answers a model-graded prompt (llm-rubric).
type Grader interface {
	Grade(ctx context.Context, system, user string) (string, error)
}

// Embedder returns one vector per text (similar).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float64, error)
}

// Factory builds an assertion from a spec, validating it.
type Factory func(spec Spec) (Assertion, error)

var (
	mu           sync.RWMutex
	registry     = map[string]Factory{}
	descriptions = map[string]string{}
)

// Register adds a plugin. It panics on a duplicate name: that is a
// programming error found at init.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("assertions: duplicate " + name)
	}
	registry[name] = f
}

// Names lists the registered types, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// describe records the one-line help of a registered type.
func describe(name, text string) {
	mu.Lock()
	defer mu.Unlock()
	descriptions[name] = text
}

// Describe returns the one-line help of a type (for `validate
// --list-assertions` and docs), or "" when the type is unknown.
func Describe(name string) string {
	base, negate := strings.CutPrefix(name, "not-")
	mu.RLock()
	d, ok := descriptions[base]
	mu.RUnlock()
	if !ok {
		return ""
	}
	if negate {
		return "passes when " + base + " fails: " + d
	}
	return d
}

// New builds the assertion for spec, handling the not- prefix.
func New(spec Spec) (Assertion, error) {
	name, negate := strings.CutPrefix(spec.Type, "not-")
	mu.RLock()
	f, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown assertion type %q%s (known: %s)", spec.Type, Suggest(name, Names()), strings.Join(Names(), ", "))
	}
	if spec.Weight < 0 || math.IsNaN(spec.Weight) || math.IsInf(spec.Weight, 0) {
		return nil, fmt.Errorf("%s: weight %v must be a number >= 0", spec.Type, spec.Weight)
	}
	if t := spec.Threshold; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0)) {
		return nil, fmt.Errorf("%s: threshold must be a finite number", spec.Type)
	}
	a, err := f(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Type, err)
	}
	if c, ok := a.(Comparer); ok {
		if negate {
			c = notSet{c}
		}
		return finalSet{c}, nil
	}
	if negate {
		a = not{a}
	}
	return final{a}, nil
}

// Comparer is an assertion that scores the outputs of one test across a
// model matrix together (select-best). The caller runs every model first,
// then calls CheckAll once with one Input per model, in matrix order;
// result i is the verdict of output i. Its Check alone is an error.
type Comparer interface {
	Assertion
	CheckAll(ctx context.Context, ins []*Input) ([]Result, error)
}

// final renders the deferred diff of a failed verdict, once negation is
// applied.
type final struct{ inner Assertion }

func (f final) Check(ctx context.Context, in *Input) (Result, error) {
	r, err := f.inner.Check(ctx, in)
	return finish(r), err
}

func finish(r Result) Result {
	if !r.Pass && r.Diff == "" && r.diff.set {
		r.Diff = TextDiff(r.diff.want, r.diff.got)
	}
	r.diff = lazyText{}
	return r
}

type finalSet struct{ inner Comparer }

func (f finalSet) Check(ctx context.Context, in *Input) (Result, error) {
	return final{f.inner}.Check(ctx, in)
}

func (f finalSet) CheckAll(ctx context.Context, ins []*Input) ([]Result, error) {
	rs, err := f.inner.CheckAll(ctx, ins)
	for i := range rs {
		rs[i] = finish(rs[i])
	}
	return rs, err
}

type not struct{ inner Assertion }

// Check inverts the inner verdict. Inner reasons state a fact ("output
// contains \"As an AI\""), so a negated failure reads as that fact plus
// "but must not"; a negated pass keeps the inner fact as is.
func (n not) Check(ctx context.Context, in *Input) (Result, error) {
	r, err := n.inner.Check(ctx, in)
	if err != nil {
		return r, err
	}
	return invert(r), nil
}

func invert(r Result) Result {
	if r.Pass {
		r.Reason += " but must not"
	}
	r.Pass = !r.Pass
	r.Score = 1 - r.Score
	r.Diff, r.diff = "", lazyText{}
	return r
}

type notSet struct{ inner Comparer }

func (n notSet) Check(ctx context.Context, in *Input) (Result, error) {
	return not{n.inner}.Check(ctx, in)
}

func (n notSet) CheckAll(ctx context.Context, ins []*Input) ([]Result, error) {
	rs, err := n.inner.CheckAll(ctx, ins)
	if err != nil {
		return rs, err
	}
	for i := range rs {
		rs[i] = invert(rs[i])
	}
	return rs, nil
}

// paramsRead are the test parameters an assertion type reads besides the
// output: the RAG metrics take the question and the retrieved context as
// params, as promptfoo takes them as vars. exec reads them all.
var paramsRead = map[string][]string{
	"context-faithfulness": {"query", "context"},
	"context-recall":       {"query", "context"},
	"context-relevance":    {"query", "context"},
	"answer-relevance":     {"query"},
}

// ParamsRead reports which test parameters an assertion of type typ reads
// (not- prefix allowed); all is true when it gets every one (exec).
func ParamsRead(typ string) (names []string, all bool) {
	base := strings.TrimPrefix(typ, "not-")
	if base == "exec" {
		return nil, true
	}
	return paramsRead[base], false
}
