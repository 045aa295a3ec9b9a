package reporters

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

func init() { register("junit", func(o Options) Reporter { return &JUnit{opts: o} }) }

// JUnit writes the strict Jenkins/Ant JUnit XML of the contract
// (../shared/junit/junit.xsd). Elements are go-junit-report's junit types,
// but the file is written element by element rather than with
// Testsuites.WriteXML, for three reasons: WriteXML writes no XML header, it
// writes the root `skipped` attribute the XSD refuses, and it needs every
// test in memory, where a large run must stream from the spool.
type JUnit struct{ opts Options }

// junitMaxMessage caps the one-line message attribute of failure and error.
const junitMaxMessage = 1000

// openRoot starts a JUnit file on w: the XML header and the root, which
// carries only what the XSD allows: name, time, tests, failures, errors
// (no skipped, no disabled).
func openRoot(w io.Writer, r *results.Results, total *results.SuiteTotal) (*bufio.Writer, *xmlWriter) {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(xml.Header)
	x := &xmlWriter{w: bw}
	x.start("testsuites", "name", "aieval", "time", seconds(r.Summary.DurationMS),
		"tests", strconv.Itoa(total.Total), "failures", strconv.Itoa(total.Failed), "errors", strconv.Itoa(total.Errors))
	return bw, x
}

// Report writes the JUnit XML.
func (j *JUnit) Report(w io.Writer, r *results.Results) error {
	if r.Live() {
		return j.reportLive(w, r)
	}
	suites, total, err := results.Suites(r)
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	bw, x := openRoot(w, r, total)
	if err := j.suites(x, r, suites); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	x.end("testsuites")
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil { // a write error sticks to bw
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}

// suites writes every testsuite in one pass over the tests, which come
// grouped by suite (the runner and Merge write them in report order). Only
// one test is in memory at a time. Results held in memory that are not
// grouped (a hand-made file) are written suite by suite instead.
func (j *JUnit) suites(x *xmlWriter, r *results.Results, suites []*results.SuiteTotal) error {
	used := newNameSet() // testcase names already in the file
	if !r.Spooled() && !grouped(r.Tests) {
		for i, st := range suites {
			j.openSuite(x, r, i, st)
			for k := range r.Tests {
				if t := &r.Tests[k]; t.Suite == st.Info.Path {
					j.testcase(x, t, st.Info, used)
				}
			}
			x.end("testsuite")
		}
		return nil
	}
	index := make(map[string]int, len(suites))
	for i, st := range suites {
		index[st.Info.Path] = i
	}
	written := make([]bool, len(suites))
	cur, next := -1, 0 // the open suite; the first suite not yet written
	end := func() {
		if cur >= 0 {
			cur = -1
			x.end("testsuite")
		}
	}
	// empties writes, in order, the suites before upTo that have no test.
	empties := func(upTo int) {
		for ; next < upTo; next++ {
			if !written[next] && suites[next].Total == 0 {
				written[next] = true
				j.openSuite(x, r, next, suites[next])
				x.end("testsuite")
			}
		}
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
			end()
			empties(i)
			written[i], cur = true, i
			j.openSuite(x, r, i, suites[i])
		}
		j.testcase(x, t, suites[i].Info, used)
		return nil
	})
	if err != nil {
		return err
	}
	end()
	empties(len(suites))
	return nil
}

