package assertions

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// levenshtein: edit distance between the output and the expected text,
// counted in characters on a go-diff character diff.

const defaultMaxDistance = 5

func init() {
	Register("levenshtein", newLevenshtein)
	describe("levenshtein", "output is within threshold (default 5) character edits of the value text")
}

func newLevenshtein(spec Spec) (Assertion, error) {
	want, err := textValue(spec)
	if err != nil {
		return nil, err
	}
	limit := float64(defaultMaxDistance)
	if spec.Threshold != nil {
		limit = *spec.Threshold
		if limit < 0 {
			return nil, errors.New("threshold is the maximum edit distance and must be >= 0")
		}
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		dmp := diffmatchpatch.New()
		dist := dmp.DiffLevenshtein(dmp.DiffMain(want, in.Output, false))
		longest := max(utf8.RuneCountInString(want), utf8.RuneCountInString(in.Output))
		score := 1.0
		if longest > 0 {
			score = 1 - float64(dist)/float64(longest)
		}
		if float64(dist) <= limit {
			return Result{Pass: true, Score: score, Reason: fmt.Sprintf("output is %d edits from %s (max %g)", dist, q(want), limit)}, nil
		}
		return Result{
			Score:  score,
			Reason: fmt.Sprintf("output is %d edits from %s (max %g); %s", dist, q(want), limit, found(in.Output)),
			diff:   lazyDiff(want, in.Output),
		}, nil
	}), nil
}
