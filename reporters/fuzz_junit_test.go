package reporters

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// FuzzJUnit puts random names, outputs and reasons into a run: the JUnit
// bytes must decode as well-formed XML with encoding/xml, hold only
// characters XML 1.0 allows, and keep one testcase per test.
func FuzzJUnit(f *testing.F) {
	f.Add("lists attractions", "Central Park\x1b[31m red\x1b[0m", "missing \"x\"", "suite.eval.yaml", "get.activities", uint8(1), 0.5)
	f.Add("a]]>b", "<![CDATA[ x ]]> y ]]>", "]]>", "]]>", "]]>", uint8(2), math.NaN())
	f.Add("\x00\x01\x08\x0b\x0c\x1f", "\xff\xfe\xed\xa0\x80\ufffe\uffff", "\r\n\t", "\x7f", "", uint8(0), math.Inf(-1))
	f.Add("", "", "", "", "", uint8(3), -1.0)
	f.Add("\x1b]8;;http://x\x07link\x1b]8;;\x07", strings.Repeat("é", 40000), "\x1b[", "a\nb", "p", uint8(1), 1e308)
	f.Fuzz(func(t *testing.T, name, output, reason, suite, prompt string, status uint8, score float64) {
		statuses := []results.Status{results.StatusPass, results.StatusFail, results.StatusError, results.StatusSkip}
		st := statuses[int(status)%len(statuses)]
		th := score
		res := &results.Results{
			Version:   results.ResultsVersion,
			RunID:     reason,
			StartedAt: time.Unix(1700000000, 0),
			GitSHA:    name,
			GitRef:    output[:min(len(output), 64)],
			Suites:    []results.SuiteInfo{{Path: suite, Description: name, Config: prompt, ConfigName: reason, ConfigSHA256: output[:min(len(output), 16)]}},
		}
		for i, s := range []results.Status{st, statuses[(int(status)+1)%4], results.StatusFail} {
			tr := results.TestResult{
				Suite: suite, Name: name, Config: prompt, ConfigName: reason, Prompt: prompt,
				Output: output, LatencyMS: score, Status: s, Score: score, Threshold: &th, Reason: reason,
				Assertions: []results.AssertionResult{
					{Type: reason, Pass: i%2 == 0, Score: score, Reason: output, Diff: reason + "\n" + output, Metric: name},
					{Type: "contains", Pass: false, Score: 0, Reason: reason, Error: i == 1},
				},
			}
			if i == 2 {
				tr.PassRate = &results.PassRate{Runs: 3, Passed: 1, Rate: score, Low: score, High: score, Required: score}
			}
			res.Summary.Add(&tr)
			res.Tests = append(res.Tests, tr)
		}
		res.Summary.DurationMS = score

		var buf bytes.Buffer
		if err := (&JUnit{opts: Options{Hostname: name, MaxOutput: 4096}}).Report(&buf, res); err != nil {
			t.Fatalf("report: %v", err)
		}
		out := buf.Bytes()
		if !utf8.Valid(out) {
			t.Fatalf("JUnit is not valid UTF-8")
		}
		for i, r := range string(out) {
			if !text.XMLChar(r) {
				t.Fatalf("character %U at byte %d is not allowed in XML", r, i)
			}
		}
		if bytes.IndexByte(out, 0x1b) >= 0 {
			t.Fatal("an ANSI escape reached the JUnit file")
		}
		var doc struct {
			XMLName xml.Name `xml:"testsuites"`
			Suites  []struct {
				Cases []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		dec := xml.NewDecoder(bytes.NewReader(out))
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if cd, ok := tok.(xml.CharData); err != nil || !ok || len(bytes.TrimSpace(cd)) > 0 {
				t.Fatalf("data after the root element: %v %v", tok, err)
			}
		}
		if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 {
			t.Fatalf("want 1 testsuite with 3 testcases, got %+v", doc.Suites)
		}
		seen := map[string]bool{}
		for _, c := range doc.Suites[0].Cases {
			if seen[c.Name] {
				t.Fatalf("testcase name %q repeated", c.Name)
			}
			seen[c.Name] = true
		}
	})
}
