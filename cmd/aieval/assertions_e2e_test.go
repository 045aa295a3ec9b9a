package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// echoConfig's prompt renders its `reply` parameter unescaped; the fake
// server echoes the user message, so each test chooses the model's output.
const echoConfig = `{
  "name": "probe", "schema_version": "latest",
  "metadata": {"models": {"gpt-4o-mini": {"model": "gpt-4o-mini"}}, "default_model": "gpt-4o-mini"},
  "prompts": [{"name": "say", "input": "{{{reply}}}"}]
}`

// gradeByMarker answers grader prompts: the rubric decides the verdict, so
// the grading itself goes through the real wire protocol.
func gradeByMarker(req fakeopenai.ChatRequest) string {
	if len(req.Messages) > 0 && strings.Contains(req.Messages[0].Content.String(), "You are grading") {
		if strings.Contains(req.LastUser(), "RUBRIC-PASS") {
			return `{"pass": true, "score": 0.9, "reason": "meets the rubric"}`
		}
		return "```json\n{\"pass\": false, \"score\": 0.2, \"reason\": \"misses the rubric\"}\n```"
	}
	return req.LastUser()
}

// TestEveryAssertionThroughTheCLI runs every assertion type, passing and
// failing, plus not- and weights, through `aieval run` against a local
// OpenAI-compatible server.
func TestEveryAssertionThroughTheCLI(t *testing.T) {
	cases := []struct {
		name, reply, assert string
		want                results.Status
	}{
		{"equals pass", "Paris", `{type: equals, value: Paris}`, "pass"},
		{"equals fail", "Paris!", `{type: equals, value: Paris}`, "fail"},
		{"contains pass", "the Eiffel tower", `{type: contains, value: Eiffel}`, "pass"},
		{"contains fail", "the eiffel tower", `{type: contains, value: Eiffel}`, "fail"},
		{"icontains pass", "the EIFFEL tower", `{type: icontains, value: eiffel}`, "pass"},
		{"icontains fail", "the tower", `{type: icontains, value: eiffel}`, "fail"},
		{"contains-any pass", "a cat", `{type: contains-any, value: [dog, cat]}`, "pass"},
		{"contains-any fail", "a cow", `{type: contains-any, value: [dog, cat]}`, "fail"},
		{"contains-all pass", "dog and cat", `{type: contains-all, value: [dog, cat]}`, "pass"},
		{"contains-all fail", "dog only", `{type: contains-all, value: [dog, cat]}`, "fail"},
		{"icontains-any pass", "A CAT", `{type: icontains-any, value: [dog, cat]}`, "pass"},
		{"icontains-any fail", "A COW", `{type: icontains-any, value: [dog, cat]}`, "fail"},
		{"icontains-all pass", "DOG and CAT", `{type: icontains-all, value: [dog, cat]}`, "pass"},
		{"icontains-all fail", "DOG only", `{type: icontains-all, value: [dog, cat]}`, "fail"},
		{"starts-with pass", "Dear Ann", `{type: starts-with, value: Dear}`, "pass"},
		{"starts-with fail", "Hi Ann", `{type: starts-with, value: Dear}`, "fail"},
		{"ends-with pass", "Regards, Bo", `{type: ends-with, value: Bo}`, "pass"},
		{"ends-with fail", "Regards, Al", `{type: ends-with, value: Bo}`, "fail"},
		{"regex pass", "order 12345", `{type: regex, value: "\\d{5}"}`, "pass"},
		{"is-refusal pass", "I'm sorry, but I can't help with that.", `{type: is-refusal}`, "pass"},
		{"is-refusal fail", "Paris", `{type: is-refusal}`, "fail"},
		{"finish-reason pass", "Paris", `{type: finish-reason, value: stop}`, "pass"},
		{"finish-reason fail", "Paris", `{type: finish-reason, value: length}`, "fail"},
		{"regex fail", "order 123", `{type: regex, value: "\\d{5}"}`, "fail"},
		{"is-json pass", `{"a": 1}`, `{type: is-json}`, "pass"},
		{"is-json fail", `{"a": 1`, `{type: is-json}`, "fail"},
		{"contains-json pass", "Here: ```json\n{\"a\": 1}\n```", `{type: contains-json}`, "pass"},
		{"contains-json fail", "no json here", `{type: contains-json}`, "fail"},
		{"json-schema pass", `{"n": 3}`, `{type: json-schema, value: {type: object, required: [n], properties: {n: {type: integer}}}}`, "pass"},
		{"json-schema fail", `{"n": "3"}`, `{type: json-schema, value: {type: object, required: [n], properties: {n: {type: integer}}}}`, "fail"},
		{"json-path pass", `{"answer": 42}`, `{type: json-path, value: {path: $.answer, equals: 42}}`, "pass"},
		{"json-path fail", `{"answer": 41}`, `{type: json-path, value: {path: $.answer, equals: 42}}`, "fail"},
		{"levenshtein pass", "kitten", `{type: levenshtein, value: sitting, threshold: 3}`, "pass"},
		{"levenshtein fail", "kitten", `{type: levenshtein, value: sitting, threshold: 2}`, "fail"},
		{"word-count pass", "one two three", `{type: word-count, value: {min: 2, max: 4}}`, "pass"},
		{"word-count fail", "one", `{type: word-count, value: {min: 2, max: 4}}`, "fail"},
		{"length pass", "abcd", `{type: length, value: {max: 5}}`, "pass"},
		{"length fail", "abcdefgh", `{type: length, value: {max: 5}}`, "fail"},
		{"latency pass", "fast", `{type: latency, threshold: 60000}`, "pass"},
		{"latency fail", "slow", `{type: latency, threshold: 0.000001}`, "fail"},
		{"cost pass", "cheap", `{type: cost, threshold: 1}`, "pass"},
		{"cost fail", "dear", `{type: cost, threshold: 0.0000000001}`, "fail"},
		{"tokens pass", "few", `{type: tokens, threshold: 10000}`, "pass"},
		{"tokens fail", "many words in this reply", `{type: tokens, threshold: 1}`, "fail"},
		{"exec pass", "hello world", `{type: exec, value: "grep -q hello"}`, "pass"},
		{"exec fail", "goodbye", `{type: exec, value: "grep -q hello"}`, "fail"},
		{"llm-rubric pass", "a polite reply", `{type: llm-rubric, value: "RUBRIC-PASS is polite"}`, "pass"},
		{"llm-rubric fail", "a rude reply", `{type: llm-rubric, value: "is polite"}`, "fail"},
		{"similar pass", "the quick brown fox", `{type: similar, value: the quick brown fox, threshold: 0.9}`, "pass"},
		{"similar fail", "lorem ipsum dolor", `{type: similar, value: the quick brown fox, threshold: 0.9}`, "fail"},
		{"not- pass", "fine", `{type: not-contains, value: "As an AI"}`, "pass"},
		{"not- fail", "As an AI, I cannot", `{type: not-contains, value: "As an AI"}`, "fail"},
	}
	var suite strings.Builder
	suite.WriteString("description: every assertion\nconfig: probe.aiconfig.json\ntests:\n")
	for _, c := range cases {
		fmt.Fprintf(&suite, "  - name: %q\n    prompt: say\n    params: {reply: %q}\n    assert:\n      - %s\n", c.name, c.reply, c.assert)
	}
	// Weights: one failing assertion of weight 1 against a passing one of
	// weight 3 reaches a 0.7 threshold (score 0.75), but not 0.8.
	for _, th := range []string{"0.7", "0.8"} {
		fmt.Fprintf(&suite, "  - name: weighted %s\n    prompt: say\n    params: {reply: Paris}\n    threshold: %s\n    assert:\n"+
			"      - {type: contains, value: Paris, weight: 3}\n      - {type: contains, value: Rome, weight: 1}\n", th, th)
	}
	srv := fakeopenai.New(fakeopenai.WithReply(gradeByMarker))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "probe.aiconfig.json", echoConfig)
	path := write(t, dir, "all.eval.yaml", suite.String())
	js := filepath.Join(dir, "results.json")
	o := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k").
		run("run", "--cache-mode", "off", "--json", js, path)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	res, err := results.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]results.Status{"weighted 0.7": "pass", "weighted 0.8": "fail"}
	for _, c := range cases {
		want[c.name] = c.want
	}
	seen := map[string]bool{}
	for _, tr := range res.Tests {
		seen[tr.Name] = true
		if tr.Status != want[tr.Name] {
			t.Errorf("%s: %s (%s), want %s", tr.Name, tr.Status, tr.Reason, want[tr.Name])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("ran %d tests, want %d", len(seen), len(want))
	}
	// Every registered type is exercised here.
	for _, typ := range assertionTypes() {
		if !strings.Contains(suite.String(), "type: "+typ+",") && !strings.Contains(suite.String(), "type: "+typ+"}") {
			t.Errorf("assertion type %s has no end-to-end case", typ)
		}
	}
}

func assertionTypes() []string { return assertions.Names() }
