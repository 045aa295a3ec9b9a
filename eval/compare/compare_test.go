package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	pass  = results.StatusPass
	fail  = results.StatusFail
	errst = results.StatusError
	skip  = results.StatusSkip
)

func tr(name string, st results.Status, score float64, out string) results.TestResult {
	return results.TestResult{Suite: "trip.eval.yaml", Name: name, Status: st, Score: score, Output: out}
}

func mkResults(sha string, tests ...results.TestResult) *results.Results {
	r := &results.Results{Version: results.ResultsVersion, RunID: "run-" + sha, GitSHA: sha,
		StartedAt: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC), Tests: tests}
	for i := range tests {
		r.Summary.Add(&tests[i])
	}
	return r
}

func fixtures() (base, head *results.Results) {
	regressed := tr("lists attractions", fail, 0.5, "Visit the Statue of Liberty and the Met.")
	regressed.Reason = "expected output to contain one of [central park]"
	broken := tr("itinerary by price", fail, 0.2, "Day 1: Met, Day 2: MoMA")
	broken.Reason = "llm-rubric: activities are not ordered by price"
	base = mkResults("aaaaaaa",
		tr("lists attractions", pass, 1, "Visit Central Park and the Met."),
		broken,
		tr("tone | polite", pass, 0.95, "Sure! Here is your plan."),
		tr("unchanged", pass, 1, "same"),
		tr("tiny move", pass, 0.9, "x"),
		tr("old prompt", pass, 1, "bye"),
	)
	head = mkResults("bbbbbbb",
		regressed,
		tr("itinerary by price", pass, 1, "Day 1: Central Park (free), Day 2: Met"),
		tr("tone | polite", pass, 0.7, "Here is your plan."),
		tr("unchanged", pass, 1, "same"),
		tr("tiny move", pass, 0.86, "y"),
		tr("new <b>prompt</b>", pass, 1, "hello"),
	)
	return base, head
}

func TestCompareNamesEachChange(t *testing.T) {
	base, head := fixtures()
	r := Compare(base, head, Options{})
	want := []struct {
		name string
		kind Kind
	}{
		{"lists attractions", KindRegression},
		{"tone | polite", KindScoreDrop},
		{"itinerary by price", KindFixed},
		{"new <b>prompt</b>", KindNew},
		{"old prompt", KindRemoved},
	}
	if len(r.Entries) != len(want) {
		t.Fatalf("entries %+v", r.Entries)
	}
	for i, w := range want {
		e := r.Entries[i]
		if e.Name != w.name || e.Kind != w.kind || e.ID != "trip.eval.yaml::"+w.name {
			t.Errorf("entry %d = %s %s, want %s %s", i, e.Name, e.Kind, w.name, w.kind)
		}
	}
	if r.Regressions() != 1 || r.ExitCode() != results.ExitFailed || r.Unchanged != 2 {
		t.Errorf("regressions %d exit %d unchanged %d", r.Regressions(), r.ExitCode(), r.Unchanged)
	}
	reg := r.Entries[0]
	if reg.Base.Status != pass || reg.Head.Status != fail || reg.ScoreDelta != -0.5 ||
		reg.Head.Reason != "expected output to contain one of [central park]" {
		t.Errorf("regression entry %+v base %+v head %+v", reg, reg.Base, reg.Head)
	}
	if want := "Visit [-Central Park-]{+the Statue of Liberty+} and the Met."; reg.Diff != want {
		t.Errorf("diff %q, want %q", reg.Diff, want)
	}
	if r.Entries[3].Base != nil || r.Entries[4].Head != nil || r.Entries[3].Diff != "" {
		t.Error("new/removed entries carry the wrong side or a diff")
	}
	if r.Headline() != "1 regression, 1 score drop, 1 fixed, 1 new, 1 removed; 2 unchanged" {
		t.Errorf("headline %q", r.Headline())
	}
	if none := Compare(base, base, Options{}); none.Regressions() != 0 || len(none.Entries) != 0 || none.ExitCode() != 0 {
		t.Errorf("self compare: %+v", none.Entries)
	}
}

