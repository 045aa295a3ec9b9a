package results

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Small runs stay in memory (reporters read them without decoding the file
// again); past the budget only the file is kept, in report order.
func TestSpoolHeldThenSpilled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		outputLen int
		inMemory  bool
	}{
		{"small run held in memory", 100, true},
		{"large run spilled to disk", 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 20
			sp, err := NewSpool(filepath.Join(t.TempDir(), "s.jsonl"), n)
			if err != nil {
				t.Fatal(err)
			}
			for i := n - 1; i >= 0; i-- { // completion order is reversed
				tr := &TestResult{Name: string(rune('a' + i)), Output: strings.Repeat("x", tc.outputLen), Status: StatusPass}
				if err := sp.Add(i, tr); err != nil {
					t.Fatal(err)
				}
			}
			res := &Results{}
			tests, ok := sp.InMemory()
			if ok != tc.inMemory {
				t.Fatalf("in memory = %v, want %v", ok, tc.inMemory)
			}
			if ok {
				res.Tests = tests
			} else {
				path, err := sp.Finish()
				if err != nil {
					t.Fatal(err)
				}
				res.UseSpool(path)
			}
			var names []string
			if err := res.Each(func(tr *TestResult) error {
				names = append(names, tr.Name)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names, ""); got != "abcdefghijklmnopqrst" {
				t.Errorf("report order %q", got)
			}
		})
	}
}

