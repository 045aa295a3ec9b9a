package prcomment

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// hostile is model text that would be live Markdown or HTML: a fence that
// tries to close its block, an image, a link, a mention, a table, an HTML
// comment that ends the marker, and terminal escapes.
const hostile = "Sure!\n````\n</details><img src=x onerror=alert(1)> [click](https://evil.example) @octocat\n| a | b |\n-->\n\x1b[31mred\x1b[0m ``` done"

func mkResults(tests ...results.TestResult) *results.Results {
	r := &results.Results{Version: results.ResultsVersion}
	for i := range tests {
		if tests[i].Suite == "" {
			tests[i].Suite = "travel.eval.yaml"
		}
		r.Tests = append(r.Tests, tests[i])
		r.Summary.Add(&tests[i])
	}
	return r
}

func pass(name, out string) results.TestResult {
	return results.TestResult{Name: name, Output: out, Status: results.StatusPass, Score: 1, Cost: 0.002}
}

func fail(name, out, reason string) results.TestResult {
	return results.TestResult{Name: name, Output: out, Status: results.StatusFail, Reason: reason, Cost: 0.003,
		Assertions: []results.AssertionResult{{Type: "icontains", Reason: reason}}}
}

// render turns the body into HTML as GitHub's Markdown would (GFM, raw
// HTML kept, so that any live HTML shows).
func render(t *testing.T, body string) string {
	t.Helper()
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	var buf bytes.Buffer
	if err := md.Convert([]byte(body), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var codeRe = regexp.MustCompile(`(?s)<code[^>]*>.*?</code>`)

// outsideCode is the HTML with every code element removed.
func outsideCode(h string) string { return codeRe.ReplaceAllString(h, "") }

func TestRenderWithBaseline(t *testing.T) {
	base := mkResults(
		pass("lists attractions", "Central Park and the Met"),
		fail("orders by price", "expensive first", "not ordered"),
		pass("stable", "same"),
		pass("dropped", "x"),
	)
	base.Summary.Cost = 0.01
	head := mkResults(
		fail("lists attractions", hostile, "missing \"central park\" <b>bold</b> @octocat"),
		pass("orders by price", "cheap first"),
		pass("stable", "same"),
		pass("brand new", "hello"),
	)
	cmp := compare.Compare(base, head, compare.Options{})
	body, err := Render(Comment{Workflow: "aieval", Results: head, Compare: cmp,
		RunURL: "https://github.com/o/r/actions/runs/42", Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if !Is(body, "aieval") || Is(body, "other") {
		t.Errorf("marker: first line %q", strings.SplitN(body, "\n", 2)[0])
	}
	// Regressions first, with the output diff; then fixed, new, removed.
	order := []string{"❌ 1 regression", "| tests |", "Against the baseline: 1 regression, 1 fixed, 1 new, 1 removed; 1 unchanged.",
		"Cost $0.01 →", "#### Regressions (1)", "lists attractions", "```diff", "[-Central", "#### Fixed (1)", "orders by price",
		"#### New tests (1)", "brand new", "#### Removed tests (1)", "dropped", "[Workflow run](https://github.com/o/r/actions/runs/42)", "aieval `v1.2.3`"}
	at := 0
	for _, w := range order {
		i := strings.Index(body[at:], w)
		if i < 0 {
			t.Fatalf("%q missing or out of order after byte %d:\n%s", w, at, body)
		}
		at += i + len(w)
	}
	checkInert(t, body)
	if strings.Contains(body, "\x1b") {
		t.Error("an escape sequence reached the comment")
	}
}

func TestRenderWithoutBaseline(t *testing.T) {
	head := mkResults(pass("ok", "fine"), fail("bad", hostile, "rubric: "+hostile))
	body, err := Render(Comment{Workflow: "ci / eval", Results: head})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"❌ 1 failed", "| 2 | 1 | 1 | 0 | 0 | 0 | $0.0050 |", "#### Failed and errored tests (1)", "Output:", "</details>"} {
		if !strings.Contains(body, w) {
			t.Errorf("no %q in:\n%s", w, body)
		}
	}
	if strings.Contains(body, "Workflow run") {
		t.Error("a run link without a run URL")
	}
	checkInert(t, body)

	calm, _ := Render(Comment{Workflow: "w", Results: mkResults(pass("ok", "fine"))})
	if !strings.Contains(calm, "✅ all 1 passed") {
		t.Errorf("all-pass headline:\n%s", calm)
	}
}

// checkInert: model text is shown, but none of it is live.
func checkInert(t *testing.T, body string) {
	t.Helper()
	h := render(t, body)
	out := outsideCode(h)
	if n := strings.Count(out, "<table"); n != 1 {
		t.Errorf("%d tables, want only the totals", n)
	}
	for _, bad := range []string{"<img", "evil.example", "@octocat", "<b>", "onerror"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q is live outside code:\n%s", bad, out)
		}
	}
	if strings.Contains(body, "onerror") && !strings.Contains(h, "onerror") {
		t.Error("the model text is not shown at all")
	}
	// The structure survived: every details block closed, the footer is
	// still a footer (a fence the text closed early would swallow it).
	if o, c := strings.Count(h, "<details"), strings.Count(h, "</details>"); o != c || o == 0 {
		t.Errorf("%d <details> and %d </details>:\n%s", o, c, h)
	}
	if !strings.Contains(out, "<sub>") {
		t.Errorf("the footer was swallowed:\n%s", h)
	}
}

func TestMarker(t *testing.T) {
	tests := []struct{ workflow, want string }{
		{"aieval", "<!-- aieval-comment workflow=aieval -->"},
		{"ci / eval", "<!-- aieval-comment workflow=ci+%2F+eval -->"},
		{"x --> <b>", "<!-- aieval-comment workflow=x+--%3E+%3Cb%3E -->"},
	}
	for _, tt := range tests {
		if got := Marker(tt.workflow); got != tt.want {
			t.Errorf("Marker(%q) = %q, want %q", tt.workflow, got, tt.want)
		}
	}
	// A comment that quotes another workflow's marker later on is not it.
	if Is("hello\n"+Marker("aieval"), "aieval") {
		t.Error("a marker not on the first line counted")
	}
}

func TestInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "`plain`"},
		{"a `b` c", "``a `b` c``"},
		{"`start", "`` `start ``"},
		{"a\nb", "`a b`"},
	}
	for _, tt := range tests {
		if got := text.CodeSpan(tt.in, 100); got != tt.want {
			t.Errorf("text.CodeSpan(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRenderSizeCap: a run with many large regressions stays under
// GitHub's comment size and says how many it left out.
func TestRenderSizeCap(t *testing.T) {
	var base, head []results.TestResult
	big := strings.Repeat("word ", 400)
	for i := range 60 {
		name := fmt.Sprintf("t%03d", i)
		base = append(base, pass(name, big))
		head = append(head, fail(name, strings.ReplaceAll(big, "word", "other"), "changed"))
	}
	b, h := mkResults(base...), mkResults(head...)
	body, err := Render(Comment{Workflow: "w", Results: h, Compare: compare.Compare(b, h, compare.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxBytes {
		t.Errorf("body is %d bytes, over %d", len(body), MaxBytes)
	}
	if !strings.Contains(body, "more not shown") || !strings.Contains(body, "<sub>") {
		t.Errorf("no omission note or footer (len %d):\n%s", len(body), body[len(body)-600:])
	}
	checkInert(t, body)
}
