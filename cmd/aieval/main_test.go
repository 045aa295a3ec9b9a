package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// cli runs one aieval command line in-process.
type cli struct {
	t   *testing.T
	env map[string]string
}

type outcome struct {
	code           int
	stdout, stderr string
}

func newCLI(t *testing.T, env ...string) *cli {
	c := &cli{t: t, env: map[string]string{}}
	for i := 0; i+1 < len(env); i += 2 {
		c.env[env[i]] = env[i+1]
	}
	return c
}

func (c *cli) run(args ...string) outcome {
	c.t.Helper()
	var out, errb bytes.Buffer
	st := &state{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return c.env[k] }}
	code := run(context.Background(), args, st)
	return outcome{code, out.String(), errb.String()}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const chainConfig = `{
  "name": "shop",
  "schema_version": "latest",
  "metadata": {
    "parameters": {"item": "tea"},
    "models": {"gpt-4o-mini": {"model": "gpt-4o-mini", "temperature": 0}},
    "default_model": "gpt-4o-mini"
  },
  "prompts": [
    {"name": "facts", "input": "List facts about {{item}}."},
    {"name": "pitch", "input": "Write a pitch for {{item}} using: {{facts.output}}"}
  ]
}`

const chainSuite = `description: Shop prompts
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
        value: List facts about coffee
  - name: deliberately failing
    prompt: facts
    assert:
      - type: equals
        value: something else entirely
`

func TestVersion(t *testing.T) {
	o := newCLI(t).run("version")
	if o.code != 0 || !strings.HasPrefix(o.stdout, "aieval ") {
		t.Fatalf("version: %+v", o)
	}
}

func TestUnknownCommandAndFlag(t *testing.T) {
	c := newCLI(t)
	if o := c.run("frobnicate"); o.code != 2 || !strings.Contains(o.stderr, "unknown command") {
		t.Errorf("unknown command: %+v", o)
	}
	if o := c.run("run", "--no-such-flag"); o.code != 2 {
		t.Errorf("unknown flag: %+v", o)
	}
	if o := c.run("run", "--concurrency", "0", "x.eval.yaml"); o.code != 2 || !strings.Contains(o.stderr, "--concurrency") {
		t.Errorf("bad concurrency: %+v", o)
	}
}

// TestRunAgainstServer runs a suite end to end against a local
// OpenAI-compatible server: verdicts, reports, exit code, and a JUnit file
// valid against the strict XSD.
func TestRunAgainstServer(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "shop.eval.yaml", chainSuite)
	junit, js := filepath.Join(dir, "out", "junit.xml"), filepath.Join(dir, "out", "results.json")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k")
	o := c.run("run", "--cache-mode", "off", "--junit", junit, "--json", js, suite)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1 (one failing test)\nstdout: %s\nstderr: %s", o.code, o.stdout, o.stderr)
	}
	res, err := results.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Total != 3 || s.Passed != 2 || s.Failed != 1 || s.Errors != 0 {
		t.Errorf("summary %+v, want 3 tests, 2 passed, 1 failed", s)
	}
	if !strings.Contains(o.stdout, "deliberately failing") {
		t.Errorf("console does not name the failed test:\n%s", o.stdout)
	}
	xmllint(t, junit)
}

func xmllint(t *testing.T, file string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is required in CI")
		}
		t.Skip("xmllint not installed")
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", "../../reporters/testdata/junit.xsd", file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

// TestServerDown: every test is an error, the reports are still written,
// and the exit code is 3.
func TestServerDown(t *testing.T) {
	srv := fakeopenai.New()
	url := srv.URL()
	srv.Close()
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "shop.eval.yaml", chainSuite)
	junit, js := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "results.json")
	c := newCLI(t, "OPENAI_BASE_URL", url)
	o := c.run("run", "--cache-mode", "off", "--retries", "1", "--junit", junit, "--json", js, suite)
	if o.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	res, err := results.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Errors != 3 {
		t.Errorf("errors = %d, want 3: %+v", res.Summary.Errors, res.Summary)
	}
	for _, tr := range res.Tests {
		if !strings.Contains(tr.Reason, "127.0.0.1") {
			t.Errorf("%s: reason %q does not name the endpoint", tr.Name, tr.Reason)
		}
	}
	xmllint(t, junit)
}

func TestPromptEchoAndSave(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "hello.aiconfig.json", `{
  "name": "hello", "schema_version": "latest",
  "metadata": {"parameters": {"city": "Paris"}, "models": {"echo": {}}, "default_model": "echo", "x-team": "web"},
  "prompts": [{"name": "greet", "input": "Hello {{city}}"}]
}`)
	c := newCLI(t)
	o := c.run("prompt", cfg, "greet", "--param", "city=Rome & co", "--save")
	if o.code != 0 || strings.TrimSpace(o.stdout) != "Hello Rome &amp; co" {
		t.Fatalf("prompt: %+v", o)
	}
	data, _ := os.ReadFile(cfg)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["metadata"].(map[string]any)["x-team"] != "web" {
		t.Errorf("unknown field lost on save:\n%s", data)
	}
	if !strings.Contains(string(data), `"execute_result"`) || !strings.Contains(string(data), "Hello Rome") {
		t.Errorf("outputs not saved the SDK way:\n%s", data)
	}
	if o := c.run("prompt", cfg, "nope"); o.code != 2 || !strings.Contains(o.stderr, "nope") {
		t.Errorf("unknown prompt: %+v", o)
	}
}

func TestExampleFirstCommand(t *testing.T) {
	c := newCLI(t)
	o := c.run("run", "--no-history", "../../examples/travel/travel.eval.yaml")
	if o.code != 0 {
		t.Fatalf("the README's first command exits %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stdout, "NYC trip planner") {
		t.Errorf("no results table:\n%s", o.stdout)
	}
}
