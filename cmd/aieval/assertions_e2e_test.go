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
	if len(req.Messages) > 0 && strings.Contains(req.Messages[0].Content.String(), "Answer with ONLY a JSON object") {
		return gradeMetric(req.Messages[0].Content.String(), req.LastUser())
	}
	return req.LastUser()
}

// gradeMetric answers the graded metrics by the JSON they ask for; a
// PASS marker in the grader's user message decides the verdict.
func gradeMetric(system, user string) string {
	pass := strings.Contains(user, "PASS")
	pick := func(yes, no string) string {
		if pass {
			return yes
		}
		return no
	}
	switch {
	case strings.Contains(system, `"category"`):
		return pick(`{"category": "C", "reason": "same facts"}`, `{"category": "D", "reason": "disagrees"}`)
	case strings.Contains(system, `"answer": "Y or N"`):
		return pick(`{"reasoning": "meets it", "answer": "Y"}`, `{"reasoning": "does not", "answer": "N"}`)
	case strings.Contains(system, `{"steps"`):
		return `{"steps": ["read the reply", "check the criteria"]}`
	case strings.Contains(system, `"score": an integer`):
		return pick(`{"score": 9, "reason": "clearly"}`, `{"score": 2, "reason": "barely"}`)
	case strings.Contains(system, `{"questions"`):
		answer := strings.TrimPrefix(user, "Answer:\n")
		return pick(fmt.Sprintf(`{"questions": [%q, %q, %q]}`, answer, answer, answer), `{"questions": ["zebra migration routes", "quantum chromodynamics", "medieval tax law"]}`)
	case strings.Contains(system, `"attributed"`):
		return pick(`{"sentences": [{"sentence": "s", "attributed": true}]}`, `{"sentences": [{"sentence": "s", "attributed": false}]}`)
	case strings.Contains(system, `a sentence copied from the context`):
		return pick(`{"sentences": ["Alpha PASS one."]}`, `{"sentences": []}`)
	case strings.Contains(system, `{"statements"`):
		return `{"statements": ["the reply says one thing"]}`
	case strings.Contains(system, `"index"`):
		return `{"index": 0, "reason": "the first is clearest"}`
	case strings.Contains(system, `"supported"`):
		return pick(`{"verdicts": [{"statement": "s", "explanation": "in context", "supported": true}]}`, `{"verdicts": [{"statement": "s", "explanation": "not in context", "supported": false}]}`)
	}
	return "not a verdict"
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
		{"factuality pass", "Paris", `{type: factuality, value: "PASS Paris"}`, "pass"},
		{"factuality fail", "Lyon", `{type: factuality, value: Paris}`, "fail"},
		{"model-graded-closedqa pass", "Visit the Met", `{type: model-graded-closedqa, value: "PASS names a museum"}`, "pass"},
		{"model-graded-closedqa fail", "Sleep in", `{type: model-graded-closedqa, value: names a museum}`, "fail"},
		{"g-eval pass", "A fine PASS haiku", `{type: g-eval, value: is a haiku}`, "pass"},
		{"g-eval fail", "no poem", `{type: g-eval, value: is a haiku}`, "fail"},
		{"answer-relevance pass", "PASS the tower is 330 m tall", `{type: answer-relevance, threshold: 0.9}`, "pass"},
		{"answer-relevance fail", "the tower is 330 m tall", `{type: answer-relevance, threshold: 0.9}`, "fail"},
		{"context-recall pass", "the prompt is the context", `{type: context-recall, value: "PASS it opened in 1793"}`, "pass"},
		{"context-recall fail", "the prompt is the context", `{type: context-recall, value: it opened in 1793}`, "fail"},
		{"is-xml pass", "<a><b>1</b></a>", `{type: is-xml, value: a.b}`, "pass"},
		{"is-xml fail", "<a><b>1</a>", `{type: is-xml}`, "fail"},
		{"contains-xml pass", "Here: <a><b/></a> done", `{type: contains-xml}`, "pass"},
		{"contains-xml fail", "no markup", `{type: contains-xml}`, "fail"},
		{"is-sql pass", "SELECT id FROM users WHERE id = 1", `{type: is-sql}`, "pass"},
		{"is-sql fail", "SELEC id FROM users", `{type: is-sql}`, "fail"},
		{"rouge-n pass", "the cat sat on the mat", `{type: rouge-n, value: the cat sat on the mat}`, "pass"},
		{"rouge-n fail", "a dog ran", `{type: rouge-n, value: the cat sat on the mat}`, "fail"},
		{"bleu pass", "the cat sat on the mat", `{type: bleu, value: the cat sat on the mat}`, "pass"},
		{"bleu fail", "a dog ran", `{type: bleu, value: the cat sat on the mat}`, "fail"},
		{"is-valid-tool-call pass", toolReply("get_weather", `{"city":"Paris"}`), `{type: is-valid-tool-call, value: [{name: get_weather, parameters: {type: object, required: [city]}}]}`, "pass"},
		{"is-valid-tool-call fail", toolReply("get_weather", `{}`), `{type: is-valid-tool-call, value: [{name: get_weather, parameters: {type: object, required: [city]}}]}`, "fail"},
		{"is-valid-openai-tools-call pass", toolReply("now", `{}`), `{type: is-valid-openai-tools-call, value: [{type: function, function: {name: now}}]}`, "pass"},
		{"is-valid-openai-tools-call fail", toolReply("later", `{}`), `{type: is-valid-openai-tools-call, value: [{type: function, function: {name: now}}]}`, "fail"},
		{"tool-call pass", toolReply("get_weather", `{"city":"Paris","unit":"c"}`), `{type: tool-call, value: {name: get_weather, arguments: {city: Paris}}}`, "pass"},
		{"tool-call fail", toolReply("get_weather", `{"city":"Rome"}`), `{type: tool-call, value: {name: get_weather, arguments: {city: Paris}}}`, "fail"},
		{"tool-call-f1 pass", toolReply("get_weather", `{}`), `{type: tool-call-f1, value: [get_weather]}`, "pass"},
		{"tool-call-f1 fail", toolReply("get_weather", `{}`), `{type: tool-call-f1, value: [get_weather, now]}`, "fail"},
		{"not- pass", "fine", `{type: not-contains, value: "As an AI"}`, "pass"},
		{"not- fail", "As an AI, I cannot", `{type: not-contains, value: "As an AI"}`, "fail"},
		// The fake flags "hate" in texts with FLAG-HATE and gives every
		// token logprob -0.25 when asked (perplexity exp(0.25) = 1.28).
		{"moderation pass", "a kind reply", `{type: moderation}`, "pass"},
		{"moderation fail", "FLAG-HATE reply", `{type: moderation, value: [hate]}`, "fail"},
		{"moderation other category pass", "FLAG-HATE reply", `{type: moderation, value: [violence]}`, "pass"},
		{"perplexity pass", "some words here", `{type: perplexity, threshold: 2}`, "pass"},
		{"perplexity fail", "some words here", `{type: perplexity, threshold: 1.1}`, "fail"},
		{"perplexity-score pass", "some words here", `{type: perplexity-score, threshold: 0.4}`, "pass"},
		{"perplexity-score fail", "some words here", `{type: perplexity-score, threshold: 0.5}`, "fail"},
	}
	var suite strings.Builder
	suite.WriteString("description: every assertion\nconfig: probe.aiconfig.json\ntests:\n")
	for _, c := range cases {
		fmt.Fprintf(&suite, "  - name: %q\n    prompt: say\n    params: {reply: %q}\n    assert:\n      - %s\n", c.name, c.reply, c.assert)
	}
	// RAG metrics that read query and context params.
	for _, c := range []struct{ name, context, assert string }{
		{"context-relevance pass", "Alpha PASS one. Beta two.", `{type: context-relevance, threshold: 0.5}`},
		{"context-relevance fail", "Alpha one. Beta two.", `{type: context-relevance, threshold: 0.5}`},
		{"context-faithfulness pass", "Alpha PASS one.", `{type: context-faithfulness}`},
		{"context-faithfulness fail", "Alpha one.", `{type: context-faithfulness}`},
	} {
		fmt.Fprintf(&suite, "  - name: %q\n    prompt: say\n    params: {reply: an answer, query: a question, context: %q}\n    assert:\n      - %s\n", c.name, c.context, c.assert)
		cases = append(cases, struct {
			name, reply, assert string
			want                results.Status
		}{c.name, "", c.assert, results.Status(strings.Fields(c.name)[1])})
	}
	// select-best across a two-model matrix: the grader picks output 0.
	suite.WriteString("  - name: select-best matrix\n    prompt: say\n    params: {reply: an answer}\n    matrix: [gpt-4o-mini, gpt-4o]\n" +
		"    assert:\n      - {type: select-best, value: the clearest answer}\n")
	// Weights: one failing assertion of weight 1 against a passing one of
	// weight 3 reaches a 0.7 threshold (score 0.75), but not 0.8.
	for _, th := range []string{"0.7", "0.8"} {
		fmt.Fprintf(&suite, "  - name: weighted %s\n    prompt: say\n    params: {reply: Paris}\n    threshold: %s\n    assert:\n"+
			"      - {type: contains, value: Paris, weight: 3}\n      - {type: contains, value: Rome, weight: 1}\n", th, th)
	}
	srv := fakeopenai.New(fakeopenai.WithReply(gradeByMarker), fakeopenai.WithModeration(func(in string) []string {
		if strings.Contains(in, "FLAG-HATE") {
			return []string{"hate"}
		}
		return nil
	}))
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
	want := map[string]results.Status{"weighted 0.7": "pass", "weighted 0.8": "fail",
		"select-best matrix [gpt-4o-mini]": "pass", "select-best matrix [gpt-4o]": "fail"}
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
	// select-best on a single model is refused at load (exit 2), naming
	// the line and the fix.
	errSuite := "description: errors\nconfig: probe.aiconfig.json\ntests:\n" +
		"  - name: alone\n    prompt: say\n    params: {reply: hi}\n    assert:\n      - {type: select-best, value: the shortest}\n"
	epath := write(t, dir, "errors.eval.yaml", errSuite)
	if o := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k").run("run", "--cache-mode", "off", epath); o.code != 2 ||
		!strings.Contains(o.stderr, "errors.eval.yaml:8") || !strings.Contains(o.stderr, "matrix: [model, model]") {
		t.Errorf("select-best without a matrix: exit %d, want 2 naming line 8 and matrix:\n%s", o.code, o.stderr)
	}
	// Every registered type is exercised here.
	all := suite.String() + errSuite
	for _, typ := range assertionTypes() {
		if !strings.Contains(all, "type: "+typ+",") && !strings.Contains(all, "type: "+typ+"}") {
			t.Errorf("assertion type %s has no end-to-end case", typ)
		}
	}
}

func assertionTypes() []string { return assertions.Names() }

// toolReply is a model output that is only tool calls, as the runtime
// gives a response without text.
func toolReply(name, args string) string {
	return fmt.Sprintf(`[{"id":"call_1","type":"function","function":{"name":%q,"arguments":%q}}]`, name, args)
}
