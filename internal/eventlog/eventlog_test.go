package eventlog_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/eventlog"
	"github.com/aieval/aieval/internal/secrets"
	"github.com/aieval/aieval/runtime"
)

func TestScrubber(t *testing.T) {
	env := map[string]string{
		"OPENAI_API_KEY":             "sk-test-OPENAI-0001",
		"TEAM_KEY":                   `tm"quote\back-0002`,
		"OTEL_EXPORTER_OTLP_HEADERS": "api-key=hdrvalue-0003, x-b=short",
		"SHORT":                      "abc",
	}
	s := eventlog.FromEnv(func(k string) string { return env[k] }, "TEAM_KEY", "SHORT")
	// A key the process's set learnt elsewhere (a model client read it).
	secrets.Register("sk-registered-by-a-client-0005")
	for _, tc := range []struct {
		name, in, gone string
	}{
		{"env key", "the key sk-test-OPENAI-0001 leaked", "OPENAI-0001"},
		{"named var, JSON-escaped", `{"m":"tm\"quote\\back-0002"}`, "0002"},
		{"otlp header value", "sent hdrvalue-0003", "hdrvalue"},
		{"key shape", "masked sk-proj-abc***xyz123 in a 401", "sk-proj"},
		{"aws access key id", "id AKIAABCDEFGHIJKLMNOP here", "AKIAABCD"},
		{"url userinfo", `{"u":"https://bob:hunter2pass@example.com/v1"}`, "hunter2"},
		{"secret query value", `{"u":"https://x.example/v1?key=AIzaNOTSHAPED"}`, "NOTSHAPED"},
		{"process set", "answer: sk-registered-by-a-client-0005", "0005"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if !strings.HasPrefix(in, "{") {
				b, _ := json.Marshal(map[string]string{"m": in})
				in = string(b)
			}
			out := string(s.Line([]byte(in + "\n")))
			if strings.Contains(out, tc.gone) {
				t.Errorf("%s: %q still in %s", tc.name, tc.gone, out)
			}
			if !json.Valid([]byte(out)) {
				t.Errorf("%s: not JSON: %s", tc.name, out)
			}
			if !strings.Contains(out, eventlog.Redacted) {
				t.Errorf("%s: nothing marked redacted: %s", tc.name, out)
			}
		})
	}
	// Short values are not secrets: ordinary words stay.
	if out := string(s.Line([]byte(`{"m":"abc and short"}`))); !strings.Contains(out, "abc and short") {
		t.Errorf("short values scrubbed: %s", out)
	}
}

// A key variable first named by a model call (api_key_env) is scrubbed
// from that call's events on.
func TestLearnsKeyVariable(t *testing.T) {
	env := map[string]string{"MY_PROVIDER_TOKEN_X": "tok-LEARNED-0004"}
	var buf bytes.Buffer
	w := eventlog.New(&buf, eventlog.FromEnv(func(k string) string { return env[k] }))
	ctx := context.Background()
	w.Handle(ctx, runtime.Event{Name: runtime.EventRunStart, Data: map[string]any{"api_key_env": "MY_PROVIDER_TOKEN_X"}})
	w.Handle(ctx, runtime.Event{Name: runtime.EventRunDone, Data: map[string]any{"output": "echo tok-LEARNED-0004"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "LEARNED") {
		t.Errorf("learned key written: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "MY_PROVIDER_TOKEN_X") {
		t.Errorf("the variable's name (not a secret) is kept: %s", buf.String())
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"OPENAI_API_KEY": true, "GITHUB_TOKEN": true, "DB_PASSWORD": true, "AWS_SECRET_ACCESS_KEY": true,
		"HOME": false, "PATH": false, "OTEL_SERVICE_NAME": false, "OTEL_EXPORTER_OTLP_HEADERS": true,
	} {
		if got := eventlog.SecretName(name); got != want {
			t.Errorf("SecretName(%s) = %v, want %v", name, got, want)
		}
	}
}

// Concurrent emitters: every line whole, valid JSON, nothing lost, and a
// scope's events in its order.
func TestWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := eventlog.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const scopes, per = 8, 200
	for s := range scopes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := runtime.WithScope(context.Background(), fmt.Sprintf("t%d.0", s))
			for i := range per {
				w.Handle(ctx, runtime.Event{Name: "n", Time: time.Now(), Scope: runtime.ScopeOf(ctx),
					Data: map[string]any{"i": i, "text": strings.Repeat("x", 500)}})
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	next := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var ev struct {
			Scope string
			Data  struct{ I int }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
		}
		if ev.Data.I != next[ev.Scope] {
			t.Fatalf("scope %s: event %d after %d", ev.Scope, ev.Data.I, next[ev.Scope]-1)
		}
		next[ev.Scope]++
		n++
	}
	if n != scopes*per {
		t.Errorf("%d lines, want %d", n, scopes*per)
	}
}

// An event whose data cannot be encoded is still written, by name.
func TestUnencodable(t *testing.T) {
	var buf bytes.Buffer
	w := eventlog.New(&buf, nil)
	w.Handle(context.Background(), runtime.Event{Name: "test_complete", Scope: "t0.0", Data: map[string]any{"score": math.NaN()}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var ev runtime.Event
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil || ev.Name != "test_complete" || ev.Scope != "t0.0" {
		t.Errorf("got %s (%v)", buf.String(), err)
	}
}

func TestCreateFails(t *testing.T) {
	_, err := eventlog.Create(filepath.Join(t.TempDir(), "no", "such", "dir", "e.jsonl"), nil)
	if err == nil || !strings.Contains(err.Error(), "--events") {
		t.Errorf("err = %v", err)
	}
}
