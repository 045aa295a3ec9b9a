package eval

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func withYAMLRowsMin(t testing.TB, n int64) {
	old := YAMLRowsMin
	YAMLRowsMin = n
	t.Cleanup(func() { YAMLRowsMin = old })
}

// yamlCases writes n tests as a YAML list: flow items (JSON rows), and every
// fifth one in block style with comments, blank lines and a block scalar.
func yamlCases(n int) string {
	var b strings.Builder
	b.WriteString("# cases\n---\n")
	for i := range n {
		if i%5 == 4 {
			fmt.Fprintf(&b, "- name: t%05d\n  prompt: get_activities\n\n# a comment at column 0 inside an item\n  params:\n    city: |\n      city %d\n      - not an item\n  assert:\n    - type: regex\n      value: 'city \\d+'\n", i, i)
			continue
		}
		b.WriteString("- " + lazyRow(i) + "\n")
	}
	return b.String()
}

// A large YAML cases file read item by item runs the tests the whole-file
// parse runs, with the same results (lines included).
func TestYAMLRowsRunLikeWhole(t *testing.T) {
	const n = 600
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        fmt.Sprintf(lazySuiteYAML, "yaml"),
		"cases.yaml":         yamlCases(n),
	})
	path := filepath.Join(dir, "s.eval.yaml")
	withYAMLRowsMin(t, 1<<40)
	whole, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	withYAMLRowsMin(t, 0)
	withLazyThreshold(t, 50)
	rows, err := LoadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.Tests) != n || rows.Tests != nil || rows.TestCount() != n {
		t.Fatalf("whole holds %d tests; rows holds %d, counts %d; want %d, nil, %d", len(whole.Tests), len(rows.Tests), rows.TestCount(), n, n)
	}
	run := func(s *Suite) []string {
		opts := testOpts(t)
		opts.Concurrency = 8
		_, tests := runAll(t, context.Background(), opts, s)
		return comparableResults(t, tests)
	}
	w, g := run(whole), run(rows)
	if len(w) != len(g) {
		t.Fatalf("rows ran %d tests, whole %d", len(g), len(w))
	}
	for i := range w {
		if w[i] != g[i] {
			t.Fatalf("result %d differs:\nwhole %s\nrows  %s", i, w[i], g[i])
		}
	}
}

// Problems in an item point at the file's line, and what the item-by-item
// reading cannot do is said with the way out.
func TestYAMLRowsProblems(t *testing.T) {
	withYAMLRowsMin(t, 0)
	for _, tc := range []struct{ name, cases, want string }{
		{"syntax", "- {name: a, prompt: get_activities}\n- {name: b, prompt: get_activities}\n- name: c\n  prompt: [get_activities\n",
			"cases.yaml:3: invalid YAML"},
		{"unknown field", "- {name: a, prompt: get_activities}\n- name: b\n  prompt: get_activities\n  asert: []\n",
			"cases.yaml:4:"},
		{"shared anchor", "- &base {name: a, prompt: get_activities}\n- *base\n",
			"no anchors shared between tests"},
		{"not a list", "tests:\n  - {name: a, prompt: get_activities}\n",
			"cases.yaml:1: a cases file must be a list of tests"},
		{"two documents", "- {name: a, prompt: get_activities}\n---\n- {name: b, prompt: get_activities}\n",
			"cases.yaml:2: a second YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"trip.aiconfig.json": tripConfig,
				"s.eval.yaml":        "config: trip.aiconfig.json\ntests: file://cases.yaml\n",
				"cases.yaml":         tc.cases,
			})
			_, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// The hint to list every problem names the suite, which is what `aieval
// validate` takes, not the cases file the first problem is in.
func TestProblemsHintNamesTheSuite(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"trip.aiconfig.json": tripConfig,
		"s.eval.yaml":        "config: trip.aiconfig.json\ntests: file://cases.jsonl\n",
		"cases.jsonl":        "{\"name\": \"a\"}\n{\"name\": \"b\"}\n",
	})
	suite := filepath.Join(dir, "s.eval.yaml")
	_, err := LoadSuite(suite)
	if err == nil || !strings.Contains(err.Error(), "cases.jsonl:1:") || !strings.Contains(err.Error(), "'aieval validate "+suite+"' lists them") {
		t.Errorf("err = %v, want the first problem in cases.jsonl and the hint naming %s", err, suite)
	}
}
