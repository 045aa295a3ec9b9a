package reporters

import (
	"bufio"
	_ "embed"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"

	"github.com/sergi/go-diff/diffmatchpatch"
)

func init() { register("html", func(o Options) Reporter { return &HTML{opts: o} }) }

// HTML writes one self-contained page (inline CSS and JS, no network): the
// counts, a filterable table of tests, and per test its output, assertion
// reasons and, with Options.Baseline, a side-by-side diff against the
// baseline's output. Rows are plain HTML, so counts and names show without
// JavaScript; the details live once, as JSON in a script element, and are
// drawn when a row is opened.
//
// Stable hooks for browser tests: #count-pass, #count-fail, #count-error,
// #count-skip, #count-total, #filter, button.status-filter[data-status],
// tr.test-row[data-status], #shown.
type HTML struct{ opts Options }

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.js
var reportJS string

//go:embed assets/common.js
var commonJS string

// PageCSS is the stylesheet of the report, which `aieval view` shares.
func PageCSS() string { return reportCSS }

// PageJS is the drawing script (window.aieval: a test's details, the
// request, diffs, the filter) the report shares with `aieval view`.
func PageJS() string { return commonJS }

// Detail is what the pages' script (aieval.detail) needs to draw one
// test: the same JSON in the static report and in the viewer.
type Detail struct {
	Output string `json:"output"`
	Input  string `json:"input,omitempty"`
	// Transform and Transformed: the test's transform and what it made
	// of the output, which the assertions scored.
	Transform   string                    `json:"transform,omitempty"`
	Transformed *string                   `json:"transformed,omitempty"`
	Params      map[string]any            `json:"params,omitempty"`
	Model       string                    `json:"model,omitempty"`
	Cached      bool                      `json:"cached,omitempty"`
	Reason      string                    `json:"reason,omitempty"`
	PassRate    string                    `json:"pass_rate,omitempty"`
	Assertions  []results.AssertionResult `json:"assertions"`
	Request     *results.Request          `json:"request,omitempty"`
	Base        *htmlBase                 `json:"base,omitempty"`
}

// htmlBase is the baseline's side of a test, with the output diff as
// go-diff operations: [op, text] with op -1 deleted, 0 equal, 1 inserted.
type htmlBase struct {
	Status results.Status `json:"status"`
	Score  float64        `json:"score"`
	Output string         `json:"output"`
	Diff   [][2]any       `json:"diff,omitempty"`
}

// Report writes the HTML page.
func (h *HTML) Report(w io.Writer, r *results.Results) error {
	base, err := h.baseline()
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// The page's header holds the run's totals: a live run's rows go to a
	// spill first and follow the header once the run ends.
	rows := bw
	var rowSpill *SpillBuffer
	var names func(string) string
	if r.Live() {
		rowSpill, _ = NewSpillBuffer(true)
		defer rowSpill.Close()
		rows = bufio.NewWriterSize(rowSpill, 64<<10)
	} else {
		suites, total, err := results.Suites(r)
		if err != nil {
			return fmt.Errorf("html report: %w", err)
		}
		names = suiteNames(suites)
		h.header(bw, r, total)
	}

	// One pass over the tests: rows go to the page, details (one JSON
	// array) to a side buffer that follows the table. A spooled run's
	// details go to a temporary file, so memory stays flat.
	details, err := NewSpillBuffer(r.Spooled())
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	defer details.Close()
	dw := bufio.NewWriterSize(details, 64<<10)
	idx := 0
	seen := map[string]bool{} // baseline IDs still run, to list the removed ones
	var scratch []byte        // one test's detail JSON
	err = r.Each(func(t *results.TestResult) error {
		if names == nil {
			names = liveSuiteNames(r)
		}
		h.row(rows, idx, t, names(t.Suite), base)
		if idx > 0 {
			dw.WriteByte(',')
		}
		idx++
		if base != nil {
			seen[t.ID()] = true
		}
		d := h.detail(t, base)
		var err error
		if scratch, err = d.appendJSON(scratch[:0]); err != nil {
			return fmt.Errorf("encode test %s: %w", t.ID(), err)
		}
		_, err = dw.Write(scratch)
		return err
	})
	if err == nil {
		err = dw.Flush()
	}
	if err == nil && rowSpill != nil {
		err = h.liveHeader(bw, r, rows, rowSpill)
	}
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	bw.WriteString("</tbody></table>\n")
	h.removed(bw, base, seen)

	// encoding/json escapes <, > and &, so no "</script" can end the
	// element early.
	bw.WriteString(`<script type="application/json" id="aieval-data">[`)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := details.CopyTo(bw); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	bw.WriteString("]</script>\n<script>\n" + commonJS + reportJS + "</script>\n</body>\n</html>\n")
	return bw.Flush()
}

// liveHeader writes a live run's header, now that it has ended, and the
// rows it spilled.
func (h *HTML) liveHeader(bw *bufio.Writer, r *results.Results, rows *bufio.Writer, spill *SpillBuffer) error {
	if err := rows.Flush(); err != nil {
		return err
	}
	_, total, err := results.Suites(r)
	if err != nil {
		return err
	}
	h.header(bw, r, total)
	if err := bw.Flush(); err != nil {
		return err
	}
	return spill.CopyTo(bw)
}

