package reporters

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// flavoredDoc is what the GitHub consumers read of a JUnit file.
type flavoredDoc struct {
	Suites []struct {
		Name       string `xml:"name,attr"`
		Properties []struct {
			Name string `xml:"name,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			File    string `xml:"file,attr"`
			Line    int    `xml:"line,attr"`
			Failure *struct {
				Body string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Body string `xml:",chardata"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseFlavored(t *testing.T, out []byte) flavoredDoc {
	t.Helper()
	var doc flavoredDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("flavored JUnit does not parse: %v", err)
	}
	return doc
}

// TestJUnitGitHubFlavor: every testcase says where its test is written,
// with the path GitHub annotations use, and failure bodies start with it.
func TestJUnitGitHubFlavor(t *testing.T) {
	r := fixture(false)
	type where struct {
		suite string
		line  int
	}
	var want []where // in report order, as the testcases are written
	_ = r.Each(func(tr *results.TestResult) error { want = append(want, where{tr.Suite, tr.Line}); return nil })
	opts := Options{JUnitFlavor: JUnitFlavorGitHub, FilePath: func(s string) string {
		if strings.Contains(s, "extract") {
			return "" // outside the workspace: no file is named
		}
		return "repo/" + s
	}}
	doc := parseFlavored(t, render(t, "junit", opts, r))
	n := 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if n >= len(want) {
				t.Fatalf("more testcases than tests")
			}
			w := want[n]
			n++
			wantFile := "repo/" + w.suite
			if strings.Contains(w.suite, "extract") {
				wantFile = ""
			}
			if c.File != wantFile || c.Line != w.line {
				t.Errorf("%s: file=%q line=%d, want %q %d", c.Name, c.File, c.Line, wantFile, w.line)
			}
			for _, body := range []*struct {
				Body string `xml:",chardata"`
			}{c.Failure, c.Error} {
				if body == nil {
					continue
				}
				named := wantFile != "" && w.line > 0
				if got := strings.HasPrefix(body.Body, fmt.Sprintf("%s:%d\n", wantFile, w.line)); got != named {
					t.Errorf("%s: body starts %q, want the FILE:LINE line only when a file is named", c.Name, body.Body[:min(40, len(body.Body))])
				}
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d testcases, want %d", n, len(want))
	}

	// The default stays the strict file: no attribute the XSD refuses.
	strict := parseFlavored(t, render(t, "junit", Options{}, r))
	for _, s := range strict.Suites {
		for _, c := range s.Cases {
			if c.File != "" || c.Line != 0 {
				t.Errorf("strict JUnit has file/line on %s", c.Name)
			}
		}
	}
}

// TestJUnitPropertyNamesUnique: xunitparser merges the properties of every
// testsuite into one map and refuses a repeated name.
func TestJUnitPropertyNamesUnique(t *testing.T) {
	for _, flavor := range append([]string{""}, JUnitFlavors()...) {
		doc := parseFlavored(t, render(t, "junit", Options{JUnitFlavor: flavor}, fixture(false)))
		if len(doc.Suites) < 2 {
			t.Fatalf("fixture has %d suites, want several", len(doc.Suites))
		}
		seen := map[string]bool{}
		for _, s := range doc.Suites {
			for _, p := range s.Properties {
				if seen[p.Name] {
					t.Errorf("flavor %q: property %q repeats", flavor, p.Name)
				}
				seen[p.Name] = true
			}
		}
		for _, want := range []string{"run_id", "git_sha", "suite.0.aiconfig.sha256", "suite.1.aiconfig.sha256"} {
			if !seen[want] {
				t.Errorf("flavor %q: no property %q (have %v)", flavor, want, seen)
			}
		}
	}
}

func TestCheckJUnitFlavor(t *testing.T) {
	for _, ok := range []string{"", "github"} {
		if err := CheckJUnitFlavor(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if err := CheckJUnitFlavor("gitlab"); err == nil || !strings.Contains(err.Error(), "known: github") {
		t.Errorf("unknown flavor: %v", err)
	}
}
