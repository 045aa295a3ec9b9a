package results

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// liveTests feeds n tests to l in the order given, counting them into r.
func liveFeed(l *Live, r *Results, order []int, withLine bool) {
	l.Begin(r)
	for _, ord := range order {
		t := &TestResult{Suite: "a.eval.yaml", Name: fmt.Sprint("t", ord), Status: StatusPass, Output: "<&> " + fmt.Sprint(ord)}
		if ord%5 == 0 {
			t.Status = StatusFail
		}
		r.Count(t)
		var line []byte
		if withLine {
			line, _ = appendSpooled(nil, t)
		}
		l.Add(ord, t, line)
	}
	l.EndTests()
}

// A live view yields the tests in ordinal order whatever order they are
// added in, the ones after a missing ordinal once the tests end, its
// suites while they come and its final header once Each returns.
func TestLiveOrderAndHeader(t *testing.T) {
	cases := []struct {
		name  string
		order []int
		want  []int
	}{
		{"in order", []int{0, 1, 2, 3}, []int{0, 1, 2, 3}},
		{"reversed windows", []int{2, 1, 0, 5, 4, 3, 6}, []int{0, 1, 2, 3, 4, 5, 6}},
		{"a missing ordinal (interrupted)", []int{0, 3, 2, 5}, []int{0, 2, 3, 5}},
		{"none", nil, nil},
		{"many batches", reversedWindows(1000, 50), seq(1000)},
	}
	for _, tc := range cases {
		for _, withLine := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, line %v", tc.name, withLine), func(t *testing.T) {
				var got []int
				var lines []string
				var suitesInEach, head string
				var total int
				var interrupted bool
				each := func(v *Results) error {
					err := v.Each(func(tr *TestResult) error {
						suitesInEach = v.Suites[0].Path
						var ord int
						fmt.Sscanf(tr.Name, "t%d", &ord)
						got = append(got, ord)
						return nil
					})
					head, total, interrupted = v.GitSHA, v.Summary.Total, v.Interrupted
					return err
				}
				eachLine := func(v *Results) error {
					ok, err := v.EachLine(func(line []byte) error { lines = append(lines, string(line)); return nil })
					if !ok {
						return errors.New("EachLine of a live view: not ok")
					}
					return err
				}
				l := NewLive(each, eachLine)
				r := &Results{Version: ResultsVersion, RunID: "r1", Suites: []SuiteInfo{{Path: "a.eval.yaml"}}}
				liveFeed(l, r, tc.order, withLine)
				r.GitSHA, r.Interrupted = "abc", true
				for i, err := range l.Close(r) {
					if err != nil {
						t.Fatalf("consumer %d: %v", i, err)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("yielded %v, want %v", got, tc.want)
				}
				if len(lines) != len(tc.want) {
					t.Fatalf("%d lines, want %d", len(lines), len(tc.want))
				}
				for i, ord := range tc.want {
					want, _ := appendSpooled(nil, &TestResult{Suite: "a.eval.yaml", Name: fmt.Sprint("t", ord), Status: map[bool]Status{true: StatusFail, false: StatusPass}[ord%5 == 0], Output: "<&> " + fmt.Sprint(ord)})
					if lines[i] != string(bytes.TrimSpace(want)) {
						t.Errorf("line %d = %s, want %s", i, lines[i], want)
					}
				}
				if len(tc.want) > 0 && suitesInEach != "a.eval.yaml" {
					t.Errorf("suites while the tests come: %q", suitesInEach)
				}
				if head != "abc" || total != len(tc.order) || !interrupted {
					t.Errorf("header after Each: git %q, total %d, interrupted %v; want abc, %d, true", head, total, interrupted, len(tc.order))
				}
			})
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func reversedWindows(n, w int) []int {
	var s []int
	for start := 0; start < n; start += w {
		for ord := min(start+w, n) - 1; ord >= start; ord-- {
			s = append(s, ord)
		}
	}
	return s
}

// A live view is read once; a consumer that stops early or fails does not
// hold the run back; Abort and a repeated ordinal reach every consumer.
func TestLiveErrors(t *testing.T) {
	r := &Results{Suites: []SuiteInfo{{Path: "a.eval.yaml"}}}
	stop := errors.New("stop")
	twice := func(v *Results) error {
		if err := v.Each(func(*TestResult) error { return nil }); err != nil {
			return err
		}
		return v.Each(func(*TestResult) error { return nil })
	}
	early := func(v *Results) error { return v.Each(func(*TestResult) error { return stop }) }
	none := func(v *Results) error { return stop } // never reads: must not block the feed
	l := NewLive(twice, early, none)
	liveFeed(l, r, seq(2000), true) // more than fanDepth batches: blocks unless drained
	errs := l.Close(r)
	if !errors.Is(errs[0], errReadTwice) || !errors.Is(errs[1], stop) || !errors.Is(errs[2], stop) {
		t.Fatalf("errors %v", errs)
	}

	run := errors.New("run failed")
	l = NewLive(func(v *Results) error { return v.Each(func(*TestResult) error { return nil }) })
	liveFeed(l, &Results{}, []int{0, 1}, false)
	if errs := l.Abort(run); !errors.Is(errs[0], run) {
		t.Fatalf("after Abort: %v, want the run's error", errs[0])
	}

	l = NewLive(func(v *Results) error { return v.Each(func(*TestResult) error { return nil }) })
	liveFeed(l, &Results{}, []int{0, 1, 1}, false)
	if errs := l.Close(&Results{}); errs[0] == nil || !strings.Contains(errs[0].Error(), "given twice") {
		t.Fatalf("a repeated ordinal: %v", errs[0])
	}
}

// The identity given before the first batch goes out is in a view's
// header from its first test (the JSON report writes its header then);
// one given later reaches the view only with the final record.
func TestLiveIdentityBeforeTheFirstBatch(t *testing.T) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprint("early ", early), func(t *testing.T) {
			var atFirst, atEnd Results
			l := NewLive(func(v *Results) error {
				first := true
				err := v.Each(func(*TestResult) error {
					if first {
						atFirst, first = *v, false
					}
					return nil
				})
				atEnd = *v
				return err
			})
			id := Identity{GitSHA: "abc", GitRef: "main", RunGroup: "nightly", Shard: &ShardInfo{Index: 2, Count: 3}}
			r := &Results{Version: ResultsVersion, RunID: "r1", Suites: []SuiteInfo{{Path: "a.eval.yaml"}}, Gate: &PassRateGate{Min: 0.9}}
			if early {
				l.SetIdentity(id)
			}
			liveFeed(l, r, seq(liveBatch), false) // a full batch: it goes out at once
			if !early {
				l.SetIdentity(id)
			}
			r.GitSHA, r.GitRef, r.RunGroup, r.Shard = id.GitSHA, id.GitRef, id.RunGroup, id.Shard
			for i, err := range l.Close(r) {
				if err != nil {
					t.Fatalf("consumer %d: %v", i, err)
				}
			}
			if atFirst.Gate == nil || atFirst.Gate.Min != 0.9 {
				t.Errorf("gate at the first test: %+v", atFirst.Gate)
			}
			gotFirst := atFirst.GitSHA == "abc" && atFirst.GitRef == "main" && atFirst.RunGroup == "nightly" && atFirst.Shard != nil && atFirst.Shard.Index == 2
			if gotFirst != early {
				t.Errorf("identity at the first test: %q %q %q %+v, want it %v", atFirst.GitSHA, atFirst.GitRef, atFirst.RunGroup, atFirst.Shard, early)
			}
			if atEnd.GitSHA != "abc" || atEnd.RunGroup != "nightly" || atEnd.Shard == nil {
				t.Errorf("identity at the end: %q %q %+v", atEnd.GitSHA, atEnd.RunGroup, atEnd.Shard)
			}
		})
	}
}
