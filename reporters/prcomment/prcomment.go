// Package prcomment renders the pull-request comment of a run: totals,
// the changes against a baseline (regressions first, with their output
// diff), failures, cost and a link to the run. It only renders; posting it
// is cmd/aieval's job.
//
// Every text that a model, a suite or a grader wrote is shown as code
// (a code span or a fenced block whose fence is longer than any backtick
// run in the text), never as live Markdown or HTML: a model output cannot
// mention people, add links or images, or close the comment's structure.
package prcomment

import (
	"fmt"
	"html"
	"net/url"
	"strings"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// MaxBytes bounds the rendered body: GitHub refuses a comment longer than
// 65,536 characters; bytes are at least as many, and some room is left.
const MaxBytes = 60000

// maxOutput caps an output shown in full (a failure without a baseline).
const maxOutput = 1500

// Comment is what one comment shows.
type Comment struct {
	// Workflow names the comment: one comment per workflow and pull request
	// is created, then updated on every run.
	Workflow string
	Results  *results.Results
	// Compare is the comparison with the baseline; nil without one.
	Compare *compare.Report
	// RunURL links the comment to the workflow run; "" for none.
	RunURL string
	// Version of aieval that rendered it.
	Version string
}

// Marker is the hidden HTML comment that identifies the comment of
// workflow among a pull request's comments. The name is query-escaped so
// no workflow name can end the HTML comment or look like another's.
func Marker(workflow string) string {
	return "<!-- aieval-comment workflow=" + url.QueryEscape(workflow) + " -->"
}

// Is reports whether body is the comment of workflow.
func Is(body, workflow string) bool {
	first, _, _ := strings.Cut(body, "\n")
	return strings.TrimSpace(first) == Marker(workflow)
}

var kindTitles = map[compare.Kind]string{
	compare.KindRegression: "Regressions",
	compare.KindScoreDrop:  "Score drops",
	compare.KindChanged:    "Status changes",
	compare.KindNoise:      "Within noise",
	compare.KindFixed:      "Fixed",
	compare.KindScoreRise:  "Score rises",
	compare.KindNew:        "New tests",
	compare.KindRemoved:    "Removed tests",
}

// detailed kinds get a block with reasons and the output diff; the others
// one line each.
var detailed = map[compare.Kind]bool{compare.KindRegression: true, compare.KindScoreDrop: true, compare.KindChanged: true}

// Render returns the comment's Markdown body, at most MaxBytes long; what
// does not fit is counted, not cut mid-block.
func Render(c Comment) (string, error) {
	if c.Results == nil {
		return "", fmt.Errorf("pr comment: no results")
	}
	r := c.Results
	s := r.Summary
	var head strings.Builder
	head.WriteString(Marker(c.Workflow) + "\n")
	fmt.Fprintf(&head, "### aieval · %s: %s\n\n", text.CodeSpan(c.Workflow, 100), headline(c))
	head.WriteString("| tests | passed | failed | errors | skipped | cached | cost | time |\n")
	head.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(&head, "| %d | %d | %d | %d | %d | %d | %s | %s |\n\n",
		s.Total, s.Passed, s.Failed, s.Errors, s.Skipped, s.Cached, money(s.Cost), duration(s.DurationMS))
	if cmp := c.Compare; cmp != nil {
		line := "Against the baseline"
		if sha := shortSHA(cmp.Base.GitSHA); sha != "" {
			line += " (" + text.CodeSpan(sha, 12) + ")"
		}
		line += ": " + cmp.Headline() + "."
		if b := cmp.Base.Summary.Cost; b != 0 || s.Cost != 0 {
			line += fmt.Sprintf(" Cost %s → %s.", money(b), money(s.Cost))
		}
		head.WriteString(line + "\n\n")
		for _, w := range cmp.Warnings {
			head.WriteString("> ⚠️ " + text.CodeSpan(w, 300) + "\n\n")
		}
	}
	if r.Interrupted {
		head.WriteString("> ⚠️ The run was interrupted: not every test ran.\n\n")
	}

	var foot strings.Builder
	foot.WriteString("---\n")
	var parts []string
	if u := runURL(c.RunURL); u != "" {
		parts = append(parts, "[Workflow run]("+u+")")
	}
	v := c.Version
	if v == "" {
		v = "dev"
	}
	parts = append(parts, "aieval "+text.CodeSpan(v, 40), "updated on every run")
	foot.WriteString("<sub>" + strings.Join(parts, " · ") + "</sub>\n")

	blocks, err := sections(c)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(head.String())
	const reserve = 200 // room for the "not shown" note
	omitted := 0
	for _, blk := range blocks {
		if b.Len()+len(blk.text)+foot.Len()+reserve > MaxBytes {
			omitted += blk.items
			continue
		}
		b.WriteString(blk.text)
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "_%d more not shown (GitHub caps a comment's size); the run's JSON and HTML reports have them all._\n\n", omitted)
	}
	b.WriteString(foot.String())
	return b.String(), nil
}

// block is one unit of the body that is shown whole or not at all.
type block struct {
	text  string
	items int // tests it shows
}

