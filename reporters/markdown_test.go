package reporters

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// manyFailures is a run of n failed tests, each with a diff of diffBytes.
func manyFailures(n, diffBytes int) *results.Results {
	r := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{{Path: "big.eval.yaml"}}}
	diff := "-" + strings.Repeat("e", diffBytes/2) + "\n+" + strings.Repeat("a", diffBytes/2) + "\n"
	for i := 0; i < n; i++ {
		t := results.TestResult{Suite: "big.eval.yaml", Name: fmt.Sprintf("case %d", i), Line: i + 1, Status: results.StatusFail,
			Reason: "output does not equal", Assertions: []results.AssertionResult{{Type: "equals", Reason: "output does not equal", Diff: diff}}}
		r.Tests = append(r.Tests, t)
		r.Summary.Add(&t)
	}
	return r
}

func TestMarkdownCappedUnderOneMiB(t *testing.T) {
	cases := []struct {
		name      string
		r         *results.Results
		maxBytes  int
		wantShown int // -1: some, but not all
	}{
		{"fits", manyFailures(5, 100), 0, 5},
		{"2000 tests of 8 KB diffs", manyFailures(2000, 8000), 0, -1},
		{"small cap", manyFailures(50, 1000), 8000, -1},
		{"one huge diff is cut, not dropped", manyFailures(1, 4<<20), 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := &Markdown{MaxBytes: tc.maxBytes}
			if err := m.Report(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			limit := tc.maxBytes
			if limit == 0 {
				limit = 1 << 20
			}
			if buf.Len() >= limit {
				t.Fatalf("%d bytes, not under %d", buf.Len(), limit)
			}
			out := buf.String()
			shown := strings.Count(out, "<details>")
			if rows := strings.Count(out, "\n| FAIL | "); rows != shown {
				t.Errorf("%d table rows but %d details blocks", rows, shown)
			}
			total := len(tc.r.Tests)
			switch {
			case tc.wantShown >= 0 && shown != tc.wantShown:
				t.Errorf("%d shown, want %d", shown, tc.wantShown)
			case tc.wantShown < 0 && (shown == 0 || shown == total):
				t.Errorf("%d of %d shown, want some but not all", shown, total)
			}
			if shown < total && !strings.Contains(out, fmt.Sprintf("\n%d more not shown", total-shown)) {
				t.Errorf("no \"%d more not shown\" line", total-shown)
			}
		})
	}
}

func TestMarkdownCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a | b", `a \| b`},
		{"line one\nline two\r\n", "line one line two"},
		{"<script>x</script> & co", "&lt;script&gt;x&lt;/script&gt; &amp; co"},
		{`back\slash`, `back\\slash`},
		{"\x1b[31mred\x1b[0m", "red"},
		{strings.Repeat("x", 400), strings.Repeat("x", mdMaxCell-1) + "…"},
	}
	for _, tt := range tests {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
