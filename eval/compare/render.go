package compare

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aieval/aieval/internal/text"
)

// MarkdownLimit caps WriteMarkdown: GitHub drops a step summary above 1 MiB.
const MarkdownLimit = 1 << 20

var labels = map[Kind][2]string{ // singular, plural
	KindRegression: {"regression", "regressions"},
	KindBaseError:  {"baseline unavailable", "baseline unavailable"},
	KindScoreDrop:  {"score drop", "score drops"},
	KindChanged:    {"status change", "status changes"},
	KindNoise:      {"within noise", "within noise"},
	KindFixed:      {"fixed", "fixed"},
	KindScoreRise:  {"score rise", "score rises"},
	KindNew:        {"new", "new"},
	KindRemoved:    {"removed", "removed"},
}

// Headline is the one-line summary: "1 regression, 1 fixed; 3 unchanged".
func (r *Report) Headline() string {
	var parts []string
	for _, k := range Kinds {
		if n := r.Counts[k]; n > 0 {
			l := labels[k][0]
			if n > 1 {
				l = labels[k][1]
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, l))
		}
	}
	if n := r.MetricRegressions; n > 0 {
		parts = append(parts, plural(n, "metric regression"))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no changes; %d unchanged", r.Unchanged)
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; %d unchanged", r.Unchanged)
}

func sideText(s *Side) string {
	if s == nil {
		return "—"
	}
	if s.PassRate != nil && s.PassRate.Runs > 0 {
		return fmt.Sprintf("%s %d/%d", s.Status, s.PassRate.Passed, s.PassRate.Runs)
	}
	return fmt.Sprintf("%s %.2f", s.Status, s.Score)
}

func deltaText(e *Entry) string {
	if e.Base == nil || e.Head == nil || e.ScoreDelta == 0 {
		return ""
	}
	return fmt.Sprintf("%+.2f", e.ScoreDelta)
}

// reasons lists the explanations worth showing for e, one line each.
func reasons(e *Entry) []string {
	var out []string
	if e.Note != "" {
		out = append(out, e.Note)
	}
	if e.Base != nil && e.Base.Reason != "" && e.Kind != KindNew {
		out = append(out, "base: "+text.OneLine(e.Base.Reason, 300))
	}
	if e.Head != nil && e.Head.Reason != "" {
		out = append(out, "head: "+text.OneLine(e.Head.Reason, 300))
	}
	return out
}

var kindColor = map[Kind]string{
	KindRegression: text.Bold + text.Red, KindBaseError: text.Bold + text.Red, KindScoreDrop: text.Yellow, KindChanged: text.Yellow,
	KindNoise: text.Dim, KindFixed: text.Green, KindScoreRise: text.Green, KindNew: text.Cyan, KindRemoved: text.Dim,
}

// WriteText renders the report for a terminal.
func WriteText(w io.Writer, r *Report, color bool) error {
	bw := bufio.NewWriter(w)
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + text.Reset
	}
	fmt.Fprintf(bw, "aieval compare: %s\n", r.Headline())
	for _, msg := range r.Warnings {
		fmt.Fprintf(bw, "%s %s\n", paint(text.Yellow, "warning:"), text.OneLine(msg, 500))
	}
	entries := r.all()
	for i := range entries {
		e := &entries[i]
		label := strings.ToUpper(labels[e.Kind][0])
		fmt.Fprintf(bw, "\n%s  %s  %s → %s", paint(kindColor[e.Kind], label), text.Sanitize(e.ID), sideText(e.Base), sideText(e.Head))
		if d := deltaText(e); d != "" {
			fmt.Fprintf(bw, " (%s)", d)
		}
		fmt.Fprintln(bw)
		for _, line := range reasons(e) {
			fmt.Fprintf(bw, "    %s\n", line)
		}
		if e.Diff == "" {
			continue
		}
		d := e.Diff
		if color && e.ops != nil {
			// The same cut as the plain diff: allow for the escape codes.
			extra := len(e.ops) * (len(text.Red) + len(text.Reset))
			d = renderWith(e.ops, r.diffLimit+extra, text.Red+"[-", "-]"+text.Reset, text.Green+"{+", "+}"+text.Reset)
		}
		for _, line := range strings.Split(d, "\n") {
			fmt.Fprintf(bw, "    %s\n", line)
		}
	}
	return bw.Flush()
}

// WriteJSON renders the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write compare json: %w", err)
	}
	return nil
}

var mdCell = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]",
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "\n", " ", "\r", " ",
)

var htmlText = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;", "\n", " ", "\r", " ")

// WriteMarkdown renders the report for a pull request comment or the
// GitHub step summary: a table of changes, then one collapsed section per
// change with its reasons and output diff. The whole stays under
// MarkdownLimit; what does not fit is counted, not cut mid-line.
func WriteMarkdown(w io.Writer, r *Report) error {
	var sb strings.Builder
	sb.WriteString("## aieval compare\n\n")
	headline := mdCell.Replace(r.Headline())
	if r.Regressions() > 0 || r.BaselineErrors > 0 {
		headline = "**" + headline + "**"
	}
	sb.WriteString(headline + "\n\n")
	for _, msg := range r.Warnings {
		sb.WriteString("> warning: " + mdCell.Replace(text.OneLine(msg, 500)) + "\n\n")
	}
	entries := r.all()
	if len(entries) == 0 {
		_, err := io.WriteString(w, sb.String())
		return err
	}
	const reserve = 512 // room for the "not shown" notes
	sb.WriteString("| test | change | base | head | score Δ |\n| --- | --- | --- | --- | ---: |\n")
	shown := 0
	for i := range entries {
		e := &entries[i]
		change := labels[e.Kind][0]
		if e.Kind == KindRegression || e.Kind == KindBaseError {
			change = "**" + change + "**"
		}
		row := fmt.Sprintf("| %s | %s | %s | %s | %s |\n", mdCell.Replace(text.Sanitize(e.ID)), change,
			sideText(e.Base), sideText(e.Head), deltaText(e))
		if sb.Len()+len(row) > MarkdownLimit/2 {
			break
		}
		sb.WriteString(row)
		shown++
	}
	if shown < len(entries) {
		fmt.Fprintf(&sb, "\n_%d more changes not shown; the JSON report has them all._\n", len(entries)-shown)
	}
	sb.WriteString("\n")
	detailed := 0
	want := 0
	for i := range entries {
		e := &entries[i]
		rs := reasons(e)
		if e.Diff == "" && len(rs) == 0 {
			continue
		}
		want++
		block := detailsBlock(e, rs)
		if sb.Len()+len(block) > MarkdownLimit-reserve {
			continue
		}
		sb.WriteString(block)
		detailed++
	}
	if detailed < want {
		fmt.Fprintf(&sb, "_Details of %d more changes not shown (size limit); the JSON report has them all._\n", want-detailed)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func detailsBlock(e *Entry, rs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%s: %s</summary>\n\n", htmlText.Replace(text.Sanitize(e.ID)), labels[e.Kind][0])
	for _, line := range rs {
		// A side's reason is model or judge text: shown as code.
		if side, reason, ok := strings.Cut(line, ": "); ok && (side == "base" || side == "head") {
			b.WriteString(side + ": " + text.CodeSpan(reason, 0) + "\n\n")
			continue
		}
		b.WriteString(mdCell.Replace(line) + "\n\n")
	}
	if e.Diff != "" {
		b.WriteString(text.CodeBlock("diff", e.Diff))
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
