package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/runtime"
)

// TestDryRunCorpus: `aieval prompt --dry-run` on every prompt of every
// corpus aiconfig prints its request(s) and exits 0, or exits 2 naming why
// the prompt cannot be resolved; never a model call, no key set.
func TestDryRunCorpus(t *testing.T) {
	files, err := filepath.Glob("../../runtime/testdata/corpus/*")
	if err != nil || len(files) < 40 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	cache := t.TempDir()
	ok, refused := 0, 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		cfg, err := runtime.Load(f)
		if err != nil { // one corpus file is invalid JSON: refused, exit 2
			if o := newCLI(t).run("prompt", f, "any", "--dry-run"); o.code != 2 {
				t.Errorf("%s: exit %d for an invalid file", f, o.code)
			}
			refused++
			continue
		}
		for _, name := range cfg.PromptNames() {
			o := newCLI(t).run("prompt", f, name, "--dry-run", "--cache", cache)
			switch o.code {
			case 0:
				lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
				var last DryRequest
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Prompt != name || len(last.Messages) == 0 {
					t.Errorf("%s %s: last line is not its request (%v): %s", filepath.Base(f), name, err, o.stdout)
				}
				for _, l := range lines {
					var d DryRequest
					if err := json.Unmarshal([]byte(l), &d); err != nil {
						t.Errorf("%s %s: not a JSON line: %s", filepath.Base(f), name, l)
					} else if d.Exact != (d.CacheKey != "") {
						t.Errorf("%s %s: exact %v with cache key %q", filepath.Base(f), name, d.Exact, d.CacheKey)
					}
				}
				ok++
			case 2:
				if !strings.Contains(o.stderr, "cannot resolve") || strings.Count(strings.TrimSpace(o.stderr), "\n") > 0 {
					t.Errorf("%s %s: exit 2 without a one-line reason: %q", filepath.Base(f), name, o.stderr)
				}
				refused++
			default:
				t.Errorf("%s %s: exit %d: %s", filepath.Base(f), name, o.code, o.stderr)
			}
		}
	}
	if ok < 50 {
		t.Errorf("only %d prompts resolved (%d refused)", ok, refused)
	}
	t.Logf("%d prompts resolved, %d refused with a reason", ok, refused)
}

// TestDryRunChain: a chained prompt prints each request in order; the
// dependency's output is a placeholder unless the cache recorded it, and
// --stream=false beats stream: true.
func TestDryRunChain(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "c.aiconfig.json", `{"name":"c","schema_version":"latest","metadata":{"default_model":"gpt-4",
  "parameters":{"city":"Rome"},"models":{"gpt-4":{"stream":true,"temperature":0,"base_url":"https://user:pw@llm.example/v1?api-key=s3cret"}}},
  "prompts":[{"name":"a","input":"list {{city}}"},{"name":"b","input":"order {{a.output}}","metadata":{"remember_chat_context":false}}]}`)
	o := newCLI(t, "OPENAI_API_KEY", "sk-never-printed").run("prompt", cfg, "b", "--dry-run", "--stream=false", "--cache", filepath.Join(dir, "cache"))
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	for _, secret := range []string{"sk-never-printed", "s3cret", "pw@"} {
		if strings.Contains(o.stdout+o.stderr, secret) {
			t.Fatalf("output shows %q: %s", secret, o.stdout)
		}
	}
	lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(lines), o.stdout)
	}
	var a, b DryRequest
	json.Unmarshal([]byte(lines[0]), &a)
	json.Unmarshal([]byte(lines[1]), &b)
	if a.Prompt != "a" || !a.Exact || a.CacheKey == "" || a.Output != "placeholder" || a.Stream {
		t.Errorf("first line: %+v", a)
	}
	if a.Endpoint != "https://llm.example/v1/chat/completions?api-key=REDACTED" || string(a.Settings) != `{"temperature":0}` {
		t.Errorf("endpoint %q settings %s", a.Endpoint, a.Settings)
	}
	if b.Prompt != "b" || b.Exact || b.CacheKey != "" || !strings.Contains(string(b.Messages), runtime.PlaceholderOutput("a")) {
		t.Errorf("second line: %+v", b)
	}
	if o := newCLI(t).run("prompt", cfg, "b", "--dry-run", "--save"); o.code != 2 {
		t.Errorf("--dry-run --save: exit %d", o.code)
	}
}
