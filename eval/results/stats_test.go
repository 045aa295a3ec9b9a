package results

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		passed, n      int
		wantLo, wantHi float64
	}{
		{0, 0, 0, 1},
		{10, 10, 0.7225, 1},
		{0, 10, 0, 0.2775},
		{8, 10, 0.4902, 0.9433},
		{50, 100, 0.4038, 0.5962},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.passed, tt.n)
		if math.Abs(lo-tt.wantLo) > 1e-3 || math.Abs(hi-tt.wantHi) > 1e-3 {
			t.Errorf("Wilson(%d,%d) = %.4f..%.4f, want %.4f..%.4f", tt.passed, tt.n, lo, hi, tt.wantLo, tt.wantHi)
		}
	}
}
