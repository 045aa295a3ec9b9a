package assertions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
		within := ", within " + b.String()
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			n := count(in.Output)
			// "output has N units, ...", built in one buffer: a reason
			// every test of a suite with this check pays for.
			var buf [reasonBuf]byte
			r := strconv.AppendInt(append(buf[:0], "output has "...), int64(n), 10)
			r = append(append(append(r, ' '), unit...), 's')
			switch {
			case b.hasMin && n < b.min:
				r = strconv.AppendInt(append(r, ", fewer than the minimum "...), int64(b.min), 10)
				return outcome(false, string(appendFound(append(r, "; "...), in.Output))), nil
			case b.hasMax && n > b.max:
				r = strconv.AppendInt(append(r, ", more than the maximum "...), int64(b.max), 10)
				return outcome(false, string(appendFound(append(r, "; "...), in.Output))), nil
			}
			return outcome(true, string(append(r, within...))), nil
		}), nil
	}
}
