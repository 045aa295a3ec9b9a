package assertions

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestXMLChecks(t *testing.T) {
	const order = `<order id="7"><items><item>tea</item><item>cake</item></items><total>9</total></order>`
	runCases(t, []checkCase{
		{name: "is-xml pass", spec: Spec{Type: "is-xml"}, in: Input{Output: order}, pass: true, score: 1},
		{name: "is-xml with decl and whitespace", spec: Spec{Type: "is-xml"}, in: Input{Output: "<?xml version=\"1.0\"?>\n<a><b/></a>\n"}, pass: true, score: 1},
		{name: "is-xml unclosed", spec: Spec{Type: "is-xml"}, in: Input{Output: "<a><b></a>"}, reason: "not well-formed XML"},
		{name: "is-xml text around", spec: Spec{Type: "is-xml"}, in: Input{Output: "Here: <a/>"}, reason: "text outside the root element"},
		{name: "is-xml two roots", spec: Spec{Type: "is-xml"}, in: Input{Output: "<a/><b/>"}, reason: "more than one root"},
		{name: "is-xml plain text", spec: Spec{Type: "is-xml"}, in: Input{Output: "hello"}, reason: "not well-formed XML"},
		{name: "is-xml required ok", spec: Spec{Type: "is-xml", Value: "order.items.item, order.total"}, in: Input{Output: order}, pass: true, score: 1, reason: "with order.items.item, order.total"},
		{name: "is-xml required index", spec: Spec{Type: "is-xml", Value: []any{"order.items.item.1"}}, in: Input{Output: order}, pass: true, score: 1},
		{name: "is-xml required index out of range", spec: Spec{Type: "is-xml", Value: []any{"order.items.item.2"}}, in: Input{Output: order}, reason: "missing required elements: order.items.item.2"},
		{name: "is-xml required attribute", spec: Spec{Type: "is-xml", Value: map[string]any{"requiredElements": []any{"order.@_id"}}}, in: Input{Output: order}, pass: true, score: 1},
		{name: "is-xml required missing", spec: Spec{Type: "is-xml", Value: []any{"order.customer"}}, in: Input{Output: order}, reason: "missing required elements: order.customer"},
		{name: "not-is-xml pass", spec: Spec{Type: "not-is-xml"}, in: Input{Output: "plain"}, pass: true, score: 1},
		{name: "not-is-xml fail", spec: Spec{Type: "not-is-xml"}, in: Input{Output: "<a/>"}, reason: "but must not"},
		{name: "contains-xml in prose", spec: Spec{Type: "contains-xml"}, in: Input{Output: "Sure!\n```xml\n" + order + "\n```\nDone."}, pass: true, score: 1},
		{name: "contains-xml required", spec: Spec{Type: "contains-xml", Value: "order.total"}, in: Input{Output: "x " + order + " y"}, pass: true, score: 1},
		{name: "contains-xml nested fallback", spec: Spec{Type: "contains-xml", Value: "item"}, in: Input{Output: order}, pass: true, score: 1},
		{name: "contains-xml none", spec: Spec{Type: "contains-xml"}, in: Input{Output: "no markup here, 3 < 4"}, reason: "no XML element"},
		{name: "contains-xml missing element", spec: Spec{Type: "contains-xml", Value: "order.customer"}, in: Input{Output: order}, reason: "no well-formed XML element with order.customer"},
		{name: "not-contains-xml", spec: Spec{Type: "not-contains-xml"}, in: Input{Output: "just text"}, pass: true, score: 1},
	})
	loadErr(t, Spec{Type: "is-xml", Threshold: thr(1)}, "threshold is not used")
	loadErr(t, Spec{Type: "is-xml", Value: map[string]any{"required": []any{"a"}}}, `unknown key "required"`)
	loadErr(t, Spec{Type: "contains-xml", Value: 3}, "must be a list of element paths")
}

