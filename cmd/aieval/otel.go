//go:build !aieval_nootel

package main

import (
	"context"

	"github.com/aieval/aieval/internal/telemetry"
)

// startOTel starts the OTLP exporter when --otlp or the OTEL_* endpoint
// variables ask for it; nil otherwise (nothing of OpenTelemetry is set up).
// Building with -tags aieval_nootel leaves OpenTelemetry out of the binary
// (about 7 MB, mostly the gRPC code the OTLP/HTTP exporters still link).
func startOTel(ctx context.Context, st *state, flagURL string) (otelExporter, error) {
	if !telemetry.Enabled(flagURL, st.getenv) {
		return nil, nil
	}
	e, err := telemetry.Start(ctx, telemetry.Options{
		URL: flagURL, ServiceVersion: versionString(), Getenv: st.getenv,
		Warn: func(msg string) { warn(st, msg) },
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
