package reporters

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// detailOf is a test with every Detail field set from the fuzzer's strings.
func detailOf(s, u string, f float64, cached bool) Detail {
	tr := s + u
	t := &results.TestResult{Suite: s, Name: u, Output: s, Input: u, Transform: u, Transformed: &tr, Model: s, Cached: cached,
		Reason: u, Params: map[string]any{"q": s, "n": f, "list": []any{u, 1.0, nil, true}, u: map[string]any{"x": s}},
		Assertions: []results.AssertionResult{{Type: s, Pass: cached, Score: f, Reason: u, Weight: f, Metric: s, Diff: u, Transformed: &tr, Line: 3},
			{Type: "contains", Error: true}},
		Request:  &results.Request{Messages: []results.Message{{Role: "user", Content: s, Name: u}}, Settings: map[string]any{"temperature": f, u: s}},
		PassRate: &results.PassRate{Runs: 3, Passed: 2, Rate: f, Low: f, High: f, Required: f},
	}
	return NewDetail(t, 4096)
}

func TestDetailJSONMatchesMarshal(t *testing.T) {
	details := []Detail{
		{}, {Output: "x"}, NewDetail(&results.TestResult{Name: "plain", Output: "ok"}, 0),
		detailOf("<script>&</script>", "é\u2028\x01\xff", 0.25, true),
		detailOf("", "", 0, false), detailOf("a", "b", 1e21, false), detailOf("a", "b", -1e-7, true),
		detailOf("a", "b", math.NaN(), false),                    // NaN: json.Marshal's own error
		{Output: "x", Params: map[string]any{"f": float32(1.5)}}, // a type the walk does not know
		{Output: "x", Base: &htmlBase{Status: "pass", Output: "y", Diff: [][2]any{{0, "y"}}}},
	}
	for i, d := range details {
		checkDetail(t, i, &d)
	}
}

func checkDetail(t *testing.T, i int, d *Detail) {
	t.Helper()
	want, werr := json.Marshal(d)
	got, err := d.appendJSON([]byte("prefix"))
	if (err != nil) != (werr != nil) || err == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("detail %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, werr)
	}
}

func FuzzDetailJSON(f *testing.F) {
	f.Add("<b>&</b>", "\u2028\x00\xff", 0.5, true)
	f.Add("", "", 0.0, false)
	f.Fuzz(func(t *testing.T, s, u string, x float64, cached bool) {
		d := detailOf(s, u, x, cached)
		checkDetail(t, 0, &d)
	})
}
