package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// Reasons of tests that never ran.
const (
	reasonInterrupted = "interrupted: not run"
	reasonBudget      = "budget of $%.4g reached: not run (raise --max-cost)"
)

// defaultEmbedModel embeds for `similar` when the assertion names no
// provider and the prompt ran on a real model.
const defaultEmbedModel = "text-embedding-3-small"

// runJob runs one repeat of one test: the prompt, then its assertions.
func (r *runner) runJob(ctx context.Context, j job) outcome {
	sel := r.sel.at(j.ord)
	s, t := sel.sr.s, j.t
	// Merged per run, not kept: 100k tests would hold 100k more maps.
	params := mergeParams(s.Params, t.Params)
	res := &results.TestResult{
		Suite: s.Path, Name: t.Name, Line: t.Line, Config: s.ConfigPath,
		ConfigName: sel.sr.info.ConfigName, Prompt: t.Prompt, Params: params,
		Threshold: t.Threshold, Shard: r.shard, Assertions: []results.AssertionResult{},
	}
	if j.model != "" {
		res.Name, res.Matrix = t.Name+results.MatrixSuffix(j.model), j.model
	}
	if t.File != "" { // a row of a cases file, not of the suite itself
		if f := sel.sr.helper(helperCasesFile, t.File).(string); f != "" {
			res.File, res.FileLine = f, t.FileLine
		}
	}
	out := outcome{ord: j.ord, sample: j.sample, runs: j.runs, t: t, res: res, mi: j.mi, mn: j.mn}
	switch {
	case j.broken != "":
		res.Status, res.Reason = results.StatusError, text.OneLine(j.broken, 0)
		return out
	case t.Skip != "":
		res.Status, res.Reason = results.StatusSkip, t.Skip
		return out
	case r.stopped(ctx):
		res.Status, res.Reason = results.StatusError, reasonInterrupted
		out.interrupted = true
		r.interrupted.Store(true)
		return out
	case r.overBudget():
		res.Status, res.Reason = results.StatusError, fmt.Sprintf(reasonBudget, r.opts.MaxCost)
		return out
	}

	if r.opts.Plan != nil {
		return r.plan(ctx, sel.sr, t, j, params, out)
	}
	start := time.Now()
	run, err := sel.sr.rt.Run(ctx, s.Config, t.Prompt, runtime.RunOptions{Params: params, Sample: j.sample, Model: j.model, Logprobs: wantsLogprobs(t)})
	wall := time.Since(start)
	if run != nil && run.Request != nil {
		res.Model, res.Provider = run.Request.Model, run.Request.Provider
		res.Input = llm.LastUserText(run.Request.Messages)
		res.Request = requestRecord(run.Request)
	}
	if err == nil && (run == nil || run.Response == nil) {
		err = errors.New("the runtime returned no response")
	}
	if err != nil {
		res.Status = results.StatusError
		res.Reason = text.OneLine(err.Error(), 0)
		if q := fmt.Sprintf("%q", t.Prompt); !strings.Contains(res.Reason, q) {
			res.Reason = "prompt " + q + ": " + res.Reason
		}
		if ctx.Err() != nil {
			res.Reason = "interrupted: " + res.Reason
			out.interrupted = true
			r.interrupted.Store(true)
		}
		res.LatencyMS = ms(wall)
		return out
	}
	resp := run.Response
	// What the model did is what is scored: its text, else its tool calls
	// as JSON (as `aieval prompt` prints them), else a refusal's text.
	res.Output = run.Output
	if res.Output == "" && resp.Refusal != "" {
		res.Output, res.Refusal = resp.Refusal, true
	}
	res.ToolCalls, res.FinishReason = resp.ToolCalls, resp.FinishReason
	res.Cached = resp.Cached
	res.LatencyMS = ms(resp.Latency)
	if resp.Latency <= 0 {
		res.LatencyMS = ms(wall)
	}
	res.Tokens = results.Tokens{Prompt: resp.Usage.PromptTokens, Completion: resp.Usage.CompletionTokens, Total: resp.Usage.TotalTokens}
	cost, hasCost := r.prices.cost(run.Request, resp)
	res.Cost = cost

	in := &assertions.Input{
		Output: res.Output, Refusal: res.Refusal, FinishReason: res.FinishReason, Prompt: res.Input, Params: params, Test: t.Name, Suite: s.Path,
		LatencyMS: res.LatencyMS, Cost: cost, HasCost: hasCost,
		Tokens:    res.Tokens,
		ToolCalls: resp.ToolCalls, Tools: declaredTools(run.Request), Logprobs: resp.Logprobs,
	}
	if pending := r.check(ctx, sel.sr, t, run.Request, in, res, j.mn > 1); len(pending) > 0 {
		out.mx = &matrixPart{in: in, req: run.Request, pending: pending}
	}
	if res.Status == results.StatusError && ctx.Err() != nil {
		out.interrupted = true
		r.interrupted.Store(true)
	}
	return out
}

