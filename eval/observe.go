package eval

import (
	"context"
	"maps"
	"strconv"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/secrets"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// aieval's own callback events, beside the SDK's on_* events the runtime
// emits: a run of the suites, and each run of each test. Every event
// emitted while a test runs (its model calls, its grader's) carries the
// test's scope, "t<selection>.<sample>".
const (
	EventRunStart  = "run_start"
	EventRunDone   = "run_complete"
	EventTestStart = "test_start"
	EventTestDone  = "test_complete"
)

// observed is run with run_start and run_complete events.
func (r *runner) observed(ctx context.Context) (*results.Results, error) {
	cb := r.opts.Callbacks
	if !cb.Active() {
		return r.run(ctx)
	}
	paths := make([]string, len(r.suites))
	for i, sr := range r.suites {
		paths[i] = sr.s.Path
	}
	cb.Emit(ctx, runtime.Event{Name: EventRunStart, Data: map[string]any{"suites": paths, "tests": r.sel.len(), "concurrency": r.opts.Concurrency}})
	start := time.Now()
	res, err := r.run(ctx)
	data := map[string]any{"duration_ms": ms(time.Since(start))}
	if err != nil {
		data["error"] = err.Error()
	} else {
		s := res.Summary
		data["run_id"] = res.RunID
		data["interrupted"] = res.Interrupted
		data["total"], data["passed"], data["failed"], data["errors"], data["skipped"] = s.Total, s.Passed, s.Failed, s.Errors, s.Skipped
		data["cost"], data["cached"], data["tokens"] = s.Cost, s.Cached, s.Tokens
	}
	cb.Emit(context.WithoutCancel(ctx), runtime.Event{Name: EventRunDone, Data: data})
	return res, err
}

// runObserved is runJob between test_start and test_complete, its context
// scoped to the job so the model calls' events name their test.
func (r *runner) runObserved(ctx context.Context, j job) outcome {
	cb := r.opts.Callbacks
	if !cb.Active() {
		return r.runJob(ctx, j)
	}
	sel := r.sel.at(j.ord)
	s, t := sel.sr.s, j.t
	ctx = runtime.WithScope(ctx, "t"+strconv.Itoa(j.ord)+"."+strconv.Itoa(j.sample))
	cb.Emit(ctx, runtime.Event{Name: EventTestStart, File: s.Path, Data: map[string]any{
		"suite": s.Path, "test": t.Name, "line": t.Line, "prompt": t.Prompt, "sample": j.sample, "runs": j.runs,
	}})
	start := time.Now()
	o := r.runJob(ctx, j)
	tr := o.res
	data := map[string]any{
		"suite": s.Path, "test": t.Name, "prompt": t.Prompt, "sample": j.sample,
		"status": string(tr.Status), "score": tr.Score, "latency_ms": tr.LatencyMS, "duration_ms": ms(time.Since(start)),
		"cost": tr.Cost, "cached": tr.Cached, "tokens": tr.Tokens, "model": tr.Model, "provider": tr.Provider,
	}
	if tr.Reason != "" {
		data["reason"] = secrets.Scrub(tr.Reason) // the collector scrubs the result later
	}
	// The run may be cancelled (second signal): the test's end is still told.
	cb.Emit(context.WithoutCancel(ctx), runtime.Event{Name: EventTestDone, File: s.Path, Data: data})
	return o
}

// pricedCallbacks is what the runtime emits to: the run's callbacks, with
// the cost of each model call added to on_run_complete from the run's
// price table (the runtime knows no prices).
func (r *runner) pricedCallbacks() *runtime.CallbackManager {
	next := r.opts.Callbacks
	if !next.Active() {
		return next
	}
	return runtime.NewCallbackManager(func(ctx context.Context, ev runtime.Event) {
		if ev.Name == runtime.EventRunDone && ev.Data != nil {
			if u, ok := ev.Data["usage"].(llm.Usage); ok {
				str := func(k string) string { s, _ := ev.Data[k].(string); return s }
				req := &llm.Request{Provider: str("provider"), Model: str("model"), BaseURL: str("base_url")}
				if c, ok := r.prices.cost(req, &llm.Response{Model: str("response_model"), Usage: u}); ok {
					ev.Data = maps.Clone(ev.Data)
					ev.Data["cost"] = c
				}
			}
		}
		next.Emit(ctx, ev)
	})
}
