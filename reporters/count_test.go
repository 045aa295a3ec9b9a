package reporters

import (
	"bytes"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// Totals recorded by Count while a run goes must render exactly as totals
// computed by a pass over the tests.
func TestCountedTotalsRenderTheSame(t *testing.T) {
	for _, name := range []string{"junit", "console", "markdown", "html"} {
		t.Run(name, func(t *testing.T) {
			plain := fixture(false)
			counted := fixture(false)
			counted.Summary = results.Summary{DurationMS: plain.Summary.DurationMS}
			for i := range counted.Tests {
				counted.Count(&counted.Tests[i])
			}
			counted.Summary.Finish() // as the runner does
			if _, ok := counted.Counted(); !ok {
				t.Fatal("the counted totals were not usable: reporters would fall back to a pass")
			}
			var a, b bytes.Buffer
			for _, c := range []struct {
				r *results.Results
				w *bytes.Buffer
			}{{plain, &a}, {counted, &b}} {
				rep, err := Get(name, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := rep.Report(c.w, c.r); err != nil {
					t.Fatal(err)
				}
			}
			if a.String() != b.String() {
				t.Errorf("%s differs when totals come from Count:\n%s\n---\n%s", name, a.String()[:min(a.Len(), 1500)], b.String()[:min(b.Len(), 1500)])
			}
		})
	}
}
