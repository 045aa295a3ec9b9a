package eval

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// matrixServer answers each model differently, the slowest model first in
// the matrix, so the models finish out of order; a select-best grader
// request picks output 1 (the second model).
func matrixServer(t *testing.T) *fakeopenai.Server {
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		last := req.Messages[len(req.Messages)-1].Content.String()
		if strings.Contains(last, "<Text index=") {
			return `{"index": 1, "reason": "the second is shortest"}`
		}
		switch req.Model {
		case "m1":
			time.Sleep(60 * time.Millisecond)
			return "one: a long answer about " + last
		case "m2":
			return "two: short"
		}
		time.Sleep(20 * time.Millisecond)
		return "three: another answer about " + last
	}))
	t.Cleanup(srv.Close)
	return srv
}

func matrixModels(url string) string {
	var b strings.Builder
	for _, m := range []string{"m1", "m2", "m3"} {
		b.WriteString("  " + m + ": {base_url: \"" + url + "\", api_key_env: FAKE_KEY}\n")
	}
	return b.String()
}

func TestMatrixRunsEveryModelSideBySide(t *testing.T) {
	srv := matrixServer(t)
	s := fakeSuite(t, srv.URL(), matrixModels(srv.URL())+"matrix: [m1, m2, m3]\n", `
  - name: best
    prompt: ask
    params: {q: tea}
    assert:
      - {type: select-best, value: the shortest answer}
      - {type: icontains, value: tea}
  - name: plain
    prompt: ask
    params: {q: tea}
    assert:
      - {type: contains, value: "t"}
  - name: own
    prompt: ask
    params: {q: tea}
    matrix: [m2]
`)
	res, tests := runAll(t, context.Background(), testOpts(t), s)
	var names []string
	byName := map[string]results.TestResult{}
	for _, tr := range tests {
		names = append(names, tr.Name)
		byName[tr.Name] = tr
	}
	want := []string{"best [m1]", "best [m2]", "best [m3]", "plain [m1]", "plain [m2]", "plain [m3]", "own [m2]"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("tests %q, want %q", names, want)
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		tr := byName["plain ["+m+"]"]
		if tr.Model != m || tr.Matrix != m || tr.ID() != s.Path+"::plain ["+m+"]" || tr.TestName() != "plain" {
			t.Errorf("plain [%s]: model %q matrix %q id %q", m, tr.Model, tr.Matrix, tr.ID())
		}
		if !strings.HasPrefix(tr.Output, map[string]string{"m1": "one", "m2": "two", "m3": "three"}[m]) {
			t.Errorf("plain [%s]: output %q from another model", m, tr.Output)
		}
	}
	// select-best: m2 was picked; m2 passes select-best, m1 and m3 fail it
	// (m2 then fails icontains tea: "two: short").
	for m, pass := range map[string]bool{"m1": false, "m2": true, "m3": false} {
		tr := byName["best ["+m+"]"]
		if len(tr.Assertions) != 2 || tr.Assertions[0].Type != "select-best" || tr.Assertions[0].Pass != pass {
			t.Fatalf("best [%s]: %+v", m, tr.Assertions)
		}
	}
	if st := byName["best [m1]"].Status; st != results.StatusFail {
		t.Errorf("best [m1]: %s", st)
	}
	if got := len(res.Summary.Models); got != 3 || res.Summary.Models[0].Model != "m1" {
		t.Fatalf("per-model summary %+v", res.Summary.Models)
	}
	if m2 := res.Summary.Models[1]; m2.Total != 3 || m2.Passed != 2 {
		t.Errorf("m2 summary %+v, want 3 tests, 2 passed", m2)
	}
}

func TestMatrixSelectBestWithOneAnswer(t *testing.T) {
	srv := matrixServer(t)
	// dead's endpoint refuses connections: its run errors, leaving one
	// output to compare.
	s := fakeSuite(t, srv.URL(), matrixModels(srv.URL())+"  dead: {base_url: \"http://127.0.0.1:1/v1\", api_key_env: FAKE_KEY}\nmatrix: [m1, dead]\n", `
  - name: best
    prompt: ask
    params: {q: tea}
    assert:
      - {type: select-best, value: the shortest answer}
`)
	_, tests := runAll(t, context.Background(), testOpts(t), s)
	if len(tests) != 2 {
		t.Fatalf("%d tests", len(tests))
	}
	for _, tr := range tests {
		if tr.Status != results.StatusError {
			t.Errorf("%s: %s, want error", tr.Name, tr.Status)
		}
	}
	if !strings.Contains(tests[0].Reason, "only 1 of the 2 matrix models answered") {
		t.Errorf("reason %q", tests[0].Reason)
	}
}

