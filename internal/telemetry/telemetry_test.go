package telemetry_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/otlptest"
	"github.com/aieval/aieval/internal/telemetry"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		name string
		flag string
		env  map[string]string
		want bool
	}{
		{"nothing", "", nil, false},
		{"flag", "http://127.0.0.1:4318", nil, true},
		{"endpoint", "", map[string]string{telemetry.EnvEndpoint: "http://c:4318"}, true},
		{"traces endpoint", "", map[string]string{telemetry.EnvTracesEndpoint: "http://c:4318/v1/traces"}, true},
		{"metrics endpoint", "", map[string]string{telemetry.EnvMetricsEndpoint: "http://c:4318/v1/metrics"}, true},
		{"sdk disabled", "", map[string]string{telemetry.EnvEndpoint: "http://c:4318", telemetry.EnvSDKDisabled: "true"}, false},
		{"flag beats disabled", "http://127.0.0.1:4318", map[string]string{telemetry.EnvSDKDisabled: "TRUE"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := telemetry.Enabled(tc.flag, func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("Enabled = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"localhost:4318", "ftp://x", "http://", "http://user:pw-SECRET-1234@"} {
		_, err := telemetry.Start(context.Background(), telemetry.Options{URL: u})
		if err == nil {
			t.Errorf("--otlp %q accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("--otlp %q: error shows the password: %v", u, err)
		}
	}
}

// feed sends the events of a run of two tests: one passing with a model
// call and a grader call, one whose call failed.
func feed(e *telemetry.Exporter) {
	ctx := context.Background()
	t0 := time.Now().Add(-time.Second)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(name, scope string, ms int, data map[string]any) {
		e.Handle(ctx, runtime.Event{Name: name, Scope: scope, Time: at(ms), File: "s.eval.yaml", Data: data})
	}
	ev("run_start", "", 0, map[string]any{"suites": []string{"s.eval.yaml"}, "tests": 2})
	ev("test_start", "t0.0", 1, map[string]any{"suite": "s.eval.yaml", "test": "good", "prompt": "p", "line": 7, "sample": 0})
	ev("test_start", "t1.0", 2, map[string]any{"suite": "s.eval.yaml", "test": "bad", "prompt": "p", "line": 12, "sample": 0})
	ev(runtime.EventRunDone, "t0.0", 101, map[string]any{
		"prompt": "p", "model": "gpt-4o-mini", "provider": "openai", "base_url": "http://127.0.0.1:8080/v1",
		"duration_ms": 100.0, "cached": false, "usage": llm.Usage{PromptTokens: 11, CompletionTokens: 22, TotalTokens: 33},
		"response_model": "gpt-4o-mini-2024-07-18", "finish_reason": "stop", "cost": 0.25,
	})
	ev(runtime.EventRunDone, "t1.0", 150, map[string]any{
		"prompt": "p", "model": "claude-x", "provider": "anthropic", "duration_ms": 20.0, "error": "server said 500",
	})
	ev("test_complete", "t1.0", 151, map[string]any{"suite": "s.eval.yaml", "test": "bad", "status": "error", "reason": "prompt \"p\": server said 500"})
	ev(runtime.EventRunDone, "t0.0", 160, map[string]any{
		"prompt": "", "model": "gpt-4o", "provider": "openai", "duration_ms": 50.0, "cached": true,
		"usage": llm.Usage{PromptTokens: 5, CompletionTokens: 1}, "cost": 0.5,
	})
	ev("test_complete", "t0.0", 170, map[string]any{"suite": "s.eval.yaml", "test": "good", "status": "pass", "score": 0.9,
		"latency_ms": 100.0, "cost": 0.75, "cached": false, "model": "gpt-4o-mini",
		"tokens": results.Tokens{Prompt: 11, Completion: 22, Total: 33}})
	ev("run_complete", "", 200, map[string]any{"run_id": "abc", "total": 2, "passed": 1, "errors": 1, "cost": 0.75})
}

func TestSpansAndMetrics(t *testing.T) {
	sink := otlptest.Start(t)
	e, err := telemetry.Start(context.Background(), telemetry.Options{URL: sink.URL, ServiceVersion: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	feed(e)
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := sink.Wait(t, 10*time.Second, func(d otlptest.Dump) bool { return len(d.Spans) >= 6 && len(d.Points) > 0 })
	byName := map[string][]otlptest.Span{}
	for _, s := range d.Spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	if len(d.Spans) != 6 {
		t.Fatalf("got %d spans, want 6 (run, 2 tests, 3 calls): %v", len(d.Spans), byName)
	}
	run := byName["aieval run"][0]
	good, bad := byName["test good"][0], byName["test bad"][0]
	call, failed, graded := byName["chat gpt-4o-mini"][0], byName["chat claude-x"][0], byName["chat gpt-4o"][0]
	for _, c := range []struct {
		span   otlptest.Span
		parent string
	}{{run, ""}, {good, run.SpanID}, {bad, run.SpanID}, {call, good.SpanID}, {graded, good.SpanID}, {failed, bad.SpanID}} {
		if c.span.ParentID != c.parent {
			t.Errorf("%s: parent %q, want %q", c.span.Name, c.span.ParentID, c.parent)
		}
		if c.span.TraceID != run.TraceID {
			t.Errorf("%s: another trace", c.span.Name)
		}
		if c.span.Resource["service.name"] != "aieval" || c.span.Resource["service.version"] != "v9.9.9" {
			t.Errorf("%s: resource %v", c.span.Name, c.span.Resource)
		}
	}
	want := map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
		"gen_ai.usage.input_tokens": float64(11), "gen_ai.usage.output_tokens": float64(22),
		"gen_ai.response.finish_reasons": []any{"stop"}, "aieval.cached": false, "aieval.cost": 0.25,
		"aieval.latency_ms": float64(100), "aieval.prompt": "p", "server.address": "127.0.0.1", "server.port": float64(8080),
	}
	checkAttrs(t, call, want)
	if call.Kind != "Client" {
		t.Errorf("call kind %s, want Client", call.Kind)
	}
	if got := time.Duration(call.EndNanos - call.StartNanos); got != 100*time.Millisecond {
		t.Errorf("call span lasts %v, want the call's 100ms", got)
	}
	checkAttrs(t, graded, map[string]any{"aieval.role": "grader", "aieval.cached": true, "gen_ai.usage.input_tokens": float64(5)})
	checkAttrs(t, failed, map[string]any{"gen_ai.provider.name": "anthropic", "error.type": "_OTHER"})
	if failed.Status != "Error" {
		t.Errorf("failed call status %s", failed.Status)
	}
	checkAttrs(t, good, map[string]any{"aieval.test": "good", "aieval.suite": "s.eval.yaml", "aieval.status": "pass",
		"aieval.score": 0.9, "aieval.cost": 0.75, "gen_ai.usage.input_tokens": float64(11), "code.line.number": float64(7)})
	if good.Status != "Ok" || bad.Status != "Error" || !strings.Contains(bad.StatusMsg, "server said 500") {
		t.Errorf("test statuses: good %s, bad %s %q", good.Status, bad.Status, bad.StatusMsg)
	}
	checkAttrs(t, run, map[string]any{"aieval.run_id": "abc", "aieval.total": float64(2), "aieval.errors": float64(1)})

	sums := map[string]float64{}
	counts := map[string]uint64{}
	for _, p := range d.Points {
		key := p.Metric
		for _, a := range []string{"aieval.status", "gen_ai.token.type"} {
			if v, ok := p.Attrs[a]; ok {
				key += " " + v.(string)
			}
		}
		sums[key] += p.Value
		counts[key] += p.Count
	}
	for k, v := range map[string]float64{
		"aieval.tests pass": 1, "aieval.tests error": 1,
		"aieval.tokens input": 16, "aieval.tokens output": 23, "aieval.cost": 0.75,
	} {
		if sums[k] != v {
			t.Errorf("metric %s = %v, want %v (all: %v)", k, sums[k], v, sums)
		}
	}
	if counts["gen_ai.client.operation.duration"] != 3 {
		t.Errorf("duration histogram counts %d calls, want 3", counts["gen_ai.client.operation.duration"])
	}
}

func checkAttrs(t *testing.T, s otlptest.Span, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := s.Attrs[k]
		if !ok {
			t.Errorf("%s: no attribute %s", s.Name, k)
			continue
		}
		if gs, ok := got.([]any); ok {
			ws, _ := v.([]any)
			if len(gs) != len(ws) || (len(gs) > 0 && gs[0] != ws[0]) {
				t.Errorf("%s: %s = %v, want %v", s.Name, k, got, v)
			}
			continue
		}
		if got != v {
			t.Errorf("%s: %s = %v (%T), want %v (%T)", s.Name, k, got, got, v, v)
		}
	}
}

// The standard variables: endpoint, headers (sent, never shown) and the
// service name.
func TestStandardEnv(t *testing.T) {
	sink := otlptest.Start(t)
	t.Setenv(telemetry.EnvEndpoint, sink.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team-key=hdr-SECRET-7f3a9c,x-other=plain")
	t.Setenv("OTEL_SERVICE_NAME", "nightly-evals")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci")
	if !telemetry.Enabled("", func(k string) string {
		return map[string]string{telemetry.EnvEndpoint: sink.URL}[k]
	}) {
		t.Fatal("not enabled by the endpoint variable")
	}
	e, err := telemetry.Start(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	feed(e)
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := sink.Wait(t, 10*time.Second, func(d otlptest.Dump) bool { return len(d.Spans) >= 6 })
	if len(d.Spans) == 0 {
		t.Fatal("no spans")
	}
	if r := d.Spans[0].Resource; r["service.name"] != "nightly-evals" || r["deployment.environment.name"] != "ci" {
		t.Errorf("resource %v", r)
	}
	if h := d.Headers["X-Team-Key"]; len(h) == 0 || h[0] != "hdr-SECRET-7f3a9c" {
		t.Errorf("header not sent: %v", d.Headers)
	}
}

// A collector that is down delays the end by at most the flush timeout,
// and the warning names no header value or password.
func TestDownCollector(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer hdr-SECRET-7f3a9c")
	var mu sync.Mutex
	var warned []string
	e, err := telemetry.Start(context.Background(), telemetry.Options{
		URL: "http://user:pw-SECRET-1234@" + addr, FlushTimeout: 500 * time.Millisecond,
		Getenv: func(k string) string { return map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}[k] },
		Warn:   func(s string) { mu.Lock(); warned = append(warned, s); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	feed(e)
	start := time.Now()
	err = e.Shutdown(context.Background())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("shutdown took %v with the collector down", took)
	}
	if err == nil {
		t.Error("no error with the collector down")
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(warned, "\n")
	if !strings.Contains(all, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported") {
		t.Errorf("no warning for the grpc protocol: %s", all)
	}
	if err != nil {
		all += "\n" + err.Error()
	}
	if strings.Contains(all, "SECRET") {
		t.Errorf("a secret in the warnings: %s", all)
	}
}
