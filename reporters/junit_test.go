package reporters

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// xmllint validates path against the strict XSD; it skips when xmllint is
// missing, except under CI, where a skipped check would hide a broken file.
func xmllint(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(xmllintBin(t), "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint --schema junit.xsd %s: %v\n%s", path, err, out)
	}
}

func xmllintBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not found; install libxml2-utils (CI is set, so this is not skipped)")
		}
		t.Skip("xmllint not found; install libxml2-utils")
	}
	return bin
}

func TestJUnitValidatesAgainstXSD(t *testing.T) {
	cases := []struct {
		name string
		r    *results.Results
		opts Options
	}{
		{"nasty, default cap", fixture(true), Options{}},
		{"nasty, tiny cap", fixture(true), Options{MaxOutput: 10}},
		{"empty run", &results.Results{Version: results.ResultsVersion}, Options{}},
		{"tests of an unlisted suite", func() *results.Results { r := fixture(false); r.Suites = nil; return r }(), Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			if err := os.WriteFile(path, render(t, "junit", tc.opts, tc.r), 0o644); err != nil {
				t.Fatal(err)
			}
			xmllint(t, path)
		})
	}
	t.Run("golden", func(t *testing.T) { xmllint(t, filepath.Join("testdata", "golden", "junit.golden")) })
}

func TestJUnitParsesBack(t *testing.T) {
	r := fixture(true)
	out := render(t, "junit", Options{}, r)
	if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
		t.Fatalf("no XML header: %q", out[:min(60, len(out))])
	}
	var got junit.Testsuites
	if err := xml.Unmarshal(out, &got); err != nil {
		t.Fatalf("parse junit: %v", err)
	}
	if got.Tests != 10 || got.Failures != 4 || got.Errors != 1 || got.Skipped != 0 {
		t.Errorf("root tests/failures/errors/skipped = %d/%d/%d/%d, want 10/4/1/0 (skipped stays off the root)",
			got.Tests, got.Failures, got.Errors, got.Skipped)
	}
	if len(got.Suites) != 2 {
		t.Fatalf("%d testsuites, want 2", len(got.Suites))
	}
	travel, extract := got.Suites[0], got.Suites[1]
	if travel.Name != "NYC trip planner" || travel.File != "examples/travel.eval.yaml" || extract.Name != "examples/extract.eval.yaml" {
		t.Errorf("suite names/files = %q %q %q", travel.Name, travel.File, extract.Name)
	}
	if extract.Tests != 7 || extract.Failures != 2 || extract.Errors != 1 || extract.Skipped != 1 || len(extract.Testcases) != 7 {
		t.Errorf("extract suite = %+v", extract)
	}
	if travel.Timestamp != "2025-03-14T15:09:26Z" || travel.Time != "4.535" {
		t.Errorf("travel timestamp/time = %q %q", travel.Timestamp, travel.Time)
	}

	seen := map[string]bool{}
	byName := map[string]junit.Testcase{}
	for _, s := range got.Suites {
		for _, tc := range s.Testcases {
			if seen[tc.Name] {
				t.Errorf("testcase name %q used twice", tc.Name)
			}
			seen[tc.Name] = true
			byName[tc.Name] = tc
		}
	}
	if _, ok := byName["lists attractions (examples/extract.eval.yaml)"]; !ok {
		t.Errorf("repeated name not made unique: %v", seen)
	}
	first := byName["lists attractions"]
	if first.Classname != "NYC Trip Planner.get_activities" || first.Time != "1.235" {
		t.Errorf("classname/time = %q %q", first.Classname, first.Time)
	}
	if c := byName["extract name"].Classname; c != "extract_v2.extract_person" {
		t.Errorf("dots inside parts must become _: classname = %q", c)
	}

	json := byName["answers as JSON"]
	if json.Failure == nil || json.Failure.Type != "equals" || json.Failure.Message != "output does not equal the expected text" ||
		!strings.Contains(json.Failure.Data, "PASS is-json") || !strings.Contains(json.Failure.Data, `+{"answer": "Central Park", "count": 3}`) {
		t.Errorf("failure of answers as JSON = %+v", json.Failure)
	}
	if e := byName["extract name"].Error; e == nil || e.Message != "provider unreachable after 3 tries: 503 Service Unavailable retry-after: 1" {
		t.Errorf("error = %+v", e)
	}
	if s := byName["needs vision"].Skipped; s == nil || s.Message != "needs a vision model" {
		t.Errorf("skipped = %+v", s)
	}
	if f := byName["flaky rubric"].Failure; f == nil || f.Type != "pass_rate" || !strings.Contains(f.Data, "pass rate 5/10") {
		t.Errorf("pass-rate failure = %+v", f)
	}

	nasty := byName[`nasty <output> & "quotes" ]]> red`]
	if nasty.Failure == nil || nasty.SystemOut == nil {
		t.Fatalf("nasty testcase lost its failure or output: %+v", nasty)
	}
	// "]]>" survives inside CDATA: the parser gives it back whole.
	for _, s := range []string{nasty.SystemOut.Data, nasty.Failure.Data} {
		if !strings.Contains(s, "cdata end ]]> inside") || !strings.Contains(s, "\uFFFD") || strings.ContainsAny(s, "\x00\x1b") {
			t.Errorf("nasty text not cleaned as expected: %q", s[:min(len(s), 300)])
		}
	}
	if !strings.Contains(nasty.SystemOut.Data, "red and plain") {
		t.Errorf("ANSI sequences not stripped: %q", nasty.SystemOut.Data[:60])
	}

	long := byName["long output"].SystemOut.Data
	if len(long) > DefaultMaxOutput || len(long) < DefaultMaxOutput-100 {
		t.Errorf("1 MB output capped to %d bytes, want just under %d", len(long), DefaultMaxOutput)
	}
	if !strings.HasPrefix(long, "line  ]]> bold\n") || !strings.Contains(long, "bytes omitted") ||
		!strings.HasSuffix(long, " ]]> bold\n") {
		t.Errorf("capped output lost its head or tail: %q ... %q", long[:40], long[len(long)-40:])
	}
}

