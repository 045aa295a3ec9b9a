package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

const watchConfig = `{
  "name": "shop", "schema_version": "latest",
  "metadata": {
    "parameters": {"item": "tea", "who": "customer"},
    "models": {"gpt-4o-mini": {"model": "gpt-4o-mini", "temperature": 0}},
    "default_model": "gpt-4o-mini"
  },
  "prompts": [
    {"name": "facts", "input": "List facts about {{item}}."},
    {"name": "pitch", "input": "Write a pitch for {{item}} using: {{facts.output}}"},
    {"name": "greet", "input": "Greet the {{who}}.", "metadata": {"remember_chat_context": false}}
  ]
}`

const watchSuite = `description: Shop prompts
config: shop.aiconfig.json
tests:
  - name: facts mention the item
    prompt: facts
    assert:
      - type: icontains
        value: tea
  - name: pitch uses the facts
    prompt: pitch
    params: {item: coffee}
    assert:
      - type: contains
        value: Write a pitch
  - name: greets
    prompt: greet
    params: {who: friend}
    assert:
      - type: contains
        value: the
  - name: greets the customer
    prompt: greet
    assert:
      - type: contains
        value: customer
`

// TestWatchRerunsAffected runs `aieval watch` in-process against a local
// server with the cache off, so every test run is a model call the
// server counts: after each edit only the affected tests may call.
func TestWatchRerunsAffected(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"file events", nil},
		{"polling", []string{"--poll", "20ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeopenai.New()
			defer srv.Close()
			dir := t.TempDir()
			cfg := write(t, dir, "shop.aiconfig.json", watchConfig)
			suite := write(t, dir, "shop.eval.yaml", watchSuite)

			var out, errb syncBuffer
			stop := make(chan struct{})
			env := map[string]string{"OPENAI_BASE_URL": srv.URL(), "OPENAI_API_KEY": "k"}
			st := &state{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }, stop: stop}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan int, 1)
			args := append([]string{"watch", "--cache-mode", "off", "--debounce", "50ms"}, tc.flags...)
			go func() { done <- run(ctx, append(args, suite), st) }()

			// screen waits for the n-th screen (each ends "watching ...")
			// and returns it.
			screen := func(n int) string {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					if s := out.String(); strings.Count(s, "watching ") >= n {
						parts := strings.SplitAfter(s, "Ctrl-C to quit\n")
						return parts[n-1]
					}
					select {
					case code := <-done:
						t.Fatalf("watch exited %d early\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
					case <-time.After(10 * time.Millisecond):
					}
				}
				t.Fatalf("no screen %d after 10s\nstdout: %s\nstderr: %s", n, out.String(), errb.String())
				return ""
			}
			calls := func(want int64, what string) {
				t.Helper()
				if got := srv.Requests(); got != want {
					t.Errorf("%s: %d model calls in all, want %d", what, got, want)
				}
			}
			edit := func(path, old, new string, rename bool) {
				t.Helper()
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), old) {
					t.Fatalf("%s has no %q", path, old)
				}
				data = []byte(strings.Replace(string(data), old, new, 1))
				if !rename {
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				// As editors save: a new file renamed over the old one.
				tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
				if err := os.WriteFile(tmp, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			}

			first := screen(1)
			// facts 1, pitch 2 (facts of coffee runs first), greets 1,
			// greets the customer 1: distinct params, so no two tests
			// share a request.
			calls(5, "first run")
			if !strings.Contains(first, "first run · 4 tests") || !strings.Contains(first, "totals: 4 tests · 4 passed") {
				t.Errorf("first screen:\n%s", first)
			}

			edit(cfg, "Greet the {{who}}.", "Welcome the {{who}}.", false)
			s := screen(2)
			calls(7, "after editing prompt greet")
			for _, want := range []string{"shop.aiconfig.json changed · 2 tests affected", "greets the customer", "totals: 4 tests · 4 passed"} {
				if !strings.Contains(s, want) {
					t.Errorf("screen after the prompt edit lacks %q:\n%s", want, s)
				}
			}
			if strings.Contains(s, "facts mention the item") || strings.Contains(s, "pitch uses the facts") {
				t.Errorf("screen lists unaffected tests:\n%s", s)
			}

			edit(suite, "value: customer", "value: guest", true)
			s = screen(3)
			calls(8, "after editing one test's assertion")
			for _, want := range []string{"shop.eval.yaml changed · 1 test affected", "FAIL  greets the customer", "totals: 4 tests · 3 passed · 1 failed"} {
				if !strings.Contains(s, want) {
					t.Errorf("screen after the assertion edit lacks %q:\n%s", want, s)
				}
			}

			// A broken save is shown and waited out; fixing it reruns what
			// changed since the last good load.
			edit(cfg, `"List facts`, `List facts`, false)
			s = screen(4)
			if !strings.Contains(s, "shop.aiconfig.json") || !strings.Contains(s, "fix the file") {
				t.Errorf("broken save screen:\n%s", s)
			}
			calls(8, "after a broken save")
			edit(cfg, `List facts about {{item}}."`, `"List three facts about {{item}}."`, false)
			s = screen(5)
			// facts 1, pitch 2: the prompt that chains on facts reruns too.
			calls(11, "after editing prompt facts")
			if !strings.Contains(s, "2 tests affected") || !strings.Contains(s, "pitch uses the facts") || strings.Contains(s, "greets") {
				t.Errorf("screen after the facts edit:\n%s", s)
			}

			close(stop)
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit %d after stop, want 0\n%s", code, errb.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("watch did not stop within 10s")
			}
		})
	}
}

func TestWatchRefusesCI(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", watchConfig)
	suite := write(t, dir, "shop.eval.yaml", watchSuite)
	o := newCLI(t, "CI", "true").run("watch", suite)
	if o.code != 2 || !strings.Contains(o.stderr, "interactive") {
		t.Errorf("watch under CI: %+v", o)
	}
}

// TestWatchClearsOnlyATerminal: piped output appends screens, a terminal
// gets a fresh one per save.
func TestWatchClearsOnlyATerminal(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b strings.Builder
		w := &watcher{st: &state{stdout: &b, isTTY: tty, getenv: func(string) string { return "" }}}
		w.clear()
		if got := strings.Contains(b.String(), "\x1b[2J"); got != tty {
			t.Errorf("isTTY=%v: clear wrote %q", tty, b.String())
		}
	}
}