func TestStatusAndScoreRules(t *testing.T) {
	tests := []struct {
		name        string
		b, h        results.TestResult
		tol         float64
		want        Kind
		wantRegress bool
	}{
		{"pass to error", tr("t", pass, 1, ""), tr("t", errst, 0, ""), 0, KindRegression, true},
		{"error to pass: baseline unavailable", tr("t", errst, 0, ""), tr("t", pass, 1, ""), 0, KindBaseError, false},
		{"error to fail: baseline unavailable", tr("t", errst, 0, ""), tr("t", fail, 0, ""), 0, KindBaseError, false},
		{"error to error: baseline unavailable", tr("t", errst, 0, ""), tr("t", errst, 0, ""), 0, KindBaseError, false},
		{"fail to error", tr("t", fail, 0, ""), tr("t", errst, 0, ""), 0, KindChanged, false},
		{"skip to fail", tr("t", skip, 0, ""), tr("t", fail, 0, ""), 0, KindChanged, false},
		{"fail score drop", tr("t", fail, 0.6, ""), tr("t", fail, 0.3, ""), 0, KindScoreDrop, false},
		{"score rise", tr("t", pass, 0.7, ""), tr("t", pass, 0.9, ""), 0, KindScoreRise, false},
		{"exactly the tolerance", tr("t", pass, 1, ""), tr("t", pass, 0.95, ""), 0, "", false},
		{"custom tolerance", tr("t", pass, 1, ""), tr("t", pass, 0.8, ""), 0.25, "", false},
		{"no tolerance", tr("t", pass, 1, ""), tr("t", pass, 0.99, ""), -1, KindScoreDrop, false},
		{"output changed only", tr("t", pass, 1, "a"), tr("t", pass, 1, "b"), 0, "", false},
		{"skip both", tr("t", skip, 0, ""), tr("t", skip, 0.5, ""), 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(mkResults("a", tt.b), mkResults("b", tt.h), Options{ScoreTolerance: tt.tol})
			got := Kind("")
			if len(r.Entries) == 1 {
				got = r.Entries[0].Kind
			} else if len(r.Entries) > 1 {
				t.Fatalf("entries %+v", r.Entries)
			}
			if got != tt.want || (r.Regressions() > 0) != tt.wantRegress {
				t.Errorf("kind %q regressions %d, want %q", got, r.Regressions(), tt.want)
			}
		})
	}
}

func repeated(st results.Status, passed, runs int) results.TestResult {
	t := tr("flaky", st, float64(passed)/float64(runs), "")
	t.PassRate = &results.PassRate{Runs: runs, Passed: passed, Required: 0.8}
	return t
}

func TestPassRateUsesWilsonIntervals(t *testing.T) {
	tests := []struct {
		name    string
		b, h    results.TestResult
		want    Kind
		noteHas string
	}{
		{"9/10 vs 8/10, both pass, is noise", repeated(pass, 9, 10), repeated(pass, 8, 10), KindNoise, "within noise"},
		{"8/10 vs 7/10 is noise but fails the test", repeated(pass, 8, 10), repeated(fail, 7, 10), KindRegression, "status went pass → fail"},
		{"3/3 vs 0/3 fails the test", repeated(pass, 3, 3), repeated(fail, 0, 3), KindRegression, "status went pass → fail"},
		{"7/10 vs 8/10 fixes the test within noise", repeated(fail, 7, 10), repeated(pass, 8, 10), KindNoise, "within noise"},
		{"10/10 vs 2/10 regresses", repeated(pass, 10, 10), repeated(fail, 2, 10), KindRegression, "do not overlap"},
		{"both pass, 100/100 vs 60/100 regresses", repeated(pass, 100, 100), repeated(pass, 60, 100), KindRegression, "100/100"},
		{"2/10 vs 10/10 is fixed", repeated(fail, 2, 10), repeated(pass, 10, 10), KindFixed, "do not overlap"},
		{"same rate, same status", repeated(pass, 9, 10), repeated(pass, 9, 10), "", ""},
		{"repeated but head errored", repeated(pass, 10, 10), func() results.TestResult {
			x := repeated(errst, 0, 10)
			return x
		}(), KindRegression, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(mkResults("a", tt.b), mkResults("b", tt.h), Options{})
			if tt.want == "" {
				if len(r.Entries) != 0 {
					t.Fatalf("entries %+v", r.Entries)
				}
				return
			}
			if len(r.Entries) != 1 {
				t.Fatalf("entries %+v", r.Entries)
			}
			e := r.Entries[0]
			if e.Kind != tt.want || !strings.Contains(e.Note, tt.noteHas) {
				t.Errorf("kind %q note %q, want %q with %q", e.Kind, e.Note, tt.want, tt.noteHas)
			}
		})
	}
}

