package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const affectedConfig = `{
  "name": "shop", "schema_version": "latest",
  "metadata": {
    "parameters": {"item": "tea", "tone": "warm"},
    "models": {"echo": {"model": "echo"}, "other": {"model": "echo", "system_prompt": "Be brief."}},
    "model_parsers": {"other": "echo"},
    "default_model": "echo"
  },
  "prompts": [
    {"name": "facts", "input": "Facts about {{item}}."},
    {"name": "pitch", "input": "Pitch {{item}} using {{facts.output}}",
     "outputs": [{"output_type": "execute_result", "execution_count": 0, "data": "A saved pitch.", "metadata": {}}]},
    {"name": "greet", "input": "Say hi in a {{tone}} tone.", "metadata": {"remember_chat_context": false}},
    {"name": "short", "input": "Hello.", "metadata": {"model": "other"}},
    {"name": "recap", "input": "Recap."}
  ]
}`

const affectedSuite = `config: shop.aiconfig.json
tests:
  - name: facts
    prompt: facts
    assert:
      - {type: icontains, value: tea}
  - name: pitch
    prompt: pitch
    assert:
      - {type: contains, value: Pitch}
  - name: greet
    prompt: greet
    assert:
      - {type: contains, value: warm}
  - name: short
    prompt: short
    assert:
      - {type: json-schema, value: "file://answer.schema.json"}
  - name: judged
    prompt: greet
    assert:
      - {type: exec, value: "sh judge.sh"}
  - name: recap
    prompt: recap
    assert:
      - {type: contains, value: Recap}
  - file://cases.yaml
`

const affectedCases = `- name: row one
  prompt: facts
  assert: [{type: contains, value: one}]
- name: row two
  prompt: facts
  assert: [{type: contains, value: two}]
`

// TestAffected edits one thing at a time and checks which tests a rerun
// would pick: the prompt edited and those chaining on it, the test entry
// edited, the cases row edited, the files an assertion reads.
func TestAffected(t *testing.T) {
	base := map[string]string{
		"shop.aiconfig.json": affectedConfig,
		"s.eval.yaml":        affectedSuite,
		"cases.yaml":         affectedCases,
		"answer.schema.json": `{"type": "object"}`,
		"judge.sh":           "#!/bin/sh\nexit 0\n",
	}
	type edit struct{ file, old, new string }
	for _, tc := range []struct {
		name  string
		edits []edit
		want  []string
	}{
		{"nothing", nil, nil},
		{"prompt input reruns it and the prompts chaining on it",
			[]edit{{"shop.aiconfig.json", "Facts about", "Three facts about"}}, []string{"facts", "pitch", "recap", "row one", "row two"}},
		{"a prompt resent as chat context", []edit{{"shop.aiconfig.json", "Pitch {{item}}", "Sell {{item}}"}}, []string{"pitch", "recap"}},
		{"saved outputs rerun the prompts resending them, not the prompt's own tests",
			[]edit{{"shop.aiconfig.json", "A saved pitch.", "Another pitch."}}, []string{"recap"}},
		{"a prompt nothing reads", []edit{{"shop.aiconfig.json", "Recap.", "Sum up."}}, []string{"recap"}},
		{"a global parameter reruns the prompts reading it", []edit{{"shop.aiconfig.json", `"warm"`, `"cold"`}}, []string{"greet", "judged", "recap"}},
		{"a model's global settings (system prompt)", []edit{{"shop.aiconfig.json", "Be brief.", "Be terse."}}, []string{"short"}},
		{"a test's assertion", []edit{{"s.eval.yaml", "value: Pitch", "value: Sell"}}, []string{"pitch"}},
		{"a line added above a test moves it, nothing else",
			[]edit{{"s.eval.yaml", "tests:\n", "# the shop\ntests:\n"}, {"cases.yaml", "- name: row one", "# first\n- name: row one"}}, nil},
		{"one cases row", []edit{{"cases.yaml", "value: two", "value: 2"}}, []string{"row two"}},
		{"a new test", []edit{{"cases.yaml", "- name: row one", "- name: row zero\n  prompt: greet\n- name: row one"}}, []string{"row zero"}},
		{"a schema file an assertion reads", []edit{{"answer.schema.json", "object", "array"}}, []string{"short"}},
		{"an exec judge's script", []edit{{"judge.sh", "exit 0", "exit 1"}}, []string{"judged"}},
		{"a suite-wide key reruns the suite", []edit{{"s.eval.yaml", "config: shop.aiconfig.json\n", "config: shop.aiconfig.json\nparams: {item: mate}\n"}},
			[]string{"facts", "greet", "judged", "pitch", "recap", "row one", "row two", "short"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, base)
			before := mustLoad(t, dir).Fingerprints()
			for _, e := range tc.edits {
				p := filepath.Join(dir, e.file)
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), e.old) {
					t.Fatalf("%s has no %q", e.file, e.old)
				}
				if err := os.WriteFile(p, []byte(strings.Replace(string(data), e.old, e.new, 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := Affected(before, mustLoad(t, dir).Fingerprints())
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("affected = %q, want %q", got, tc.want)
			}
		})
	}
}

func mustLoad(t *testing.T, dir string) *Suite {
	t.Helper()
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatalf("LoadSuite: %v", err)
	}
	return s
}

func TestSuiteFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"shop.aiconfig.json": affectedConfig,
		"s.eval.yaml":        affectedSuite,
		"cases.yaml":         affectedCases,
		"answer.schema.json": `{"type": "object"}`,
		"judge.sh":           "#!/bin/sh\nexit 0\n",
	})
	got := mustLoad(t, dir).Files()
	var want []string
	for _, f := range []string{"answer.schema.json", "cases.yaml", "judge.sh", "s.eval.yaml", "shop.aiconfig.json"} {
		want = append(want, filepath.Join(dir, f))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Files() = %q\nwant %q", got, want)
	}
}

// TestAffectedLazy: the rows of a large cases file (not held in memory)
// are fingerprinted from their text, so editing one row reruns that row.
func TestAffectedLazy(t *testing.T) {
	withLazyThreshold(t, 2)
	rows := `{"name": "a", "prompt": "facts"}
{"name": "b", "prompt": "facts"}
{"name": "c", "prompt": "greet"}
`
	dir := writeFiles(t, map[string]string{
		"shop.aiconfig.json": affectedConfig,
		"s.eval.yaml":        "config: shop.aiconfig.json\ndefaults:\n  assert: [{type: contains, value: x}]\ntests: file://cases.jsonl\n",
		"cases.jsonl":        rows,
	})
	s := mustLoad(t, dir)
	if s.Tests != nil {
		t.Fatal("the cases file is held, want it read lazily")
	}
	before := s.Fingerprints()
	if err := os.WriteFile(filepath.Join(dir, "cases.jsonl"), []byte(strings.Replace(rows, `"b", "prompt": "facts"`, `"b", "prompt": "greet"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Affected(before, mustLoad(t, dir).Fingerprints()); !slices.Equal(got, []string{"b"}) {
		t.Errorf("affected = %q, want [b]", got)
	}
	if files := s.Files(); !slices.Contains(files, filepath.Join(dir, "cases.jsonl")) {
		t.Errorf("Files() = %q, want the cases file", files)
	}
}
