package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run --dry-run prints each distinct request of the selected tests once,
// with the tests that send it, calls nothing and needs no key; the cache
// keys it prints are the ones the run records under (the committed
// example cache holds every one).
func TestRunDryRun(t *testing.T) {
	c := newCLI(t) // no OPENAI_API_KEY
	for _, tc := range []struct {
		suite     string
		wantLines int
	}{
		{"../../examples/travel/travel.eval.yaml", 3},
		{"../../examples/matrix/matrix.eval.yaml", 0},
	} {
		o := c.run("run", "--dry-run", tc.suite)
		if o.code != 0 {
			t.Fatalf("%s: exit %d\n%s", tc.suite, o.code, o.stderr)
		}
		lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
		if tc.wantLines > 0 && len(lines) != tc.wantLines {
			t.Errorf("%s: %d lines, want %d:\n%s", tc.suite, len(lines), tc.wantLines, o.stdout)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			var d DryRequest
			if err := json.Unmarshal([]byte(l), &d); err != nil {
				t.Fatalf("%s: not JSON: %v\n%s", tc.suite, err, l)
			}
			if len(d.Tests) == 0 || d.Suite == "" || d.Model == "" {
				t.Errorf("%s: incomplete line %s", tc.suite, l)
			}
			if !d.Exact || d.CacheKey == "" {
				t.Errorf("%s: request not exact although every dependency is recorded: %s", tc.suite, l)
				continue
			}
			if seen[d.CacheKey] {
				t.Errorf("%s: request %s printed twice", tc.suite, d.CacheKey)
			}
			seen[d.CacheKey] = true
			if _, err := os.Stat(filepath.Join("../../examples/.aieval/cache", d.CacheKey[:2], d.CacheKey+".json")); err != nil {
				t.Errorf("%s: printed cache key %s is not the one the run recorded: %v", tc.suite, d.CacheKey, err)
			}
		}
	}
}
