package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// A spooled run (too large to keep in memory) writes every format, the
// console, the GitHub annotations and step summary and its history from
// one read of the spool.
func TestReportsReadTheSpoolOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	sp, err := results.NewSpool(filepath.Join(dir, "spool.jsonl"), n)
	if err != nil {
		t.Fatal(err)
	}
	res := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{{Path: "a.eval.yaml"}, {Path: "b.eval.yaml"}}}
	big := strings.Repeat("output ", 200) // 3000 x 1.4 KB: past the in-memory budget
	for i := range n {
		st := results.StatusPass
		if i%10 == 0 {
			st = results.StatusFail
		}
		suite := "a.eval.yaml"
		if i >= n/2 {
			suite = "b.eval.yaml"
		}
		tr := &results.TestResult{Suite: suite, Name: fmt.Sprint("t", i), Line: i + 1, Output: big, Status: st}
		res.Count(tr)
		if err := sp.Add(i, tr); err != nil {
			t.Fatal(err)
		}
	}
	if _, inMem := sp.InMemory(); inMem {
		t.Fatal("the run fits in memory: the test needs a spooled run")
	}
	path, err := sp.Finish()
	if err != nil {
		t.Fatal(err)
	}
	res.UseSpool(path)

	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"), "GITHUB_OUTPUT": filepath.Join(dir, "out.txt")}
	var out, errb bytes.Buffer
	st := &state{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	f := runFlags{junit: filepath.Join(dir, "r.xml"), jsonOut: filepath.Join(dir, "r.json"), html: filepath.Join(dir, "r.html"),
		markdown: filepath.Join(dir, "r.md"), history: filepath.Join(dir, "h.db")}
	if err := writeReports(st, res, nil, nil, f); err != nil {
		t.Fatal(err)
	}
	if got := res.SpoolReads(); got != 1 {
		t.Errorf("the spool was read %d times for all reports, want 1", got)
	}
	for _, p := range []string{f.junit, f.jsonOut, f.html, f.markdown, f.history, env["GITHUB_STEP_SUMMARY"]} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	back, err := results.ReadFile(f.jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Tests) != n {
		t.Errorf("JSON report has %d tests, want %d", len(back.Tests), n)
	}
	if !strings.Contains(out.String(), "::stop-commands::") || !strings.Contains(out.String(), "FAILED: 3000 tests") {
		t.Errorf("console output under GitHub Actions:\n%.600s", out.String())
	}
}
