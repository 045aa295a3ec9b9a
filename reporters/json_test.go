package reporters

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aieval/aieval/eval/results"
)

// jsonText is what a string becomes after a JSON round trip: every
// invalid UTF-8 byte turns into U+FFFD.
func jsonText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func TestJSONRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		r    *results.Results
	}{
		{"nasty with 1 MB output", fixture(true)},
		{"no tests", &results.Results{Version: results.ResultsVersion, StartedAt: fixedStart(), Suites: []results.SuiteInfo{{Path: "a.eval.yaml"}}}},
		{"interrupted", func() *results.Results { r := fixture(false); r.Interrupted = true; r.Summary.Metrics = nil; return r }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.json")
			if err := os.WriteFile(path, render(t, "json", Options{}, spooled(t, tc.r)), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := results.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := results.Results{Version: tc.r.Version, RunID: tc.r.RunID, StartedAt: tc.r.StartedAt, GitSHA: tc.r.GitSHA,
				GitRef: tc.r.GitRef, Suites: tc.r.Suites, Summary: tc.r.Summary, Interrupted: tc.r.Interrupted}
			want.Tests = append([]results.TestResult(nil), tc.r.Tests...)
			for i := range want.Tests {
				tt := &want.Tests[i]
				tt.Name, tt.Output, tt.Reason = jsonText(tt.Name), jsonText(tt.Output), jsonText(tt.Reason)
				tt.Assertions = append([]results.AssertionResult(nil), tt.Assertions...)
				for j := range tt.Assertions {
					a := &tt.Assertions[j]
					a.Reason, a.Diff = jsonText(a.Reason), jsonText(a.Diff)
				}
			}
			// In-run bookkeeping is not part of the file.
			want.Summary.LatencyMS = 0
			if len(want.Tests) == 0 {
				want.Tests = nil // "tests": [] reads back as an empty slice
				got.Tests = nil
			}
			if !reflect.DeepEqual(got, &want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(&want)
				t.Fatalf("round trip differs:\n got %.400s\nwant %.400s", gj, wj)
			}
		})
	}
}

func TestJSONIsIndentedAndUnescaped(t *testing.T) {
	out := render(t, "json", Options{}, fixture(false))
	if !json.Valid(out) {
		t.Fatal("not valid JSON")
	}
	var again bytes.Buffer
	if err := json.Indent(&again, out, "", "  "); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), out) {
		t.Error("output is not canonically indented with two spaces")
	}
	if !bytes.Contains(out, []byte(`<tag attr=\"v\"> & 'q'`)) {
		t.Error("HTML characters escaped; the artifact should stay readable")
	}
}

func TestJSONSurvivesNaN(t *testing.T) {
	r := fixture(false)
	r.Tests[0].Score = math.NaN()
	r.Tests[1].Assertions[0].Score = math.Inf(1)
	r.Tests[6].PassRate.Low = math.NaN()
	r.Summary.Cost = math.Inf(-1)
	out := render(t, "json", Options{}, r)
	if !json.Valid(out) {
		t.Fatalf("NaN broke the JSON: %.200s", out)
	}
	if !math.IsNaN(r.Tests[0].Score) {
		t.Error("the reporter changed its input")
	}
}
