package results

import (
	"math"
	"testing"
)

func TestPassAtKAndPassHatK(t *testing.T) {
	for _, c := range []struct {
		n, c, k   int
		atK, hatK float64
	}{
		{10, 0, 3, 0, 0},
		{10, 10, 3, 1, 1},
		{10, 5, 1, 0.5, 0.5},
		{4, 2, 2, 1 - 1.0/6, 1.0 / 6}, // C(2,2)/C(4,2)
		{5, 1, 5, 1, 0},
		{3, 2, 3, 1, 0},
	} {
		if got := PassAtK(c.n, c.c, c.k); math.Abs(got-c.atK) > 1e-12 {
			t.Errorf("pass@%d of %d/%d = %v, want %v", c.k, c.c, c.n, got, c.atK)
		}
		if got := PassHatK(c.n, c.c, c.k); math.Abs(got-c.hatK) > 1e-12 {
			t.Errorf("pass^%d of %d/%d = %v, want %v", c.k, c.c, c.n, got, c.hatK)
		}
	}
}

func TestBootstrapIsDeterministicAndCoversTheMean(t *testing.T) {
	xs := []float64{0, 1, 1, 0.5, 0.8, 0.9, 0.2, 1, 1, 0.7}
	lo, hi := Bootstrap(xs)
	lo2, hi2 := Bootstrap(xs)
	if lo != lo2 || hi != hi2 {
		t.Fatalf("not deterministic: %v-%v then %v-%v", lo, hi, lo2, hi2)
	}
	if !(lo < 0.71 && 0.71 < hi) || lo < 0 || hi > 1 {
		t.Errorf("interval %v-%v does not hold the mean 0.71", lo, hi)
	}
	if lo, hi := Bootstrap([]float64{0.4}); lo != 0.4 || hi != 0.4 {
		t.Errorf("one score: %v-%v", lo, hi)
	}
	big := make([]float64, bootstrapExact+1) // the normal interval
	for i := range big {
		big[i] = float64(i % 2)
	}
	if lo, hi := Bootstrap(big); !(lo < 0.5 && hi > 0.5 && hi-lo < 0.03) {
		t.Errorf("large n: %v-%v", lo, hi)
	}
}

func TestSuitePassRateGate(t *testing.T) {
	r := &Results{Version: ResultsVersion, Suites: []SuiteInfo{{Path: "a"}, {Path: "b"}}, Tests: []TestResult{
		{Suite: "a", Name: "1", Status: StatusPass}, {Suite: "a", Name: "2", Status: StatusFail},
		{Suite: "b", Name: "1", Status: StatusPass}, {Suite: "b", Name: "2", Status: StatusPass},
	}}
	for i := range r.Tests {
		r.Count(&r.Tests[i])
	}
	for _, c := range []struct {
		gate *PassRateGate
		want int
	}{
		{nil, ExitFailed},
		{&PassRateGate{Suites: map[string]float64{"a": 0.5}}, ExitOK},
		{&PassRateGate{Suites: map[string]float64{"a": 0.6}}, ExitFailed},
		{&PassRateGate{Suites: map[string]float64{"b": 0.5}}, ExitFailed}, // a's failure has no gate
		{&PassRateGate{Min: 0.75}, ExitOK},
		{&PassRateGate{Min: 0.8}, ExitFailed},
	} {
		r.Gate = c.gate
		if got := r.ExitCode(); got != c.want {
			t.Errorf("gate %+v: exit %d, want %d (%v)", c.gate, got, c.want, r.GateNotes())
		}
	}
	r.Gate = &PassRateGate{Min: 0.5}
	r.Tests[1].Status = StatusError
	r.Summary = Summary{}
	r.bySuite = nil
	for i := range r.Tests {
		r.Count(&r.Tests[i])
	}
	if got := r.ExitCode(); got != ExitErrored {
		t.Errorf("an error under the gate: exit %d, want 3", got)
	}
}

func TestRetriedKeepsOrderAndReplacesErrors(t *testing.T) {
	prev := &Results{Version: ResultsVersion, Suites: []SuiteInfo{{Path: "s"}}, Tests: []TestResult{
		{Suite: "s", Name: "a", Status: StatusPass},
		{Suite: "s", Name: "b [m1]", Matrix: "m1", Status: StatusError},
		{Suite: "s", Name: "b [m2]", Matrix: "m2", Status: StatusPass},
		{Suite: "s", Name: "c", Status: StatusError},
	}}
	ids, err := Errored(prev)
	if err != nil || len(ids) != 2 || !ids["s::b [m1]"] || !ids["s::c"] {
		t.Fatalf("errored %v %v", ids, err)
	}
	rerun := &Results{Version: ResultsVersion, RunID: "r2", Suites: []SuiteInfo{{Path: "s", ConfigSHA256: "new"}}, Tests: []TestResult{
		{Suite: "s", Name: "b [m1]", Matrix: "m1", Status: StatusPass},
		{Suite: "s", Name: "b [m2]", Matrix: "m2", Status: StatusFail},
	}}
	out, err := Retried(prev, rerun)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range out.Tests {
		got = append(got, tr.Name+"="+string(tr.Status))
	}
	if want := "a=pass b [m1]=pass b [m2]=fail c=error"; joinSpace(got) != want {
		t.Errorf("merged %q, want %q", joinSpace(got), want)
	}
	if s := out.Summary; s.Total != 4 || s.Passed != 2 || s.Failed != 1 || s.Errors != 1 || len(s.Models) != 2 {
		t.Errorf("summary %+v", s)
	}
	if out.RunID != "r2" || out.Suites[0].ConfigSHA256 != "new" {
		t.Errorf("header %q %+v", out.RunID, out.Suites)
	}
}

func joinSpace(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}
