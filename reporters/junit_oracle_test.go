package reporters

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// oracleReport is the JUnit writer as it was on encoding/xml's Encoder:
// the new one must write the same bytes.
func (j *JUnit) oracleReport(w io.Writer, r *results.Results) error {
	suites, total, err := results.Suites(r)
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := io.WriteString(bw, xml.Header); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "\t")

	// The root carries only what the XSD allows: name, time, tests,
	// failures, errors (no skipped, no disabled).
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{
		oracleAttr("name", "aieval"),
		oracleAttr("time", seconds(r.Summary.DurationMS)),
		oracleAttr("tests", strconv.Itoa(total.Total)),
		oracleAttr("failures", strconv.Itoa(total.Failed)),
		oracleAttr("errors", strconv.Itoa(total.Errors)),
	}}
	if err := enc.EncodeToken(root); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if err := j.oracleSuites(enc, r, suites); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if err := enc.Flush(); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if _, err := io.WriteString(bw, "\n"); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return bw.Flush()
}

func (j *JUnit) oracleSuites(enc *xml.Encoder, r *results.Results, suites []*results.SuiteTotal) error {
	used := newNameSet() // testcase names already in the file
	if !r.Spooled() && !grouped(r.Tests) {
		for i, st := range suites {
			if err := j.oracleOpenSuite(enc, r, i, st); err != nil {
				return err
			}
			for k := range r.Tests {
				if t := &r.Tests[k]; t.Suite == st.Info.Path {
					if err := j.oracleTestcase(enc, t, st.Info, used); err != nil {
						return err
					}
				}
			}
			if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
				return err
			}
		}
		return nil
	}
	index := make(map[string]int, len(suites))
	for i, st := range suites {
		index[st.Info.Path] = i
	}
	written := make([]bool, len(suites))
	cur, next := -1, 0 // the open suite; the first suite not yet written
	end := func() error {
		if cur < 0 {
			return nil
		}
		cur = -1
		return enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuite"}})
	}
	// empties writes, in order, the suites before upTo that have no test.
	empties := func(upTo int) error {
		for ; next < upTo; next++ {
			if !written[next] && suites[next].Total == 0 {
				written[next] = true
				if err := j.oracleOpenSuite(enc, r, next, suites[next]); err != nil {
					return err
				}
				if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := r.Each(func(t *results.TestResult) error {
		i, ok := index[t.Suite]
		if !ok {
			return fmt.Errorf("test %s of a suite missing from the results' suites", t.ID())
		}
		if i != cur {
			if written[i] {
				return fmt.Errorf("tests of suite %s are not together in the results", t.Suite)
			}
			if err := end(); err != nil {
				return err
			}
			if err := empties(i); err != nil {
				return err
			}
			written[i], cur = true, i
			if err := j.oracleOpenSuite(enc, r, i, suites[i]); err != nil {
				return err
			}
		}
		return j.oracleTestcase(enc, t, suites[i].Info, used)
	})
	if err != nil {
		return err
	}
	if err := end(); err != nil {
		return err
	}
	return empties(len(suites))
}

// openSuite writes the start of one testsuite and its properties.
func (j *JUnit) oracleOpenSuite(enc *xml.Encoder, r *results.Results, id int, st *results.SuiteTotal) error {
	ts := junit.Testsuite{
		Name:     text.OneLine(st.Info.Name(), 0),
		Tests:    st.Total,
		Failures: st.Failed,
		Errors:   st.Errors,
		ID:       id,
		Skipped:  st.Skipped,
		Time:     seconds(st.LatencyMS),
		File:     text.Sanitize(st.Info.Path),
		Hostname: text.OneLine(j.opts.Hostname, 0),
	}
	if !r.StartedAt.IsZero() {
		ts.SetTimestamp(r.StartedAt.UTC().Truncate(time.Second))
	}
	// No property name repeats in the file: xunitparser (and others that
	// merge every testsuite's properties into one map) refuse a repeated
	// name. The run's own properties go on the first testsuite only; a
	// suite's are named after its id (suite.0.aiconfig, suite.1.aiconfig).
	props := [][2]string{
		{suiteProperty(id, "aiconfig"), st.Info.Config},
		{suiteProperty(id, "aiconfig.name"), st.Info.ConfigName},
		{suiteProperty(id, "aiconfig.sha256"), st.Info.ConfigSHA256},
	}
	if id == 0 {
		props = append(props, [][2]string{{"run_id", r.RunID}, {"git_sha", r.GitSHA}, {"git_ref", r.GitRef}}...)
	}
	for _, p := range props {
		if p[1] != "" {
			ts.AddProperty(p[0], text.OneLine(p[1], 0))
		}
	}

	start := xml.StartElement{Name: xml.Name{Local: "testsuite"}, Attr: []xml.Attr{
		oracleAttr("name", ts.Name),
		oracleAttr("tests", strconv.Itoa(ts.Tests)),
		oracleAttr("failures", strconv.Itoa(ts.Failures)),
		oracleAttr("errors", strconv.Itoa(ts.Errors)),
		oracleAttr("skipped", strconv.Itoa(ts.Skipped)),
		oracleAttr("time", ts.Time),
		oracleAttr("id", strconv.Itoa(ts.ID)),
		oracleAttr("file", ts.File),
	}}
	if ts.Timestamp != "" {
		start.Attr = append(start.Attr, oracleAttr("timestamp", ts.Timestamp))
	}
	if ts.Hostname != "" {
		start.Attr = append(start.Attr, oracleAttr("hostname", ts.Hostname))
	}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	if ts.Properties != nil {
		props := struct {
			P []junit.Property `xml:"property"`
		}{*ts.Properties}
		if err := enc.EncodeElement(props, xml.StartElement{Name: xml.Name{Local: "properties"}}); err != nil {
			return err
		}
	}
	return nil
}

// testcase writes one test.
func (j *JUnit) oracleTestcase(enc *xml.Encoder, t *results.TestResult, info results.SuiteInfo, used *nameSet) error {
	tc := j.testcaseOf(t, info, used)
	start := xml.StartElement{Name: xml.Name{Local: "testcase"}}
	if j.opts.JUnitFlavor == JUnitFlavorGitHub {
		return enc.EncodeElement(j.githubCase(tc, t), start)
	}
	return enc.EncodeElement(tc, start)
}

func oracleAttr(name, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: name}, Value: value}
}