// check runs the assertions and decides the verdict of one run. In a
// matrix (matrix true) a Comparer assertion (select-best) is left as a
// placeholder whose index is returned: it is scored across the models
// once all have run (see gatherMatrix), and the verdict with it.
func (r *runner) check(ctx context.Context, sr *suiteRun, t *Test, req *llm.Request, in *assertions.Input, res *results.TestResult, matrix bool) (pending []int) {
	embedModel := defaultEmbedModel
	if req.Provider == runtime.ParserEcho {
		embedModel = req.Model // echo embeds offline too
	}
	if !transformOutput(ctx, t, in, res) {
		return nil // the verdict is the transform's: it found nothing, or could not run
	}
	res.Assertions = slices.Grow(res.Assertions, len(t.Asserts))
	// The helpers of each model, looked up when the model changes: most
	// assertions share them.
	var lastGM, lastEM, lastMM string
	var suiteGM string // graderModel without a provider, once a test
	for i, a := range t.Asserts {
		// A per-assertion provider picks the grader or embedding model.
		em, gm := embedModel, a.Spec.Provider
		if a.Spec.Provider != "" {
			em = a.Spec.Provider
		} else {
			if suiteGM == "" {
				suiteGM = graderModel(sr, req, a)
			}
			gm = suiteGM
		}
		if i == 0 || gm != lastGM {
			lastGM, in.Grader = gm, r.graderFor(sr, gm)
		}
		if i == 0 || em != lastEM {
			lastEM, in.Embedder = em, sr.helper(helperEmbedder, em).(assertions.Embedder)
		}
		if i == 0 || a.Spec.Provider != lastMM {
			lastMM, in.Moderator = a.Spec.Provider, sr.helper(helperModerator, a.Spec.Provider).(assertions.Moderator)
		}
		ar := results.AssertionResult{Type: a.Spec.Type, Weight: a.Spec.Weight, Metric: a.Spec.Metric, Line: a.Spec.Line}
		if _, ok := a.Impl.(assertions.Comparer); ok && matrix {
			pending = append(pending, len(res.Assertions))
			res.Assertions = append(res.Assertions, ar)
			continue
		}
		v, err := a.Impl.Check(ctx, in)
		if err != nil {
			// The test is an error: no placeholder waits for the others.
			for i := len(pending) - 1; i >= 0; i-- {
				res.Assertions = slices.Delete(res.Assertions, pending[i], pending[i]+1)
			}
			ar.Error, ar.Reason = true, text.OneLine(err.Error(), 0)
			res.Assertions = append(res.Assertions, ar)
			decide(t, res)
			return nil
		}
		ar.Pass, ar.Score, ar.Reason, ar.Diff = v.Pass, clamp01(v.Score), v.Reason, v.Diff
		ar.Transformed = v.Transformed
		res.Assertions = append(res.Assertions, ar)
	}
	if len(pending) == 0 {
		decide(t, res)
	}
	return pending
}

// graderModel is the grader of assertion a: its provider, else the
// suite's grader, else the aiconfig's default model, else the model under
// test.
func graderModel(sr *suiteRun, req *llm.Request, a *Assert) string {
	switch {
	case a.Spec.Provider != "":
		return a.Spec.Provider
	case sr.s.Grader != "":
		return sr.s.Grader
	case sr.s.Config.Metadata().DefaultModel != "":
		return sr.s.Config.Metadata().DefaultModel
	}
	return req.Model
}

