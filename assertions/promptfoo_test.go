package assertions

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPromptfooDifferential checks the deterministic types against
// promptfoo's own verdicts on the same outputs, recorded in
// testdata/promptfoo/expected.json by gen.cjs (see its header for the
// command). A known difference is listed here with its reason.
func TestPromptfooDifferential(t *testing.T) {
	dir := filepath.Join("testdata", "promptfoo")
	var cases []struct {
		Name      string          `json:"name"`
		Type      string          `json:"type"`
		Value     any             `json:"value"`
		Threshold *float64        `json:"threshold"`
		Output    json.RawMessage `json:"output"`
		Tools     string          `json:"tools"`
	}
	var expected struct {
		Promptfoo string `json:"promptfoo"`
		Results   []struct {
			Name  string   `json:"name"`
			Pass  *bool    `json:"pass"`
			Score *float64 `json:"score"`
			Error string   `json:"error"`
		} `json:"results"`
	}
	var tools map[string]json.RawMessage
	for file, dst := range map[string]any{"cases.json": &cases, "expected.json": &expected, "tools.json": &tools} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		must(t, err)
		must(t, json.Unmarshal(b, dst))
	}
	if expected.Promptfoo != "0.123.1" || len(expected.Results) != len(cases) {
		t.Fatalf("expected.json is for promptfoo %s with %d results, cases.json has %d: regenerate it", expected.Promptfoo, len(expected.Results), len(cases))
	}
	// Differences kept on purpose.
	known := map[string]string{
		"is-sql mysql show": "is-sql parses with SQLite's grammar; promptfoo's default is MySQL's, which has SHOW",
	}
	for i, c := range cases {
		want := expected.Results[i]
		t.Run(c.Name, func(t *testing.T) {
			if want.Name != c.Name || want.Pass == nil {
				t.Fatalf("expected result %d is %+v", i, want)
			}
			if why, ok := known[c.Name]; ok {
				t.Skip("known difference: " + why)
			}
			a, err := New(Spec{Type: c.Type, Value: c.Value, Threshold: c.Threshold, Weight: 1})
			must(t, err)
			in := Input{Output: string(c.Output)}
			var s string
			if json.Unmarshal(c.Output, &s) == nil {
				in.Output = s
			}
			if c.Tools != "" {
				in.Tools = tools[c.Tools]
			}
			r, err := a.Check(context.Background(), &in)
			must(t, err)
			if r.Pass != *want.Pass {
				t.Errorf("pass = %v (%s), promptfoo %v", r.Pass, r.Reason, *want.Pass)
			}
			// promptfoo does not invert every negated score; compare the
			// plain types' scores only.
			if !strings.HasPrefix(c.Type, "not-") && math.Abs(r.Score-*want.Score) > 1e-6 {
				t.Errorf("score = %v, promptfoo %v", r.Score, *want.Score)
			}
		})
	}
}
