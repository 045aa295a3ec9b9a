package eval

import (
	"context"
	"sync"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime"
)

// The run's events: run_start first, run_complete last, and each test's
// model calls inside its test_start/test_complete, under its scope, priced.
func TestTestEventsAndScopes(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	s := fakeSuite(t, srv.URL(), "prices:\n  fake: {input: 1000, output: 2000}\n", `
  - name: plain
    prompt: ask
    params: {q: hello there}
  - name: chained
    prompt: chain
    params: {q: why}
  - name: skipped
    prompt: ask
    skip: not today
`)
	var mu sync.Mutex
	var evs []runtime.Event
	opts := testOpts(t)
	opts.Callbacks = runtime.NewCallbackManager(func(_ context.Context, ev runtime.Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	})
	res, tests := runAll(t, context.Background(), opts, s)
	if len(tests) != 3 {
		t.Fatalf("%d tests", len(tests))
	}
	if evs[0].Name != EventRunStart || evs[len(evs)-1].Name != EventRunDone {
		t.Fatalf("first %s, last %s", evs[0].Name, evs[len(evs)-1].Name)
	}
	if got := evs[len(evs)-1].Data["run_id"]; got != res.RunID {
		t.Errorf("run_complete run_id %v, want %s", got, res.RunID)
	}
	byScope := map[string][]runtime.Event{}
	for _, ev := range evs[1 : len(evs)-1] {
		if ev.Scope == "" {
			t.Errorf("%s outside any test", ev.Name)
		}
		byScope[ev.Scope] = append(byScope[ev.Scope], ev)
	}
	names := func(evs []runtime.Event) []string {
		var n []string
		for _, ev := range evs {
			n = append(n, ev.Name)
		}
		return n
	}
	want := map[string][]string{
		"plain":   {EventTestStart, runtime.EventResolveStart, runtime.EventResolveDone, runtime.EventRunStart, runtime.EventRunDone, EventTestDone},
		"chained": {EventTestStart, runtime.EventResolveStart, runtime.EventResolveDone, runtime.EventRunStart, runtime.EventRunDone, runtime.EventResolveStart, runtime.EventResolveDone, runtime.EventRunStart, runtime.EventRunDone, EventTestDone},
		"skipped": {EventTestStart, EventTestDone},
	}
	if len(byScope) != 3 {
		t.Fatalf("%d scopes, want 3: %v", len(byScope), byScope)
	}
	for scope, evs := range byScope {
		test, _ := evs[0].Data["test"].(string)
		if got, w := names(evs), want[test]; len(got) != len(w) {
			t.Errorf("%s (%s): %v, want %v", test, scope, got, w)
		} else {
			for i := range got {
				if got[i] != w[i] {
					t.Errorf("%s (%s): %v, want %v", test, scope, got, w)
					break
				}
			}
		}
		done := evs[len(evs)-1]
		if test == "skipped" {
			if done.Data["status"] != "skip" {
				t.Errorf("skipped: status %v", done.Data["status"])
			}
			continue
		}
		if done.Data["status"] != "pass" {
			t.Errorf("%s: status %v (%v)", test, done.Data["status"], done.Data["reason"])
		}
		if test == "plain" {
			call := evs[4]
			if call.Data["cost"] == nil || call.Data["cost"] != done.Data["cost"] {
				t.Errorf("plain: call cost %v, test cost %v", call.Data["cost"], done.Data["cost"])
			}
			if evs[3].Data["api_key_env"] != "FAKE_KEY" {
				t.Errorf("on_run_start api_key_env %v", evs[3].Data["api_key_env"])
			}
		}
	}
}

// No callbacks: no scopes, nothing emitted, the run unchanged.
func TestNoCallbacks(t *testing.T) {
	s := echoSuite(t, "  - name: a\n    prompt: get_activities\n")
	opts := testOpts(t)
	opts.Callbacks = &runtime.CallbackManager{}
	_, tests := runAll(t, context.Background(), opts, s)
	if len(tests) != 1 || tests[0].Status != "pass" {
		t.Fatalf("%+v", tests)
	}
}
