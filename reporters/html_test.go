package reporters

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// baselineFixture is an earlier run of fixture(false): "answers as JSON"
// passed then (a regression now), "flaky rubric" failed too, "extract name"
// had another output, "stable rubric" did not exist (new) and "dropped
// since" is gone (removed).
func baselineFixture() *results.Results {
	r := fixture(false)
	r.RunID = "run-0000"
	var kept []results.TestResult
	for _, t := range r.Tests {
		switch t.Name {
		case "answers as JSON":
			t.Status, t.Score = results.StatusPass, 1
			t.Output = `{"answer": "Central Park", "count": 2}`
		case "extract name":
			t.Status, t.Output = results.StatusPass, "Ada Lovelace"
		case "stable rubric":
			continue
		}
		if t.Name == "needs vision" {
			kept = append(kept, t)
			t.Name = "dropped since"
		}
		kept = append(kept, t)
	}
	r.Tests = kept
	return r
}

func TestHTMLStructure(t *testing.T) {
	out := string(render(t, "html", Options{Baseline: baselineFixture()}, fixture(true)))

	for id, want := range map[string]string{"count-total": "10", "count-pass": "4", "count-fail": "4", "count-error": "1", "count-skip": "1"} {
		re := regexp.MustCompile(`id="` + id + `">(\d+)<`)
		if m := re.FindStringSubmatch(out); m == nil || m[1] != want {
			t.Errorf("#%s = %v, want %s", id, m, want)
		}
	}
	if !strings.Contains(out, `<input id="filter"`) {
		t.Error("no #filter input")
	}
	rows := regexp.MustCompile(`<tr class="test-row" data-status="(\w+)"`).FindAllStringSubmatch(out, -1)
	if len(rows) != 10 {
		t.Fatalf("%d test rows, want 10", len(rows))
	}
	for _, bad := range []string{"http://", "https://", "<link", "src="} {
		if strings.Contains(out, bad) {
			t.Errorf("page is not self-contained: contains %q", bad)
		}
	}

	// The data script holds one entry per row and never closes early.
	start := strings.Index(out, `<script type="application/json" id="aieval-data">`)
	end := strings.Index(out[start:], "</script>")
	if start < 0 || end < 0 {
		t.Fatal("no data script")
	}
	body := out[start+len(`<script type="application/json" id="aieval-data">`) : start+end]
	if strings.Contains(body, "</") || strings.Contains(body, "<!--") {
		t.Error(`data script contains "</" or "<!--"`)
	}
	var data []Detail
	if err := json.Unmarshal([]byte(body), &data); err != nil {
		t.Fatalf("data script is not JSON: %v", err)
	}
	if len(data) != 10 {
		t.Fatalf("%d data entries, want 10", len(data))
	}
	if len(data[9].Output) > DefaultMaxOutput {
		t.Errorf("1 MB output not capped: %d bytes", len(data[9].Output))
	}

	// Baseline: two regressions (a failure and an error), the diff of the
	// changed output, a new test.
	if got := strings.Count(out, `<td class="change regressed">`); got != 2 {
		t.Errorf("%d regressed rows, want 2", got)
	}
	if !strings.Contains(out, `<td class="change new">new</td>`) {
		t.Error("test missing from the baseline not marked new")
	}
	if !strings.Contains(out, "<section id=\"removed\"><h2>1 test in the baseline, not in this run</h2>\n<ul>\n<li>examples/extract.eval.yaml::dropped since</li>") {
		t.Error("test gone since the baseline not listed")
	}
	b := data[2].Base // answers as JSON
	if b == nil || b.Status != results.StatusPass || len(b.Diff) < 3 {
		t.Fatalf("baseline of answers as JSON = %+v", b)
	}
	var del, ins string
	for _, d := range b.Diff {
		switch d[0].(float64) {
		case -1:
			del += d[1].(string)
		case 1:
			ins += d[1].(string)
		}
	}
	if del != "2" || ins != "3" {
		t.Errorf("output diff deleted %q inserted %q, want 2 and 3", del, ins)
	}
}