// The xmllint check is not vacuous: it refuses exactly the traps this
// reporter avoids (go-junit-report's WriteXML with a root skipped count,
// raw ESC in CDATA, a testcase file attribute, 4-decimal times).
func TestXmllintRefusesTheTraps(t *testing.T) {
	ok := junit.Testsuites{}
	ok.AddSuite(junit.Testsuite{Name: "s", Time: "1.000", Testcases: []junit.Testcase{{Name: "a", Classname: "c"}}})
	cases := map[string]func() string{
		"root skipped": func() string {
			s := ok
			s.Skipped = 1
			var b bytes.Buffer
			s.WriteXML(&b)
			return b.String()
		},
		"raw ESC in CDATA": func() string {
			return `<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"><system-out><![CDATA[` + "\x1b[31m" + `]]></system-out></testcase></testsuite></testsuites>`
		},
		"testcase file attribute": func() string {
			return `<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" file="x"/></testsuite></testsuites>`
		},
		"four decimals": func() string {
			return `<testsuites time="1.2345"></testsuites>`
		},
	}
	bin := xmllintBin(t)
	for name, doc := range cases {
		path := filepath.Join(t.TempDir(), "bad.xml")
		if err := os.WriteFile(path, []byte(doc()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := exec.Command(bin, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).Run(); err == nil {
			t.Errorf("%s: xmllint accepted it", name)
		}
	}
}

// TestNameSetAcrossMerges holds the name set to a plain map of names
// past several merges of its recent map into the sorted slice.
func TestNameSetAcrossMerges(t *testing.T) {
	s := newNameSet()
	want := map[string]bool{}
	for i := range 3*nameSetRecent + 17 {
		name := fmt.Sprintf("case-%d", i*7%(2*nameSetRecent))
		if got := s.has(name); got != want[name] {
			t.Fatalf("has(%q) = %v after %d adds, want %v", name, got, i, want[name])
		}
		s.add(name)
		want[name] = true
	}
	for _, name := range []string{"case-1", "case-" + fmt.Sprint(2*nameSetRecent-1)} {
		if !s.has(name) {
			t.Errorf("%q lost", name)
		}
	}
	if s.has("never") {
		t.Error("a name never added is there")
	}
	if !slices.IsSorted(s.sorted) || len(s.sorted) != 3*nameSetRecent {
		t.Errorf("merged hashes: %d, sorted %v; want %d, sorted", len(s.sorted), slices.IsSorted(s.sorted), 3*nameSetRecent)
	}
}
