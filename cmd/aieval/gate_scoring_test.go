package main

// What the model did is what is scored and reported: refusals, tool calls
// and finish reasons, through the real CLI against an OpenAI-wire server.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replyServer answers chat completions the OpenAI way with the message and
// finish reason chosen by the last user message.
func replyServer(t *testing.T, replies map[string]struct {
	msg    map[string]any
	finish string
}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" || len(req.Messages) == 0 {
			http.Error(w, `{"error":{"message":"bad body","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		rep, ok := replies[req.Messages[len(req.Messages)-1].Content]
		if !ok {
			rep.msg, rep.finish = map[string]any{"role": "assistant", "content": "?"}, "stop"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": rep.msg, "finish_reason": rep.finish}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestScoreWhatTheModelDid(t *testing.T) {
	type reply = struct {
		msg    map[string]any
		finish string
	}
	calls := []any{map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}
	srv := replyServer(t, map[string]reply{
		"refuse": {map[string]any{"role": "assistant", "content": nil, "refusal": "I can't help with that."}, "stop"},
		"tool":   {map[string]any{"role": "assistant", "content": nil, "tool_calls": calls}, "tool_calls"},
		"filter": {map[string]any{"role": "assistant", "content": "Here is how"}, "content_filter"},
		"long":   {map[string]any{"role": "assistant", "content": "Once upon a"}, "length"},
	})
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "did.eval.yaml", `config: cmp.aiconfig.json
tests:
  - name: refusal is not a clean answer
    prompt: answer
    params: {q: refuse}
    assert:
      - type: not-icontains
        value: "can't help"
  - name: refusal is flagged
    prompt: answer
    params: {q: refuse}
    assert:
      - type: is-refusal
  - name: tool call scored as JSON
    prompt: answer
    params: {q: tool}
    assert:
      - type: contains-all
        value: [get_weather, Paris]
      - type: finish-reason
        value: tool_calls
  - name: filtered
    prompt: answer
    params: {q: filter}
    assert:
      - type: finish-reason
        value: stop
  - name: cut short but passes
    prompt: answer
    params: {q: long}
    assert:
      - type: contains
        value: Once
`)
	out := filepath.Join(dir, "out")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL+"/v1", "OPENAI_API_KEY", "sk-test")
	o, res := gateRun(t, c, "--cache-mode", "off", "--junit", filepath.Join(out, "junit.xml"),
		"--markdown", filepath.Join(out, "s.md"), "--html", filepath.Join(out, "r.html"), suite)
	if o.code != 1 {
		t.Errorf("exit %d, want 1\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	byName := map[string]int{}
	for i, tr := range res.Tests {
		byName[tr.Name] = i
	}
	get := func(name string) (st string, out string, refusal bool, finish string, calls string) {
		tr := res.Tests[byName[name]]
		return string(tr.Status), tr.Output, tr.Refusal, tr.FinishReason, string(tr.ToolCalls)
	}
	if st, out, ref, _, _ := get("refusal is not a clean answer"); st != "fail" || out != "I can't help with that." || !ref {
		t.Errorf("refusal scored as %s %q refusal=%v, want fail on its text, flagged", st, out, ref)
	}
	if st, _, _, _, _ := get("refusal is flagged"); st != "pass" {
		t.Errorf("is-refusal on a refusal: %s", st)
	}
	if st, out, _, fin, calls := get("tool call scored as JSON"); st != "pass" || !strings.Contains(out, `"get_weather"`) || fin != "tool_calls" || !strings.Contains(calls, `"call_1"`) {
		t.Errorf("tool call: %s output %q finish %q tool_calls %s", st, out, fin, calls)
	}
	if st, _, _, fin, _ := get("filtered"); st != "fail" || fin != "content_filter" {
		t.Errorf("content filter: %s finish %q", st, fin)
	}
	for what, text := range map[string]string{"console": o.stdout, "junit": readOut(t, out, "junit.xml"), "markdown": readOut(t, out, "s.md"), "html": readOut(t, out, "r.html")} {
		for _, want := range []string{"refusal: the model declined", "stopped by the content filter", "cut at the token limit"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not show %q", what, want)
			}
		}
	}
	xmllint(t, filepath.Join(out, "junit.xml"))
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
