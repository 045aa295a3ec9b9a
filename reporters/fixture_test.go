package reporters

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// nastyOutput holds everything that breaks naive reports: ANSI colour, an
// OSC title, NUL and other C0 controls, a CDATA terminator, invalid UTF-8,
// XML's non-characters and markup characters.
const nastyOutput = "\x1b[31mred\x1b[0m and \x1b]0;title\x07plain\nNUL:\x00 BEL:\x07 VT:\x0b\n" +
	"cdata end ]]> inside, <tag attr=\"v\"> & 'q'\ninvalid utf8: \xff\xfe\xc3(\n" +
	"non-chars: \uFFFE \uFFFF\nsurrogate as bytes: \xed\xa0\x80\n| pipe | and `backticks` ```\n%s 100% a:b,c\r\nend"

func fixedStart() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) }

func f64(v float64) *float64 { return &v }

func str(s string) *string { return &s }

// bigOutput is a deterministic 1 MB model output.
func bigOutput() string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%70))
		b.WriteString(" ]]> \x1b[1mbold\x1b[0m\n")
	}
	return b.String()
}

// fixture is a run with passes, failures with diffs, an error, a skip,
// repeated tests with a pass rate, metrics, a name used in two suites and
// nasty outputs. big adds a test with a 1 MB output.
func fixture(big bool) *results.Results {
	travel := "examples/travel.eval.yaml"
	extract := "examples/extract.eval.yaml"
	r := &results.Results{
		Version:   results.ResultsVersion,
		RunID:     "run-0001",
		StartedAt: fixedStart(),
		GitSHA:    "0123456789abcdef0123456789abcdef01234567",
		GitRef:    "refs/heads/main",
		Suites: []results.SuiteInfo{
			{Path: travel, Description: "NYC trip planner", Config: "examples/travel.aiconfig.json", ConfigName: "NYC Trip Planner", ConfigSHA256: "aa11"},
			{Path: extract, Config: "examples/extract.aiconfig.json", ConfigName: "extract.v2", ConfigSHA256: "bb22"},
		},
	}
	tests := []results.TestResult{
		{
			Suite: travel, Name: "lists attractions", Line: 12, Config: "examples/travel.aiconfig.json", ConfigName: "NYC Trip Planner",
			Prompt: "get_activities", Params: map[string]any{"city": "NYC"}, Input: "Tell me 10 fun attractions to do in NYC.",
			Output: "1. Central Park\n2. Statue of Liberty", Model: "gpt-4", Provider: "openai", LatencyMS: 1234.5678,
			Tokens: results.Tokens{Prompt: 20, Completion: 40, Total: 60}, Cost: 0.0021, Status: results.StatusPass, Score: 1,
			Assertions: []results.AssertionResult{
				{Type: "icontains-any", Pass: true, Score: 1, Reason: `output contains "central park"`, Metric: "relevance", Line: 15},
				{Type: "not-contains", Pass: true, Score: 1, Reason: `output does not contain "As an AI"`, Line: 17},
			},
		},
		{
			Suite: travel, Name: "itinerary by price", Line: 20, Config: "examples/travel.aiconfig.json", ConfigName: "NYC Trip Planner",
			Prompt: "gen_itinerary", Params: map[string]any{"order_by": "price"}, Output: "Day 1: Met ($30), Central Park (free)",
			Model: "gpt-4", LatencyMS: 2500, Tokens: results.Tokens{Prompt: 80, Completion: 120, Total: 200}, Cost: 0.012, Cached: true,
			Status: results.StatusFail, Score: 0.4, Threshold: f64(0.7), Reason: "The activities are not ordered from cheapest to most expensive",
			Assertions: []results.AssertionResult{
				{Type: "llm-rubric", Pass: false, Score: 0.4, Weight: 2, Reason: "The activities are not ordered from cheapest to most expensive", Metric: "relevance", Line: 24},
			},
		},
		{
			Suite: travel, Name: "answers as JSON", Line: 30, ConfigName: "NYC Trip Planner", Prompt: "get_activities",
			Output: `{"answer": "Central Park", "count": 3}`, LatencyMS: 800, Status: results.StatusFail, Score: 0.5,
			Reason: `output does not equal the expected text`,
			Assertions: []results.AssertionResult{
				{Type: "is-json", Pass: true, Score: 1, Reason: "output is valid JSON"},
				{Type: "equals", Pass: false, Score: 0, Reason: "output does not equal the expected text",
					Diff: "-{\"answer\": \"Central Park\", \"count\": 2}\n+{\"answer\": \"Central Park\", \"count\": 3}\n"},
				{Type: "icontains", Pass: true, Score: 1, Reason: "output contains \"park\"", Transformed: str("Central Park")},
			},
		},
		{
			Suite: extract, Name: "extract name", Line: 8, ConfigName: "extract.v2", Prompt: "extract.person",
			LatencyMS: 30000, Status: results.StatusError,
			Reason: "provider unreachable after 3 tries: 503 Service Unavailable\nretry-after: 1",
		},
		{
			Suite: extract, Name: "nasty <output> & \"quotes\" ]]> \x1b[31mred\x1b[0m", Line: 14, ConfigName: "extract.v2", Prompt: "extract_person",
			Output: nastyOutput, LatencyMS: 12.3456, Status: results.StatusFail, Score: 0,
			Reason: "regex /^ok$/ did not match: \x1b[1mgot\x1b[0m ]]> \x00 100%\r\nsecond line",
			Assertions: []results.AssertionResult{
				{Type: "regex", Pass: false, Score: 0, Reason: "regex /^ok$/ did not match: \x1b[1mgot\x1b[0m ]]> \x00 100%\r\nsecond line",
					Diff: "-ok\n+" + nastyOutput + "\n"},
				{Type: "exec", Pass: false, Score: 0, Error: true, Reason: "command ./check.sh: exit status 127: a,b:c"},
			},
		},
		{
			Suite: extract, Name: "needs vision", Line: 22, ConfigName: "extract.v2", Prompt: "extract_person",
			Status: results.StatusSkip, Reason: "needs a vision model",
		},
		{
			Suite: extract, Name: "flaky rubric", Line: 26, ConfigName: "extract.v2", Prompt: "extract_person",
			Output: "Name: Ada", LatencyMS: 450, Status: results.StatusFail, Score: 0.5,
			Transform: `regex "Name: (.*)"`, Transformed: str("Ada"),
			Reason:   "pass rate 5/10 below the required 80%",
			PassRate: &results.PassRate{Runs: 10, Passed: 5, Rate: 0.5, Low: 0.2366, High: 0.7634, Required: 0.8},
			Assertions: []results.AssertionResult{
				{Type: "llm-rubric", Pass: true, Score: 0.9, Reason: "names the person", Metric: "accuracy"},
			},
		},
		{
			Suite: extract, Name: "stable rubric", Line: 34, ConfigName: "extract.v2", Prompt: "extract_person",
			Output: "Name: Ada", LatencyMS: 300, Status: results.StatusPass, Score: 1,
			PassRate: &results.PassRate{Runs: 10, Passed: 10, Rate: 1, Low: 0.7225, High: 1, Required: 0.8},
			Assertions: []results.AssertionResult{
				{Type: "llm-rubric", Pass: true, Score: 1, Reason: "names the person", Metric: "accuracy"},
			},
		},
		{
			// Same name as a travel test: JUnit must keep names unique.
			Suite: extract, Name: "lists attractions", Line: 40, ConfigName: "extract.v2", Prompt: "extract_person",
			Output: "none", LatencyMS: 100, Status: results.StatusPass, Score: 1,
		},
	}
	if big {
		tests = append(tests, results.TestResult{
			Suite: extract, Name: "long output", Line: 50, ConfigName: "extract.v2", Prompt: "extract_person",
			Output: bigOutput(), LatencyMS: 5000, Status: results.StatusPass, Score: 1,
		})
	}
	r.Tests = tests
	for i := range tests {
		r.Summary.Add(&tests[i])
	}
	r.Summary.Finish()
	r.Summary.DurationMS = 31234.5
	return r
}

// spooled returns the same run read back from a JSON Lines spool, the way
// a large run reaches the reporters.
func spooled(t *testing.T, r *results.Results) *results.Results {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tests.jsonl")
	var buf bytes.Buffer
	enc := results.NewSpoolEncoder(&buf)
	for i := range r.Tests {
		if err := enc.Encode(&r.Tests[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := *r
	c.UseSpool(path)
	return &c
}

// golden compares got with testdata/golden/NAME.golden, or rewrites it
// under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./reporters -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from golden at line %d (go test ./reporters -update to accept):\n got: %q\nwant: %q", name, i+1, g, w)
		}
	}
}

// render runs the named reporter over r.
func render(t *testing.T, name string, opts Options, r *results.Results) []byte {
	t.Helper()
	rep, err := Get(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Report(&buf, r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}
