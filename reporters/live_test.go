package reporters

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// counted is r as the runner makes it: every test counted into the
// summary and its suite's totals (Count), which a live view's totals are.
func counted(r *results.Results) *results.Results {
	c := *r
	c.Summary = results.Summary{}
	var tests []results.TestResult
	for i := range r.Tests {
		t := r.Tests[i]
		c.Count(&t)
		tests = append(tests, t)
	}
	c.Tests = tests
	c.Summary.Finish()
	c.Summary.DurationMS = r.Summary.DurationMS
	c.Summary.Regressed, c.Summary.BaselineErrors = r.Summary.Regressed, r.Summary.BaselineErrors
	return &c
}

// liveTo is where renderLive's reports go and what its run knows when its
// first test is in.
type liveTo struct {
	files   bool // files open for reading and writing, as aieval run's reports
	lateGit bool // the commit is not in the header until the end
}

// renderLive renders r with every reporter of reps on views of a Live
// record, fed r's tests in the order a concurrent run stores them (each
// window of conc finishing in reverse), some with their spool line and
// some without, then closed with r.
func renderLive(t *testing.T, r *results.Results, conc int, to liveTo, reps ...Reporter) [][]byte {
	t.Helper()
	out := make([]bytes.Buffer, len(reps))
	files := make([]*os.File, len(reps))
	var jobs []func(v *results.Results) error
	for i, rep := range reps {
		if to.files {
			f, err := os.Create(filepath.Join(t.TempDir(), "report"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			files[i] = f
		}
		jobs = append(jobs, func(v *results.Results) error {
			if !v.Live() || !v.Spooled() {
				return fmt.Errorf("a live view says live %v, spooled %v", v.Live(), v.Spooled())
			}
			if files[i] != nil {
				return rep.Report(files[i], v)
			}
			return rep.Report(&out[i], v)
		})
	}
	l := results.NewLive(jobs...)
	begin := *r
	begin.Interrupted = false
	if to.lateGit {
		begin.GitSHA, begin.GitRef = "", ""
	}
	l.Begin(&begin)
	n := len(r.Tests)
	for w := 0; w < n; w += conc {
		for ord := min(w+conc, n) - 1; ord >= w; ord-- {
			var line []byte
			if ord%3 == 0 {
				var buf bytes.Buffer
				if err := results.NewSpoolEncoder(&buf).Encode(&r.Tests[ord]); err != nil {
					t.Fatal(err)
				}
				line = buf.Bytes()
			}
			l.Add(ord, &r.Tests[ord], line)
		}
	}
	l.EndTests()
	got := make([][]byte, len(reps))
	for i, err := range l.Close(r) {
		if err != nil {
			t.Fatalf("reporter %d: %v", i, err)
		}
		got[i] = out[i].Bytes()
		if files[i] != nil {
			b, err := os.ReadFile(files[i].Name())
			if err != nil {
				t.Fatal(err)
			}
			got[i] = b
		}
	}
	return got
}

// liveRun is a run of n tests over three suites (the middle one empty), a
// failure in every seventh with a diff of diff bytes: large enough, at
// n in the thousands, that every spill moves to a temporary file.
func liveRun(n, diff int) *results.Results {
	r := &results.Results{Version: results.ResultsVersion, RunID: "live-1", StartedAt: fixedStart(), GitSHA: "abc", GitRef: "main",
		Suites: []results.SuiteInfo{{Path: "a.eval.yaml", Description: "A"}, {Path: "empty.eval.yaml"}, {Path: "b.eval.yaml", ConfigName: "b"}}}
	d := "-" + strings.Repeat("e", diff/2) + "\n+" + strings.Repeat("a", diff/2) + "\n"
	for i := range n {
		suite := "a.eval.yaml"
		if i >= n/2 {
			suite = "b.eval.yaml"
		}
		t := results.TestResult{Suite: suite, Name: fmt.Sprintf("case %d", i%(n/4+1)), Line: i + 1, Prompt: "p", Output: "out <&> " + fmt.Sprint(i),
			LatencyMS: float64(i), Status: results.StatusPass, Score: 1,
			Assertions: []results.AssertionResult{{Type: "contains", Pass: true, Score: 1, Reason: "ok", Metric: "m"}}}
		switch {
		case i%7 == 0:
			t.Status, t.Score, t.Reason = results.StatusFail, 0, "output does not equal"
			t.Assertions = append(t.Assertions, results.AssertionResult{Type: "equals", Reason: "output does not equal", Diff: d})
		case i%11 == 0:
			t.Status, t.Reason = results.StatusSkip, "skipped by filter"
		case i%13 == 0:
			t.FinishReason = "length"
		}
		r.Tests = append(r.Tests, t)
	}
	r.Summary.DurationMS = 1234
	return counted(r)
}

// A live run's reports, rendered while its tests come in, are byte for
// byte those of the finished run: every golden case, the console's modes,
// Markdown under a cap that cuts the failures list, and runs large enough
// to spill to temporary files.
func TestLiveRunRendersTheSame(t *testing.T) {
	var reps []rc
	for _, tc := range goldenCases {
		reps = append(reps, rc{tc.golden, func() Reporter { r, _ := Get(tc.reporter, tc.opts); return r }})
	}
	for _, o := range []Options{{Quiet: true}, {Quiet: true, Verbose: true}, {Verbose: true}} {
		reps = append(reps, rc{fmt.Sprintf("console %+v", o), func() Reporter { r, _ := Get("console", o); return r }})
	}
	for _, max := range []int{2000, 8000, 64 << 10} {
		reps = append(reps, rc{fmt.Sprint("markdown cap ", max), func() Reporter { return &Markdown{MaxBytes: max} }})
	}
	interrupted := counted(fixture(false))
	interrupted.Interrupted = true
	interrupted.Gate = &results.PassRateGate{Min: 0.5}
	runs := []struct {
		name string
		r    *results.Results
		conc int
	}{
		{"fixture", counted(fixture(false)), 1},
		{"fixture big", counted(fixture(true)), 3},
		{"interrupted, gated", interrupted, 50},
		{"no tests", counted(&results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{{Path: "x.eval.yaml"}}}), 1},
		{"3000 tests", liveRun(3000, 2000), 50},
	}
	for _, run := range runs {
		for _, to := range []liveTo{{}, {files: true}, {files: true, lateGit: true}} {
			t.Run(fmt.Sprintf("%s %+v", run.name, to), func(t *testing.T) {
				var live []Reporter
				for _, rc := range reps {
					live = append(live, rc.rep())
				}
				got := renderLive(t, run.r, run.conc, to, live...)
				checkSame(t, got, reps, run.r)
			})
		}
	}
}

// rc is a reporter of TestLiveRunRendersTheSame, made anew for each run.
type rc struct {
	name string
	rep  func() Reporter
}

// checkSame fails unless got holds what each of reps renders of the
// finished run r.
func checkSame(t *testing.T, got [][]byte, reps []rc, r *results.Results) {
	t.Helper()
	for i, rc := range reps {
		var want bytes.Buffer
		if err := rc.rep().Report(&want, r); err != nil {
			t.Fatalf("%s: %v", rc.name, err)
		}
		if !bytes.Equal(got[i], want.Bytes()) {
			t.Errorf("%s: live output differs from the finished run's (%d vs %d bytes)%s", rc.name, len(got[i]), want.Len(), firstDiff(got[i], want.Bytes()))
		}
	}
}

// firstDiff shows where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf(" at byte %d:\n got: %q\nwant: %q", i, a[from:min(len(a), i+60)], b[from:min(len(b), i+60)])
}
