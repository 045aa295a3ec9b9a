package assertions

import (
	"context"
	"strings"
	"testing"
)

func thr(f float64) *float64 { return &f }

// checkCase is one row of the table tests: a spec, an input and what the
// verdict must look like.
type checkCase struct {
	name   string
	spec   Spec
	in     Input
	pass   bool
	score  float64 // checked unless anyScore
	any    bool    // skip the score check
	reason string  // substring of the reason
	diff   bool    // a diff is expected
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec.Weight == 0 {
				tc.spec.Weight = 1
			}
			a, err := New(tc.spec)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r, err := a.Check(context.Background(), &tc.in)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if r.Pass != tc.pass {
				t.Errorf("pass = %v, want %v (reason %q)", r.Pass, tc.pass, r.Reason)
			}
			if !tc.any && !near(r.Score, tc.score) {
				t.Errorf("score = %v, want %v", r.Score, tc.score)
			}
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("score %v outside 0..1", r.Score)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", r.Reason, tc.reason)
			}
			if (r.Diff != "") != tc.diff {
				t.Errorf("diff = %q, want present=%v", r.Diff, tc.diff)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// loadErr builds a spec expecting a load error containing want.
func loadErr(t *testing.T, spec Spec, want string) {
	t.Helper()
	if spec.Weight == 0 {
		spec.Weight = 1
	}
	_, err := New(spec)
	if err == nil {
		t.Fatalf("New(%+v): no error, want one containing %q", spec, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("New error = %q, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}