// finish puts results back in report order from large reads of the spool,
// whatever the completion order: neighbours swapped, a straggler finishing
// last, results larger than one read.
func TestSpoolFinishReorders(t *testing.T) {
	const n = 3000
	order := make([]int, 0, n) // completion order
	for i := 0; i < n; i += 2 {
		order = append(order, i+1)
		if i != 4 { // the straggler, added last
			order = append(order, i)
		}
	}
	order = append(order, 4)
	sp, err := NewSpool(filepath.Join(t.TempDir(), "s.jsonl"), n)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range order {
		out := strings.Repeat("y", 400+i%7)
		if i%1000 == 999 {
			out = strings.Repeat("z", reorderWindow+10) // larger than one read
		}
		tr := &TestResult{Name: fmt.Sprintf("t%05d", i), Output: out, Status: StatusPass}
		if err := sp.Add(i, tr); err != nil {
			t.Fatal(err)
		}
	}
	path, err := sp.Finish()
	if err != nil {
		t.Fatal(err)
	}
	res := &Results{}
	res.UseSpool(path)
	next := 0
	if err := res.Each(func(tr *TestResult) error {
		if want := fmt.Sprintf("t%05d", next); tr.Name != want {
			return fmt.Errorf("result %d is %s, want %s", next, tr.Name, want)
		}
		if len(tr.Output) < 400 {
			return fmt.Errorf("%s: output of %d bytes", tr.Name, len(tr.Output))
		}
		next++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if next != n {
		t.Fatalf("%d results read back, want %d", next, n)
	}
}

// A spool finished out of order is read in report order through its index,
// whatever the distance between a test's place and its completion, and a
// spool whose index is cut is an error, not a short run.
func TestSpoolIndexedReportOrder(t *testing.T) {
	const n = 3000
	path := filepath.Join(t.TempDir(), "s.jsonl")
	sp, err := NewSpool(path, n)
	if err != nil {
		t.Fatal(err)
	}
	sp.overflow, sp.held = true, nil
	big := strings.Repeat("y", 2<<10) // 3000 x 2 KB: many 1 MiB windows
	for k := range n {
		ord := (k * 1237) % n // a permutation: far jumps back and forth
		if err := sp.Add(ord, &TestResult{Name: fmt.Sprint(ord), Output: big}); err != nil {
			t.Fatal(err)
		}
	}
	if sp.sorted {
		t.Fatal("test setup: spool is sorted")
	}
	p, err := sp.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r := &Results{}
	r.UseSpool(p)
	i := 0
	if err := r.Each(func(tr *TestResult) error {
		if tr.Name != fmt.Sprint(i) || tr.Output != big {
			return fmt.Errorf("test %d is %q", i, tr.Name)
		}
		i++
		return nil
	}); err != nil || i != n {
		t.Fatalf("read %d tests: %v", i, err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data[:len(data)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Each(func(*TestResult) error { return nil }); err == nil {
		t.Error("a spool with a cut index read without error")
	}
}

// Ordinals that never come (a gap) leave no entry: the tests after them
// are read in order all the same; an ordinal written twice is an error;
// the spool keeps in memory only the results ahead of a missing one.
func TestSpoolGapsAndRepeats(t *testing.T) {
	sp, err := NewSpool(filepath.Join(t.TempDir(), "s.jsonl"), 10)
	if err != nil {
		t.Fatal(err)
	}
	sp.overflow, sp.held = true, nil
	for _, ord := range []int{1, 0, 3, 2, 6, 5, 9} { // 4, 7 and 8 never come
		if err := sp.Add(ord, &TestResult{Name: fmt.Sprint(ord)}); err != nil {
			t.Fatal(err)
		}
	}
	if sp.next != 4 || len(sp.early) != 3 {
		t.Errorf("index at %d with %d early, want 4 and 3", sp.next, len(sp.early))
	}
	for _, ord := range []int{2, 6} {
		if err := sp.Add(ord, &TestResult{Name: "again"}); err == nil {
			t.Errorf("test %d written twice without error", ord)
		}
	}
	p, err := sp.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r := &Results{}
	r.UseSpool(p)
	var names []string
	if err := r.Each(func(tr *TestResult) error { names = append(names, tr.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "0,1,2,3,5,6,9" {
		t.Errorf("read %s", got)
	}
	if _, err := os.Stat(p + ".idx.part"); !os.IsNotExist(err) {
		t.Errorf("index side file left: %v", err)
	}
}

// Salvage gives back what the spool took, by ordinal, from memory or from
// its file, and what a failed write lost is listed as taken but missing.
func TestSpoolSalvage(t *testing.T) {
	order := []int{2, 0, 1, 5, 4}
	for _, tc := range []struct {
		name     string
		held     bool
		fail     bool
		wantGot  string
		wantTook string
	}{
		{"held in memory", true, false, "0,1,2,4,5", "0,1,2,4,5"},
		{"read from the file", false, false, "0,1,2,4,5", "0,1,2,4,5"},
		{"a line lost in a failed write", false, true, "0,1,2", "0,1,2,5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sp, err := NewSpool(filepath.Join(dir, "s.jsonl"), 6)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.held {
				sp.overflow, sp.held = true, nil
			}
			for i, ord := range order {
				out := strings.Repeat("o", 1000)
				if tc.fail && i == 3 {
					// The disk fills: 5 is taken into the buffer, which
					// then fails to reach the file with 4.
					sp.w.Flush()
					sp.w = bufio.NewWriterSize(failWriter{}, 64<<10)
				}
				if tc.fail && ord == 4 {
					out = strings.Repeat("o", 100<<10)
				}
				err := sp.Add(ord, &TestResult{Name: fmt.Sprint(ord), Output: out, Status: StatusPass})
				if tc.fail && ord == 4 {
					if err == nil {
						t.Fatal("a failed write was no error")
					}
					break // the caller salvages at once
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, taken := sp.Salvage()
			var g []string
			for ord := range 6 {
				if tr := got[ord]; tr != nil {
					if tr.Name != fmt.Sprint(ord) || len(tr.Output) != 1000 {
						t.Errorf("test %d read back as %q", ord, tr.Name)
					}
					g = append(g, fmt.Sprint(ord))
				}
			}
			slices.Sort(taken)
			if s := strings.Join(g, ","); s != tc.wantGot {
				t.Errorf("got %s, want %s", s, tc.wantGot)
			}
			if s := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(taken)), ","), "[]"); s != tc.wantTook {
				t.Errorf("taken %s, want %s", s, tc.wantTook)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }
