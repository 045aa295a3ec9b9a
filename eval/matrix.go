package eval

import (
	"context"
	"fmt"
	"sync"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime/llm"
)

// matrixPart is what one model's run of a matrix test keeps for the
// assertions that compare the models (select-best): its input and the
// indices of their placeholders in its assertion results.
type matrixPart struct {
	in      *assertions.Input
	req     *llm.Request
	pending []int
}

// matrixGroups holds the runs of matrix tests whose other models have not
// finished yet: one group per test and repeat sample.
type matrixGroups struct {
	mu     sync.Mutex
	groups map[[2]int][]*outcome // {first ordinal of the test, sample}
}

// gather returns the outcomes ready for the collector: o itself, unless it
// is one model of a matrix test that compares its models; those wait until
// every model of that test (and sample) is in, which then are scored
// together and returned in matrix order. The models finish in any order.
func (r *runner) gather(ctx context.Context, o outcome) []outcome {
	if !waitsForModels(&o) {
		return []outcome{o}
	}
	key := [2]int{o.ord - o.mi, o.sample}
	g := &r.matrix
	g.mu.Lock()
	if g.groups == nil {
		g.groups = map[[2]int][]*outcome{}
	}
	members := g.groups[key]
	if members == nil {
		members = make([]*outcome, o.mn)
		g.groups[key] = members
	}
	members[o.mi] = &o
	for _, m := range members {
		if m == nil {
			g.mu.Unlock()
			return nil
		}
	}
	delete(g.groups, key)
	g.mu.Unlock()

	r.compareModels(ctx, members)
	out := make([]outcome, len(members))
	for i, m := range members {
		out[i] = *m
		out[i].mx = nil
	}
	return out
}

// waitsForModels reports whether o is one model of a matrix test that
// compares its models, and so waits in gather for the others.
func waitsForModels(o *outcome) bool { return o.mn >= 2 && hasComparer(o.t) }

func hasComparer(t *Test) bool {
	if t == nil {
		return false
	}
	for _, a := range t.Asserts {
		if _, ok := a.Impl.(assertions.Comparer); ok {
			return true
		}
	}
	return false
}

// compareModels scores each Comparer assertion of a matrix test once over
// the models that answered (an input per model, in matrix order; result i
// is model i's), then decides their verdicts. A model whose run errored
// before its assertions takes no part; with fewer than two answers there
// is nothing to compare, which is an error for the ones that answered.
func (r *runner) compareModels(ctx context.Context, members []*outcome) {
	var parts []*outcome
	for _, m := range members {
		if m.mx != nil {
			parts = append(parts, m)
		}
	}
	if len(parts) == 0 {
		return
	}
	t := parts[0].t
	sel := r.sel.at(parts[0].ord)
	k := 0 // the k-th Comparer of the test is pending index k of each part
	for _, a := range t.Asserts {
		c, ok := a.Impl.(assertions.Comparer)
		if !ok {
			continue
		}
		var rs []assertions.Result
		var err error
		if len(parts) < 2 {
			err = fmt.Errorf("only %d of the %d matrix models answered; nothing to compare", len(parts), len(members))
		} else {
			ins := make([]*assertions.Input, len(parts))
			for i, p := range parts {
				in := *p.mx.in
				in.Grader = r.graderFor(sel.sr, graderModel(sel.sr, parts[0].mx.req, a))
				ins[i] = &in
			}
			rs, err = c.CheckAll(ctx, ins)
			if err == nil && len(rs) != len(parts) {
				err = fmt.Errorf("%d verdicts for %d outputs", len(rs), len(parts))
			}
		}
		for i, p := range parts {
			ar := &p.res.Assertions[p.mx.pending[k]]
			if err != nil {
				ar.Error, ar.Reason = true, text.OneLine(err.Error(), 0)
				continue
			}
			ar.Pass, ar.Score, ar.Reason, ar.Diff = rs[i].Pass, clamp01(rs[i].Score), rs[i].Reason, rs[i].Diff
		}
		k++
	}
	for _, p := range parts {
		decide(p.t, p.res)
		if p.res.Status == results.StatusError && ctx.Err() != nil {
			p.interrupted = true
			r.interrupted.Store(true)
		}
	}
}