// reportLive writes the file of a live run: the testcases go to a spill as
// the tests come, suite after suite, and the file is put together once the
// run ends and the totals of the root and of every testsuite are known:
// the same bytes as Report writes from a finished run.
func (j *JUnit) reportLive(w io.Writer, r *results.Results) error {
	spill, _ := NewSpillBuffer(true)
	defer spill.Close()
	sw := bufio.NewWriterSize(spill, 64<<10)
	tx := &xmlWriter{w: sw}
	type segment struct {
		suite    int
		from, to int64 // of the spill: the suite's testcases
	}
	var segs []segment
	var infos []results.SuiteInfo
	var index map[string]int
	used := newNameSet()
	at := func() int64 { return spill.Size() + int64(sw.Buffered()) }
	err := r.Each(func(t *results.TestResult) error {
		if index == nil {
			infos, index = suiteIndex(r.Suites)
		}
		i, ok := index[t.Suite]
		if !ok {
			return fmt.Errorf("test %s of a suite missing from the results' suites", t.ID())
		}
		if n := len(segs); n == 0 || segs[n-1].suite != i {
			for _, s := range segs {
				if s.suite == i {
					return fmt.Errorf("tests of suite %s are not together in the results", t.Suite)
				}
			}
			if n > 0 {
				segs[n-1].to = at()
			}
			segs = append(segs, segment{suite: i, from: at()})
			// As after openSuite: inside testsuites and testsuite.
			tx.depth, tx.putNewline = 2, true
		}
		j.testcase(tx, t, infos[i], used)
		return nil
	})
	if err == nil {
		if n := len(segs); n > 0 {
			segs[n-1].to = at()
		}
		err = sw.Flush()
	}
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	suites, total, err := results.Suites(r)
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	bw, x := openRoot(w, r, total)
	written := make([]bool, len(suites))
	next := 0
	empties := func(upTo int) { // as in suites: the suites before upTo with no test
		for ; next < upTo; next++ {
			if !written[next] && suites[next].Total == 0 {
				written[next] = true
				j.openSuite(x, r, next, suites[next])
				x.end("testsuite")
			}
		}
	}
	for _, s := range segs {
		if s.suite >= len(suites) {
			return errors.New("junit report: the run's suites changed while it ran")
		}
		empties(s.suite)
		written[s.suite] = true
		j.openSuite(x, r, s.suite, suites[s.suite])
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("junit report: %w", err)
		}
		if err := spill.CopyRange(bw, s.from, s.to-s.from); err != nil {
			return fmt.Errorf("junit report: %w", err)
		}
		x.indentedIn = false // the last thing written is a testcase's end
		x.end("testsuite")
	}
	empties(len(suites))
	x.end("testsuites")
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}

// suiteIndex numbers the run's suites as Suites orders them (first
// listing of a path).
func suiteIndex(list []results.SuiteInfo) ([]results.SuiteInfo, map[string]int) {
	var infos []results.SuiteInfo
	index := map[string]int{}
	for _, s := range list {
		if _, dup := index[s.Path]; !dup {
			index[s.Path] = len(infos)
			infos = append(infos, s)
		}
	}
	return infos, index
}

// grouped reports whether the tests of each suite are consecutive.
func grouped(tests []results.TestResult) bool {
	done := map[string]bool{}
	for i := range tests {
		s := tests[i].Suite
		if i > 0 && tests[i-1].Suite != s {
			done[tests[i-1].Suite] = true
		}
		if done[s] {
			return false
		}
	}
	return true
}

// openSuite writes the start of one testsuite and its properties.
func (j *JUnit) openSuite(x *xmlWriter, r *results.Results, id int, st *results.SuiteTotal) {
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

	attrs := []string{"name", ts.Name, "tests", strconv.Itoa(ts.Tests), "failures", strconv.Itoa(ts.Failures),
		"errors", strconv.Itoa(ts.Errors), "skipped", strconv.Itoa(ts.Skipped), "time", ts.Time,
		"id", strconv.Itoa(ts.ID), "file", ts.File}
	if ts.Timestamp != "" {
		attrs = append(attrs, "timestamp", ts.Timestamp)
	}
	if ts.Hostname != "" {
		attrs = append(attrs, "hostname", ts.Hostname)
	}
	x.start("testsuite", attrs...)
	if ts.Properties != nil {
		x.start("properties")
		for _, p := range *ts.Properties {
			x.start("property", "name", p.Name, "value", p.Value)
			x.end("property")
		}
		x.end("properties")
	}
}

// testcase writes one test, with go-junit-report's Testcase fields in
// their order (attributes, then skipped, error, failure, system-out,
// system-err); the GitHub flavor adds file and line attributes.
func (j *JUnit) testcase(x *xmlWriter, t *results.TestResult, info results.SuiteInfo, used *nameSet) {
	tc := j.testcaseOf(t, info, used)
	attrs := make([]string, 0, 10)
	attrs = append(attrs, "name", tc.Name, "classname", tc.Classname)
	if tc.Time != "" {
		attrs = append(attrs, "time", tc.Time)
	}
	if tc.Status != "" {
		attrs = append(attrs, "status", tc.Status)
	}
	if j.opts.JUnitFlavor == JUnitFlavorGitHub {
		g := j.githubCase(tc, t)
		if g.File != "" {
			attrs = append(attrs, "file", g.File)
		}
		if g.Line != 0 {
			attrs = append(attrs, "line", strconv.Itoa(g.Line))
		}
	}
	x.start("testcase", attrs...)
	for _, r := range []struct {
		name string
		r    *junit.Result
	}{{"skipped", tc.Skipped}, {"error", tc.Error}, {"failure", tc.Failure}} {
		if r.r == nil {
			continue
		}
		if r.r.Type != "" {
			x.start(r.name, "message", r.r.Message, "type", r.r.Type)
		} else {
			x.start(r.name, "message", r.r.Message)
		}
		x.cdata(r.r.Data)
		x.end(r.name)
	}
	for _, o := range []struct {
		name string
		o    *junit.Output
	}{{"system-out", tc.SystemOut}, {"system-err", tc.SystemErr}} {
		if o.o != nil {
			x.start(o.name)
			x.cdata(o.o.Data)
			x.end(o.name)
		}
	}
	x.end("testcase")
}