// suiteNames maps a suite path to the name tables show.
func suiteNames(suites []*results.SuiteTotal) func(string) string {
	names := make(map[string]string, len(suites))
	for _, s := range suites {
		names[s.Info.Path] = s.Info.Name()
	}
	return func(path string) string { return names[path] }
}

// liveSuiteNames is suiteNames while a live run goes, from its suites: a
// suite met only in tests is named by its path, as Suites then lists it.
func liveSuiteNames(r *results.Results) func(string) string {
	names := make(map[string]string, len(r.Suites))
	for _, s := range r.Suites {
		if _, dup := names[s.Path]; !dup {
			names[s.Path] = s.Name()
		}
	}
	return func(path string) string {
		if n, ok := names[path]; ok {
			return n
		}
		return path
	}
}

// baseline indexes the baseline's tests by ID, outputs capped.
func (h *HTML) baseline() (map[string]*htmlBase, error) {
	if h.opts.Baseline == nil {
		return nil, nil
	}
	m := map[string]*htmlBase{}
	err := h.opts.Baseline.Each(func(t *results.TestResult) error {
		m[t.ID()] = &htmlBase{Status: t.Status, Score: text.Finite(t.Score), Output: text.Cap(text.Sanitize(t.Output), h.opts.MaxOutput)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	return m, nil
}

func (h *HTML) header(w *bufio.Writer, r *results.Results, total *results.SuiteTotal) {
	title := "aieval report"
	if r.RunID != "" {
		title += " " + text.OneLine(r.RunID, 80)
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		html.EscapeString(title), reportCSS)
	fmt.Fprintf(w, "<header>\n<h1>%s</h1>\n<p class=\"meta\">", html.EscapeString(title))
	var meta []string
	if !r.StartedAt.IsZero() {
		meta = append(meta, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if r.GitRef != "" || r.GitSHA != "" {
		meta = append(meta, "git "+strings.TrimSpace(text.OneLine(r.GitRef, 100)+" "+text.OneLine(shortSHA(r.GitSHA), 12)))
	}
	meta = append(meta, timeLine(r, total), costLine(total.Summary))
	if h.opts.Baseline != nil {
		meta = append(meta, "compared with baseline "+text.OneLine(h.opts.Baseline.RunID, 80))
	}
	w.WriteString(html.EscapeString(strings.Join(meta, " · ")))
	w.WriteString("</p>\n<div class=\"counts\">\n")
	for _, c := range []struct {
		id, label string
		n         int
	}{{"total", "tests", total.Total}, {"pass", "passed", total.Passed}, {"fail", "failed", total.Failed}, {"error", "errors", total.Errors}, {"skip", "skipped", total.Skipped}} {
		fmt.Fprintf(w, "<span class=\"count %s\"><b id=\"count-%s\">%d</b> %s</span>\n", c.id, c.id, c.n, c.label)
	}
	if r.Interrupted {
		w.WriteString("<span class=\"count error\">interrupted: not every test ran</span>\n")
	}
	w.WriteString("</div>\n")
	for _, n := range r.GateNotes() {
		w.WriteString("<p class=\"gate\">" + html.EscapeString(text.OneLine(n, 0)) + "</p>\n")
	}
	w.WriteString(modelsHTML(r.Summary.Models))
	w.WriteString(metricsHTML(r.Summary.Metrics))
	w.WriteString("</header>\n<nav class=\"filters\">\n" +
		"<input id=\"filter\" type=\"search\" placeholder=\"Filter by suite, test, prompt or reason\" autocomplete=\"off\">\n")
	for _, s := range []string{"all", "pass", "fail", "error", "skip"} {
		pressed := strconv.FormatBool(s == "all")
		fmt.Fprintf(w, "<button type=\"button\" class=\"status-filter\" data-status=\"%s\" aria-pressed=\"%s\">%s</button>\n", s, pressed, s)
	}
	fmt.Fprintf(w, "<span class=\"shown\"><b id=\"shown\">%d</b> shown</span>\n</nav>\n", total.Total)
	w.WriteString("<table id=\"tests\">\n<thead><tr><th>Status</th><th>Suite</th><th>Test</th><th>Prompt</th>" +
		"<th>Score</th><th>Latency</th>")
	if h.opts.Baseline != nil {
		w.WriteString("<th>Change</th>")
	}
	w.WriteString("<th>Reason</th></tr></thead>\n<tbody>\n")
}

func (h *HTML) row(w *bufio.Writer, idx int, t *results.TestResult, suite string, base map[string]*htmlBase) {
	esc := func(s string, n int) string { return html.EscapeString(text.OneLine(s, n)) }
	status := string(t.Status)
	if status == "" {
		status = "unknown"
	}
	st := esc(status, 20)
	// Written piece by piece: fmt was a fifth of the page's cost per test.
	w.WriteString(`<tr class="test-row" data-status="`)
	w.WriteString(st)
	w.WriteString(`" data-idx="`)
	w.WriteString(strconv.Itoa(idx))
	w.WriteString(`" tabindex="0"><td><span class="badge `)
	w.WriteString(st)
	w.WriteString(`">`)
	w.WriteString(st)
	w.WriteString(`</span></td><td title="`)
	w.WriteString(esc(location(t), 0))
	w.WriteString(`">`)
	w.WriteString(esc(suite, 80))
	w.WriteString(`</td><td>`)
	w.WriteString(esc(t.Name, 200))
	w.WriteString(`</td><td>`)
	w.WriteString(esc(t.Prompt, 80))
	w.WriteString(`</td><td>`)
	w.Write(strconv.AppendFloat(w.AvailableBuffer(), text.Finite(t.Score), 'f', 2, 64))
	w.WriteString(`</td><td>`)
	w.WriteString(duration(t.LatencyMS))
	w.WriteString(`</td>`)
	if base != nil {
		ch := change(t, base[t.ID()], text.Cap(text.Sanitize(t.Output), h.opts.MaxOutput))
		fmt.Fprintf(w, "<td class=\"change %s\">%s</td>", ch, ch)
	}
	reason := ""
	if t.Status != results.StatusPass {
		reason = reasonOf(t)
	}
	if n := responseNote(t); n != "" {
		reason = strings.TrimSuffix("⚠ "+n+": "+reason, ": ")
	}
	w.WriteString(`<td class="reason">`)
	w.WriteString(esc(reason, 300))
	w.WriteString("</td></tr>\n")
}

// removed lists the baseline's tests this run no longer has, sorted.
func (h *HTML) removed(w *bufio.Writer, base map[string]*htmlBase, seen map[string]bool) {
	var gone []string
	for id := range base {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	sort.Strings(gone)
	fmt.Fprintf(w, "<section id=\"removed\"><h2>%s in the baseline, not in this run</h2>\n<ul>\n", plural(len(gone), "test"))
	for _, id := range gone {
		fmt.Fprintf(w, "<li>%s</li>\n", html.EscapeString(text.OneLine(id, 300)))
	}
	w.WriteString("</ul></section>\n")
}

// change names how a test moved against the baseline; out is the test's
// output as capped for the page, comparable with the baseline's.
func change(t *results.TestResult, b *htmlBase, out string) string {
	switch {
	case b == nil:
		return "new"
	case b.Status == results.StatusError:
		return "baseline-unavailable" // the base shows nothing: never "fixed"
	case b.Status == results.StatusPass && (t.Status == results.StatusFail || t.Status == results.StatusError):
		return "regressed"
	case b.Status != results.StatusPass && t.Status == results.StatusPass:
		return "fixed"
	case b.Output != out:
		return "changed"
	}
	return "same"
}

// NewDetail is t as the pages draw it: texts sanitized, outputs and
// message contents capped at maxOutput (0: text.DefaultMax), numbers finite.
func NewDetail(t *results.TestResult, maxOutput int) Detail {
	d := Detail{
		Output:   text.Cap(text.Sanitize(t.Output), maxOutput),
		Input:    text.Cap(text.Sanitize(t.Input), maxOutput),
		Params:   t.Params,
		Model:    text.Sanitize(t.Model),
		Cached:   t.Cached,
		Reason:   text.Sanitize(t.Reason),
		PassRate: passRateLine(t),
	}
	if t.Transformed != nil {
		tr := text.Cap(text.Sanitize(*t.Transformed), maxOutput)
		d.Transform, d.Transformed = text.Sanitize(t.Transform), &tr
	}
	d.Assertions = make([]results.AssertionResult, len(t.Assertions))
	for i, a := range t.Assertions {
		a.Type, a.Reason, a.Metric = text.Sanitize(a.Type), text.Sanitize(a.Reason), text.Sanitize(a.Metric)
		a.Diff = text.Cap(text.Sanitize(a.Diff), maxOutput)
		if a.Transformed != nil {
			tr := text.Cap(text.Sanitize(*a.Transformed), maxOutput)
			a.Transformed = &tr
		}
		a.Score, a.Weight = text.Finite(a.Score), text.Finite(a.Weight)
		d.Assertions[i] = a
	}
	if r := t.Request; r != nil {
		c := &results.Request{Settings: r.Settings}
		for _, m := range r.Messages {
			c.Messages = append(c.Messages, results.Message{Role: text.OneLine(m.Role, 40), Content: text.Cap(text.Sanitize(m.Content), maxOutput), Name: text.OneLine(m.Name, 80)})
		}
		d.Request = c
	}
	return d
}

func (h *HTML) detail(t *results.TestResult, base map[string]*htmlBase) Detail {
	d := NewDetail(t, h.opts.MaxOutput)
	if b, ok := base[t.ID()]; ok {
		c := *b
		dmp := diffmatchpatch.New()
		diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(b.Output, d.Output, false))
		for _, df := range diffs {
			c.Diff = append(c.Diff, [2]any{int(df.Type), df.Text})
		}
		d.Base = &c
	}
	return d
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