func sections(c Comment) ([]block, error) {
	var blocks []block
	inChanges := map[string]bool{}
	if cmp := c.Compare; cmp != nil {
		for _, kind := range compare.Kinds {
			var es []*compare.Entry
			for i := range cmp.Entries {
				if e := &cmp.Entries[i]; e.Kind == kind {
					es = append(es, e)
				}
			}
			if len(es) == 0 {
				continue
			}
			blocks = append(blocks, block{text: fmt.Sprintf("#### %s (%d)\n\n", kindTitles[kind], len(es))})
			for _, e := range es {
				inChanges[e.ID] = true
				if detailed[kind] {
					blocks = append(blocks, block{text: entryDetails(e), items: 1})
				} else {
					blocks = append(blocks, block{text: "- " + entryLine(e) + "\n", items: 1})
				}
			}
			blocks = append(blocks, block{text: "\n"})
		}
	}
	// Failures the comparison does not list (all of them without a
	// baseline; with one, those that failed on both sides).
	var failed []block
	err := c.Results.Each(func(t *results.TestResult) error {
		if (t.Status != results.StatusFail && t.Status != results.StatusError) || inChanges[t.ID()] {
			return nil
		}
		if c.Compare != nil {
			failed = append(failed, block{text: "- " + testLine(t) + "\n", items: 1})
		} else {
			failed = append(failed, block{text: testDetails(t), items: 1})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pr comment: %w", err)
	}
	if len(failed) > 0 {
		title := "Failed and errored tests"
		if c.Compare != nil {
			title = "Failing on the baseline too"
		}
		blocks = append(blocks, block{text: fmt.Sprintf("#### %s (%d)\n\n", title, len(failed))})
		blocks = append(blocks, failed...)
		blocks = append(blocks, block{text: "\n"})
	}
	return blocks, nil
}

func headline(c Comment) string {
	s := c.Results.Summary
	if c.Compare != nil {
		if n := c.Compare.Regressions(); n > 0 {
			return fmt.Sprintf("❌ %d %s", n, plural(n, "regression"))
		}
	}
	switch {
	case s.Errors > 0 && s.Failed > 0:
		return fmt.Sprintf("❌ %d failed, %d could not be evaluated", s.Failed, s.Errors)
	case s.Errors > 0:
		return fmt.Sprintf("❌ %d could not be evaluated", s.Errors)
	case s.Failed > 0:
		return fmt.Sprintf("❌ %d failed", s.Failed)
	case c.Results.Interrupted:
		return "⚠️ interrupted"
	case s.Total == 0:
		return "no tests"
	}
	return fmt.Sprintf("✅ all %d passed", s.Passed)
}

func entryLine(e *compare.Entry) string {
	return text.CodeSpan(e.Suite+" › "+e.Name, 200) + ": " + sideText(e.Base) + " → " + sideText(e.Head)
}

// entryDetails is a regression (or another status or score move) with its
// reasons and its output diff, open so a reviewer sees it without a click.
func entryDetails(e *compare.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details open><summary><code>%s</code>: %s → %s</summary>\n\n",
		html.EscapeString(text.OneLine(e.Suite+" › "+e.Name, 200)), sideText(e.Base), sideText(e.Head))
	var why []string
	if e.Note != "" {
		why = append(why, e.Note)
	}
	if e.Base != nil && e.Base.Reason != "" {
		why = append(why, "base: "+text.OneLine(e.Base.Reason, 500))
	}
	if e.Head != nil && e.Head.Reason != "" {
		why = append(why, "head: "+text.OneLine(e.Head.Reason, 500))
	}
	if len(why) > 0 {
		b.WriteString(text.CodeBlock("text", strings.Join(why, "\n")))
	}
	if e.Diff != "" {
		b.WriteString("Output diff (`[-removed-]` `{+added+}`):\n\n")
		b.WriteString(text.CodeBlock("diff", e.Diff))
	} else if e.Base != nil && e.Head != nil {
		b.WriteString("Same output; the assertions judged it differently.\n\n")
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

func testLine(t *results.TestResult) string {
	return text.CodeSpan(t.Suite+" › "+t.Name, 200) + ": " + string(t.Status)
}

// testDetails is one failed or errored test of a run without a baseline:
// why, and its output.
func testDetails(t *results.TestResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code>: %s</summary>\n\n",
		html.EscapeString(text.OneLine(t.Suite+" › "+t.Name, 200)), t.Status)
	var why []string
	if t.Reason != "" {
		why = append(why, text.OneLine(t.Reason, 500))
	}
	for _, a := range t.Assertions {
		if !a.Pass {
			why = append(why, fmt.Sprintf("%s (score %.2f): %s", text.OneLine(a.Type, 60), a.Score, text.OneLine(a.Reason, 500)))
		}
	}
	if len(why) > 0 {
		b.WriteString(text.CodeBlock("text", strings.Join(why, "\n")))
	}
	if t.Output != "" {
		b.WriteString("Output:\n\n")
		b.WriteString(text.CodeBlock("text", text.Cap(t.Output, maxOutput)))
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

func sideText(s *compare.Side) string {
	if s == nil {
		return "—"
	}
	if s.PassRate != nil && s.PassRate.Runs > 0 {
		return fmt.Sprintf("%s %d/%d", s.Status, s.PassRate.Passed, s.PassRate.Runs)
	}
	return fmt.Sprintf("%s %.2f", s.Status, s.Score)
}

func money(f float64) string {
	if f == 0 {
		return "$0"
	}
	if f < 0.01 {
		return fmt.Sprintf("$%.4f", f)
	}
	return fmt.Sprintf("$%.2f", f)
}

func duration(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

func shortSHA(s string) string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// runURL keeps only an http(s) URL, with the characters that would end a
// Markdown link destination escaped.
func runURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u.String())
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