func TestIsSQL(t *testing.T) {
	runCases(t, []checkCase{
		{name: "select", spec: Spec{Type: "is-sql"}, in: Input{Output: "SELECT name FROM users WHERE id = 1"}, pass: true, score: 1},
		{name: "cte and window", spec: Spec{Type: "is-sql"}, in: Input{Output: "WITH r AS (SELECT a, ROW_NUMBER() OVER (PARTITION BY b ORDER BY c) n FROM t) SELECT * FROM r WHERE n = 1;"}, pass: true, score: 1},
		{name: "several statements", spec: Spec{Type: "is-sql"}, in: Input{Output: "CREATE TABLE t (id INT); -- make it\nINSERT INTO t VALUES (1); SELECT 'a;b' FROM t;"}, pass: true, reason: "3 statements", score: 1},
		{name: "typo", spec: Spec{Type: "is-sql"}, in: Input{Output: "SELEC name FROM users"}, reason: `near "SELEC": syntax error`},
		{name: "incomplete", spec: Spec{Type: "is-sql"}, in: Input{Output: "SELECT * FROM"}, reason: "incomplete input"},
		{name: "second statement bad", spec: Spec{Type: "is-sql"}, in: Input{Output: "SELECT 1; SELEC 2"}, reason: "statement 2 of 2"},
		{name: "prose", spec: Spec{Type: "is-sql"}, in: Input{Output: "Here is the query you asked for"}, reason: "syntax error"},
		{name: "empty", spec: Spec{Type: "is-sql"}, in: Input{Output: "  -- nothing\n"}, reason: "no SQL statement"},
		{name: "unterminated string", spec: Spec{Type: "is-sql"}, in: Input{Output: "SELECT 'abc"}, reason: "unrecognized token"},
		{name: "not-is-sql pass", spec: Spec{Type: "not-is-sql"}, in: Input{Output: "hello world"}, pass: true, score: 1},
		{name: "not-is-sql fail", spec: Spec{Type: "not-is-sql"}, in: Input{Output: "SELECT 1"}, reason: "but must not"},
	})
	loadErr(t, Spec{Type: "is-sql", Value: map[string]any{"databaseType": "MySQL"}}, "SQLite syntax only")
}

func TestOverlapScores(t *testing.T) {
	for _, tc := range []struct {
		cand, ref string
		want      float64
	}{
		{"the cat sat on the mat", "the cat sat on the mat", 1},
		{"the cat", "the cat sat on the mat", 2 * (1.0 * (2.0 / 6)) / (1 + 2.0/6)},
		{"dogs bark", "the cat sat", 0},
		{"It's done, isn't it?", "it's done isn't it", 2 * 0.75 / 1.75}, // it 's done , is n't it ?
	} {
		if got := rougeN(strings.ToLower(tc.cand), strings.ToLower(tc.ref), 1); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("rougeN(%q, %q) = %v, want %v", tc.cand, tc.ref, got, tc.want)
		}
	}
	if got := bleuScore("the cat sat on the mat", []string{"the cat sat on the mat"}); math.Abs(got-1) > 1e-9 {
		t.Errorf("bleu identical = %v", got)
	}
	if got := bleuScore("  ", []string{"x"}); got != 0 {
		t.Errorf("bleu blank = %v", got)
	}
	// One word: only unigrams count; brevity penalty exp(1-3/1).
	if got, want := bleuScore("cat", []string{"the cat sat"}), math.Exp(1-3.0); math.Abs(got-want) > 1e-9 {
		t.Errorf("bleu short = %v, want %v", got, want)
	}
	runCases(t, []checkCase{
		{name: "rouge pass", spec: Spec{Type: "rouge-n", Value: "The cat sat on the mat"}, in: Input{Output: "the cat sat on the mat"}, pass: true, score: 1},
		{name: "rouge fail default threshold", spec: Spec{Type: "rouge-n", Value: "the cat sat on the mat"}, in: Input{Output: "a dog sat on a rug"}, any: true, reason: "threshold 0.75"},
		{name: "rouge low threshold", spec: Spec{Type: "rouge-n", Value: "the cat sat on the mat", Threshold: thr(0.3)}, in: Input{Output: "a dog sat on the rug"}, pass: true, any: true},
		{name: "not-rouge", spec: Spec{Type: "not-rouge-n", Value: "the cat sat on the mat"}, in: Input{Output: "completely different words"}, pass: true, score: 1},
		{name: "bleu pass", spec: Spec{Type: "bleu", Value: "the quick brown fox jumps over the lazy dog"}, in: Input{Output: "the quick brown fox jumps over the lazy dog"}, pass: true, score: 1},
		{name: "bleu references", spec: Spec{Type: "bleu", Value: []any{"a b c d e", "the quick brown fox jumps"}}, in: Input{Output: "the quick brown fox jumps"}, pass: true, score: 1},
		{name: "bleu fail", spec: Spec{Type: "bleu", Value: "the quick brown fox jumps over the lazy dog"}, in: Input{Output: "a slow red fox"}, any: true, reason: "threshold 0.5"},
		{name: "not-bleu fail", spec: Spec{Type: "not-bleu", Value: "same words here"}, in: Input{Output: "same words here"}, reason: "but must not"},
	})
	loadErr(t, Spec{Type: "rouge-n"}, "missing value")
	loadErr(t, Spec{Type: "rouge-n", Value: []any{"a", "b"}}, "value must be text")
	loadErr(t, Spec{Type: "bleu", Value: "x", Threshold: thr(2)}, "between 0 and 1")
}