// testcaseOf maps one test per the contract.
func (j *JUnit) testcaseOf(t *results.TestResult, info results.SuiteInfo, used *nameSet) junit.Testcase {
	tc := junit.Testcase{
		Name:      uniqueName(text.OneLine(t.Name, 0), t.Suite, used),
		Classname: classname(t, info),
		Time:      seconds(t.LatencyMS),
	}
	switch t.Status {
	case results.StatusFail:
		typ := "threshold"
		if t.PassRate != nil {
			typ = "pass_rate"
		}
		msg := reasonOf(t)
		if a, ok := firstFailure(t); ok {
			typ, msg = a.Type, a.Reason
		}
		tc.Failure = &junit.Result{Message: text.OneLine(msg, junitMaxMessage), Type: text.OneLine(typ, 0), Data: j.body(t)}
	case results.StatusError:
		tc.Error = &junit.Result{Message: text.OneLine(reasonOf(t), junitMaxMessage), Type: "error", Data: j.body(t)}
	case results.StatusSkip:
		tc.Skipped = &junit.Result{Message: text.OneLine(reasonOf(t), junitMaxMessage)}
	}
	if t.Output != "" {
		tc.SystemOut = &junit.Output{Data: text.Cap(text.Sanitize(t.Output), j.opts.MaxOutput)}
	}
	if n := responseNote(t); n != "" {
		tc.SystemErr = &junit.Output{Data: "aieval: " + n}
	}
	return tc
}

