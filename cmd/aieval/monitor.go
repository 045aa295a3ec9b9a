package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"strings"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/eventlog"
	"github.com/aieval/aieval/runtime"
)

// monitorFlags are --events and --otlp, shared by run and prompt.
type monitorFlags struct {
	events string
	otlp   string
}

func (m *monitorFlags) register(fs *flag.FlagSet, st *state) {
	fs.StringVar(&m.events, "events", st.getenv("AIEVAL_EVENTS"), "write every callback event as JSON lines to `FILE`")
	fs.StringVar(&m.otlp, "otlp", "", "export spans and metrics over OTLP/HTTP to `URL` (default: $OTEL_EXPORTER_OTLP_ENDPOINT)")
}

// monitor is a run's callbacks: the events file and the OTLP exporter,
// each set up only when asked for.
type monitor struct {
	st     *state
	cbs    *runtime.CallbackManager // nil when nothing listens
	events *eventlog.Writer
	otel   otelExporter
}

// otelExporter is internal/telemetry's Exporter, or nothing in a build
// without it (-tags aieval_nootel, see otel.go).
type otelExporter interface {
	Handle(ctx context.Context, ev runtime.Event)
	Shutdown(ctx context.Context) error
}

// startMonitor opens the events file and starts OpenTelemetry as the
// flags and environment say. A file that cannot be created, or a bad
// --otlp URL, is invalid input.
func startMonitor(ctx context.Context, st *state, f monitorFlags) (*monitor, error) {
	m := &monitor{st: st}
	if f.events != "" {
		w, err := eventlog.Create(f.events, eventlog.FromEnv(st.getenv, secretEnvNames()...))
		if err != nil {
			return nil, inputErr(err)
		}
		m.events = w
		m.add(w.Handle)
	}
	e, err := startOTel(ctx, st, f.otlp)
	if err != nil {
		m.close(ctx)
		return nil, inputErr(err)
	}
	if e != nil {
		m.otel = e
		m.add(e.Handle)
	}
	return m, nil
}

func (m *monitor) add(cb runtime.Callback) {
	if m.cbs == nil {
		m.cbs = runtime.NewCallbackManager()
	}
	m.cbs.Add(cb)
}

// close flushes the events file and the exporter. A failure is a warning:
// the run's verdict and reports stand.
func (m *monitor) close(ctx context.Context) {
	if m == nil {
		return
	}
	var errs []error
	if m.otel != nil {
		errs = append(errs, m.otel.Shutdown(ctx))
		m.otel = nil
	}
	if m.events != nil {
		errs = append(errs, m.events.Close())
		m.events = nil
	}
	if err := errors.Join(errs...); err != nil {
		warn(m.st, err.Error())
	}
}

// loadSuites is loadSuites with on_deserialize_* events for each suite
// file (and the aiconfig it names).
func (m *monitor) loadSuites(ctx context.Context, paths []string) ([]*eval.Suite, error) {
	if m.cbs == nil {
		return loadSuites(paths)
	}
	suites := make([]*eval.Suite, 0, len(paths))
	for _, p := range paths {
		m.cbs.Emit(ctx, runtime.Event{Name: runtime.EventDeserializeStart, File: p})
		s, err := eval.LoadSuite(p)
		data := map[string]any{}
		if err != nil {
			data["error"] = err.Error()
		} else {
			data["config"], data["prompts"], data["tests"] = s.ConfigPath, s.Config.PromptNames(), s.TestCount()
		}
		m.cbs.Emit(ctx, runtime.Event{Name: runtime.EventDeserializeDone, File: p, Data: data})
		if err != nil {
			return nil, inputErr(err)
		}
		s.Path = suiteID(p)
		suites = append(suites, s)
	}
	return suites, nil
}

// secretEnvNames are the variables of this process whose names say they
// hold a credential: their values are scrubbed from events too.
func secretEnvNames() []string {
	var names []string
	for _, kv := range os.Environ() {
		if n, _, ok := strings.Cut(kv, "="); ok && eventlog.SecretName(n) {
			names = append(names, n)
		}
	}
	return names
}
