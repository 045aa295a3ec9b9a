package history

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/history/historytest"
	"github.com/aieval/aieval/eval/results"
)

// BenchmarkRecord records a 2000-test run with 1 KiB outputs: the batch
// inserts are what keep a server across a network from costing a round
// trip per test.
func BenchmarkRecord(b *testing.B) {
	r := &results.Results{Version: 1}
	for i := 0; i < 2000; i++ {
		tr := results.TestResult{Suite: "s", Name: fmt.Sprint("t", i), Status: pass, Output: strings.Repeat("o", 1024),
			Assertions: []results.AssertionResult{{Type: "contains", Pass: true, Score: 1, Reason: "ok"}}}
		r.Tests = append(r.Tests, tr)
		r.Count(&tr)
	}
	bench := func(b *testing.B, target string) {
		db, err := Open(target)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		for b.Loop() {
			if _, err := db.Record(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) { bench(b, filepath.Join(b.TempDir(), "h.db")) })
	b.Run("postgres", func(b *testing.B) { bench(b, historytest.Target(b)) })
}
