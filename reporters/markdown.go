package reporters

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func init() { register("markdown", func(o Options) Reporter { return &Markdown{opts: o} }) }

// Markdown writes the GitHub step summary. GitHub drops a step summary
// above 1 MiB, so the report stops adding failed tests before that and
// says how many it left out.
type Markdown struct {
	opts Options
	// MaxBytes caps the whole report; 0 = MarkdownMaxBytes.
	MaxBytes int
}

// MarkdownMaxBytes keeps the summary safely under GitHub's 1 MiB limit.
const MarkdownMaxBytes = 1<<20 - 32<<10

const (
	mdMaxCell    = 300      // runes per table cell
	mdMaxDetails = 16 << 10 // bytes per test's <details> block
)

// Report writes the Markdown summary.
func (m *Markdown) Report(w io.Writer, r *results.Results) error {
	budget := m.MaxBytes
	if budget <= 0 {
		budget = MarkdownMaxBytes
	}
	// The header holds the run's totals, which a live run knows only at
	// its end; the failed tests it has room for depend on the header's
	// size. So the tests come first: those that could fit under any
	// header are kept with where each ends, and the header then decides
	// how many of them are shown (the same ones as if it came first).
	var suites []*results.SuiteTotal
	var total *results.SuiteTotal
	var names func(string) string
	if !r.Live() {
		var err error
		if suites, total, err = results.Suites(r); err != nil {
			return fmt.Errorf("markdown report: %w", err)
		}
		names = suiteNames(suites)
	}
	const reserve = 256 // for the "not shown" line and headings
	var rows, details, notes strings.Builder
	var ends [][2]int // per test kept: where its row and its details end
	bad, full := 0, false
	err := r.Each(func(t *results.TestResult) error {
		if names == nil {
			names = liveSuiteNames(r)
		}
		if t.Status != results.StatusFail && t.Status != results.StatusError {
			if n := responseNote(t); n != "" && notes.Len() < budget/8 {
				fmt.Fprintf(&notes, "| %s | %s | %s | %s |\n", t.Status, cell(t.Name), cell(location(t)), cell(n))
			}
			return nil
		}
		bad++
		if full {
			return nil
		}
		row, det := mdRow(t), mdDetails(t, names(t.Suite))
		if rows.Len()+details.Len()+len(row)+len(det)+reserve > budget {
			full = true // no later test fits either: each one shown needs the ones before it
			return nil
		}
		rows.WriteString(row)
		details.WriteString(det)
		ends = append(ends, [2]int{rows.Len(), details.Len()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("markdown report: %w", err)
	}
	if suites == nil {
		if suites, total, err = results.Suites(r); err != nil {
			return fmt.Errorf("markdown report: %w", err)
		}
	}
	head := mdHead(r, suites, total)
	shown := 0
	for shown < len(ends) && len(head)+ends[shown][0]+ends[shown][1]+reserve <= budget {
		shown++
	}
	omitted := bad - shown
	var b strings.Builder
	b.WriteString(head)
	if bad > 0 {
		rowEnd, detEnd := 0, 0
		if shown > 0 {
			rowEnd, detEnd = ends[shown-1][0], ends[shown-1][1]
		}
		b.WriteString("\n### Failed and errored tests\n\n| Status | Test | Location | Reason |\n| --- | --- | --- | --- |\n")
		b.WriteString(rows.String()[:rowEnd])
		if omitted > 0 {
			fmt.Fprintf(&b, "\n%d more not shown (the summary is capped under 1 MiB); see the JUnit or JSON report.\n", omitted)
		}
		b.WriteString("\n")
		b.WriteString(details.String()[:detEnd])
	}
	if notes.Len() > 0 {
		b.WriteString("\n### What the model did\n\n| Status | Test | Location | Note |\n| --- | --- | --- | --- |\n")
		b.WriteString(notes.String())
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("markdown report: %w", err)
	}
	return nil
}

// mdHead is the summary's header: the verdict, the totals and the tables
// of suites, metrics and models.
func mdHead(r *results.Results, suites []*results.SuiteTotal, total *results.SuiteTotal) string {
	var head strings.Builder
	status := r.Verdict()
	fmt.Fprintf(&head, "## aieval: %s\n\n", status)
	fmt.Fprintf(&head, "**%s**: %d passed, %d failed, %s, %d skipped", plural(total.Total, "test"),
		total.Passed, total.Failed, plural(total.Errors, "error"), total.Skipped)
	if r.Summary.Regressed > 0 {
		fmt.Fprintf(&head, ", %d regressed", r.Summary.Regressed)
	}
	if r.Summary.BaselineErrors > 0 {
		fmt.Fprintf(&head, ", %d baseline unavailable", r.Summary.BaselineErrors)
	}
	fmt.Fprintf(&head, " in %s; %s, %d tokens", timeLine(r, total), costLine(total.Summary), total.Tokens.Total)
	if r.Summary.Cached > 0 {
		fmt.Fprintf(&head, ", %d cached", r.Summary.Cached)
	}
	head.WriteString("\n")
	if r.Interrupted {
		head.WriteString("\nThe run was interrupted: not every test ran.\n")
	}
	head.WriteString("\n| Suite | Tests | Pass | Fail | Error | Skip | Latency | Cost |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range append(suites, total) {
		name := cell(s.Info.Name())
		if s == total {
			name = "**Total**"
		}
		fmt.Fprintf(&head, "| %s | %d | %d | %d | %d | %d | %s | $%.4f |\n",
			name, s.Total, s.Passed, s.Failed, s.Errors, s.Skipped, duration(s.LatencyMS), s.Cost)
	}
	head.WriteString(metricsTable(r.Summary.Metrics))
	head.WriteString(modelsMarkdown(r.Summary.Models))
	for _, n := range r.GateNotes() {
		head.WriteString("\n" + cell(n) + "\n")
	}
	return head.String()
}

func mdRow(t *results.TestResult) string {
	word := "FAIL"
	if t.Status == results.StatusError {
		word = "ERROR"
	}
	reason := reasonOf(t)
	if n := responseNote(t); n != "" {
		reason = "⚠ " + n + ": " + reason
	}
	return fmt.Sprintf("| %s | %s | %s | %s |\n", word, cell(t.Name), cell(location(t)), codeCell(reason))
}

// mdDetails is the collapsible block of one test: assertion reasons and diffs.
func mdDetails(t *results.TestResult, suite string) string {
	word := "FAIL"
	if t.Status == results.StatusError {
		word = "ERROR"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%s %s › %s</summary>\n\n", word,
		html.EscapeString(text.OneLine(suite, mdMaxCell)), html.EscapeString(text.OneLine(t.Name, mdMaxCell)))
	if a, ok := firstFailure(t); t.Reason != "" && (!ok || a.Reason != t.Reason) {
		fmt.Fprintf(&b, "%s\n\n", text.CodeSpan(t.Reason, 2000))
	}
	if l := passRateLine(t); l != "" {
		fmt.Fprintf(&b, "%s\n\n", l)
	}
	if l := transformLine(t, 500); l != "" {
		fmt.Fprintf(&b, "%s\n\n", html.EscapeString(l))
	}
	for _, a := range t.Assertions {
		word := "pass"
		switch {
		case a.Error:
			word = "error"
		case !a.Pass:
			word = "fail"
		}
		fmt.Fprintf(&b, "- %s **%s** (score %.2f): %s\n", word, html.EscapeString(text.OneLine(a.Type, 100)),
			text.Finite(a.Score), text.CodeSpan(a.Reason+assertionTransform(a, 500), 2000))
	}
	for _, a := range t.Assertions {
		if a.Diff == "" || a.Pass {
			continue
		}
		b.WriteString("\n" + strings.TrimSuffix(text.CodeBlock("diff", text.Cap(a.Diff, mdMaxDetails/2)), "\n"))
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}

// metricsTable renders Summary.Metrics, sorted by name; "" when none.
func metricsTable(m map[string]results.MetricSummary) string {
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("\n| Metric | Count | Mean | 95% CI | Pass |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, n := range names {
		s := m[n]
		fmt.Fprintf(&b, "| %s | %d | %.2f | %s | %d |\n", cell(n), s.Count, text.Finite(s.Mean), ciText(s), s.Pass)
	}
	return b.String()
}

// cell makes text safe in a Markdown table cell: one line, pipes escaped,
// no raw HTML, bounded length.
func cell(s string) string { return cellEscape.Replace(text.OneLine(s, mdMaxCell)) }

var cellEscape = strings.NewReplacer("\\", "\\\\", "|", "\\|", "&", "&amp;", "<", "&lt;", ">", "&gt;")

// codeCell shows model text in a table cell as a code span: nothing in it
// is live Markdown or HTML; a pipe is escaped, as GFM tables need even
// inside code.
func codeCell(s string) string {
	return strings.ReplaceAll(text.CodeSpan(s, mdMaxCell), "|", "\\|")
}