// decide sets the verdict of one run from its assertion results: an
// assertion that could not be evaluated makes it an error; else it
// passes when all pass, or, with a test threshold, when the weighted mean
// score reaches it.
func decide(t *Test, res *results.TestResult) {
	var sumW, sumWS, sumS float64
	allPass := true
	var firstFail *results.AssertionResult
	for i := range res.Assertions {
		ar := &res.Assertions[i]
		if ar.Error {
			res.Status = results.StatusError
			res.Reason = fmt.Sprintf("assertion %s (line %d) could not be evaluated: %s", ar.Type, ar.Line, ar.Reason)
			return
		}
		sumW += ar.Weight
		sumWS += ar.Weight * ar.Score
		sumS += ar.Score
		if !ar.Pass {
			allPass = false
			if firstFail == nil {
				firstFail = ar
			}
		}
	}
	switch n := len(res.Assertions); {
	case n == 0:
		res.Score = 1
	case sumW > 0:
		res.Score = sumWS / sumW
	default: // every weight 0: nothing to weigh by
		res.Score = sumS / float64(n)
	}
	pass := allPass
	if t.Threshold != nil {
		pass = res.Score >= *t.Threshold-1e-9
	}
	if pass {
		res.Status = results.StatusPass
		return
	}
	res.Status = results.StatusFail
	first := ""
	if firstFail != nil {
		first = firstFail.Type + ": " + text.OneLine(firstFail.Reason, 0)
	}
	if t.Threshold != nil {
		res.Reason = fmt.Sprintf("score %.2f is below the test threshold %.2f", res.Score, *t.Threshold)
		if first != "" {
			res.Reason += " (first failed: " + first + ")"
		}
		return
	}
	res.Reason = first
}

func clamp01(f float64) float64 {
	if f != f || f < 0 {
		return 0
	}
	return min(f, 1)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// grader answers llm-rubric through the runtime, so endpoint mapping,
// caching and retries apply to graders too.
type grader struct {
	rt    *runtime.Runtime
	model string
}

func (g grader) Grade(ctx context.Context, system, user string) (string, error) {
	msgs := make([]llm.Message, 0, 2)
	if strings.TrimSpace(system) != "" {
		msgs = append(msgs, llm.Message{Role: "system", Content: system})
	}
	msgs = append(msgs, llm.Message{Role: "user", Content: user})
	resp, err := g.rt.Complete(ctx, g.model, msgs, map[string]any{"temperature": 0})
	if err != nil {
		return "", fmt.Errorf("grader %s: %w", g.model, err)
	}
	return resp.Text, nil
}

// graderFor is the grader of model gm: one that asks for the verdict as a
// JSON-schema response format when the model is on an OpenAI-compatible
// endpoint, a plain one otherwise (the schema is then in the prompt).
func (r *runner) graderFor(sr *suiteRun, gm string) assertions.Grader {
	return sr.helper(helperGrader, gm).(assertions.Grader)
}

// newGrader is graderFor's grader, made once per model and run.
func (r *runner) newGrader(sr *suiteRun, gm string) assertions.Grader {
	g := grader{rt: sr.rt, model: gm}
	model := gm
	if to, ok := r.opts.ModelMap[model]; ok {
		model = to
	}
	if route := sr.rt.RouteOf(nil, model, nil); route.Supported && route.Parser == runtime.ParserOpenAI {
		return structuredGrader{g}
	}
	return g
}

// structuredGrader is a grader whose endpoint can hold its reply to a
// JSON schema (response_format json_schema, strict).
type structuredGrader struct{ grader }

func (g structuredGrader) GradeSchema(ctx context.Context, system, user string, s assertions.ReplySchema) (string, error) {
	msgs := make([]llm.Message, 0, 2)
	if strings.TrimSpace(system) != "" {
		msgs = append(msgs, llm.Message{Role: "system", Content: system})
	}
	msgs = append(msgs, llm.Message{Role: "user", Content: user})
	settings := map[string]any{"temperature": 0, "response_format": map[string]any{
		"type": "json_schema", "json_schema": map[string]any{"name": s.Name, "strict": true, "schema": s.Schema},
	}}
	resp, err := g.rt.Complete(ctx, g.model, msgs, settings)
	var le *llm.Error
	if errors.As(err, &le) && le.Kind == llm.KindClient {
		// A server without json_schema support answers 400: ask plainly,
		// with the schema stated in the prompt.
		return g.Grade(ctx, system, user)
	}
	if err != nil {
		return "", fmt.Errorf("grader %s: %w", g.model, err)
	}
	return resp.Text, nil
}

// declaredTools is the tools a request declares (settings tools, else the
// legacy functions), as JSON for the tool-call assertions; nil when none.
func declaredTools(req *llm.Request) json.RawMessage {
	if req == nil {
		return nil
	}
	for _, k := range []string{"tools", "functions"} {
		if v, ok := req.Settings[k]; ok && v != nil {
			if b, err := json.Marshal(v); err == nil {
				return b
			}
		}
	}
	return nil
}

type embedder struct {
	rt    *runtime.Runtime
	model string
}

func (e embedder) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	v, err := e.rt.Embed(ctx, e.model, texts)
	if err != nil {
		return nil, fmt.Errorf("embeddings %s: %w", e.model, err)
	}
	return v, nil
}