// FuzzJUnitMatchesEncodingXML holds the hand-written JUnit writer to the
// bytes encoding/xml wrote for the same elements, in both flavors, with
// hostile names, outputs and reasons.
func FuzzJUnitMatchesEncodingXML(f *testing.F) {
	f.Add("lists attractions", "Central Park\x1b[31m red\x1b[0m", "missing \"x\" & <y> 'z'", "suite.eval.yaml", "get.activities", uint8(1), 0.5, 3)
	f.Add("a]]>b", "<![CDATA[ x ]]> y ]]>]]>", "]]>", "]]>", "]]>", uint8(2), -1.0, 0)
	f.Add("\x00\x01\x08\x0b\x0c\x1f", "\xff\xfe\xed\xa0\x80\ufffe\uffff", "\r\n\t", "\x7f", "", uint8(0), 1e308, -2)
	f.Add("", "", "", "", "", uint8(3), 0.0, 1)
	f.Add("dup", "é\u2028\U0001F600", "a\tb\nc\rd", "s.yaml", "p", uint8(4), 12.5, 7)
	f.Fuzz(func(t *testing.T, name, output, reason, suite, prompt string, status uint8, score float64, line int) {
		statuses := []results.Status{results.StatusPass, results.StatusFail, results.StatusError, results.StatusSkip}
		th := score
		res := &results.Results{Version: results.ResultsVersion, RunID: reason, StartedAt: time.Unix(1700000000, 0), GitSHA: name,
			Suites: []results.SuiteInfo{{Path: suite, Config: prompt, ConfigName: reason}, {Path: suite + "2"}, {Path: suite + "3", Config: output}}}
		for i := range 5 {
			tr := results.TestResult{Suite: suite, Name: name, Line: line + i, Config: prompt, Prompt: prompt, Output: output,
				LatencyMS: score, Status: statuses[(int(status)+i)%4], Score: score, Threshold: &th, Reason: reason,
				Assertions: []results.AssertionResult{{Type: reason, Score: score, Reason: output, Diff: reason + "\n" + output}}}
			if i == 4 {
				tr.Suite = suite + "3"
				tr.Output = ""
			}
			res.Summary.Add(&tr)
			res.Tests = append(res.Tests, tr)
		}
		for _, flavor := range []string{"", JUnitFlavorGitHub} {
			j := &JUnit{opts: Options{Hostname: name, MaxOutput: 4096, JUnitFlavor: flavor}}
			var got, want bytes.Buffer
			if err := j.Report(&got, res); err != nil {
				t.Fatal(err)
			}
			if err := j.oracleReport(&want, res); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("flavor %q: JUnit differs from encoding/xml's:\n got %q\nwant %q", flavor, got.String(), want.String())
			}
		}
	})
}