func TestMatrixLoadErrors(t *testing.T) {
	for _, c := range []struct{ extra, tests, want string }{
		{"matrix: []\n", "  - {name: a, prompt: ask}\n", "matrix must be a non-empty list"},
		{"matrix: [m1, m1]\n", "  - {name: a, prompt: ask}\n", `model "m1" is listed twice`},
		{"", "  - {name: a, prompt: ask, matrix: x}\n", "matrix must be a non-empty list"},
		{"pass_rate: 0\n", "  - {name: a, prompt: ask}\n", "pass_rate"},
		{"", "  - {name: a, prompt: ask, repeat: 2, pass_k: 3}\n", "pass_k 3 is above repeat 2"},
		{"", "  - {name: a, prompt: ask, matrix: [nosuchmodel]}\n", `matrix model "nosuchmodel"`},
	} {
		dir := writeFiles(t, map[string]string{
			"fake.aiconfig.json": fakeConfig,
			"s.eval.yaml":        "config: fake.aiconfig.json\nparams: {q: none, topic: none}\n" + c.extra + "tests:\n" + c.tests,
		})
		_, err := LoadSuite(dir + "/s.eval.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.extra+c.tests, err, c.want)
		}
	}
	dir := writeFiles(t, map[string]string{
		"fake.aiconfig.json": fakeConfig,
		"s.eval.yaml":        "config: fake.aiconfig.json\nmodels: [a, b]\ntests:\n  - {name: a, prompt: ask, params: {q: x}}\n",
	})
	if _, err := LoadSuite(dir + "/s.eval.yaml"); err == nil || !strings.Contains(err.Error(), "list them under matrix:") {
		t.Errorf("models as a list: %v", err)
	}
}

func TestRepeatStatisticsAndGate(t *testing.T) {
	srv := matrixServer(t)
	s := fakeSuite(t, srv.URL(), matrixModels(srv.URL())+"pass_rate: 0.5\n", `
  - name: flaky
    prompt: ask
    params: {q: tea}
    repeat: 4
    pass_k: 2
    assert:
      - {type: contains, value: tea, metric: tea}
  - name: fails
    prompt: ask
    params: {q: coffee}
    assert:
      - {type: contains, value: tea, metric: tea}
`)
	res, tests := runAll(t, context.Background(), testOpts(t), s)
	pr := tests[0].PassRate
	if pr == nil || pr.K != 2 || pr.PassAtK != 1 || pr.PassHatK != 1 {
		t.Fatalf("pass rate %+v", pr)
	}
	if got := tests[0].MetricScores["tea"]; len(got) != 4 {
		t.Errorf("metric scores of the repeats %v", got)
	}
	m := res.Summary.Metrics["tea"]
	if m.Count != 5 || m.Low > m.Mean || m.High < m.Mean || m.High > 1 || m.Low < 0 {
		t.Errorf("metric tea %+v", m)
	}
	// One of two tests passed: the suite's pass_rate 0.5 lets the run pass.
	if code := res.ExitCode(); code != results.ExitOK {
		t.Errorf("exit %d with pass_rate 0.5, want 0; notes %v", code, res.GateNotes())
	}
	res.Gate = &results.PassRateGate{Min: 0.9}
	if code := res.ExitCode(); code != results.ExitFailed {
		t.Errorf("exit %d with --min-pass-rate 0.9, want 1", code)
	}
}

func TestSelectBestNeedsAMatrix(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"fake.aiconfig.json": fakeConfig,
		"s.eval.yaml": "config: fake.aiconfig.json\nparams: {topic: t}\nmatrix: [fake]\ntests:\n" +
			"  - {name: a, prompt: ask, params: {q: x}, assert: [{type: select-best, value: shortest}]}\n",
	})
	_, err := LoadSuite(dir + "/s.eval.yaml")
	if err == nil || !strings.Contains(err.Error(), "s.eval.yaml:5") || !strings.Contains(err.Error(), "at least two with matrix:") {
		t.Errorf("select-best on one model: %v", err)
	}

}
