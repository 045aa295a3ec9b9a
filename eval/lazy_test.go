package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// withLazyThreshold lowers LazyThreshold for one test.
func withLazyThreshold(t testing.TB, n int) {
	old := LazyThreshold
	LazyThreshold = n
	t.Cleanup(func() { LazyThreshold = old })
}

const lazySuiteYAML = "config: trip.aiconfig.json\nparams: {city: NYC}\n" +
	"defaults:\n  assert:\n    - {type: contains, value: \"fun\"}\n" +
	"tests: file://cases.%s\n"

// lazyRow is row i of a suite mixing passes, failures, skips, repeats and
// per-row parameters.
func lazyRow(i int) string {
	switch i % 7 {
	case 1:
		return fmt.Sprintf(`{"name": "t%05d", "prompt": "get_activities", "assert": [{"type": "contains", "value": "nowhere"}]}`, i)
	case 2:
		return fmt.Sprintf(`{"name": "t%05d", "prompt": "get_activities", "skip": "not yet %d"}`, i, i)
	case 3:
		return fmt.Sprintf(`{"name": "t%05d", "prompt": "get_activities", "repeat": 3, "pass_rate": 0.5, "params": {"city": "Rome %d"}}`, i, i)
	}
	return fmt.Sprintf(`{"name": "t%05d", "prompt": "get_activities", "params": {"city": "city %d"}, "assert": [{"type": "regex", "value": "city \\d+"}]}`, i, i)
}

func writeLazySuite(t testing.TB, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(lazyRow(i) + "\n")
		if i%1000 == 0 {
			b.WriteString("\n") // blank lines are not rows
		}
	}
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        fmt.Sprintf(lazySuiteYAML, "jsonl"),
		"cases.jsonl":        b.String(),
	})
	return filepath.Join(dir, "s.eval.yaml")
}

// comparable strips what differs between two runs of the same tests.
func comparableResults(t *testing.T, tests []results.TestResult) []string {
	out := make([]string, len(tests))
	for i, tr := range tests {
		tr.LatencyMS = 0
		b, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func TestLazySuiteRunsLikeEager(t *testing.T) {
	const n = 5000
	path := writeLazySuite(t, n)
	withLazyThreshold(t, n)
	eager, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	LazyThreshold = 100
	lazy, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(eager.Tests) != n || eager.TestCount() != n {
		t.Fatalf("eager suite holds %d tests, want %d", len(eager.Tests), n)
	}
	if lazy.Tests != nil || lazy.TestCount() != n {
		t.Fatalf("lazy suite: Tests has %d, TestCount %d; want nil and %d", len(lazy.Tests), lazy.TestCount(), n)
	}
	for _, tc := range []struct {
		name  string
		opts  func(*Options)
		count int
	}{
		{"all", func(*Options) {}, n},
		{"filter", func(o *Options) { o.Filter = regexp.MustCompile(`^t0[01]\d\d[05]$`) }, 400},
		{"shard", func(o *Options) { o.ShardIndex, o.ShardCount = 2, 3 }, -1},
		{"repeat", func(o *Options) { o.Repeat = 2 }, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(s *Suite) []results.TestResult {
				opts := testOpts(t)
				opts.Concurrency = 16
				tc.opts(&opts)
				res, tests := runAll(t, context.Background(), opts, s)
				if res.Summary.Total != len(tests) {
					t.Errorf("summary counts %d tests, results hold %d", res.Summary.Total, len(tests))
				}
				return tests
			}
			want, got := run(eager), run(lazy)
			if tc.count >= 0 && len(want) != tc.count {
				t.Fatalf("eager ran %d tests, want %d", len(want), tc.count)
			}
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("lazy ran %d tests, eager %d", len(got), len(want))
			}
			statuses := map[results.Status]int{}
			w, g := comparableResults(t, want), comparableResults(t, got)
			for i := range w {
				if w[i] != g[i] {
					t.Fatalf("result %d differs:\neager %s\nlazy  %s", i, w[i], g[i])
				}
				statuses[want[i].Status]++
			}
			if tc.name == "all" && (statuses[results.StatusPass] == 0 || statuses[results.StatusFail] == 0 || statuses[results.StatusSkip] == 0) {
				t.Errorf("statuses %v: the suite should mix pass, fail and skip", statuses)
			}
			if tc.name == "shard" {
				for _, tr := range got {
					if ShardOf(lazy.Path, tr.Name, 3) != 2 {
						t.Errorf("%s ran in shard 2/3, ShardOf says %d", tr.Name, ShardOf(lazy.Path, tr.Name, 3))
					}
				}
			}
		})
	}
}

