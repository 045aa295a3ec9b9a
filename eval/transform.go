package eval

import (
	"context"
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// Transforms (`transform:` on a test, on defaults, on an assertion) rewrite
// the output before it is scored; assertions.Transform holds the kinds and
// their checks. A test's transform changes what every assertion of the
// test sees, an assertion's only what that one sees; reports keep the raw
// output and show the transformed one beside it.

// transform reads a `transform:` value, validating it at load.
func (l *loader) transform(n *yaml.Node, what string, s *Suite) *assertions.Transform {
	v, ok := l.value(n, 0, what+": transform")
	if !ok {
		return nil
	}
	t, err := assertions.NewTransform(v, s.Dir, nil)
	if err != nil {
		l.errf(l.deref(n).Line, "%s: %v", what, err)
		return nil
	}
	return t
}

// withTransform gives a its own transform when the assertion has one
// (n is its `transform:` node, nil when absent).
func (l *loader) withTransform(a *Assert, n *yaml.Node, what string, s *Suite) *Assert {
	if n == nil {
		return a
	}
	t := l.transform(n, what+": "+a.Spec.Type, s)
	if t == nil {
		return a
	}
	// A copy: build shares one *Assert between identical rows and specs.
	return &Assert{Spec: a.Spec, Impl: assertions.WithTransform(a.Impl, t), Transform: t}
}

// transformOutput applies the test's transform to in.Output before the
// assertions run, recording it in res. It returns false when the verdict
// is already decided: a mismatch fails the test (the output lacks what
// the test scores), a transform that cannot run is an error.
func transformOutput(ctx context.Context, t *Test, in *assertions.Input, res *results.TestResult) bool {
	if t.Transform == nil {
		return true
	}
	res.Transform = t.Transform.String()
	out, err := t.Transform.Apply(ctx, in)
	var mm *assertions.TransformMismatch
	switch {
	case errors.As(err, &mm):
		res.Assertions = append(res.Assertions, results.AssertionResult{Type: "transform", Reason: text.OneLine(mm.Reason, 0), Weight: 1})
		res.Status, res.Reason = results.StatusFail, "transform: "+text.OneLine(mm.Reason, 0)
		return false
	case err != nil:
		res.Status, res.Reason = results.StatusError, text.OneLine(err.Error(), 0)
		return false
	}
	in.Output = out
	res.Transformed = &out
	return true
}
