package assertions

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// perplexity and perplexity-score, from the output tokens' log
// probabilities (promptfoo's formulas): perplexity = exp(-mean logprob),
// passing when at most threshold; perplexity-score = 1/(1+exp(-mean
// logprob)), in 0..1, passing when at least threshold. They need an
// endpoint that returns logprobs (model settings `logprobs: true`); a
// response without them is an error for that test, not a failure.

func init() {
	Register("perplexity", newPerplexity(false))
	describe("perplexity", "perplexity exp(-mean token logprob) of the output is at most threshold (logprobs are asked for on OpenAI-compatible routes; needs an endpoint that returns them)")
	Register("perplexity-score", newPerplexity(true))
	describe("perplexity-score", "1/(1+exp(-mean token logprob)) is at least threshold (logprobs are asked for on OpenAI-compatible routes; needs an endpoint that returns them)")
}

func newPerplexity(normalized bool) Factory {
	return func(spec Spec) (Assertion, error) {
		if spec.Value != nil {
			return nil, errors.New("value is not used; put the limit in threshold")
		}
		t := spec.Threshold
		if t != nil && *t < 0 {
			return nil, fmt.Errorf("threshold %g must be >= 0", *t)
		}
		if normalized {
			if _, err := unitThreshold(spec, 0); err != nil {
				return nil, err
			}
		}
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			if len(in.Logprobs) == 0 {
				return Result{}, errors.New("the response carries no token logprobs; set logprobs: true in the prompt's model settings and use an endpoint that returns them")
			}
			var sum float64
			for _, lp := range in.Logprobs {
				sum += lp
			}
			avg := sum / float64(len(in.Logprobs))
			if normalized {
				s := 1 / (1 + math.Exp(-avg))
				if t == nil || s >= *t {
					return Result{Pass: true, Score: s, Reason: fmt.Sprintf("perplexity score %.4f%s", s, limitNote(t, "at least"))}, nil
				}
				return Result{Score: s, Reason: fmt.Sprintf("perplexity score %.4f is below the threshold %g", s, *t)}, nil
			}
			p := math.Exp(-avg)
			if t == nil || p <= *t {
				return outcome(true, fmt.Sprintf("perplexity %.4f%s", p, limitNote(t, "at most"))), nil
			}
			return outcome(false, fmt.Sprintf("perplexity %.4f exceeds the threshold %g", p, *t)), nil
		}), nil
	}
}

func limitNote(t *float64, rel string) string {
	if t == nil {
		return " (no threshold set)"
	}
	return fmt.Sprintf(", %s threshold %g", rel, *t)
}
