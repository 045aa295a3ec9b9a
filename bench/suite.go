//go:build linux || darwin

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

const (
	configFile    = "bench.aiconfig.json"
	suiteFile     = "bench.eval.yaml"
	casesFile     = "cases.jsonl"
	yamlCasesFile = "cases.yaml"
)

// The aiconfig under test: one prompt with one parameter. The fake server
// echoes the last user message, so every output is the resolved prompt,
// e.g. "Question case-000042: reply with the answer 42.".
const benchConfig = `{
  "name": "bench",
  "description": "aieval scale benchmark",
  "schema_version": "latest",
  "metadata": {
    "models": { "gpt-4o-mini": { "model": "gpt-4o-mini", "temperature": 0 } },
    "default_model": "gpt-4o-mini",
    "parameters": {}
  },
  "prompts": [
    { "name": "ask", "input": "Question {{q}}: reply with the answer 42." }
  ]
}
`

// assertPool holds cheap deterministic assertions that all pass on the
// echoed output; a test takes the first k, cycling when k > len.
var assertPool = []map[string]any{
	{"type": "contains", "value": "42"},
	{"type": "not-contains", "value": "As an AI"},
	{"type": "length", "value": map[string]int{"min": 10, "max": 500}},
	{"type": "starts-with", "value": "Question"},
	{"type": "ends-with", "value": "42."},
	{"type": "icontains", "value": "QUESTION"},
}

// benchCase is one line of cases.jsonl.
type benchCase struct {
	Name   string            `json:"name"`
	Prompt string            `json:"prompt"`
	Params map[string]string `json:"params"`
	Assert []map[string]any  `json:"assert"`
}

// caseName names test i; params carry the same text, so every model call
// is distinct and none can be deduplicated or shared.
func caseName(i int) string { return fmt.Sprintf("case-%06d", i) }

func newCase(i, asserts int) benchCase {
	as := make([]map[string]any, asserts)
	for j := range as {
		as[j] = assertPool[j%len(assertPool)]
	}
	name := caseName(i)
	return benchCase{Name: name, Prompt: "ask", Params: map[string]string{"q": name}, Assert: as}
}

// writeSuite creates dir with the aiconfig, a suite and n cases in a
// JSON Lines file; it returns the suite's path.
func writeSuite(dir string, n, asserts int) (string, error) {
	return writeSuiteAs(dir, n, asserts, "jsonl")
}

// writeSuiteAs is writeSuite with the cases file's format: "jsonl", or
// "yaml" (a block-style list, as people write them by hand).
func writeSuiteAs(dir string, n, asserts int, format string) (string, error) {
	cases := casesFile
	if format == "yaml" {
		cases = yamlCasesFile
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create suite dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, configFile), []byte(benchConfig), 0o644); err != nil {
		return "", fmt.Errorf("write aiconfig: %w", err)
	}
	suite := fmt.Sprintf("description: bench %d tests\nconfig: %s\ntests: file://%s\n", n, configFile, cases)
	suitePath := filepath.Join(dir, suiteFile)
	if err := os.WriteFile(suitePath, []byte(suite), 0o644); err != nil {
		return "", fmt.Errorf("write suite: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, cases))
	if err != nil {
		return "", fmt.Errorf("create cases: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)
	for i := range n {
		if format == "yaml" {
			err = writeYAMLCase(w, newCase(i, asserts))
		} else {
			err = enc.Encode(newCase(i, asserts))
		}
		if err != nil {
			f.Close()
			return "", fmt.Errorf("write cases: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("write cases: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write cases: %w", err)
	}
	return suitePath, nil
}

// writeYAMLCase writes c as one block-style item of a YAML list; scalars
// are JSON-quoted, which YAML reads as they are.
func writeYAMLCase(w *bufio.Writer, c benchCase) error {
	q := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	fmt.Fprintf(w, "- name: %s\n  prompt: %s\n  params:\n", q(c.Name), q(c.Prompt))
	for k, v := range c.Params {
		fmt.Fprintf(w, "    %s: %s\n", q(k), q(v))
	}
	w.WriteString("  assert:\n")
	for _, a := range c.Assert {
		fmt.Fprintf(w, "    - type: %s\n      value: %s\n", q(a["type"]), q(a["value"]))
	}
	return nil
}
