package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/otlptest"
	"github.com/aieval/aieval/runtime"
)

// readEvents reads an --events file: every line one JSON event.
func readEvents(t *testing.T, path string) ([]runtime.Event, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []runtime.Event
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ev runtime.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s:%d: %v: %s", path, n, err, sc.Text())
		}
		if ev.Time.IsZero() {
			t.Errorf("%s:%d: no timestamp", path, n)
		}
		evs = append(evs, ev)
	}
	return evs, string(raw)
}

// The trip planner, offline from its committed cache, with --events and an
// OTLP endpoint: the events a user expects, in order, and at a real OTLP
// receiver one span per test, a child span per model call with token
// usage, and the run's metrics.
func TestMonitorTravel(t *testing.T) {
	for _, how := range []string{"flag", "env"} {
		t.Run(how, func(t *testing.T) {
			sink := otlptest.Start(t)
			events := filepath.Join(t.TempDir(), "events.jsonl")
			jsonOut := filepath.Join(t.TempDir(), "results.json")
			c := newCLI(t, "OPENAI_API_KEY", secretKey)
			args := []string{"run", "--offline", "--no-history", "--events", events, "--json", jsonOut}
			if how == "flag" {
				args = append(args, "--otlp", sink.URL)
			} else {
				// The exporter reads the process environment itself.
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL)
				c.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.URL
			}
			o := c.run(append(args, "../../examples/travel/travel.eval.yaml")...)
			if o.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
			}
			res, err := results.ReadFile(jsonOut)
			if err != nil {
				t.Fatal(err)
			}
			var tests []results.TestResult
			_ = res.Each(func(tr *results.TestResult) error { tests = append(tests, *tr); return nil })
			if len(tests) != 3 {
				t.Fatalf("%d tests", len(tests))
			}

			evs, raw := readEvents(t, events)
			if strings.Contains(raw, "SECRET-5f2c9e") {
				t.Error("the key is in the events file")
			}
			head := []string{runtime.EventDeserializeStart, runtime.EventDeserializeDone, "run_start"}
			for i, n := range head {
				if evs[i].Name != n {
					t.Fatalf("event %d is %s, want %s", i, evs[i].Name, n)
				}
			}
			if last := evs[len(evs)-1]; last.Name != "run_complete" || last.Data["passed"] != float64(3) {
				t.Errorf("last event %s %v", last.Name, last.Data)
			}
			// Each test: test_start, then resolve and run pairs (a chain
			// runs its dependency first; llm-rubric's grader adds a run
			// pair), then test_complete.
			scopes := map[string][]runtime.Event{}
			for _, ev := range evs[3 : len(evs)-1] {
				scopes[ev.Scope] = append(scopes[ev.Scope], ev)
			}
			if len(scopes) != 3 {
				t.Fatalf("%d scopes, want one per test", len(scopes))
			}
			calls := map[string]int{}
			for scope, s := range scopes {
				name, _ := s[0].Data["test"].(string)
				if s[0].Name != "test_start" || s[len(s)-1].Name != "test_complete" {
					t.Errorf("%s: from %s to %s", scope, s[0].Name, s[len(s)-1].Name)
				}
				if s[len(s)-1].Data["status"] != "pass" {
					t.Errorf("%s: %v", name, s[len(s)-1].Data)
				}
				open := ""
				for _, ev := range s[1 : len(s)-1] {
					switch ev.Name {
					case runtime.EventResolveStart, runtime.EventRunStart:
						if open != "" {
							t.Errorf("%s: %s while %s is open", name, ev.Name, open)
						}
						open = ev.Name
					case runtime.EventResolveDone, runtime.EventRunDone:
						if want := strings.Replace(ev.Name, "complete", "start", 1); open != want {
							t.Errorf("%s: %s after %q", name, ev.Name, open)
						}
						open = ""
						if ev.Name == runtime.EventRunDone {
							calls[name]++
							if ev.Data["cached"] != true || ev.Data["usage"] == nil || ev.Data["cost"] == nil {
								t.Errorf("%s: on_run_complete %v", name, ev.Data)
							}
						}
					default:
						t.Errorf("%s: unexpected %s", name, ev.Name)
					}
				}
			}
			// lists: 1 call; by price and by location: the dependency, the
			// itinerary and the grader.
			wantCalls := map[string]int{"lists ten attractions": 1, "itinerary ordered by price": 3, "itinerary by location (prompt default)": 3}
			for n, w := range wantCalls {
				if calls[n] != w {
					t.Errorf("%s: %d model calls in events, want %d", n, calls[n], w)
				}
			}

			d := sink.Wait(t, 10*time.Second, func(d otlptest.Dump) bool { return len(d.Spans) >= 11 && len(d.Points) > 0 })
			var run otlptest.Span
			testSpans := map[string]otlptest.Span{}
			children := map[string][]otlptest.Span{}
			for _, s := range d.Spans {
				switch {
				case s.Name == "aieval run":
					run = s
				case strings.HasPrefix(s.Name, "test "):
					testSpans[s.SpanID] = s
				default:
					children[s.ParentID] = append(children[s.ParentID], s)
				}
			}
			if run.SpanID == "" || len(testSpans) != 3 || len(d.Spans) != 1+3+7 {
				t.Fatalf("%d spans: run %q, %d test spans", len(d.Spans), run.SpanID, len(testSpans))
			}
			var spanTokens float64
			for id, ts := range testSpans {
				name := ts.Attrs["aieval.test"].(string)
				if ts.ParentID != run.SpanID || ts.Attrs["aieval.status"] != "pass" || ts.Attrs["aieval.suite"] != "../../examples/travel/travel.eval.yaml" {
					t.Errorf("test span %s: parent %s, %v", ts.Name, ts.ParentID, ts.Attrs)
				}
				if len(children[id]) != wantCalls[name] {
					t.Errorf("%s: %d child spans, want %d", name, len(children[id]), wantCalls[name])
				}
				for _, cs := range children[id] {
					in, _ := cs.Attrs["gen_ai.usage.input_tokens"].(float64)
					out, _ := cs.Attrs["gen_ai.usage.output_tokens"].(float64)
					if in <= 0 || out <= 0 || cs.Attrs["gen_ai.system"] != "openai" || cs.Attrs["gen_ai.operation.name"] != "chat" ||
						cs.Attrs["aieval.cached"] != true || cs.Attrs["gen_ai.request.model"] == nil || cs.Kind != "Client" {
						t.Errorf("%s: call span %s %v", name, cs.Name, cs.Attrs)
					}
					spanTokens += in + out
				}
			}
			// Events and spans tell the same calls.
			var eventTokens float64
			for _, ev := range evs {
				if ev.Name == runtime.EventRunDone {
					u := ev.Data["usage"].(map[string]any)
					eventTokens += u["prompt_tokens"].(float64) + u["completion_tokens"].(float64)
				}
			}
			if spanTokens != eventTokens || spanTokens == 0 {
				t.Errorf("tokens: spans %v, events %v", spanTokens, eventTokens)
			}
			var passed, tokens float64
			for _, p := range d.Points {
				switch p.Metric {
				case "aieval.tests":
					if p.Attrs["aieval.status"] == "pass" {
						passed += p.Value
					}
				case "aieval.tokens":
					tokens += p.Value
				}
			}
			if passed != 3 || tokens != eventTokens {
				t.Errorf("metrics: %v tests passed, %v tokens (want 3, %v)", passed, tokens, eventTokens)
			}
			if strings.Contains(o.stdout+o.stderr, "SECRET") {
				t.Error("a secret in the output")
			}
		})
	}
}