// body lists every assertion's result, with diffs, for a failure or error.
func (j *JUnit) body(t *results.TestResult) string {
	var b strings.Builder
	if n := responseNote(t); n != "" {
		b.WriteString(n + "\n")
	}
	if t.Status == results.StatusError && t.Reason != "" {
		b.WriteString(t.Reason + "\n")
	}
	if t.Threshold != nil {
		fmt.Fprintf(&b, "score %.3f, threshold %.3f\n", text.Finite(t.Score), text.Finite(*t.Threshold))
	}
	if l := passRateLine(t); l != "" {
		b.WriteString(l + "\n")
	}
	if l := transformLine(t, 2000); l != "" {
		b.WriteString(l + "\n")
	}
	for _, a := range t.Assertions {
		word := "PASS"
		switch {
		case a.Error:
			word = "ERROR"
		case !a.Pass:
			word = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s (score %.3f): %s%s\n", word, a.Type, text.Finite(a.Score), a.Reason, assertionTransform(a, 2000))
		if a.Diff != "" {
			b.WriteString("  " + strings.ReplaceAll(strings.TrimRight(a.Diff, "\n"), "\n", "\n  ") + "\n")
		}
	}
	return text.Cap(text.Sanitize(b.String()), j.opts.MaxOutput)
}

// classname is aiconfig name + "." + prompt name; dots inside either part
// become "_" because Jenkins and others split classnames on dots.
func classname(t *results.TestResult, info results.SuiteInfo) string {
	cfg := t.ConfigName
	if cfg == "" {
		cfg = info.ConfigName
	}
	if cfg == "" && t.Config != "" {
		cfg = strings.TrimSuffix(filepath.Base(t.Config), filepath.Ext(t.Config))
	}
	if cfg == "" {
		cfg = "aiconfig"
	}
	dot := func(s string) string { return strings.ReplaceAll(text.OneLine(s, 0), ".", "_") }
	return dot(cfg) + "." + dot(t.Prompt)
}

// uniqueName keeps testcase names unique in the file (GitLab keeps only
// the first of several with one name): a repeat gets its suite path, then
// a number.
func uniqueName(name, suite string, used *nameSet) string {
	n := name
	if used.has(n) {
		n = fmt.Sprintf("%s (%s)", name, text.OneLine(suite, 0))
		for i := 2; used.has(n); i++ {
			n = fmt.Sprintf("%s (%s) #%d", name, text.OneLine(suite, 0), i)
		}
	}
	used.add(n)
	return n
}

// nameSet remembers the names written by their 64-bit hash: the recent
// ones in a small map, the rest in one sorted slice the map is merged
// into when it fills, so a run of a million tests holds ~8 MB of them
// (as strings they were ~100 MB; in one map ~27 MB at its peak). Two
// names colliding (odds ~3e-8 at a million) only gives the second one
// its suite path as if it repeated the first.
type nameSet struct {
	seed   maphash.Seed
	recent map[uint64]struct{}
	sorted []uint64
}

// nameSetRecent is how many hashes the map takes before a merge: small,
// because the map's table is live for the whole report.
const nameSetRecent = 1 << 11

func newNameSet() *nameSet {
	return &nameSet{seed: maphash.MakeSeed(), recent: make(map[uint64]struct{}, nameSetRecent)}
}

func (s *nameSet) has(name string) bool {
	h := maphash.String(s.seed, name)
	if _, ok := s.recent[h]; ok {
		return true
	}
	_, ok := slices.BinarySearch(s.sorted, h)
	return ok
}

func (s *nameSet) add(name string) {
	s.recent[maphash.String(s.seed, name)] = struct{}{}
	if len(s.recent) < nameSetRecent {
		return
	}
	batch := make([]uint64, 0, len(s.recent))
	for h := range s.recent {
		batch = append(batch, h)
	}
	slices.Sort(batch)
	// Merged in place from the back, into the slice grown by append's
	// amortized growth: no second copy of every hash at each merge.
	i, j := len(s.sorted)-1, len(batch)-1
	s.sorted = append(s.sorted, batch...)
	for k := len(s.sorted) - 1; j >= 0; k-- {
		if i >= 0 && s.sorted[i] > batch[j] {
			s.sorted[k] = s.sorted[i]
			i--
		} else {
			s.sorted[k] = batch[j]
			j--
		}
	}
	clear(s.recent)
}

// suiteProperty names a property of testsuite id, distinct from every
// other testsuite's.
func suiteProperty(id int, name string) string { return "suite." + strconv.Itoa(id) + "." + name }

// JUnit flavors: the strict XSD of the contract is the default ("");
// a flavor adds what some consumers read and the XSD refuses.
const (
	// JUnitFlavorGitHub is for the GitHub actions that turn a JUnit file
	// into annotations: mikepenz/action-junit-report and
	// EnricoMi/publish-unit-test-result-action read testcase file and line
	// attributes, dorny/test-reporter reads them with reporter
	// phpunit-junit and a failure body starting "FILE:LINE" with
	// pytest-junit. Without them they annotate line 1 of the suite or the
	// report file itself.
	JUnitFlavorGitHub = "github"
)

// JUnitFlavors lists the flavors, for --help and errors.
func JUnitFlavors() []string { return []string{JUnitFlavorGitHub} }

// CheckJUnitFlavor refuses an unknown flavor ("" is the strict default).
func CheckJUnitFlavor(name string) error {
	if name == "" || slices.Contains(JUnitFlavors(), name) {
		return nil
	}
	return fmt.Errorf("--junit-flavor %q: unknown (known: %s; leave it out for the strict JUnit XSD)", name, strings.Join(JUnitFlavors(), ", "))
}

// githubTestcase is a testcase with the attributes GitHub consumers read.
type githubTestcase struct {
	junit.Testcase
	File string `xml:"file,attr,omitempty"`
	Line int    `xml:"line,attr,omitempty"`
}

// githubCase adds where the test is written: the suite path as GitHub
// annotations name it (Options.FilePath: relative to $GITHUB_WORKSPACE)
// and the test's line; also as the first line of a failure or error body,
// where dorny's pytest-junit parser looks.
func (j *JUnit) githubCase(tc junit.Testcase, t *results.TestResult) githubTestcase {
	file := t.Suite
	if j.opts.FilePath != nil {
		file = j.opts.FilePath(file)
	}
	g := githubTestcase{Testcase: tc, File: text.OneLine(file, 0), Line: max(t.Line, 0)}
	if g.File != "" && g.Line > 0 {
		where := fmt.Sprintf("%s:%d\n", g.File, g.Line)
		for _, r := range []*junit.Result{g.Failure, g.Error} {
			if r != nil {
				r.Data = where + r.Data
			}
		}
	}
	return g
}
