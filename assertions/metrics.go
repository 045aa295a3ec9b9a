package assertions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// latency, cost and tokens judge the call, not the text. A cached result
// carries its recorded latency and usage, so it is judged the same way.

func init() {
	Register("latency", newLatency)
	describe("latency", "model latency in milliseconds is at most threshold (required)")
	Register("cost", newCost)
	describe("cost", "cost of the call in USD is at most threshold (required; the model needs a price in prices:)")
	Register("tokens", newTokens)
	describe("tokens", "total tokens at most threshold, or value {prompt: N, completion: M, total: K} maxima")
}

func requireThreshold(spec Spec, what string) (float64, error) {
	if spec.Value != nil {
		return 0, fmt.Errorf("value is not used; put the %s limit in threshold", what)
	}
	if spec.Threshold == nil {
		return 0, fmt.Errorf("missing threshold: give the maximum %s", what)
	}
	if *spec.Threshold < 0 {
		return 0, fmt.Errorf("threshold %g must be >= 0", *spec.Threshold)
	}
	return *spec.Threshold, nil
}

func newLatency(spec Spec) (Assertion, error) {
	limit, err := requireThreshold(spec, "latency in ms")
	if err != nil {
		return nil, err
	}
	within, exceeds := " ms is within the "+fmtG(limit)+" ms limit", " ms exceeds the "+fmtG(limit)+" ms limit"
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		// strconv into one buffer, not fmt: this reason is built for nearly
		// every test (TestLatencyReason holds it to the fmt form).
		var buf [reasonBuf]byte
		r := appendF0(append(buf[:0], "latency "...), in.LatencyMS)
		if in.LatencyMS <= limit {
			return outcome(true, string(append(r, within...))), nil
		}
		return outcome(false, string(append(r, exceeds...))), nil
	}), nil
}

func newCost(spec Spec) (Assertion, error) {
	limit, err := requireThreshold(spec, "cost in USD")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		if !in.HasCost {
			return Result{}, errors.New("price unknown for model, add it to prices")
		}
		if in.Cost <= limit {
			return outcome(true, fmt.Sprintf("cost $%.6g is within the $%g limit", in.Cost, limit)), nil
		}
		return outcome(false, fmt.Sprintf("cost $%.6g exceeds the $%g limit", in.Cost, limit)), nil
	}), nil
}

// tokenLimits holds maxima; -1 means no limit.
type tokenLimits struct{ prompt, completion, total int }

func newTokens(spec Spec) (Assertion, error) {
	lim := tokenLimits{-1, -1, -1}
	if spec.Value == nil && spec.Threshold == nil {
		return nil, errors.New("missing limit: give threshold: N (max total tokens) or value: {prompt: N, completion: M, total: K}")
	}
	if spec.Value != nil {
		m, err := mapValue(spec.Value, "prompt", "completion", "total")
		if err != nil {
			return nil, err
		}
		for key, dst := range map[string]*int{"prompt": &lim.prompt, "completion": &lim.completion, "total": &lim.total} {
			if v, ok := m[key]; ok {
				if *dst, err = toCount(v, key); err != nil {
					return nil, err
				}
			}
		}
		if len(m) == 0 {
			return nil, errors.New("value sets no limit; give prompt, completion or total")
		}
	}
	if spec.Threshold != nil {
		if lim.total >= 0 {
			return nil, errors.New("both value total and threshold set the total maximum; keep one")
		}
		t, err := toCount(*spec.Threshold, "threshold")
		if err != nil {
			return nil, err
		}
		lim.total = t
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		t := in.Tokens
		if t.Total == 0 {
			t.Total = t.Prompt + t.Completion
		}
		if t.Total == 0 {
			return Result{}, errors.New("token usage not reported for this call; the endpoint returned no usage")
		}
		var over []string
		check := func(name string, got, max int) {
			if max >= 0 && got > max {
				over = append(over, fmt.Sprintf("%s %d > %d", name, got, max))
			}
		}
		check("prompt", t.Prompt, lim.prompt)
		check("completion", t.Completion, lim.completion)
		check("total", t.Total, lim.total)
		used := fmt.Sprintf("tokens used: prompt %d, completion %d, total %d", t.Prompt, t.Completion, t.Total)
		if len(over) > 0 {
			return outcome(false, "token limit exceeded: "+strings.Join(over, ", ")+" ("+used+")"), nil
		}
		return outcome(true, used+", within limits"), nil
	}), nil
}

// fmtF0 is fmt's %.0f of x, and fmtG its %g (so without fmt's
// reflection); NaN and infinities as fmt writes them.
func fmtF0(x float64) string { return fmtFloat(x, 'f', 0) }
func fmtG(x float64) string  { return fmtFloat(x, 'g', -1) }

// appendF0 appends fmtF0(x) to b.
func appendF0(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, fmtF0(x)...)
	}
	return strconv.AppendFloat(b, x, 'f', 0, 64)
}

func fmtFloat(x float64, verb byte, prec int) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(x, verb, prec, 64)
}
