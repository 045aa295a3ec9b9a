package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// The event names of eval (kept here as strings so telemetry depends on
// the runtime's event type only).
const (
	evRunStart  = "run_start"
	evRunDone   = "run_complete"
	evTestStart = "test_start"
	evTestDone  = "test_complete"
)

// Handle is the runtime.Callback: test events open and close test spans,
// on_run_complete records a model-call span under its test (by scope),
// backdated to when the call started.
func (e *Exporter) Handle(_ context.Context, ev runtime.Event) {
	switch ev.Name {
	case evRunStart:
		e.runStart(ev)
	case evRunDone:
		e.runDone(ev)
	case evTestStart:
		e.testStart(ev)
	case evTestDone:
		e.testDone(ev)
	case runtime.EventRunDone:
		e.modelCall(ev)
	}
}

func (e *Exporter) runStart(ev runtime.Event) {
	attrs := []attribute.KeyValue{attribute.Int("aieval.tests", num[int](ev.Data, "tests"))}
	if s, ok := ev.Data["suites"].([]string); ok {
		attrs = append(attrs, attribute.StringSlice("aieval.suites", s))
	}
	ctx, sp := e.tracer.Start(context.Background(), "aieval run",
		trace.WithTimestamp(ev.Time), trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	e.mu.Lock()
	e.run, e.runSp = ctx, sp
	e.mu.Unlock()
}

func (e *Exporter) runDone(ev runtime.Event) {
	e.mu.Lock()
	sp := e.runSp
	e.run, e.runSp = nil, nil
	e.mu.Unlock()
	if sp == nil {
		return
	}
	d := ev.Data
	sp.SetAttributes(
		attribute.String("aieval.run_id", str(d, "run_id")),
		attribute.Int("aieval.total", num[int](d, "total")),
		attribute.Int("aieval.passed", num[int](d, "passed")),
		attribute.Int("aieval.failed", num[int](d, "failed")),
		attribute.Int("aieval.errors", num[int](d, "errors")),
		attribute.Int("aieval.skipped", num[int](d, "skipped")),
		attribute.Float64("aieval.cost", num[float64](d, "cost")),
		attribute.Bool("aieval.interrupted", d["interrupted"] == true),
	)
	if msg := str(d, "error"); msg != "" {
		sp.SetStatus(codes.Error, redact(msg))
	} else if num[int](d, "failed")+num[int](d, "errors") > 0 {
		sp.SetStatus(codes.Error, fmt.Sprintf("%d failed, %d errors", num[int](d, "failed"), num[int](d, "errors")))
	}
	sp.End(trace.WithTimestamp(ev.Time))
}

func (e *Exporter) testStart(ev runtime.Event) {
	if ev.Scope == "" {
		return
	}
	d := ev.Data
	e.mu.Lock()
	parent := e.run
	e.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	name := str(d, "test")
	ctx, sp := e.tracer.Start(parent, "test "+name, trace.WithTimestamp(ev.Time), trace.WithAttributes(
		attribute.String("aieval.test", name),
		attribute.String("aieval.suite", str(d, "suite")),
		attribute.String("aieval.prompt", str(d, "prompt")),
		attribute.Int("aieval.sample", num[int](d, "sample")),
		attribute.String("code.file.path", ev.File),
		attribute.Int("code.line.number", num[int](d, "line")),
	))
	e.mu.Lock()
	e.tests[ev.Scope] = &testSpan{ctx: ctx, span: sp}
	e.mu.Unlock()
}

func (e *Exporter) testDone(ev runtime.Event) {
	e.mu.Lock()
	ts := e.tests[ev.Scope]
	delete(e.tests, ev.Scope)
	e.mu.Unlock()
	d := ev.Data
	status := str(d, "status")
	suite := str(d, "suite")
	e.inst.tests.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("aieval.status", status), attribute.String("aieval.suite", suite)))
	if ts == nil {
		return
	}
	sp := ts.span
	attrs := []attribute.KeyValue{
		attribute.String("aieval.status", status),
		attribute.Float64("aieval.score", num[float64](d, "score")),
		attribute.Float64("aieval.latency_ms", num[float64](d, "latency_ms")),
		attribute.Float64("aieval.cost", num[float64](d, "cost")),
		attribute.Bool("aieval.cached", d["cached"] == true),
	}
	if m := str(d, "model"); m != "" {
		attrs = append(attrs, attribute.String("gen_ai.request.model", m))
	}
	if t, ok := d["tokens"]; ok {
		in, out := tokenCounts(t)
		attrs = append(attrs, attribute.Int("gen_ai.usage.input_tokens", in), attribute.Int("gen_ai.usage.output_tokens", out))
	}
	sp.SetAttributes(attrs...)
	switch status {
	case "fail", "error":
		sp.SetStatus(codes.Error, cut(redact(str(d, "reason")), 256))
	case "pass":
		sp.SetStatus(codes.Ok, "")
	}
	sp.End(trace.WithTimestamp(ev.Time))
}