func TestLazyCSVRunsLikeEager(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,prompt,city,assert_contains\n")
	for i := range 300 {
		fmt.Fprintf(&b, "c%03d,get_activities,\"town, %d\",%s\n", i, i, map[bool]string{true: "town", false: "absent"}[i%4 != 0])
	}
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        fmt.Sprintf(lazySuiteYAML, "csv"),
		"cases.csv":          b.String(),
	})
	path := filepath.Join(dir, "s.eval.yaml")
	eager, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	withLazyThreshold(t, 10)
	lazy, err := LoadSuite(path)
	if err != nil || lazy.Tests != nil {
		t.Fatalf("LoadSuite: %v (tests held: %d)", err, len(lazy.Tests))
	}
	_, want := runAll(t, context.Background(), testOpts(t), eager)
	_, got := runAll(t, context.Background(), testOpts(t), lazy)
	w, g := comparableResults(t, want), comparableResults(t, got)
	if len(w) != 300 || strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("lazy CSV results differ from eager (%d vs %d)", len(g), len(w))
	}
}

// Loading reports the same problems, in the same order, held or not.
func TestLazyLoadErrorsMatchEager(t *testing.T) {
	rows := []string{
		`{"name": "a", "prompt": "get_activities"}`,
		`{"name": "b", "prompt": "nope"}`,
		`{"name": "a", "prompt": "get_activities"}`,
		`{"prompt": "get_activities"}`,
		`{"name": "c", "prompt": "get_activities", "asert": []}`,
		`{"name": "d", "prompt": "get_activities"} x`,
		`{"name": "e", "prompt": "get_activities", "params": {"q": 1}`,
		`{"name": "", "prompt": "get_activities"}`,
		`{"prompt": "get_activities"}`,
	}
	for i := range 50 {
		rows = append(rows, fmt.Sprintf(`{"name": "ok%d", "prompt": "get_activities"}`, i))
	}
	rows = append(rows, `{"name": "ok7", "prompt": "get_activities"}`, `{"name": "", "prompt": "get_activities"}`, `{"name": "a", "prompt": "get_activities"}`)
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        fmt.Sprintf(lazySuiteYAML, "jsonl"),
		"cases.jsonl":        strings.Join(rows, "\n"),
	})
	path := filepath.Join(dir, "s.eval.yaml")
	_, eagerErr := LoadSuite(path)
	withLazyThreshold(t, 5)
	for _, part := range []int{dupPart, 7, 1} {
		t.Run(fmt.Sprint("part ", part), func(t *testing.T) {
			old := dupPart
			dupPart = part
			defer func() { dupPart = old }()
			checkLazyErrors(t, dir, eagerErr)
		})
	}
}

func checkLazyErrors(t *testing.T, dir string, eagerErr error) {
	_, lazyErr := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if eagerErr == nil || lazyErr == nil {
		t.Fatalf("want errors, got %v / %v", eagerErr, lazyErr)
	}
	var ee, le *InputError
	if !errors.As(eagerErr, &ee) || !errors.As(lazyErr, &le) {
		t.Fatalf("want *InputError, got %T / %T", eagerErr, lazyErr)
	}
	if !reflect.DeepEqual(ee.Problems, le.Problems) {
		t.Errorf("problems differ:\neager: %v\nlazy:  %v", ee.Problems, le.Problems)
	}
	var all strings.Builder
	for _, p := range le.Problems {
		all.WriteString(p.String() + "\n")
	}
	for _, want := range []string{"cases.jsonl:3: duplicate test name \"a\" (first at " + filepath.Join(dir, "cases.jsonl") + ":1)",
		"cases.jsonl:62: duplicate test name \"a\" (first at ", "cases.jsonl:60: duplicate test name \"ok7\"",
		"cases.jsonl:61: duplicate test name \"\"",
		"cases.jsonl:2: test \"b\": unknown prompt", "cases.jsonl:4: test without a name", "trailing data"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("lazy errors lack %q:\n%s", want, all.String())
		}
	}
}

