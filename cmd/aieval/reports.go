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

// writeReports renders every requested report. Each file is written even if
// another one fails, so one bad path does not lose the rest.
func writeReports(st *state, res *results.Results, base *results.Results, cmp *compare.Report, f runFlags) error {
	opts := reporters.Options{Color: color(st), Verbose: f.verbose, Baseline: base}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	keep(writeFiles(res, opts, []output{
		{"junit", f.junit}, {"json", f.jsonOut}, {"html", f.html}, {"markdown", f.markdown},
	}))

	gha := st.getenv("GITHUB_ACTIONS") == "true"
	if gha {
		gopts := opts
		gopts.FilePath = workspacePath(st.getenv("GITHUB_WORKSPACE"))
		keep(render(st.stdout, "github", res, gopts))
		if p := st.getenv("GITHUB_STEP_SUMMARY"); p != "" {
			keep(appendSummary(p, res, cmp, opts))
		}
		if p := st.getenv("GITHUB_OUTPUT"); p != "" {
			keep(writeGitHubOutput(p, res, f))
		}
	}
	copts := opts
	copts.Quiet = f.quiet // the totals line and failures only
	keep(render(st.stdout, "console", res, copts))
	if cmp != nil {
		keep(compare.WriteText(st.stdout, cmp, opts.Color))
	}
	if len(errs) > 0 {
		return fmt.Errorf("write reports: %w", errs[0])
	}
	return nil
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

func appendSummary(path string, res *results.Results, cmp *compare.Report, opts reporters.Options) error {
	var buf bytes.Buffer
	if err := render(&buf, "markdown", res, opts); err != nil {
		return err
	}
	if cmp != nil {
		if err := compare.WriteMarkdown(&buf, cmp); err != nil {
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
