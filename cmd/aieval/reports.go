package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/reporters"
)

// writeReports renders every requested report from one read of the
// results (a fan-out: see results.Fanout), and records the run in history
// in the same pass. Each file is written even if another one fails, so one
// bad path does not lose the rest. What goes to stdout is rendered aside
// and printed in a fixed order once every format is done.
func writeReports(st *state, res *results.Results, base *results.Results, cmp *compare.Report, f runFlags) error {
	rs := newReportSet(st, base, f)
	rs.add("history", func(v *results.Results) error { rs.historyErr = recordHistory(st, v, f); return nil })
	return rs.finish(res, cmp, res.Fanout(rs.jobs...))
}

// startLiveReports starts the reports of a run before it runs: they take
// its results as they come (see results.Live), so only their headers are
// left once the last test is in. closeLiveReports ends them.
func startLiveReports(st *state, base *results.Results, f runFlags) *reportSet {
	rs := newReportSet(st, base, f)
	rs.live = results.NewLive(rs.jobs...)
	return rs
}

// closeLiveReports completes the live reports with the run's final record
// and records the run in history, which needs the whole record first (its
// one read of the spool), meanwhile.
func (rs *reportSet) closeLiveReports(res *results.Results, cmp *compare.Report) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		rs.historyErr = recordHistory(rs.st, res, rs.f)
	}()
	errs := rs.live.Close(res)
	<-done
	return rs.finish(res, cmp, errs)
}

// reportSet is the reports of one run: one job per format, fed from one
// fan-out (after the run, or live while it goes).
type reportSet struct {
	st          *state
	f           runFlags
	opts        reporters.Options
	jobs        []func(v *results.Results) error
	names       []string
	asides      []*aside
	console     *aside
	gha         bool
	summary     bytes.Buffer
	summaryPath string
	historyErr  error
	live        *results.Live
}

func newReportSet(st *state, base *results.Results, f runFlags) *reportSet {
	rs := &reportSet{st: st, f: f, opts: reporters.Options{Color: color(st), Verbose: f.verbose, Baseline: base}}
	opts := rs.opts
	for _, o := range []output{{"junit", f.junit}, {"json", f.jsonOut}, {"html", f.html}, {"markdown", f.markdown}} {
		if o.path != "" {
			oopts := opts
			if o.name == "junit" {
				oopts = junitOptions(st, opts, f.junitFlavor)
			}
			rs.add(o.name, func(v *results.Results) error { return writeFile(o.path, o.name, v, oopts) })
		}
	}
	// aside renders a stdout format into a buffer (a temp file for a
	// spooled run) to print after the fan-out.
	stdoutFormat := func(name string, o reporters.Options) *aside {
		a := &aside{name: name}
		rs.asides = append(rs.asides, a)
		rs.add(name, func(v *results.Results) error {
			buf, err := reporters.NewSpillBuffer(v.Spooled())
			if err != nil {
				return err
			}
			a.buf = buf
			return render(buf, name, v, o)
		})
		return a
	}

	rs.gha = st.getenv("GITHUB_ACTIONS") == "true"
	rs.summaryPath = st.getenv("GITHUB_STEP_SUMMARY")
	if rs.gha {
		gopts := opts
		gopts.FilePath = workspacePath(st.getenv("GITHUB_WORKSPACE"))
		stdoutFormat("github", gopts)
		if rs.summaryPath != "" {
			rs.add("step summary", func(v *results.Results) error { return render(&rs.summary, "markdown", v, opts) })
		}
	}
	copts := opts
	copts.Quiet = f.quiet // the totals line and failures only
	rs.console = stdoutFormat("console", copts)
	return rs
}

func (rs *reportSet) add(name string, job func(v *results.Results) error) {
	rs.names, rs.jobs = append(rs.names, name), append(rs.jobs, job)
}

