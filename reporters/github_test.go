package reporters

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

func TestGitHubWorstFirstAndCapped(t *testing.T) {
	r := &results.Results{Version: results.ResultsVersion}
	// 14 failures with scores 0.65, 0.60, ... in run order, plus 2 errors
	// late in the run and passes in between.
	for i := 0; i < 14; i++ {
		r.Tests = append(r.Tests,
			results.TestResult{Suite: "s.eval.yaml", Name: fmt.Sprintf("fail-%02d", i), Line: 10 + i, Status: results.StatusFail,
				Score: 0.65 - 0.05*float64(i%14), Reason: "low"},
			results.TestResult{Suite: "s.eval.yaml", Name: fmt.Sprintf("pass-%02d", i), Status: results.StatusPass, Score: 1})
	}
	r.Tests = append(r.Tests,
		results.TestResult{Suite: "s.eval.yaml", Name: "err-a", Line: 99, Status: results.StatusError, Reason: "timeout"},
		results.TestResult{Suite: "s.eval.yaml", Name: "err-b", Status: results.StatusError, Reason: "timeout"})
	out := string(render(t, "github", Options{}, r))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 10 errors + 1 notice:\n%s", len(lines), out)
	}
	title := regexp.MustCompile(`title=(\S+?) `)
	var got []string
	for _, l := range lines[:10] {
		if !strings.HasPrefix(l, "::error file=s.eval.yaml") {
			t.Fatalf("not an error annotation: %q", l)
		}
		got = append(got, title.FindStringSubmatch(l)[1])
	}
	want := []string{"err-a", "err-b", "fail-13", "fail-12", "fail-11", "fail-10", "fail-09", "fail-08", "fail-07", "fail-06"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("order = %v, want %v", got, want)
	}
	if !strings.HasPrefix(lines[0], "::error file=s.eval.yaml,line=99,title=") || strings.Contains(lines[1], "line=") {
		t.Errorf("line property wrong: %q / %q", lines[0], lines[1])
	}
	if !strings.HasPrefix(lines[10], "::notice::6 more failed or errored tests not annotated") {
		t.Errorf("notice = %q", lines[10])
	}
}

func TestGitHubNothingWhenAllPass(t *testing.T) {
	r := &results.Results{Version: results.ResultsVersion, Tests: []results.TestResult{{Suite: "s", Name: "a", Status: results.StatusPass}, {Suite: "s", Name: "b", Status: results.StatusSkip}}}
	if out := render(t, "github", Options{}, r); len(out) != 0 {
		t.Errorf("output for a passing run: %q", out)
	}
}

func TestGitHubEscaping(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"a:b,c", "a:b,c", "a%3Ab%2Cc"},
		{"%0A literal", "%250A literal", "%250A literal"},
		{"::error::", "::error::", "%3A%3Aerror%3A%3A"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
	// A file path and test name with the special characters end up escaped
	// in the line itself.
	r := &results.Results{Version: results.ResultsVersion, Tests: []results.TestResult{{Suite: "dir,x/a:b.eval.yaml", Name: "t, one: two",
		Line: 3, Status: results.StatusFail, Reason: "50% worse\nsee diff"}}}
	got := strings.TrimSpace(string(render(t, "github", Options{}, r)))
	want := "::error file=dir%2Cx/a%3Ab.eval.yaml,line=3,title=t%2C one%3A two failed::50%25 worse%0Asee diff"
	if got != want {
		t.Errorf("annotation\n got %q\nwant %q", got, want)
	}
}

// FuzzAnnotationText: whatever the model wrote, an annotation stays one
// line the runner reads as aieval's command only: no line break, no
// legacy ##[ command, and the message decodes back to the text.
func FuzzAnnotationText(f *testing.F) {
	for _, s := range []string{"plain", "a\nb\r\nc", "::warning::x", "##[error]x", "#%23#[", "100% \n::add-mask::k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, esc := range []string{escapeData(s), escapeProperty(s)} {
			if strings.ContainsAny(esc, "\r\n") || strings.Contains(esc, "##[") {
				t.Fatalf("%q escaped to %q", s, esc)
			}
		}
		back := strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(escapeData(s))
		if want := strings.ReplaceAll(s, "##[", legacyBreak); back != want && !strings.Contains(s, "#[") {
			t.Fatalf("%q decodes to %q", s, back)
		}
	})
}