// `aieval prompt --events`: load, resolve, run and (with --save) serialize
// events, in the SDK's order.
func TestMonitorPrompt(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "trip.aiconfig.json", `{
  "name": "trip", "schema_version": "latest",
  "metadata": {"models": {"echo": {}}, "default_model": "echo"},
  "prompts": [
    {"name": "a", "input": "Attractions in {{city}}"},
    {"name": "b", "input": "Order: {{a.output}}"}
  ]
}`)
	events := filepath.Join(dir, "ev.jsonl")
	o := newCLI(t).run("prompt", "--events", events, "--save", "--param", "city=NYC", cfg, "b")
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	evs, _ := readEvents(t, events)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Name)
	}
	want := []string{
		runtime.EventDeserializeStart, runtime.EventDeserializeDone,
		runtime.EventResolveStart, runtime.EventResolveDone, runtime.EventRunStart, runtime.EventRunDone, // a, the dependency
		runtime.EventResolveStart, runtime.EventResolveDone, runtime.EventRunStart, runtime.EventRunDone, // b
		runtime.EventSerializeStart, runtime.EventSerializeDone,
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
}

// Bad monitoring flags are input errors, before anything runs.
func TestMonitorBadFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "dir", "ev.jsonl")
	for _, args := range [][]string{
		{"run", "--offline", "--events", missing, "../../examples/travel/travel.eval.yaml"},
		{"run", "--offline", "--otlp", "localhost:4318", "../../examples/travel/travel.eval.yaml"},
		{"prompt", "--otlp", "ftp://x", "../../examples/travel/travel.aiconfig.json", "get_activities"},
	} {
		o := newCLI(t).run(args...)
		if o.code != results.ExitInput || strings.Count(strings.TrimSpace(o.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with one line", args, o.code, o.stderr)
		}
	}
}

// Without --events, --otlp or an OTLP endpoint nothing is set up: no
// callbacks for the runtime to call, no exporter.
func TestMonitorOffByDefault(t *testing.T) {
	st := &state{getenv: func(k string) string { return map[string]string{"OTEL_SERVICE_NAME": "x"}[k] }}
	m, err := startMonitor(t.Context(), st, monitorFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if m.cbs != nil || m.otel != nil || m.events != nil {
		t.Errorf("monitor set up with nothing asked: %+v", m)
	}
	m.close(t.Context())
}
