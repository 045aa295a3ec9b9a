package eval

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/reporters"
)

// Small runs stay in memory (reporters read them without decoding the file
// again); past the budget only the file is kept, in report order.
func TestSpoolHeldThenSpilled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		outputLen int
		inMemory  bool
	}{
		{"small run held in memory", 100, true},
		{"large run spilled to disk", 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 20
			sp, err := newSpool(filepath.Join(t.TempDir(), "s.jsonl"), n)
			if err != nil {
				t.Fatal(err)
			}
			for i := n - 1; i >= 0; i-- { // completion order is reversed
				tr := &reporters.TestResult{Name: string(rune('a' + i)), Output: strings.Repeat("x", tc.outputLen), Status: reporters.StatusPass}
				if err := sp.add(i, tr); err != nil {
					t.Fatal(err)
				}
			}
			res := &reporters.Results{}
			tests, ok := sp.inMemory()
			if ok != tc.inMemory {
				t.Fatalf("in memory = %v, want %v", ok, tc.inMemory)
			}
			if ok {
				res.Tests = tests
			} else {
				path, err := sp.finish()
				if err != nil {
					t.Fatal(err)
				}
				res.UseSpool(path)
			}
			var names []string
			if err := res.Each(func(tr *reporters.TestResult) error {
				names = append(names, tr.Name)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names, ""); got != "abcdefghijklmnopqrst" {
				t.Errorf("report order %q", got)
			}
		})
	}
}