func TestPerplexity(t *testing.T) {
	lp := []float64{-0.1, -0.3, -0.2} // mean -0.2: perplexity e^0.2 = 1.2214, score 1/(1+e^0.2) = 0.4502
	runCases(t, []checkCase{
		{name: "perplexity under", spec: Spec{Type: "perplexity", Threshold: thr(1.5)}, in: Input{Logprobs: lp}, pass: true, score: 1, reason: "perplexity 1.2214"},
		{name: "perplexity over", spec: Spec{Type: "perplexity", Threshold: thr(1.1)}, in: Input{Logprobs: lp}, reason: "exceeds the threshold 1.1"},
		{name: "perplexity no threshold", spec: Spec{Type: "perplexity"}, in: Input{Logprobs: lp}, pass: true, score: 1},
		{name: "not-perplexity", spec: Spec{Type: "not-perplexity", Threshold: thr(1.1)}, in: Input{Logprobs: lp}, pass: true, score: 1},
		{name: "score pass", spec: Spec{Type: "perplexity-score", Threshold: thr(0.4)}, in: Input{Logprobs: lp}, pass: true, score: 1 / (1 + math.Exp(0.2))},
		{name: "score fail", spec: Spec{Type: "perplexity-score", Threshold: thr(0.5)}, in: Input{Logprobs: lp}, score: 1 / (1 + math.Exp(0.2)), reason: "below the threshold 0.5"},
	})
	a, err := New(Spec{Type: "perplexity", Threshold: thr(2), Weight: 1})
	must(t, err)
	if _, err := a.Check(context.Background(), &Input{Output: "x"}); err == nil || !strings.Contains(err.Error(), "no token logprobs; set logprobs: true") {
		t.Errorf("no logprobs: err = %v", err)
	}
	loadErr(t, Spec{Type: "perplexity", Value: 3}, "value is not used")
	loadErr(t, Spec{Type: "perplexity-score", Threshold: thr(3)}, "between 0 and 1")
}

// calls renders OpenAI tool_calls for a test input.
func calls(pairs ...string) json.RawMessage {
	var l []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		l = append(l, map[string]any{"id": "call_" + pairs[i], "type": "function", "function": map[string]any{"name": pairs[i], "arguments": pairs[i+1]}})
	}
	b, _ := json.Marshal(l)
	return b
}

const weatherTools = `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city"]}}},
{"type":"function","function":{"name":"now"}}]`

