package assertions

import (
	"fmt"
	"math"
	"testing"
)

var reasonFloats = []float64{0, 1, 0.4, 0.5, 1.5, 2.5, -0.4, -1, 5000, 1e21, 1e-7, 123.456789, 1e300, math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)}

// TestLatencyReason: the strconv forms are fmt's %.0f and %g.
func TestLatencyReason(t *testing.T) {
	for _, x := range reasonFloats {
		if got, want := fmtF0(x), fmt.Sprintf("%.0f", x); got != want {
			t.Errorf("fmtF0(%v) = %q, fmt %q", x, got, want)
		}
		if got, want := fmtG(x), fmt.Sprintf("%g", x); got != want {
			t.Errorf("fmtG(%v) = %q, fmt %q", x, got, want)
		}
	}
}

func FuzzLatencyReason(f *testing.F) {
	for _, x := range reasonFloats {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if got, want := fmtF0(x), fmt.Sprintf("%.0f", x); got != want {
			t.Errorf("fmtF0(%v) = %q, fmt %q", x, got, want)
		}
		if got, want := fmtG(x), fmt.Sprintf("%g", x); got != want {
			t.Errorf("fmtG(%v) = %q, fmt %q", x, got, want)
		}
	})
}
