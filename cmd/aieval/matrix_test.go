package main

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestRetryErrorsAndMinPassRate: a first run errors one test (the server
// fails its requests), `--retry-errors` reruns only that one and writes
// the whole run; --min-pass-rate passes a run with one failure in three.
func TestRetryErrorsAndMinPassRate(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	srv := fakeopenai.New(fakeopenai.WithFault(func(n int64, req fakeopenai.ChatRequest) fakeopenai.Fault {
		if broken.Load() && strings.Contains(req.LastUser(), "FLAKY") {
			return fakeopenai.Fault{Kind: fakeopenai.KindStatus, Code: 500}
		}
		return fakeopenai.None
	}))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "probe.aiconfig.json", echoConfig)
	path := write(t, dir, "s.eval.yaml", `config: probe.aiconfig.json
tests:
  - {name: ok, prompt: say, params: {reply: Paris}, assert: [{type: contains, value: Paris}]}
  - {name: wrong, prompt: say, params: {reply: Rome}, assert: [{type: contains, value: Paris}]}
  - {name: flaky, prompt: say, params: {reply: FLAKY Paris}, assert: [{type: contains, value: Paris}]}
`)
	first := filepath.Join(dir, "first.json")
	env := []string{"OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k"}
	if o := newCLI(t, env...).run("run", "--cache-mode", "off", "--retries", "0", "--json", first, path); o.code != 3 {
		t.Fatalf("first run: exit %d, want 3\n%s%s", o.code, o.stdout, o.stderr)
	}
	broken.Store(false)
	before := srv.Requests()
	merged := filepath.Join(dir, "merged.json")
	o := newCLI(t, env...).run("run", "--cache-mode", "off", "--retry-errors", first, "--json", merged, "--min-pass-rate", "0.6")
	if o.code != 0 {
		t.Fatalf("retry: exit %d, want 0 (2 of 3 pass, --min-pass-rate 0.6)\n%s%s", o.code, o.stdout, o.stderr)
	}
	if n := srv.Requests() - before; n != 1 {
		t.Errorf("the retry made %d requests, want 1 (only the errored test)", n)
	}
	if !strings.Contains(o.stdout, "pass rate 2/3 = 66.7% meets the required 60.0% (--min-pass-rate)") {
		t.Errorf("no gate note in:\n%s", o.stdout)
	}
	res, err := results.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]results.Status{}
	for _, tr := range res.Tests {
		got[tr.Name] = tr.Status
	}
	if len(res.Tests) != 3 || got["ok"] != "pass" || got["wrong"] != "fail" || got["flaky"] != "pass" || res.Summary.Errors != 0 {
		t.Errorf("merged results %v, summary %+v", got, res.Summary)
	}
	if res.Gate == nil || res.Gate.Min != 0.6 {
		t.Errorf("gate %+v", res.Gate)
	}
	// Without the gate the failure fails the run; nothing errored now.
	if o := newCLI(t, env...).run("run", "--cache-mode", "off", "--retry-errors", merged); o.code != 0 || !strings.Contains(o.stderr, "nothing to retry") {
		t.Errorf("retry of a run without errors: exit %d\n%s", o.code, o.stderr)
	}
	if o := newCLI(t, env...).run("run", "--cache-mode", "off", "--min-pass-rate", "0.9", path); o.code != 1 {
		t.Errorf("--min-pass-rate 0.9 with 2 of 3: exit %d, want 1", o.code)
	}
	if o := newCLI(t, env...).run("run", "--min-pass-rate", "1.5", path); o.code != 2 {
		t.Errorf("--min-pass-rate 1.5: exit %d, want 2", o.code)
	}
}