func TestToolCallChecks(t *testing.T) {
	tools := json.RawMessage(weatherTools)
	good := calls("get_weather", `{"city":"Paris","unit":"c"}`)
	runCases(t, []checkCase{
		{name: "valid", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: good, Tools: tools}, pass: true, score: 1, reason: "get_weather"},
		{name: "valid no-arg tool", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: calls("now", "{}"), Tools: tools}, pass: true, score: 1},
		{name: "valid from output text", spec: Spec{Type: "is-valid-tool-call"}, in: Input{Output: string(good), Tools: tools}, pass: true, score: 1},
		{name: "valid legacy functions", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: good, Tools: json.RawMessage(`[{"name":"get_weather","parameters":{"type":"object"}}]`)}, pass: true, score: 1},
		{name: "unknown function", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: calls("get_wether", `{}`), Tools: tools}, reason: `calls "get_wether", which is not a declared function (did you mean get_weather?)`},
		{name: "schema mismatch", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: calls("get_weather", `{"unit":"k"}`), Tools: tools}, reason: "do not match its schema"},
		{name: "args not json", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: calls("get_weather", `{city:`), Tools: tools}, reason: "arguments are not JSON"},
		{name: "no calls", spec: Spec{Type: "is-valid-tool-call"}, in: Input{Output: "It is sunny.", Tools: tools}, reason: "no tool calls"},
		{name: "no declared tools", spec: Spec{Type: "is-valid-tool-call"}, in: Input{ToolCalls: good}, reason: "declares no tools"},
		{name: "tools from value", spec: Spec{Type: "is-valid-tool-call", Value: []any{map[string]any{"name": "get_weather"}}}, in: Input{ToolCalls: calls("get_weather", "{}")}, pass: true, score: 1},
		{name: "not-valid", spec: Spec{Type: "not-is-valid-tool-call"}, in: Input{Output: "text", Tools: tools}, pass: true, score: 1},
		{name: "openai valid", spec: Spec{Type: "is-valid-openai-tools-call"}, in: Input{ToolCalls: good, Tools: tools}, pass: true, score: 1},
		{name: "openai needs string args", spec: Spec{Type: "is-valid-openai-tools-call"}, in: Input{Output: `[{"function":{"name":"get_weather","arguments":{"city":"x"}}}]`, Tools: tools}, reason: "no arguments string"},

		{name: "tool-call name", spec: Spec{Type: "tool-call", Value: map[string]any{"name": "get_weather"}}, in: Input{ToolCalls: good}, pass: true, score: 1},
		{name: "tool-call subset", spec: Spec{Type: "tool-call", Value: map[string]any{"name": "get_weather", "arguments": map[string]any{"city": "Paris"}}}, in: Input{ToolCalls: good}, pass: true, score: 1},
		{name: "tool-call string args", spec: Spec{Type: "tool-call", Value: map[string]any{"name": "get_weather", "arguments": `{"unit": "c"}`}}, in: Input{ToolCalls: good}, pass: true, score: 1},
		{name: "tool-call wrong arg", spec: Spec{Type: "tool-call", Value: map[string]any{"name": "get_weather", "arguments": map[string]any{"city": "Rome"}}}, in: Input{ToolCalls: good}, reason: `no tool call matches get_weather{"city":"Rome"}`},
		{name: "tool-call list partial", spec: Spec{Type: "tool-call", Value: []any{"get_weather", "now"}}, in: Input{ToolCalls: good}, score: 0.5, reason: "no tool call matches now"},
		{name: "tool-call none", spec: Spec{Type: "tool-call", Value: "now"}, in: Input{Output: "hi"}, reason: "no tool calls"},
		{name: "not-tool-call", spec: Spec{Type: "not-tool-call", Value: "now"}, in: Input{ToolCalls: good}, pass: true, score: 1},

		{name: "f1 perfect", spec: Spec{Type: "tool-call-f1", Value: []any{"get_weather", "now"}}, in: Input{ToolCalls: calls("now", "{}", "get_weather", "{}")}, pass: true, score: 1},
		{name: "f1 comma text", spec: Spec{Type: "tool-call-f1", Value: "get_weather, now"}, in: Input{ToolCalls: calls("now", "{}", "get_weather", "{}")}, pass: true, score: 1},
		{name: "f1 half recall", spec: Spec{Type: "tool-call-f1", Value: []any{"get_weather", "now"}}, in: Input{ToolCalls: good}, score: 2 * 1 * 0.5 / 1.5, reason: "recall 0.500"},
		{name: "f1 threshold", spec: Spec{Type: "tool-call-f1", Value: []any{"get_weather", "now"}, Threshold: thr(0.6)}, in: Input{ToolCalls: good}, pass: true, score: 2 * 1 * 0.5 / 1.5},
		{name: "f1 repeated call is one", spec: Spec{Type: "tool-call-f1", Value: []any{"get_weather"}}, in: Input{ToolCalls: calls("get_weather", `{"city":"a"}`, "get_weather", `{"city":"b"}`)}, pass: true, score: 1},
		{name: "f1 with arguments", spec: Spec{Type: "tool-call-f1", Value: []any{map[string]any{"name": "get_weather", "arguments": map[string]any{"city": "a"}}}}, in: Input{ToolCalls: calls("get_weather", `{"city":"a"}`, "get_weather", `{"city":"b"}`)}, score: 2 * 0.5 * 1 / 1.5, reason: "precision 0.500"},
		{name: "f1 no calls", spec: Spec{Type: "tool-call-f1", Value: []any{"now"}}, in: Input{Output: "hello"}, score: 0},
		{name: "not-f1", spec: Spec{Type: "not-tool-call-f1", Value: []any{"now"}}, in: Input{Output: "hello"}, pass: true, score: 1},
	})
	loadErr(t, Spec{Type: "tool-call"}, "missing value")
	loadErr(t, Spec{Type: "tool-call", Value: map[string]any{"nam": "x"}}, `unknown key "nam"`)
	loadErr(t, Spec{Type: "tool-call", Value: map[string]any{"name": "x", "arguments": "{bad"}}, "arguments text is not JSON")
	loadErr(t, Spec{Type: "tool-call-f1", Value: []any{"a"}, Threshold: thr(1.5)}, "between 0 and 1")
	loadErr(t, Spec{Type: "is-valid-tool-call", Value: []any{map[string]any{"name": "f", "parameters": map[string]any{"type": 5}}}}, `tool "f"`)
}

func TestJSONSubset(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{`{"a":1}`, `{"a":1.0,"b":2}`, true},
		{`{"a":{"b":[1,2]}}`, `{"a":{"b":[1,2],"c":3}}`, true},
		{`{"a":[1]}`, `{"a":[1,2]}`, false},
		{`{"a":"x"}`, `{"a":"y"}`, false},
		{`{"a":null}`, `{}`, false},
		{`[{"k":1}]`, `[{"k":1,"j":2}]`, true},
	} {
		var w, g any
		must(t, json.Unmarshal([]byte(tc.want), &w))
		must(t, json.Unmarshal([]byte(tc.got), &g))
		if jsonSubset(w, g) != tc.ok {
			t.Errorf("jsonSubset(%s, %s) = %v", tc.want, tc.got, !tc.ok)
		}
	}
}