func TestMarkdownGolden(t *testing.T) {
	base, head := fixtures()
	base.Tests = append(base.Tests, repeated(pass, 8, 10))
	head.Tests = append(head.Tests, repeated(fail, 7, 10))
	code := tr("code", pass, 1, "use ```go fences``` here")
	code2 := tr("code", fail, 0, "use ````sh fences```` there")
	base.Tests = append(base.Tests, code)
	head.Tests = append(head.Tests, code2)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, Compare(base, head, Options{})); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "compare.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if buf.String() != string(want) {
		t.Errorf("markdown differs from %s (go test -update to accept):\n%s", golden, buf.String())
	}
	md := buf.String()
	for _, s := range []string{`tone \| polite`, "new &lt;b&gt;prompt&lt;/b&gt;", "````diff\n", "**regression**"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}

func TestMarkdownCap(t *testing.T) {
	var bt, ht []results.TestResult
	// Long names overflow the table's half; 3 KB outputs give capped diffs.
	for i := 0; i < 700; i++ {
		name := fmt.Sprintf("test %04d %s", i, strings.Repeat("n", 1000))
		bt = append(bt, tr(name, pass, 1, strings.Repeat("x", 3000)))
		ht = append(ht, tr(name, fail, 0, strings.Repeat("y", 3000)))
	}
	var buf bytes.Buffer
	r := Compare(mkResults("a", bt...), mkResults("b", ht...), Options{})
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > MarkdownLimit {
		t.Errorf("markdown is %d bytes, over the %d cap", buf.Len(), MarkdownLimit)
	}
	if !strings.Contains(buf.String(), "more changes not shown") || !strings.Contains(buf.String(), "Details of") {
		t.Error("no note about what was cut")
	}
	if strings.Count(buf.String(), "<details>") != strings.Count(buf.String(), "</details>") {
		t.Error("a details block was cut in half")
	}
}

func TestWriteText(t *testing.T) {
	base, head := fixtures()
	r := Compare(base, head, Options{})
	var plain, colored bytes.Buffer
	WriteText(&plain, r, false)
	WriteText(&colored, r, true)
	p := plain.String()
	for _, s := range []string{
		"aieval compare: 1 regression, 1 score drop, 1 fixed, 1 new, 1 removed; 2 unchanged",
		"REGRESSION  trip.eval.yaml::lists attractions  pass 1.00 → fail 0.50 (-0.50)",
		"head: expected output to contain one of [central park]",
		"    Visit [-Central Park-]{+the Statue of Liberty+} and the Met.",
		"SCORE DROP  trip.eval.yaml::tone | polite  pass 0.95 → pass 0.70 (-0.25)",
		"NEW  trip.eval.yaml::new <b>prompt</b>  — → pass 1.00",
		"REMOVED  trip.eval.yaml::old prompt  pass 1.00 → —",
	} {
		if !strings.Contains(p, s) {
			t.Errorf("text lacks %q:\n%s", s, p)
		}
	}
	if strings.Contains(p, "\x1b") {
		t.Error("escape codes without color")
	}
	if !strings.Contains(colored.String(), text.Red+"[-Central Park-]"+text.Reset) {
		t.Errorf("colored diff missing:\n%s", colored.String())
	}
}

