package assertions

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

var reasonFloats = []float64{0, 1, 0.4, 0.5, 1.5, 2.5, -0.4, -1, 5000, 1e21, 1e-7, 123.456789, 1e300, math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)}

// TestLatencyReason: the strconv forms are fmt's %.0f and %g.
func TestLatencyReason(t *testing.T) {
	for _, x := range reasonFloats {
		if got, want := fmtF0(x), fmt.Sprintf("%.0f", x); got != want {
			t.Errorf("fmtF0(%v) = %q, fmt %q", x, got, want)
		}
		if got, want := fmtG(x), fmt.Sprintf("%g", x); got != want {
			t.Errorf("fmtG(%v) = %q, fmt %q", x, got, want)
		}
	}
}

func FuzzLatencyReason(f *testing.F) {
	for _, x := range reasonFloats {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if got, want := fmtF0(x), fmt.Sprintf("%.0f", x); got != want {
			t.Errorf("fmtF0(%v) = %q, fmt %q", x, got, want)
		}
		if got, want := fmtG(x), fmt.Sprintf("%g", x); got != want {
			t.Errorf("fmtG(%v) = %q, fmt %q", x, got, want)
		}
	})
}

// reasonTexts are outputs and values whose quoting differs: plain ASCII,
// quotes and backslashes, controls, non-ASCII, invalid UTF-8, long.
var reasonTexts = []string{"", "42", "Question case-000042: reply with the answer 42.", `say "hi"`, `a\b`, "tab\there", "new\nline",
	"\x7f", "~", " ", "café", "ÉCOLE", "İstanbul", "\xff\xfe", "a\xc3", "\u2028", strings.Repeat("x", 199), strings.Repeat("é", 201),
	strings.Repeat("y", 200) + "\xc3" + "z", strings.Repeat("ab", 300), "QUESTION", "Kelvin \u212a"}

