package reporters

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// modelHeader and modelCells are the per-model table of a matrix run, the
// same columns in every format.
var modelHeader = []string{"Model", "Tests", "Pass rate", "Passed", "Failed", "Errors", "Cost", "Latency", "Score"}

func modelCells(m results.ModelSummary) []string {
	cost := fmt.Sprintf("$%.4f", text.Finite(m.Cost))
	if m.CostSaved > 0 {
		cost += fmt.Sprintf(" (+$%.4f replayed)", text.Finite(m.CostSaved))
	}
	return []string{text.OneLine(m.Model, consoleMaxName), fmt.Sprint(m.Total), fmt.Sprintf("%.0f%%", 100*text.Finite(m.PassRate)),
		fmt.Sprint(m.Passed), fmt.Sprint(m.Failed), fmt.Sprint(m.Errors), cost, duration(m.LatencyMS), fmt.Sprintf("%.2f", text.Finite(m.Score))}
}

// consoleModels prints the per-model table, columns aligned.
func (c *Console) models(w io.Writer, ms []results.ModelSummary) {
	if len(ms) == 0 {
		return
	}
	rows := [][]string{modelHeader}
	for _, m := range ms {
		rows = append(rows, modelCells(m))
	}
	width := make([]int, len(modelHeader))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	fmt.Fprintln(w)
	for n, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(" " + pad + cell)
			}
		}
		line := b.String()
		if n == 0 {
			line = c.paint(text.Bold, strings.ToUpper(line))
		}
		fmt.Fprintln(w, line)
	}
}

// modelsMarkdown is the per-model table in Markdown; "" without a matrix.
func modelsMarkdown(ms []results.ModelSummary) string {
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n| " + strings.Join(modelHeader, " | ") + " |\n| --- |" + strings.Repeat(" ---: |", len(modelHeader)-1) + "\n")
	for _, m := range ms {
		cells := modelCells(m)
		for i := range cells {
			cells[i] = cell(cells[i])
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// modelsHTML is the per-model table of the HTML page; "" without a matrix.
func modelsHTML(ms []results.ModelSummary) string {
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<table id=\"models\" class=\"summary\">\n<caption>Models side by side</caption>\n<thead><tr>")
	for _, h := range modelHeader {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, m := range ms {
		b.WriteString("<tr>")
		for _, c := range modelCells(m) {
			b.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table>\n")
	return b.String()
}

// metricsHTML is the metrics table of the HTML page; "" when none.
func metricsHTML(m map[string]results.MetricSummary) string {
	if len(m) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<table id=\"metrics\" class=\"summary\">\n<caption>Metrics</caption>\n<thead><tr><th>Metric</th><th>Count</th><th>Mean</th><th>95% CI</th><th>Pass</th></tr></thead>\n<tbody>\n")
	for _, n := range sortedMetricNames(m) {
		s := m[n]
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%s</td><td>%d</td></tr>\n",
			html.EscapeString(text.OneLine(n, consoleMaxName)), s.Count, text.Finite(s.Mean), ciText(s), s.Pass)
	}
	b.WriteString("</tbody></table>\n")
	return b.String()
}

// ciText is a metric's 95% bootstrap interval, "0.71–0.88".
func ciText(s results.MetricSummary) string {
	return fmt.Sprintf("%.2f–%.2f", text.Finite(s.Low), text.Finite(s.High))
}

func sortedMetricNames(m map[string]results.MetricSummary) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
