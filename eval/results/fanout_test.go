package results

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func spooledRun(t *testing.T, n int) *Results {
	t.Helper()
	sp, err := NewSpool(filepath.Join(t.TempDir(), "s.jsonl"), n)
	if err != nil {
		t.Fatal(err)
	}
	sp.overflow, sp.held = true, nil // force the file, as a large run does
	r := &Results{Version: ResultsVersion}
	for i := range n {
		tr := &TestResult{Suite: "s", Name: fmt.Sprint(i), Status: StatusPass}
		r.Count(tr)
		if err := sp.Add(i, tr); err != nil {
			t.Fatal(err)
		}
	}
	path, err := sp.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r.UseSpool(path)
	return r
}

// Every consumer sees every test, in order, from one read of the spool.
func TestFanoutReadsTheSpoolOnce(t *testing.T) {
	const n = 1000
	r := spooledRun(t, n)
	counts := make([]int, 4)
	lines := 0
	consumer := func(i int) func(v *Results) error {
		return func(v *Results) error {
			return v.Each(func(tr *TestResult) error {
				if tr.Name != fmt.Sprint(counts[i]) {
					return fmt.Errorf("consumer %d: test %s out of order at %d", i, tr.Name, counts[i])
				}
				counts[i]++
				return nil
			})
		}
	}
	errs := r.Fanout(consumer(0), consumer(1), consumer(2), consumer(3),
		func(v *Results) error {
			_, err := v.EachLine(func([]byte) error { lines++; return nil })
			return err
		},
		func(v *Results) error { return nil }, // reads nothing: must not block the others
		func(v *Results) error { // stops early
			return v.Each(func(*TestResult) error { return errors.New("stop") })
		})
	for i, err := range errs[:6] {
		if err != nil {
			t.Errorf("consumer %d: %v", i, err)
		}
	}
	if errs[6] == nil || errs[6].Error() != "stop" {
		t.Errorf("early stop: %v", errs[6])
	}
	for i, c := range counts {
		if c != n {
			t.Errorf("consumer %d saw %d tests, want %d", i, c, n)
		}
	}
	if lines != n {
		t.Errorf("line consumer saw %d, want %d", lines, n)
	}
	if got := r.SpoolReads(); got != 1 {
		t.Errorf("spool read %d times, want 1", got)
	}
}

func TestFanoutViewReadsOnce(t *testing.T) {
	r := spooledRun(t, 10)
	errs := r.Fanout(func(v *Results) error {
		if err := v.Each(func(*TestResult) error { return nil }); err != nil {
			return err
		}
		return v.Each(func(*TestResult) error { return nil })
	})
	if !errors.Is(errs[0], errReadTwice) {
		t.Fatalf("second read: %v, want errReadTwice", errs[0])
	}
}