// TestQuote: q and appendFound write what strconv.Quote of the excerpt and
// found's concatenation wrote before them.
func TestQuote(t *testing.T) {
	for _, s := range reasonTexts {
		checkQuote(t, s)
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range reasonTexts {
		f.Add(s)
	}
	f.Fuzz(checkQuote)
}

func checkQuote(t *testing.T, s string) {
	want := strconv.Quote(excerpt(s, excerptRunes))
	if got := q(s); got != want {
		t.Errorf("q(%q) = %s, strconv %s", s, got, want)
	}
	if got := string(appendQ([]byte("x "), s)); got != "x "+want {
		t.Errorf("appendQ(%q) = %s, strconv %s", s, got, want)
	}
	wantFound := "found " + want
	if strings.TrimSpace(s) == "" {
		wantFound = "output is empty"
	}
	if got := string(appendFound(nil, s)); got != wantFound {
		t.Errorf("appendFound(%q) = %s, want %s", s, got, wantFound)
	}
}

// TestNeedle: a folded needle finds what strings.Contains of both texts
// lowered finds.
func TestNeedle(t *testing.T) {
	for _, s := range reasonTexts {
		for _, sub := range reasonTexts {
			checkNeedle(t, s, sub)
		}
	}
}

func FuzzNeedle(f *testing.F) {
	for i, s := range reasonTexts {
		f.Add(s, reasonTexts[(i+3)%len(reasonTexts)])
		f.Add(s+"tail", s)
	}
	f.Fuzz(checkNeedle)
}

func checkNeedle(t *testing.T, s, sub string) {
	if got, want := newNeedle(sub, true).in(s), strings.Contains(strings.ToLower(s), strings.ToLower(sub)); got != want {
		t.Errorf("folded %q in %q = %v, strings %v", sub, s, got, want)
	}
	if got, want := newNeedle(sub, false).in(s), strings.Contains(s, sub); got != want {
		t.Errorf("%q in %q = %v, strings %v", sub, s, got, want)
	}
}

// TestReasonsAsFmt: the reasons built in buffers are those the fmt forms
// they replace wrote, byte for byte.
func TestReasonsAsFmt(t *testing.T) {
	qo := func(s string) string { return strconv.Quote(excerpt(s, excerptRunes)) }
	fo := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "output is empty"
		}
		return "found " + qo(s)
	}
	long := strings.Repeat("word ", 100)
	cases := []struct {
		spec Spec
		in   Input
		want string
	}{
		{Spec{Type: "contains", Value: "42"}, Input{Output: "the answer 42"}, "output contains " + qo("42")},
		{Spec{Type: "icontains", Value: "ANSWER"}, Input{Output: "the answer 42"}, "output contains " + qo("ANSWER") + " (ignoring case)"},
		{Spec{Type: "contains", Value: `"q"`}, Input{Output: "tab\there " + long}, fmt.Sprintf("output does not contain %s%s; %s", qo(`"q"`), "", fo("tab\there "+long))},
		{Spec{Type: "icontains", Value: "zz"}, Input{Output: "  "}, fmt.Sprintf("output does not contain %s%s; %s", qo("zz"), " (ignoring case)", fo("  "))},
		{Spec{Type: "regex", Value: `\d+`}, Input{Output: "a 123 b"}, "output matches /" + `\d+` + "/ at " + qo("123")},
		{Spec{Type: "regex", Value: `^x`}, Input{Output: "café"}, fmt.Sprintf("output does not match %s; %s", "/^x/", fo("café"))},
		{Spec{Type: "equals", Value: "a"}, Input{Output: "b"}, fmt.Sprintf("output does not equal %s; %s", qo("a"), fo("b"))},
		{Spec{Type: "equals", Value: "a"}, Input{Output: "a"}, "output equals " + qo("a")},
		{Spec{Type: "starts-with", Value: "Q"}, Input{Output: "Q1"}, fmt.Sprintf("output %ss with %s", "start", qo("Q"))},
		{Spec{Type: "length", Value: map[string]any{"min": 10, "max": 500}}, Input{Output: "twelve chars"}, fmt.Sprintf("%s, within %s", fmt.Sprintf("output has %d %ss", 12, "character"), "10..500")},
		{Spec{Type: "length", Value: map[string]any{"min": 20}}, Input{Output: "twelve chars"}, fmt.Sprintf("%s, fewer than the minimum %d; %s", "output has 12 characters", 20, fo("twelve chars"))},
		{Spec{Type: "word-count", Threshold: thr(1)}, Input{Output: "two words"}, fmt.Sprintf("%s, more than the maximum %d; %s", "output has 2 words", 1, fo("two words"))},
		{Spec{Type: "contains-any", Value: []any{"zz", "42", "the"}}, Input{Output: "the answer 42"}, "output contains " + qo("42")},
		{Spec{Type: "icontains-all", Value: []any{"THE", "42"}}, Input{Output: "the answer 42"}, "output contains all of " + quoteList([]string{"THE", "42"}) + " (ignoring case)"},
		{Spec{Type: "contains-all", Value: []any{"zz", "42", "yy"}}, Input{Output: "the answer 42"}, fmt.Sprintf("output is missing %s%s (%d of %d found); %s", quoteList([]string{"zz", "yy"}), "", 1, 3, fo("the answer 42"))},
		{Spec{Type: "equals", Value: map[string]any{"a": 1}}, Input{Output: `{"a": 1}`}, "output JSON equals " + short(map[string]any{"a": 1})},
		{Spec{Type: "latency", Threshold: thr(5000)}, Input{LatencyMS: 21.5}, fmt.Sprintf("latency %.0f ms is within the %g ms limit", 21.5, 5000.0)},
		{Spec{Type: "latency", Threshold: thr(0.5)}, Input{LatencyMS: 1e21}, fmt.Sprintf("latency %.0f ms exceeds the %g ms limit", 1e21, 0.5)},
	}
	for _, c := range cases {
		a, err := New(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		r, err := a.Check(t.Context(), &c.in)
		if err != nil || r.Reason != c.want {
			t.Errorf("%s on %q: reason %q (err %v), want %q", c.spec.Type, c.in.Output, r.Reason, err, c.want)
		}
	}
}
