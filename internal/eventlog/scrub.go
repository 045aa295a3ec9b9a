package eventlog

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aieval/aieval/internal/secrets"
	"github.com/aieval/aieval/runtime"
)

// Redacted replaces every secret.
const Redacted = secrets.Redacted

// Scrubber removes credentials from encoded JSON lines: the process's
// secrets (internal/secrets' Default set: keys the model clients read,
// api_key_env values of loaded suites, URL credentials, key shapes), plus
// the values of the variables this Scrubber reads through its own getenv
// (the CLI's injectable environment), each also in its JSON-escaped form.
// It is not safe for concurrent use (the Writer holds its lock around it).
type Scrubber struct {
	getenv func(string) string // nil: values are only those given
	seen   map[string]bool     // variables already read
	set    *secrets.Set
}

func noEnv(string) string { return "" }

// NewScrubber holds values (shorter than secrets.MinLen are ignored) on
// top of the process's secrets.
func NewScrubber(values ...string) *Scrubber {
	s := &Scrubber{set: secrets.New(noEnv), seen: map[string]bool{}}
	for _, v := range values {
		s.add(v)
	}
	return s
}

// FromEnv holds the values of secrets.StandardEnv, of the URLs of
// secrets.URLEnv and of names (a suite's api_key_env variables, any
// variable SecretName flags), as getenv returns them. An OTLP headers
// variable is also split into its header values, which travel alone.
func FromEnv(getenv func(string) string, names ...string) *Scrubber {
	s := &Scrubber{getenv: getenv, seen: map[string]bool{}, set: secrets.New(getenv)}
	for _, n := range append(append([]string(nil), secrets.StandardEnv...), names...) {
		s.AddEnv(n)
	}
	for _, n := range []string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"} {
		s.AddEnv(n)
	}
	return s
}

// AddEnv holds the value of variable name.
func (s *Scrubber) AddEnv(name string) {
	if s.getenv == nil || name == "" || s.seen[name] {
		return
	}
	s.seen[name] = true
	v := s.getenv(name)
	s.add(v)
	if strings.HasSuffix(name, "_HEADERS") {
		for _, kv := range strings.Split(v, ",") {
			if _, hv, ok := strings.Cut(kv, "="); ok {
				s.add(strings.TrimSpace(hv))
			}
		}
	}
}

func (s *Scrubber) add(v string) {
	s.set.Register(v)
	if b, err := json.Marshal(strings.TrimSpace(v)); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != strings.TrimSpace(v) {
			s.set.Register(esc)
		}
	}
}

// SecretName reports whether a variable's name says it holds a credential
// (FOO_API_KEY, BAR_TOKEN, ...): such variables are scrubbed too.
func SecretName(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "_AUTH", "HEADERS"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Learn holds the value of the key variable a model call names
// (on_run_start's api_key_env), before the event is written.
func (s *Scrubber) Learn(ev runtime.Event) {
	if ev.Name == runtime.EventRunStart && ev.Data != nil {
		if n, ok := ev.Data["api_key_env"].(string); ok {
			s.AddEnv(n)
		}
	}
}

// Line returns line without any secret. A line whose JSON a replacement
// broke (a secret ending inside an escape) is replaced by a notice.
func (s *Scrubber) Line(line []byte) []byte {
	in := string(line)
	out := secrets.Default().ScrubValues(s.set.Scrub(in)) // the set scrubs key shapes already
	if out == in {
		return line
	}
	if !json.Valid(bytes.TrimSpace([]byte(out))) {
		return []byte(`{"name":"redacted","data":{"note":"an event holding a credential was dropped"}}` + "\n")
	}
	return []byte(out)
}