// moderator checks outputs for the moderation assertion through the
// runtime: model is the assertion's provider, "" for the default
// moderation model; the suite's models: mapping points it anywhere.
type moderator struct {
	rt    *runtime.Runtime
	model string
}

func (m moderator) Moderate(ctx context.Context, text string) (assertions.Moderation, error) {
	res, err := m.rt.Moderate(ctx, m.model, text)
	if err != nil {
		return assertions.Moderation{}, err
	}
	return assertions.Moderation{Flagged: res.Flagged, Categories: res.Categories, Scores: res.Scores}, nil
}

// wantsLogprobs reports whether a test scores perplexity, which needs the
// output tokens' logprobs asked for.
func wantsLogprobs(t *Test) bool {
	for _, a := range t.Asserts {
		switch strings.TrimPrefix(a.Spec.Type, "not-") {
		case "perplexity", "perplexity-score":
			return true
		}
	}
	return false
}

// The kinds of helper an assertion gets in its Input.
const (
	helperGrader = iota
	helperEmbedder
	helperModerator
	// helperCasesFile is a test's File as its result names it: cleaned
	// when it is a cases file, "" when it is the suite (once a file, not
	// once a row).
	helperCasesFile
)

type helperKey struct {
	kind  uint8
	model string
}

// helpers holds a suite's graders, embedders and moderators by model, each
// made once a run: boxing them into the Input's interfaces for every check
// was most of the runner's own allocations a test. The map is replaced,
// never changed, so a lookup takes no lock.
type helpers struct {
	mu sync.Mutex
	m  atomic.Pointer[map[helperKey]any]
}

// helper is sr's helper of kind for model (for helperCasesFile, the
// file), made on first use.
func (sr *suiteRun) helper(kind uint8, model string) any {
	k := helperKey{kind, model}
	if m := sr.helpers.m.Load(); m != nil {
		if h, ok := (*m)[k]; ok {
			return h
		}
	}
	sr.helpers.mu.Lock()
	defer sr.helpers.mu.Unlock()
	old := sr.helpers.m.Load()
	if old != nil {
		if h, ok := (*old)[k]; ok {
			return h
		}
	}
	var h any
	switch kind {
	case helperGrader:
		h = sr.r.newGrader(sr, model)
	case helperEmbedder:
		h = assertions.Embedder(embedder{rt: sr.rt, model: model})
	case helperModerator:
		h = assertions.Moderator(moderator{rt: sr.rt, model: model})
	default:
		h = ""
		if !IsSuiteFile(model) {
			h = filepath.Clean(model)
		}
	}
	m := make(map[helperKey]any, 4)
	if old != nil {
		maps.Copy(m, *old)
	}
	m[k] = h
	sr.helpers.m.Store(&m)
	return h
}