func TestWriteJSON(t *testing.T) {
	base, head := fixtures()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Compare(base, head, Options{})); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Counts  map[string]int `json:"counts"`
		Entries []struct {
			Kind string `json:"kind"`
			Diff string `json:"diff"`
			Base *Side  `json:"base"`
		} `json:"entries"`
		Base RunInfo `json:"base"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Counts["regression"] != 1 || got.Entries[0].Kind != "regression" || got.Entries[0].Base.Status != pass ||
		!strings.Contains(got.Entries[0].Diff, "{+the Statue") || got.Base.GitSHA != "aaaaaaa" {
		t.Errorf("json %s", buf.String())
	}
}

func TestCompareSpooledResults(t *testing.T) {
	base, head := fixtures()
	spool := func(r *results.Results, name string) *results.Results {
		p := filepath.Join(t.TempDir(), name)
		var buf bytes.Buffer
		enc := results.NewSpoolEncoder(&buf)
		for i := range r.Tests {
			enc.Encode(&r.Tests[i])
		}
		enc.Encode(&r.Tests[0]) // a duplicate id is warned about, not double counted
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r.UseSpool(p)
		return r
	}
	r := Compare(spool(base, "b.jsonl"), spool(head, "h.jsonl"), Options{})
	if r.Regressions() != 1 || len(r.Entries) != 5 || !strings.Contains(r.Entries[0].Diff, "Statue") {
		t.Errorf("spooled compare: %+v", r.Entries)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "twice") {
		t.Errorf("warnings %q", r.Warnings)
	}
	missing := &results.Results{}
	missing.UseSpool(filepath.Join(t.TempDir(), "gone.jsonl"))
	if r := Compare(missing, head, Options{}); len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "base:") {
		t.Errorf("unreadable base: %q", r.Warnings)
	}
}

func TestEscapesInOutputAreNeutralised(t *testing.T) {
	r := Compare(mkResults("a", tr("t", pass, 1, "ok\x1b[2J")), mkResults("b", tr("t", fail, 0, "bad\x1b]0;pwned\x07")), Options{})
	var txt, md bytes.Buffer
	WriteText(&txt, r, true)
	WriteMarkdown(&md, r)
	for _, out := range []string{txt.String(), md.String(), r.Entries[0].Diff} {
		if strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\x1b]0") || strings.Contains(out, "\x07") {
			t.Errorf("raw escape reached output: %q", out)
		}
	}
}

// TestBaselineErrors: a base test that could not be evaluated is counted,
// said, and fails the gate with exit 3 whatever the head did.
func TestBaselineErrors(t *testing.T) {
	b := tr("t", errst, 0, "")
	b.Reason = "no cached output for model gpt-4o (offline)"
	r := Compare(mkResults("a", b, tr("u", pass, 1, "")), mkResults("b", tr("t", pass, 1, ""), tr("u", pass, 1, "")), Options{})
	if r.BaselineErrors != 1 || r.Regressions() != 0 || r.ExitCode() != results.ExitErrored {
		t.Fatalf("baseline errors %d, regressions %d, exit %d", r.BaselineErrors, r.Regressions(), r.ExitCode())
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 baseline unavailable", "BASELINE UNAVAILABLE", "base: no cached output"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil || !strings.Contains(buf.String(), `"baseline_errors": 1`) {
		t.Errorf("json lacks baseline_errors: %v\n%s", err, buf.String())
	}
}

func TestMetricChangesByBootstrapIntervals(t *testing.T) {
	run := func(ms map[string]results.MetricSummary) *results.Results {
		return &results.Results{Version: results.ResultsVersion, Summary: results.Summary{Metrics: ms}, Tests: []results.TestResult{}}
	}
	base := run(map[string]results.MetricSummary{
		"acc":  {Count: 50, Mean: 0.9, Low: 0.85, High: 0.95},
		"tone": {Count: 50, Mean: 0.8, Low: 0.7, High: 0.9},
		"old":  {Count: 50, Mean: 0.8},
		"same": {Count: 5, Mean: 0.5, Low: 0.4, High: 0.6},
		"gone": {Count: 5, Mean: 0.5, Low: 0.4, High: 0.6},
	})
	head := run(map[string]results.MetricSummary{
		"acc":  {Count: 50, Mean: 0.6, Low: 0.5, High: 0.7},
		"tone": {Count: 50, Mean: 0.75, Low: 0.65, High: 0.85},
		"old":  {Count: 50, Mean: 0.2, Low: 0.1, High: 0.3},
		"same": {Count: 5, Mean: 0.5, Low: 0.4, High: 0.6},
	})
	rep := Compare(base, head, Options{})
	if len(rep.Entries) != 0 || len(rep.Counts) != 0 {
		t.Errorf("metric changes among the test entries: %+v %v", rep.Entries, rep.Counts)
	}
	got := map[string]Kind{}
	for _, e := range rep.Metrics {
		got[e.ID] = e.Kind
	}
	want := map[string]Kind{"metric acc": KindRegression, "metric tone": KindNoise, "metric old": KindNoise}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for id, k := range want {
		if got[id] != k {
			t.Errorf("%s: %s, want %s", id, got[id], k)
		}
	}
	if rep.Regressions() != 1 || rep.ExitCode() != results.ExitFailed || rep.Headline() != "1 metric regression; 0 unchanged" {
		t.Errorf("regressions %d exit %d headline %q", rep.Regressions(), rep.ExitCode(), rep.Headline())
	}
	var text, md strings.Builder
	if err := WriteText(&text, rep, false); err != nil || !strings.Contains(text.String(), "REGRESSION  metric acc") ||
		!strings.Contains(text.String(), "95% bootstrap intervals do not overlap") {
		t.Errorf("text: %v\n%s", err, text.String())
	}
	if err := WriteMarkdown(&md, rep); err != nil || !strings.Contains(md.String(), "| metric acc | **regression** |") {
		t.Errorf("markdown: %v\n%s", err, md.String())
	}
}
