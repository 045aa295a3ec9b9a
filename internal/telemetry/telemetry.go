// Package telemetry exports a run to OpenTelemetry over OTLP/HTTP: a span
// per suite run, per test and per model call (the GenAI semantic
// conventions), and run metrics. It is fed by runtime callback events, so
// nothing else in aieval imports OpenTelemetry, and it is set up only when
// an endpoint is configured: `aieval version` and a run without OTLP pay
// nothing but the packages' registration.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/aieval/aieval/internal/secrets"
)

// Variables of the OpenTelemetry SDK read to decide whether to export.
const (
	EnvEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint  = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	EnvSDKDisabled     = "OTEL_SDK_DISABLED"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "aieval"

// ScopeName is the instrumentation scope of every span and metric.
const ScopeName = "github.com/aieval/aieval"

// ShutdownTimeout is the default bound of the final flush, so a collector that is down
// delays the end of a CI job by at most this.
const ShutdownTimeout = 5 * time.Second

// Enabled reports whether export is asked for: a --otlp URL, or an OTLP
// endpoint in the environment (unless OTEL_SDK_DISABLED=true).
func Enabled(flagURL string, getenv func(string) string) bool {
	if flagURL != "" {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(getenv(EnvSDKDisabled)), "true") {
		return false
	}
	return getenv(EnvEndpoint) != "" || getenv(EnvTracesEndpoint) != "" || getenv(EnvMetricsEndpoint) != ""
}

// Options of Start.
type Options struct {
	// URL is --otlp: the base URL of an OTLP/HTTP receiver, as
	// OTEL_EXPORTER_OTLP_ENDPOINT is ("/v1/traces" and "/v1/metrics" are
	// appended); it wins over the environment. "" uses the environment.
	URL            string
	ServiceVersion string
	// Warn receives export failures, once each kind, without header values.
	Warn func(string)
	// FlushTimeout bounds Shutdown; 0 is ShutdownTimeout.
	FlushTimeout time.Duration
	// Getenv reads OTEL_EXPORTER_OTLP_PROTOCOL; nil is os.Getenv. (The
	// exporters read the rest of the process environment themselves.)
	Getenv func(string) string
}

// Exporter turns callback events into spans and metrics.
type Exporter struct {
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	tracer trace.Tracer
	inst   instruments
	flush  time.Duration

	mu    sync.Mutex
	run   context.Context // the suite run's span, parent of the tests
	runSp trace.Span
	tests map[string]*testSpan // by event scope
}

type testSpan struct {
	ctx  context.Context
	span trace.Span
}

type instruments struct {
	tests    metric.Int64Counter
	tokens   metric.Int64Counter
	cost     metric.Float64Counter
	duration metric.Float64Histogram
}

// Start sets up the OTLP/HTTP exporters (the rest of the OTEL_EXPORTER_OTLP_*
// variables, headers included, are read by them).
func Start(ctx context.Context, o Options) (*Exporter, error) {
	var topts []otlptracehttp.Option
	var mopts []otlpmetrichttp.Option
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--otlp %q: want the http:// or https:// URL of an OTLP/HTTP receiver, e.g. http://localhost:4318", redact(o.URL))
		}
		base := strings.TrimRight(o.URL, "/")
		topts = append(topts, otlptracehttp.WithEndpointURL(base+"/v1/traces"))
		mopts = append(mopts, otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"))
	}
	if o.Warn != nil {
		otel.SetErrorHandler(onceHandler(o.Warn))
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		for _, v := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"} {
			if p := getenv(v); p != "" && !strings.HasPrefix(p, "http/protobuf") {
				o.Warn(fmt.Sprintf("%s=%s is not supported: aieval sends OTLP/HTTP with protobuf (point the endpoint at the collector's HTTP port, 4318)", v, p))
			}
		}
	}
	texp, err := otlptracehttp.New(ctx, topts...)
	if err != nil {
		return nil, fmt.Errorf("otlp traces: %s", redact(err.Error()))
	}
	mexp, err := otlpmetrichttp.New(ctx, mopts...)
	if err != nil {
		return nil, fmt.Errorf("otlp metrics: %s", redact(err.Error()))
	}
	base := resource.NewSchemaless(
		attribute.String("service.name", DefaultServiceName),
		attribute.String("service.version", o.ServiceVersion),
	)
	env, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	res, err := resource.Merge(base, env)
	if err != nil {
		res = base
	}
	e := &Exporter{tests: map[string]*testSpan{}, flush: o.FlushTimeout}
	if e.flush <= 0 {
		e.flush = ShutdownTimeout
	}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithBatcher(texp), sdktrace.WithResource(res))
	// Metrics are cumulative over the run and sent when it ends (and each
	// minute of a long run).
	e.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp)), sdkmetric.WithResource(res))
	e.tracer = e.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(o.ServiceVersion))
	if err := e.inst.init(e.mp.Meter(ScopeName, metric.WithInstrumentationVersion(o.ServiceVersion))); err != nil {
		return nil, err
	}
	return e, nil
}

func (in *instruments) init(m metric.Meter) error {
	var errs [4]error
	in.tests, errs[0] = m.Int64Counter("aieval.tests", metric.WithUnit("{test}"),
		metric.WithDescription("Test runs by status (pass, fail, error, skip)."))
	in.tokens, errs[1] = m.Int64Counter("aieval.tokens", metric.WithUnit("{token}"),
		metric.WithDescription("Tokens of model calls, by gen_ai.token.type (input, output)."))
	in.cost, errs[2] = m.Float64Counter("aieval.cost", metric.WithUnit("USD"),
		metric.WithDescription("Cost of model calls at list prices (cached replays included, see aieval.cached)."))
	in.duration, errs[3] = m.Float64Histogram("gen_ai.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of model calls."),
		metric.WithExplicitBucketBoundaries(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92))
	return errors.Join(errs[:]...)
}

// Shutdown ends open spans and flushes everything, within ShutdownTimeout.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	now := time.Now()
	for id, ts := range e.tests {
		ts.span.SetAttributes(attribute.String("aieval.status", "unfinished"))
		ts.span.End(trace.WithTimestamp(now))
		delete(e.tests, id)
	}
	if e.runSp != nil {
		e.runSp.End(trace.WithTimestamp(now))
		e.runSp = nil
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.flush)
	defer cancel()
	err := errors.Join(e.tp.Shutdown(ctx), e.mp.Shutdown(ctx))
	if err != nil {
		return fmt.Errorf("otlp export: %s", redact(err.Error()))
	}
	return nil
}

// onceHandler reports each distinct export failure once.
func onceHandler(warn func(string)) otel.ErrorHandler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return otel.ErrorHandlerFunc(func(err error) {
		msg := redact(err.Error())
		mu.Lock()
		defer mu.Unlock()
		if len(seen) > 8 || seen[msg] {
			return
		}
		seen[msg] = true
		warn("otlp export: " + msg)
	})
}

// redact removes credentials from text: URL userinfo, key shapes and
// every secret the process knows (internal/secrets).
func redact(s string) string { return secrets.Scrub(s) }
