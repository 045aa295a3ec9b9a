package assertions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// word-count and length: the output's size within {min, max}; length
// counts characters (runes), word-count whitespace-separated words.

func init() {
	Register("word-count", newBounds("word", func(s string) int { return len(strings.Fields(s)) }))
	describe("word-count", "number of words within value {min: N, max: M} (or threshold: max)")
	Register("length", newBounds("character", utf8.RuneCountInString))
	describe("length", "number of characters within value {min: N, max: M} (or threshold: max)")
}

type bounds struct {
	min, max       int
	hasMin, hasMax bool
}

func (b bounds) String() string {
	switch {
	case b.hasMin && b.hasMax:
		return fmt.Sprintf("%d..%d", b.min, b.max)
	case b.hasMin:
		return fmt.Sprintf("at least %d", b.min)
	}
	return fmt.Sprintf("at most %d", b.max)
}

// parseBounds reads value {min, max} and threshold (a maximum).
func parseBounds(spec Spec) (bounds, error) {
	var b bounds
	if spec.Value == nil && spec.Threshold == nil {
		return b, errors.New("missing bounds: give value: {min: N, max: M} or threshold: N as the maximum")
	}
	if spec.Value != nil {
		if _, isNum := toFloat(spec.Value); isNum {
			return b, errors.New("value must be {min: N, max: M}; use threshold: N for a maximum alone")
		}
		m, err := mapValue(spec.Value, "min", "max")
		if err != nil {
			return b, err
		}
		if v, ok := m["min"]; ok {
			if b.min, err = toCount(v, "min"); err != nil {
				return b, err
			}
			b.hasMin = true
		}
		if v, ok := m["max"]; ok {
			if b.max, err = toCount(v, "max"); err != nil {
				return b, err
			}
			b.hasMax = true
		}
	}
	if spec.Threshold != nil {
		if b.hasMax {
			return b, errors.New("both value max and threshold set a maximum; keep one")
		}
		t, err := toCount(*spec.Threshold, "threshold")
		if err != nil {
			return b, err
		}
		b.max, b.hasMax = t, true
	}
	if !b.hasMin && !b.hasMax {
		return b, errors.New("value sets neither min nor max")
	}
	if b.hasMin && b.hasMax && b.min > b.max {
		return b, fmt.Errorf("min %d is greater than max %d", b.min, b.max)
	}
	return b, nil
}

func newBounds(unit string, count func(string) int) Factory {
	return func(spec Spec) (Assertion, error) {
		b, err := parseBounds(spec)
		if err != nil {
			return nil, err
		}
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			n := count(in.Output)
			have := fmt.Sprintf("output has %d %ss", n, unit)
			switch {
			case b.hasMin && n < b.min:
				return outcome(false, fmt.Sprintf("%s, fewer than the minimum %d; %s", have, b.min, found(in.Output))), nil
			case b.hasMax && n > b.max:
				return outcome(false, fmt.Sprintf("%s, more than the maximum %d; %s", have, b.max, found(in.Output))), nil
			}
			return outcome(true, fmt.Sprintf("%s, within %s", have, b)), nil
		}), nil
	}
}