// finish prints what the formats rendered aside, in a fixed order, and
// writes the GitHub step summary and outputs; errs are the jobs' errors.
func (rs *reportSet) finish(res *results.Results, cmp *compare.Report, jobErrs []error) error {
	st, f, opts, gha := rs.st, rs.f, rs.opts, rs.gha
	var errs []error
	for i, err := range jobErrs {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rs.names[i], err))
		}
	}
	if rs.historyErr != nil {
		warn(st, rs.historyErr.Error())
	}
	for _, a := range rs.asides {
		if a.buf == nil {
			continue
		}
		// Model text printed under GitHub Actions must not be read as a
		// workflow command: the runner ignores commands between
		// stop-commands and its token.
		if gha && a == rs.console {
			end := reporters.StopCommands(st.stdout)
			a.buf.CopyTo(st.stdout)
			end()
		} else {
			a.buf.CopyTo(st.stdout)
		}
		a.buf.Close()
	}
	if gha && rs.summaryPath != "" {
		if err := appendSummary(rs.summaryPath, rs.summary.Bytes(), cmp); err != nil {
			errs = append(errs, err)
		}
	}
	if gha {
		if p := st.getenv("GITHUB_OUTPUT"); p != "" {
			if err := writeGitHubOutput(p, res, f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if cmp != nil {
		end := func() {}
		if gha {
			end = reporters.StopCommands(st.stdout)
		}
		if err := compare.WriteText(st.stdout, cmp, opts.Color); err != nil {
			errs = append(errs, err)
		}
		end()
	}
	if len(errs) > 0 {
		return fmt.Errorf("write reports: %w", errs[0])
	}
	return nil
}

// aside is a stdout format rendered during the fan-out.
type aside struct {
	name string
	buf  *reporters.SpillBuffer
}

func render(w io.Writer, name string, res *results.Results, opts reporters.Options) error {
	r, err := reporters.Get(name, opts)
	if err != nil {
		return err
	}
	if err := r.Report(w, res); err != nil {
		return fmt.Errorf("format %s: %w", name, err)
	}
	return nil
}

// output is one report format to write to a file ("" = not requested).
type output struct{ name, path string }

// writeFiles writes every requested report file, side by side: they are
// independent reads of the results, so a large run's reports take the time
// of the slowest, not the sum. Every file is attempted; the first error is
// returned.
func writeFiles(res *results.Results, opts reporters.Options, outs []output) error {
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i, o := range outs {
		if o.path == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeFile(o.path, o.name, res, opts)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// writeFile renders one report to path, atomically (see writeWith).
func writeFile(path, name string, res *results.Results, opts reporters.Options) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return writeWith(path, func(w writer) error { return render(w, name, res, opts) })
}

// junitFlavorUsage is the help of --junit-flavor (run, report, merge).
var junitFlavorUsage = "add to the JUnit file what annotating consumers read beyond the strict XSD; `NAME`: " +
	strings.Join(reporters.JUnitFlavors(), ", ") + " (github: testcase file and line, for action-junit-report, publish-unit-test-result-action, dorny/test-reporter)"

// junitOptions sets the JUnit flavor; a flavor names files as GitHub
// annotations do (relative to $GITHUB_WORKSPACE).
func junitOptions(st *state, opts reporters.Options, flavor string) reporters.Options {
	opts.JUnitFlavor = flavor
	if flavor != "" {
		opts.FilePath = workspacePath(st.getenv("GITHUB_WORKSPACE"))
	}
	return opts
}

// workspacePath maps a suite path (relative to the working directory) to
// the path GitHub annotations need: relative to $GITHUB_WORKSPACE, so they
// attach when the run starts in a subdirectory; "" when the file does not
// exist or lies outside the workspace (an annotation naming a file GitHub
// cannot find is dropped).
func workspacePath(workspace string) func(string) string {
	wd, _ := os.Getwd()
	if workspace != "" {
		if ws, err := filepath.EvalSymlinks(workspace); err == nil {
			workspace = ws
		}
	}
	return func(p string) string {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(wd, p)
		}
		if _, err := os.Stat(abs); err != nil {
			return ""
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if workspace == "" {
			return p
		}
		rel, err := filepath.Rel(workspace, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return ""
		}
		return filepath.ToSlash(rel)
	}
}

// maxStepSummary stays under GitHub's 1 MiB limit per step summary.
const maxStepSummary = 1<<20 - 4096

func appendSummary(path string, md []byte, cmp *compare.Report) error {
	buf := bytes.NewBuffer(md)
	if cmp != nil {
		if err := compare.WriteMarkdown(buf, cmp); err != nil {
			return err
		}
	}
	b := buf.Bytes()
	if len(b) > maxStepSummary {
		b = append(b[:maxStepSummary:maxStepSummary], "\n\n_Summary truncated to stay under GitHub's 1 MiB limit._\n"...)
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		return fmt.Errorf("step summary: %w", err)
	}
	return fh.Close()
}

// writeGitHubOutput sets step outputs for the composite action.
func writeGitHubOutput(path string, res *results.Results, f runFlags) error {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("github output: %w", err)
	}
	s := res.Summary
	fmt.Fprintf(fh, "total=%d\npassed=%d\nfailed=%d\nerrors=%d\nskipped=%d\nregressed=%d\nbaseline_errors=%d\nexit-code=%d\n",
		s.Total, s.Passed, s.Failed, s.Errors, s.Skipped, s.Regressed, s.BaselineErrors, res.ExitCode())
	if f.junit != "" {
		fmt.Fprintf(fh, "junit=%s\n", f.junit)
	}
	if f.jsonOut != "" {
		fmt.Fprintf(fh, "json=%s\n", f.jsonOut)
	}
	return fh.Close()
}
