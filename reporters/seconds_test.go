package reporters

import "testing"

func TestSeconds(t *testing.T) {
	for in, want := range map[float64]string{0: "0.000", 1234.5678: "1.235", -5: "0.000", 1e9: "1000000.000"} {
		if got := seconds(in); got != want {
			t.Errorf("seconds(%v) = %q, want %q", in, got, want)
		}
	}
}
