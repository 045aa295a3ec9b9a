package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestJUnitFlavorGitHub: --junit-flavor github on run, report and merge
// puts the suite path relative to $GITHUB_WORKSPACE and the test's line on
// every testcase; without it the file stays valid against the strict XSD.
func TestJUnitFlavorGitHub(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	ws := t.TempDir()
	dir := filepath.Join(ws, "evals")
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "shop.eval.yaml", chainSuite)
	out := t.TempDir()
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k", "GITHUB_WORKSPACE", ws)
	js, strict, flavored := filepath.Join(out, "r.json"), filepath.Join(out, "strict.xml"), filepath.Join(out, "run.xml")
	if o := c.run("run", "--cache-mode", "off", "--shard", "1/1", "--json", js, "--junit", flavored, "--junit-flavor", "github", suite); o.code != 1 {
		t.Fatalf("run exit %d, want 1\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	report, merged := filepath.Join(out, "report.xml"), filepath.Join(out, "merged.xml")
	if o := c.run("report", js, "--junit", report, "--junit-flavor", "github"); o.code != 0 {
		t.Fatalf("report: %+v", o)
	}
	if o := c.run("merge", js, "--junit", merged, "--junit-flavor", "github"); o.code != 1 {
		t.Fatalf("merge: %+v", o)
	}
	if o := c.run("report", js, "--junit", strict); o.code != 0 {
		t.Fatalf("report: %+v", o)
	}
	xmllint(t, strict)

	// The lines of the tests in chainSuite.
	want := map[string]int{"facts mention the item": 4, "pitch uses the facts": 9, "deliberately failing": 15}
	for _, path := range []string{flavored, report, merged} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				File    string `xml:"file,attr"`
				Line    int    `xml:"line,attr"`
				Failure *struct {
					Body string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testsuite>testcase"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		if len(doc.Cases) != len(want) {
			t.Fatalf("%s: %d testcases, want %d", path, len(doc.Cases), len(want))
		}
		for _, tc := range doc.Cases {
			if tc.File != "evals/shop.eval.yaml" || tc.Line != want[tc.Name] {
				t.Errorf("%s: %s at %s:%d, want evals/shop.eval.yaml:%d", filepath.Base(path), tc.Name, tc.File, tc.Line, want[tc.Name])
			}
			if tc.Failure != nil && !strings.HasPrefix(tc.Failure.Body, "evals/shop.eval.yaml:15\n") {
				t.Errorf("%s: failure body does not start with FILE:LINE: %q", filepath.Base(path), tc.Failure.Body)
			}
		}
	}

	if o := c.run("report", js, "--junit", report, "--junit-flavor", "gitlab"); o.code != 2 || !strings.Contains(o.stderr, "known: github") {
		t.Errorf("unknown flavor: %+v", o)
	}
}
