package reporters

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func init() { register("console", func(o Options) Reporter { return &Console{opts: o} }) }

// Console is the human report: a table per suite, then what went wrong.
type Console struct{ opts Options }

const (
	consoleMaxName    = 48 // suite column width cap
	consoleMaxDiff    = 60 // diff lines shown per assertion
	consoleMaxSkipped = 20 // skipped tests listed by name
)

// Report writes the console report.
func (c *Console) Report(w io.Writer, r *results.Results) error {
	bw := bufio.NewWriter(w)
	// The table holds the run's totals: a live run's failures go to a
	// spill first and follow the table once the run ends (with --quiet
	// there is no table, so they go straight to w).
	var suites []*results.SuiteTotal
	var total *results.SuiteTotal
	var names func(string) string
	body := bw
	var spill *SpillBuffer
	switch {
	case !r.Live():
		var err error
		if suites, total, err = results.Suites(r); err != nil {
			return fmt.Errorf("console report: %w", err)
		}
		if !c.opts.Quiet {
			c.table(bw, suites, total)
		}
		names = suiteNames(suites)
	case !c.opts.Quiet:
		spill, _ = NewSpillBuffer(true)
		defer spill.Close()
		body = bufio.NewWriter(spill)
	}
	var skipped, noted []string
	nSkipped, nNoted := 0, 0
	err := r.Each(func(t *results.TestResult) error {
		if names == nil {
			names = liveSuiteNames(r)
		}
		bw := body
		if n := responseNote(t); n != "" && t.Status != results.StatusFail && t.Status != results.StatusError {
			nNoted++
			if len(noted) < consoleMaxSkipped {
				noted = append(noted, fmt.Sprintf("%s %s › %s: %s", c.paint(text.Yellow, "NOTE"),
					text.OneLine(names(t.Suite), 0), text.OneLine(t.Name, 0), n))
			}
		}
		switch t.Status {
		case results.StatusFail, results.StatusError:
			c.failure(bw, t, names(t.Suite))
		case results.StatusSkip:
			nSkipped++
			if len(skipped) < consoleMaxSkipped {
				skipped = append(skipped, fmt.Sprintf("%s %s › %s: %s", c.paint(text.Yellow, "SKIP"),
					text.OneLine(names(t.Suite), 0), text.OneLine(t.Name, 0), text.OneLine(reasonOf(t), 200)))
			}
		case results.StatusPass:
			if c.opts.Verbose {
				fmt.Fprintf(bw, "%s %s › %s (%s)\n", c.paint(text.Green, "PASS"),
					text.OneLine(names(t.Suite), 0), text.OneLine(t.Name, 0), duration(t.LatencyMS))
				if l := passRateLine(t); l != "" {
					fmt.Fprintf(bw, "  %s\n", l)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("console report: %w", err)
	}
	if total == nil {
		if suites, total, err = results.Suites(r); err != nil {
			return fmt.Errorf("console report: %w", err)
		}
	}
	if spill != nil {
		if err := body.Flush(); err != nil {
			return fmt.Errorf("console report: %w", err)
		}
		c.table(bw, suites, total)
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("console report: %w", err)
		}
		if err := spill.CopyTo(bw); err != nil {
			return fmt.Errorf("console report: %w", err)
		}
	}
	if len(noted) > 0 {
		fmt.Fprintln(bw)
		for _, s := range noted {
			fmt.Fprintln(bw, s)
		}
		if more := nNoted - len(noted); more > 0 {
			fmt.Fprintf(bw, "... %d more notes\n", more)
		}
	}
	if len(skipped) > 0 && !c.opts.Quiet {
		fmt.Fprintln(bw)
		for _, s := range skipped {
			fmt.Fprintln(bw, s)
		}
		if more := nSkipped - len(skipped); more > 0 {
			fmt.Fprintf(bw, "... %d more skipped\n", more)
		}
	}
	if !c.opts.Quiet {
		c.metrics(bw, r.Summary.Metrics)
		c.models(bw, r.Summary.Models)
	}
	if notes := r.GateNotes(); len(notes) > 0 {
		fmt.Fprintln(bw)
		for _, n := range notes {
			fmt.Fprintln(bw, text.OneLine(n, 0))
		}
	}
	c.totals(bw, r, total)
	return bw.Flush()
}

func (c *Console) table(w io.Writer, suites []*results.SuiteTotal, total *results.SuiteTotal) {
	width := len("SUITE")
	for _, s := range suites {
		width = max(width, utf8.RuneCountInString(text.OneLine(s.Info.Name(), consoleMaxName)))
	}
	row := func(name string, cells ...string) string {
		pad := width - utf8.RuneCountInString(name)
		return fmt.Sprintf("%s%s %6s %5s %5s %6s %5s %9s %9s", name, strings.Repeat(" ", pad),
			cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6])
	}
	stat := func(s *results.SuiteTotal) []string {
		return []string{itoa(s.Total), itoa(s.Passed), itoa(s.Failed), itoa(s.Errors), itoa(s.Skipped),
			duration(s.LatencyMS), fmt.Sprintf("$%.4f", s.Cost)}
	}
	fmt.Fprintln(w, c.paint(text.Bold, row("SUITE", "TESTS", "PASS", "FAIL", "ERROR", "SKIP", "LATENCY", "COST")))
	for _, s := range suites {
		fmt.Fprintln(w, row(text.OneLine(s.Info.Name(), consoleMaxName), stat(s)...))
	}
	fmt.Fprintln(w, c.paint(text.Bold, row("TOTAL", stat(total)...)))
}

// failure prints one failed or errored test with everything needed to act on it.
func (c *Console) failure(w io.Writer, t *results.TestResult, suite string) {
	word, colour := "FAIL", text.Red
	if t.Status == results.StatusError {
		word, colour = "ERROR", text.Mag
	}
	fmt.Fprintf(w, "\n%s %s › %s (%s)\n", c.paint(text.Bold+colour, word),
		text.OneLine(suite, 0), text.OneLine(t.Name, 0), text.OneLine(location(t), 0))
	if n := responseNote(t); n != "" {
		fmt.Fprintf(w, "  %s %s\n", c.paint(text.Yellow, "⚠"), n)
	}
	if l := transformLine(t, 200); l != "" {
		fmt.Fprintf(w, "  %s\n", l)
	}
	failed := failedAssertions(t)
	reason := reasonOf(t)
	if len(failed) == 0 || reason != failed[0].Reason {
		fmt.Fprintf(w, "  %s\n", indent(reason, "  "))
	}
	if t.Threshold != nil {
		fmt.Fprintf(w, "  score %.2f, threshold %.2f\n", text.Finite(t.Score), text.Finite(*t.Threshold))
	}
	if l := passRateLine(t); l != "" {
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, a := range failed {
		what := fmt.Sprintf("%s (score %.2f)", text.OneLine(a.Type, 0), text.Finite(a.Score))
		if a.Error {
			what = text.OneLine(a.Type, 0) + " (error)"
		}
		fmt.Fprintf(w, "  %s %s: %s%s\n", c.paint(colour, "✗"), what, indent(a.Reason, "    "), assertionTransform(a, 200))
		if a.Diff != "" {
			c.diff(w, a.Diff)
		}
	}
}

// diff prints a diff indented, coloured by line, and cut to consoleMaxDiff lines.
func (c *Console) diff(w io.Writer, d string) {
	lines := strings.Split(logText(d), "\n")
	for i, l := range lines {
		if i == consoleMaxDiff {
			fmt.Fprintf(w, "      ... %d more diff lines\n", len(lines)-i)
			break
		}
		switch {
		case strings.HasPrefix(l, "+"):
			l = c.paint(text.Green, l)
		case strings.HasPrefix(l, "-"):
			l = c.paint(text.Red, l)
		}
		fmt.Fprintf(w, "      %s\n", l)
	}
}

func (c *Console) metrics(w io.Writer, m map[string]results.MetricSummary) {
	if len(m) == 0 {
		return
	}
	names := make([]string, 0, len(m))
	width := len("METRIC")
	for n := range m {
		names = append(names, n)
		width = max(width, utf8.RuneCountInString(text.OneLine(n, consoleMaxName)))
	}
	sort.Strings(names)
	fmt.Fprintln(w)
	fmt.Fprintln(w, c.paint(text.Bold, fmt.Sprintf("%-*s %6s %6s %11s %6s", width, "METRIC", "COUNT", "MEAN", "95% CI", "PASS")))
	for _, n := range names {
		s := m[n]
		name := text.OneLine(n, consoleMaxName)
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(name))
		fmt.Fprintf(w, "%s%s %6d %6.2f %11s %6d\n", name, pad, s.Count, text.Finite(s.Mean), ciText(s), s.Pass)
	}
}

// totals is the last line, the one a CI log reader looks at.
func (c *Console) totals(w io.Writer, r *results.Results, t *results.SuiteTotal) {
	status, colour := r.Verdict(), text.Green
	switch status {
	case "ERRORED":
		colour = text.Mag
	case "FAILED":
		colour = text.Red
	}
	line := fmt.Sprintf("%s: %s, %d passed, %d failed, %s, %d skipped", c.paint(text.Bold+colour, status),
		plural(t.Total, "test"), t.Passed, t.Failed, plural(t.Errors, "error"), t.Skipped)
	if r.Summary.Regressed > 0 {
		line += fmt.Sprintf(", %d regressed", r.Summary.Regressed)
	}
	if r.Summary.BaselineErrors > 0 {
		line += fmt.Sprintf(", %d baseline unavailable", r.Summary.BaselineErrors)
	}
	line += fmt.Sprintf(" in %s; %s, %d tokens", timeLine(r, t), costLine(t.Summary), t.Tokens.Total)
	if r.Summary.Cached > 0 {
		line += fmt.Sprintf(", %d cached", r.Summary.Cached)
	}
	fmt.Fprintln(w)
	if r.Interrupted {
		fmt.Fprintln(w, c.paint(colour, "run interrupted: not every test ran"))
	}
	fmt.Fprintln(w, line)
}

func (c *Console) paint(code, s string) string {
	if !c.opts.Color {
		return s
	}
	return code + s + text.Reset
}

// indent cleans s for a log and puts prefix before every line but the first.
func indent(s, prefix string) string {
	return strings.ReplaceAll(logText(s), "\n", "\n"+prefix)
}

// logText sanitizes s and turns every CR into a line break: a bare CR
// from a model would otherwise overwrite the log line it sits on.
func logText(s string) string {
	s = strings.ReplaceAll(text.Sanitize(s), "\r\n", "\n")
	return strings.TrimRight(strings.ReplaceAll(s, "\r", "\n"), "\n")
}

// duration formats milliseconds for people: 850ms, 2.35s, 1m05s.
func duration(ms float64) string {
	ms = text.Finite(ms)
	switch {
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	case ms < 60000:
		return fmt.Sprintf("%.2fs", ms/1000)
	}
	s := int(ms / 1000)
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

func itoa(n int) string { return fmt.Sprint(n) }
