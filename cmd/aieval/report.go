package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/reporters"
)

type writer = io.Writer

// writeWith writes a file through fn into a temp file renamed into place,
// so a reader never sees a half-written report.
func writeWith(path string, fn func(w writer) error) error {
	tmp, err := createReportTemp(filepath.Dir(path)) // 0644 less the umask
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// A live run's reports are open for the whole run: a second signal,
	// which exits at once, must not leave their temp files behind.
	defer registerCleanup(func() { os.Remove(tmp.Name()) })()
	if err := fn(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func cmdReport(ctx context.Context, args []string, st *state) error {
	fl := newFlags("report", st)
	html := fl.String("html", "", "write a self-contained HTML report to `FILE`")
	junit := fl.String("junit", "", "write JUnit XML to `FILE`")
	flavor := fl.String("junit-flavor", st.getenv("AIEVAL_JUNIT_FLAVOR"), junitFlavorUsage)
	md := fl.String("markdown", "", "write a Markdown summary to `FILE`")
	baseline := fl.String("baseline", "", "show diffs against this results `FILE`")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if err := reporters.CheckJUnitFlavor(*flavor); err != nil {
		return inputErr(err)
	}
	if len(pos) != 1 {
		return inputErr(errors.New("usage: aieval report RESULTS.json [--html OUT.html] [--junit OUT.xml] [--markdown OUT.md] [--baseline BASE.json]"))
	}
	res, err := results.ReadFile(pos[0])
	if err != nil {
		return inputErr(err)
	}
	opts := reporters.Options{}
	if *baseline != "" {
		if opts.Baseline, err = results.ReadFile(*baseline); err != nil {
			return inputErr(err)
		}
	}
	if *html == "" && *junit == "" && *md == "" {
		return render(st.stdout, "console", res, opts)
	}
	if err := writeFiles(res, junitOptions(st, opts, *flavor), []output{{"html", *html}, {"junit", *junit}, {"markdown", *md}}); err != nil {
		return err
	}
	return nil
}

func cmdMerge(ctx context.Context, args []string, st *state) error {
	fl := newFlags("merge", st)
	js := fl.String("json", "", "write the merged JSON results to `FILE`")
	junit := fl.String("junit", "", "write the merged JUnit XML to `FILE`")
	flavor := fl.String("junit-flavor", st.getenv("AIEVAL_JUNIT_FLAVOR"), junitFlavorUsage)
	md := fl.String("markdown", "", "write the merged Markdown summary to `FILE`")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if err := reporters.CheckJUnitFlavor(*flavor); err != nil {
		return inputErr(err)
	}
	if len(pos) == 0 {
		return inputErr(errors.New("usage: aieval merge SHARD.json... [--json OUT] [--junit OUT] [--markdown OUT]"))
	}
	parts := make([]*results.Results, 0, len(pos))
	for _, p := range pos {
		r, err := results.ReadFile(p)
		if err != nil {
			return inputErr(err)
		}
		parts = append(parts, r)
	}
	res, err := results.Merge(parts)
	if err != nil {
		return inputErr(err)
	}
	if err := writeFiles(res, junitOptions(st, reporters.Options{}, *flavor), []output{{"json", *js}, {"junit", *junit}, {"markdown", *md}}); err != nil {
		return err
	}
	if err := render(st.stdout, "console", res, reporters.Options{Color: color(st)}); err != nil {
		return err
	}
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}
