package eval

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Reading a row file ahead on a second goroutine gives the pass what
// reading it in line does: the same tests in the same order, the same
// problems in the same order, across many hand-overs (300 rows, broken
// ones among them) and in each row format.
func TestReadAheadLoadsLikeInLine(t *testing.T) {
	withLazyThreshold(t, 50)
	withYAMLRowsMin(t, 0)
	row := func(format string, i int) string {
		name, prompt := fmt.Sprintf("r%03d", i), "get_activities"
		switch {
		case i%97 == 5:
			prompt = "nope" // unknown prompt
		case i%89 == 7:
			name = "r001" // a repeat
		}
		switch format {
		case "jsonl":
			if i%101 == 50 {
				return `{"name": "broken"` // invalid JSON
			}
			return fmt.Sprintf(`{"name": %q, "prompt": %q, "params": {"city": "c%d"}}`, name, prompt, i)
		case "csv":
			return fmt.Sprintf("%s,%s,c%d", name, prompt, i)
		}
		if i%101 == 50 {
			return "- name: [unclosed\n"
		}
		return fmt.Sprintf("- name: %s\n  prompt: %s\n  params: {city: c%d}\n", name, prompt, i)
	}
	for _, format := range []string{"jsonl", "yaml", "csv"} {
		t.Run(format, func(t *testing.T) {
			var rows []string
			if format == "csv" {
				rows = append(rows, "name,prompt,city")
			}
			for i := range 300 {
				rows = append(rows, row(format, i))
			}
			for _, broken := range []bool{true, false} {
				lines := rows
				if !broken { // only the good rows: a suite that loads
					lines = nil
					for _, r := range rows {
						if !strings.Contains(r, "nope") && !strings.Contains(r, "broken") && !strings.Contains(r, "unclosed") && !strings.Contains(r, `"r001"`) && !strings.HasPrefix(r, "r001,") && !strings.Contains(r, "name: r001\n") {
							lines = append(lines, r)
						}
					}
				}
				dir := writeFiles(t, map[string]string{
					"trip.aiconfig.json": tripConfig,
					"s.eval.yaml":        fmt.Sprintf(lazySuiteYAML, format),
					"cases." + format:    strings.Join(lines, "\n") + "\n",
				})
				path := filepath.Join(dir, "s.eval.yaml")
				ahead, aheadErr := LoadSuite(path)
				readAhead = false
				inLine, inLineErr := LoadSuite(path)
				readAhead = true
				if broken {
					var a, b *InputError
					if !errors.As(aheadErr, &a) || !errors.As(inLineErr, &b) {
						t.Fatalf("want problems both ways, got %v / %v", aheadErr, inLineErr)
					}
					if len(a.Problems) < 4 || !reflect.DeepEqual(a.Problems, b.Problems) {
						t.Fatalf("problems differ:\nahead:   %v\nin line: %v", a.Problems, b.Problems)
					}
					continue
				}
				if aheadErr != nil || inLineErr != nil {
					t.Fatalf("load: %v / %v", aheadErr, inLineErr)
				}
				if ahead.TestCount() != len(lines)-btoi(format == "csv") || ahead.TestCount() != inLine.TestCount() {
					t.Fatalf("%d tests ahead, %d in line, %d rows", ahead.TestCount(), inLine.TestCount(), len(lines))
				}
				if !reflect.DeepEqual(ahead.lazy.rows, inLine.lazy.rows) || !reflect.DeepEqual(ahead.lazy.sums, inLine.lazy.sums) {
					t.Fatal("the row index differs")
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