// A cases file edited between LoadSuite and Run: the edited, broken or
// missing rows end as errors naming the file; the rest still run.
func TestLazyCasesChangedAfterLoad(t *testing.T) {
	const n = 300
	path := writeLazySuite(t, n)
	withLazyThreshold(t, 100)
	s, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := filepath.Join(filepath.Dir(path), "cases.jsonl")
	var b strings.Builder
	for i := range n - 5 { // the last 5 rows are gone
		switch i {
		case 10:
			b.WriteString(strings.Replace(lazyRow(i), "get_activities", "gen_itinerary", 1) + "\n")
		case 20:
			b.WriteString("{not json\n")
		case 30:
			b.WriteString(`{"name": "renamed", "prompt": "get_activities"}` + "\n")
		default:
			b.WriteString(lazyRow(i) + "\n")
		}
	}
	if err := os.WriteFile(cases, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, tests := runAll(t, context.Background(), testOpts(t), s)
	if len(tests) != n {
		t.Fatalf("%d results, want %d", len(tests), n)
	}
	bad := map[string]bool{"t00010": true, "t00020": true, "t00030": true}
	for i := n - 5; i < n; i++ {
		bad[fmt.Sprintf("t%05d", i)] = true
	}
	for _, tr := range tests {
		changed := tr.Status == results.StatusError && strings.Contains(tr.Reason, "cases.jsonl") &&
			strings.Contains(tr.Reason, "changed after the suite was loaded")
		if bad[tr.Name] != changed {
			t.Errorf("%s: %s %q (changed row: %v)", tr.Name, tr.Status, tr.Reason, bad[tr.Name])
		}
	}

	if err := os.Remove(cases); err != nil {
		t.Fatal(err)
	}
	_, tests = runAll(t, context.Background(), testOpts(t), s)
	if len(tests) != n || tests[0].Status != results.StatusError || !strings.Contains(tests[0].Reason, "file not found") {
		t.Fatalf("cases file removed: %d results, first %+v", len(tests), tests[0])
	}
}

// TestLazyLoadHeap loads a 100,000-row cases file and reports the heap it
// keeps (was ~58 MB when every Test was held).
func TestLazyLoadHeap(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"name": "case-%06d", "prompt": "get_activities", "params": {"city": "case-%06d"}, "assert": [{"type": "contains", "value": "42"}, {"type": "not-contains", "value": "As an AI"}, {"type": "length", "value": {"min": 10, "max": 500}}]}`+"\n", i, i)
	}
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        "config: trip.aiconfig.json\ntests: file://cases.jsonl\n",
		"cases.jsonl":        b.String(),
	})
	b = strings.Builder{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perTest := float64(kept) / float64(n)
	t.Logf("%d rows: heap kept %.1f MB (%.0f B/test), allocated %.1f MB while loading (%.0f B/row)",
		n, float64(kept)/(1<<20), perTest, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20),
		float64(after.TotalAlloc-before.TotalAlloc)/float64(n))
	if s.TestCount() != n {
		t.Fatalf("TestCount %d, want %d", s.TestCount(), n)
	}
	if perTest > 64 {
		t.Errorf("loading keeps %.0f B per test; a large cases file should keep ~30", perTest)
	}
	runtime.KeepAlive(s)
}

// rowIndex gives back every row's name and line, long names and large
// line steps included, across its blocks.
func TestRowIndex(t *testing.T) {
	var x rowIndex
	type row struct {
		name string
		line int
	}
	var rows []row
	line := 0
	for i := range 5*rowBlock + 3 {
		name := fmt.Sprintf("t%d", i)
		switch i % 17 {
		case 3:
			name = strings.Repeat("n", 255+i)
		case 4: // shares more than 127 bytes with the row before
			name = strings.Repeat("n", 254+i) + "x"
		case 5:
			name = ""
		}
		switch i % 13 {
		case 0:
			line += 1000
		case 7:
			line += 254
		case 8:
			line += 255
		default:
			line += 1 + i%3
		}
		rows = append(rows, row{name, line})
		x.add(name, line)
	}
	if x.len() != len(rows) {
		t.Fatalf("%d rows, want %d", x.len(), len(rows))
	}
	for i, r := range rows {
		if got := x.name(i); got != r.name {
			t.Errorf("row %d: name %q, want %q", i, got, r.name)
		}
		if got := x.line(i); got != r.line {
			t.Errorf("row %d: line %d, want %d", i, got, r.line)
		}
	}
}
