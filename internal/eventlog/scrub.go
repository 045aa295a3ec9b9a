package eventlog

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/aieval/aieval/runtime"
)

// MinSecretLen is the shortest value treated as a secret: shorter ones
// ("x", "ollama") would blank ordinary words out of outputs.
const MinSecretLen = 8

// Redacted replaces every secret.
const Redacted = "[redacted]"

// SecretEnv are the variables whose values are credentials: the
// providers' keys, cloud and CI tokens, and the OTLP exporter's headers.
var SecretEnv = []string{
	"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
	"AZURE_OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_API_TOKEN", "GROQ_API_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK",
	"GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
}

// Scrubber removes known secret values, key-shaped tokens and URL
// userinfo from encoded JSON lines. It is not safe for concurrent use (the
// Writer holds its lock around it).
type Scrubber struct {
	getenv func(string) string // nil: values are only those given
	seen   map[string]bool     // variables already read
	values [][]byte            // each secret raw and as JSON escapes it
}

// NewScrubber holds values (shorter than MinSecretLen are ignored).
func NewScrubber(values ...string) *Scrubber {
	s := &Scrubber{}
	for _, v := range values {
		s.add(v)
	}
	return s
}

// FromEnv holds the values of SecretEnv and of names (a suite's
// api_key_env variables). An OTLP headers variable is split into its
// header values, since "key=value" pairs show up one by one.
func FromEnv(getenv func(string) string, names ...string) *Scrubber {
	s := &Scrubber{getenv: getenv, seen: map[string]bool{}}
	for _, n := range append(append([]string(nil), SecretEnv...), names...) {
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

func (s *Scrubber) add(v string) {
	if len(v) < MinSecretLen {
		return
	}
	s.values = append(s.values, []byte(v))
	if b, err := json.Marshal(v); err == nil {
		if esc := b[1 : len(b)-1]; !bytes.Equal(esc, []byte(v)) {
			s.values = append(s.values, esc)
		}
	}
}

// keyShape matches tokens shaped like provider keys (servers echo masked
// keys in error bodies) and AWS access key ids.
var keyShape = regexp.MustCompile(`\b(?:sk|rk|pk)-[A-Za-z0-9_\-*]{6,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bhf_[A-Za-z0-9]{10,}|\bgsk_[A-Za-z0-9]{10,}|\bAIza[0-9A-Za-z_\-]{20,}`)

// userinfo matches the user:password part of a URL.
var userinfo = regexp.MustCompile(`(://)[^/\s"@\\]+@`)

// Line returns line without any secret. A line whose JSON a replacement
// broke (a secret ending inside an escape) is replaced by a notice.
func (s *Scrubber) Line(line []byte) []byte {
	out := line
	changed := false
	for _, v := range s.values {
		if bytes.Contains(out, v) {
			out = bytes.ReplaceAll(out, v, []byte(Redacted))
			changed = true
		}
	}
	if keyShape.Match(out) {
		out = keyShape.ReplaceAll(out, []byte(Redacted))
		changed = true
	}
	if userinfo.Match(out) {
		out = userinfo.ReplaceAll(out, []byte("${1}"+Redacted+"@"))
		changed = true
	}
	if changed && !json.Valid(bytes.TrimSpace(out)) {
		return []byte(`{"name":"redacted","data":{"note":"an event holding a credential was dropped"}}` + "\n")
	}
	return out
}
