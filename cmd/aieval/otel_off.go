//go:build aieval_nootel

package main

import (
	"context"
	"errors"
)

// startOTel in a build without OpenTelemetry: asking for it is an error,
// never a silent no-op.
func startOTel(_ context.Context, st *state, flagURL string) (otelExporter, error) {
	if flagURL != "" || st.getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || st.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" ||
		st.getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "" {
		return nil, errors.New("this aieval was built with -tags aieval_nootel: OpenTelemetry export is not in it (unset OTEL_EXPORTER_OTLP_ENDPOINT or use a default build)")
	}
	return nil, nil
}