// modelCall records one model call (on_run_complete) as a client span.
func (e *Exporter) modelCall(ev runtime.Event) {
	d := ev.Data
	e.mu.Lock()
	parent := e.run
	if ts := e.tests[ev.Scope]; ts != nil {
		parent = ts.ctx
	}
	e.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	model, provider := str(d, "model"), str(d, "provider")
	system := providerName(provider, str(d, "base_url"))
	durMS := num[float64](d, "duration_ms")
	start := ev.Time.Add(-time.Duration(durMS * float64(time.Millisecond)))
	cached := d["cached"] == true
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.system", system),
		attribute.String("gen_ai.provider.name", system),
		attribute.String("gen_ai.request.model", model),
		attribute.Bool("aieval.cached", cached),
		attribute.Float64("aieval.latency_ms", durMS),
	}
	if p := str(d, "prompt"); p != "" {
		attrs = append(attrs, attribute.String("aieval.prompt", p))
	} else {
		attrs = append(attrs, attribute.String("aieval.role", "grader"))
	}
	if host, port := serverOf(str(d, "base_url")); host != "" {
		attrs = append(attrs, attribute.String("server.address", host))
		if port > 0 {
			attrs = append(attrs, attribute.Int("server.port", port))
		}
	}
	in, out := 0, 0
	errMsg := str(d, "error")
	if errMsg == "" {
		in, out = tokenCounts(d["usage"])
		attrs = append(attrs, attribute.Int("gen_ai.usage.input_tokens", in), attribute.Int("gen_ai.usage.output_tokens", out))
		rm := str(d, "response_model")
		if rm == "" {
			rm = model
		}
		attrs = append(attrs, attribute.String("gen_ai.response.model", rm))
		if fr := str(d, "finish_reason"); fr != "" {
			attrs = append(attrs, attribute.StringSlice("gen_ai.response.finish_reasons", []string{fr}))
		}
	} else {
		attrs = append(attrs, attribute.String("error.type", "_OTHER"))
	}
	cost, hasCost := d["cost"].(float64)
	if hasCost {
		attrs = append(attrs, attribute.Float64("aieval.cost", cost))
	}
	_, sp := e.tracer.Start(parent, "chat "+model, trace.WithTimestamp(start),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if errMsg != "" {
		sp.SetStatus(codes.Error, cut(redact(errMsg), 256))
	}
	sp.End(trace.WithTimestamp(ev.Time))

	ctx := context.Background()
	base := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", system),
		attribute.String("gen_ai.request.model", model),
		attribute.Bool("aieval.cached", cached),
	}
	durAttrs := base
	if errMsg != "" {
		durAttrs = append(append([]attribute.KeyValue(nil), base...), attribute.String("error.type", "_OTHER"))
	}
	e.inst.duration.Record(ctx, durMS/1000, metric.WithAttributes(durAttrs...))
	if errMsg == "" {
		e.inst.tokens.Add(ctx, int64(in), metric.WithAttributes(append(append([]attribute.KeyValue(nil), base...), attribute.String("gen_ai.token.type", "input"))...))
		e.inst.tokens.Add(ctx, int64(out), metric.WithAttributes(append(append([]attribute.KeyValue(nil), base...), attribute.String("gen_ai.token.type", "output"))...))
	}
	if hasCost {
		e.inst.cost.Add(ctx, cost, metric.WithAttributes(base...))
	}
}

// providerName is gen_ai.provider.name for a parser id: the semantic
// conventions' well-known values where one fits.
func providerName(parser, baseURL string) string {
	switch parser {
	case runtime.ParserOpenAI:
		host, _ := serverOf(baseURL)
		switch {
		case strings.HasSuffix(host, "groq.com"):
			return "groq"
		case strings.HasSuffix(host, "openai.azure.com"):
			return "azure.ai.openai"
		}
		return "openai"
	case runtime.ParserAnthropic:
		return "anthropic"
	case runtime.ParserBedrock:
		return "aws.bedrock"
	case runtime.ParserGemini:
		return "gcp.gemini"
	case runtime.ParserAzure:
		return "azure.ai.openai"
	case runtime.ParserHuggingFace:
		return "huggingface"
	case "":
		return "_OTHER"
	}
	return parser
}

func serverOf(base string) (string, int) {
	if base == "" {
		return "", 0
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}

func tokenCounts(v any) (in, out int) {
	switch u := v.(type) {
	case llm.Usage:
		return u.PromptTokens, u.CompletionTokens
	case *llm.Usage:
		if u != nil {
			return u.PromptTokens, u.CompletionTokens
		}
	case results.Tokens:
		return u.Prompt, u.Completion
	}
	return 0, 0
}

func str(d map[string]any, k string) string {
	s, _ := d[k].(string)
	if s == "" {
		if st, ok := d[k].(fmt.Stringer); ok {
			return st.String()
		}
	}
	return s
}

func num[T int | float64](d map[string]any, k string) T {
	switch v := d[k].(type) {
	case int:
		return T(v)
	case int64:
		return T(v)
	case float64:
		return T(v)
	}
	return 0
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
