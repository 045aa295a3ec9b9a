package assertions

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// similar: cosine similarity of the embeddings of the expected text and
// the output.

const defaultSimilarity = 0.8

func init() {
	Register("similar", newSimilar)
	describe("similar", "embedding cosine similarity between output and value text is at least threshold (default 0.8)")
}

func newSimilar(spec Spec) (Assertion, error) {
	want, err := textValue(spec)
	if err != nil {
		return nil, err
	}
	if want == "" {
		return nil, errors.New("value is empty; give the expected text")
	}
	limit := defaultSimilarity
	if t := spec.Threshold; t != nil {
		if *t < 0 || *t > 1 {
			return nil, fmt.Errorf("threshold %g must be between 0 and 1", *t)
		}
		limit = *t
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		if in.Embedder == nil {
			return Result{}, errors.New("no embedding model configured; set grader: in the suite to a model with an /embeddings endpoint")
		}
		vecs, err := in.Embedder.Embed(ctx, []string{want, in.Output})
		if err != nil {
			return Result{}, fmt.Errorf("embed texts: %w", err)
		}
		if len(vecs) != 2 {
			return Result{}, fmt.Errorf("embedding endpoint returned %d vectors for 2 texts", len(vecs))
		}
		sim, err := cosine(vecs[0], vecs[1])
		if err != nil {
			return Result{}, err
		}
		score := min(max(sim, 0), 1)
		if sim >= limit {
			return Result{Pass: true, Score: score, Reason: fmt.Sprintf("output is similar to %s (cosine %.3f, threshold %g)", q(want), sim, limit)}, nil
		}
		return Result{Score: score, Reason: fmt.Sprintf("output is not similar enough to %s (cosine %.3f < %g); %s", q(want), sim, limit, found(in.Output))}, nil
	}), nil
}

func cosine(a, b []float64) (float64, error) {
	if len(a) == 0 || len(a) != len(b) {
		return 0, fmt.Errorf("embedding vectors have sizes %d and %d; they must match", len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0, errors.New("embedding endpoint returned a zero vector")
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb)), nil
}
