package eval

import (
	"context"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
)

// PlanFunc receives the requests one test would send (a dry run: see
// Options.Plan), dependencies first. It is called from the workers, one
// call at a time.
type PlanFunc func(suite, test string, planned []runtime.Planned, err error)

// plan resolves the requests of one job instead of sending them, and
// reports the test as skipped: a dry run evaluates nothing.
func (r *runner) plan(ctx context.Context, sr *suiteRun, t *Test, j job, params map[string]any, out outcome) outcome {
	opts := runtime.PlanOptions{RunOptions: runtime.RunOptions{Params: params, Sample: j.sample, Model: j.model, Logprobs: wantsLogprobs(t)}}
	if r.cache != nil {
		opts.Recorded = r.cache.Recorded
	}
	planned, err := sr.rt.Requests(ctx, sr.s.Config, t.Prompt, opts)
	r.planMu.Lock()
	r.opts.Plan(sr.s.Path, out.res.Name, planned, err)
	r.planMu.Unlock()
	out.res.Status, out.res.Reason = results.StatusSkip, "dry run"
	return out
}
