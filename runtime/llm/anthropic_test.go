package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeanthropic"
	"github.com/aieval/aieval/runtime/llm"
)

type anthHarness struct {
	srv    *fakeanthropic.Server
	client *llm.Anthropic
	env    map[string]string
	mu     sync.Mutex
	sleeps []time.Duration
}

func newAnthHarness(t *testing.T, retry llm.RetryPolicy, opts ...fakeanthropic.Option) *anthHarness {
	t.Helper()
	h := &anthHarness{srv: fakeanthropic.New(opts...)}
	t.Cleanup(h.srv.Close)
	h.env = map[string]string{"ANTHROPIC_API_KEY": fakeanthropic.DefaultKey, "ANTHROPIC_BASE_URL": h.srv.URL(), "OPENAI_API_KEY": "sk-openai-must-not-travel"}
	h.client = llm.NewAnthropic(llm.OpenAIOptions{
		Retry:  &retry,
		Getenv: func(k string) string { return h.env[k] },
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
	})
	return h
}

func claudeReq(settings map[string]any, msgs ...llm.Message) *llm.Request {
	if len(msgs) == 0 {
		msgs = []llm.Message{{Role: "system", Content: "You are terse."}, {Role: "user", Content: "plan a day in NYC"}}
	}
	return &llm.Request{Provider: llm.ProviderAnthropic, Model: "claude-3-5-sonnet-20241022", Messages: msgs, Settings: settings}
}

var weatherTool = map[string]any{"tools": []any{map[string]any{"type": "function", "function": map[string]any{
	"name": "get_weather", "description": "Weather in a city",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}},
	"tool_choice": "auto"}

func TestAnthropicComplete(t *testing.T) {
	toolReply := fakeanthropic.WithReply(func(fakeanthropic.Request) fakeanthropic.Reply {
		return fakeanthropic.Reply{Text: "Checking.", ToolUses: []fakeanthropic.ToolUse{{ID: "toolu_1", Name: "get_weather", Input: map[string]any{"city": "New York"}}}}
	})
	tests := []struct {
		name       string
		opt        fakeanthropic.Option
		settings   map[string]any
		stream     bool
		wantText   string
		wantFinish string
		wantCalls  string
		wantUsage  llm.Usage
	}{
		{name: "plain", wantText: "plan a day in NYC", wantFinish: "stop", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 5, TotalTokens: 13}},
		{name: "stream", stream: true, wantText: "plan a day in NYC", wantFinish: "stop", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 5, TotalTokens: 13}},
		{name: "max tokens", opt: fakeanthropic.WithReply(func(fakeanthropic.Request) fakeanthropic.Reply {
			return fakeanthropic.Reply{Text: "cut", StopReason: "max_tokens"}
		}), wantText: "cut", wantFinish: "length", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 1, TotalTokens: 9}},
		{name: "tools", opt: toolReply, settings: weatherTool, wantText: "Checking.", wantFinish: "tool_calls",
			wantCalls: `[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"New York\"}"}}]`,
			wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 11, TotalTokens: 19}},
		{name: "tools stream", opt: toolReply, settings: weatherTool, stream: true, wantText: "Checking.", wantFinish: "tool_calls",
			wantCalls: `[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"New York\"}"}}]`,
			wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 11, TotalTokens: 19}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []fakeanthropic.Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			h := newAnthHarness(t, quick, opts...)
			req := claudeReq(tt.settings)
			req.Stream = tt.stream
			var chunks []string
			resp, err := h.client.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != tt.wantText || resp.FinishReason != tt.wantFinish || resp.Role != "assistant" || resp.Model != req.Model {
				t.Errorf("resp = %+v", resp)
			}
			if string(resp.ToolCalls) != tt.wantCalls {
				t.Errorf("tool_calls = %s\nwant %s", resp.ToolCalls, tt.wantCalls)
			}
			if resp.Usage != tt.wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, tt.wantUsage)
			}
			if tt.stream && (strings.Join(chunks, "") != tt.wantText || len(chunks) < 2 && len(strings.Fields(tt.wantText)) > 1) {
				t.Errorf("chunks %q", chunks)
			}
			if !tt.stream && len(chunks) != 0 {
				t.Errorf("chunks without streaming: %q", chunks)
			}
			got := h.srv.Requests()[0]
			if got.System != "You are terse." || len(got.Messages) != 1 || got.MaxTokens != llm.ClaudeDefaultMaxTokens || got.Stream != tt.stream {
				t.Errorf("server got %s", got.Raw)
			}
			seen := h.srv.Seen()[0]
			if seen.Header.Get("Authorization") != "" || len(h.srv.Leaks(h.env["OPENAI_API_KEY"])) > 0 || len(h.srv.Leaks(fakeanthropic.DefaultKey)) > 0 {
				t.Errorf("a key went where it must not: %v", seen.Header)
			}
		})
	}
}

func TestAnthropicSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     map[string]string // key -> JSON the server must get
	}{
		{"defaults", nil, map[string]string{"max_tokens": "4096"}},
		{"sdk names", map[string]any{"max_tokens_to_sample": 500, "top_k": 5, "temperature": 0, "top_p": 0.9, "stop_sequences": []any{"\n\nHuman:"}},
			map[string]string{"max_tokens": "500", "top_k": "5", "temperature": "0", "top_p": "0.9", "stop_sequences": `["\n\nHuman:"]`}},
		{"openai names", map[string]any{"max_tokens": 100.0, "stop": "END", "user": "u1"},
			map[string]string{"max_tokens": "100", "stop_sequences": `["END"]`, "metadata": `{"user_id":"u1"}`}},
		{"tools", map[string]any{"tools": weatherTool["tools"], "tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}},
			map[string]string{"max_tokens": "4096",
				"tools":       `[{"name":"get_weather","description":"Weather in a city","input_schema":{"properties":{"city":{"type":"string"}},"type":"object"}}]`,
				"tool_choice": `{"type":"tool","name":"get_weather"}`}},
		{"functions", map[string]any{"functions": []any{map[string]any{"name": "f"}}, "function_call": "auto"},
			map[string]string{"max_tokens": "4096", "tools": `[{"name":"f","input_schema":{"properties":{},"type":"object"}}]`, "tool_choice": `{"type":"auto"}`}},
		{"required", map[string]any{"tools": weatherTool["tools"], "tool_choice": "required"},
			map[string]string{"max_tokens": "4096", "tools": "*", "tool_choice": `{"type":"any"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAnthHarness(t, quick)
			if _, err := h.client.Complete(context.Background(), claudeReq(tt.settings), nil); err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			json.Unmarshal(h.srv.Requests()[0].Raw, &fields)
			allowed := map[string]bool{"model": true, "messages": true, "system": true}
			for k, want := range tt.want {
				allowed[k] = true
				if got := string(fields[k]); got != want && want != "*" {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			for k := range fields {
				if !allowed[k] {
					t.Errorf("unexpected key %q in %s", k, h.srv.Requests()[0].Raw)
				}
			}
		})
	}
}

func TestAnthropicConversation(t *testing.T) {
	h := newAnthHarness(t, quick)
	calls := `[{"id":"toolu_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]`
	msgs := []llm.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "hi"},
		{Role: "user", Content: "weather in Paris?"}, // merged with the one before
		{Role: "assistant", ToolCalls: json.RawMessage(calls)},
		{Role: "tool", ToolCallID: "toolu_9", Content: "sunny"},
		{Role: "system", Content: "Answer in French."},
		{Role: "user", Parts: []llm.Part{{Type: "text", Text: "and?"}, {Type: "image_url", ImageURL: "data:image/png;base64,iVBORw0KGgo="}}},
	}
	if _, err := h.client.Complete(context.Background(), claudeReq(weatherTool, msgs...), nil); err != nil {
		t.Fatal(err)
	}
	got := h.srv.Requests()[0]
	if got.System != "Be brief.\n\nAnswer in French." {
		t.Errorf("system = %q", got.System)
	}
	var roles []string
	for _, m := range got.Messages {
		var types []string
		for _, b := range m.Content {
			types = append(types, b.Type)
		}
		roles = append(roles, m.Role+":"+strings.Join(types, "+"))
	}
	if want := "user:text+text assistant:tool_use user:tool_result+text+image"; strings.Join(roles, " ") != want {
		t.Errorf("turns = %q, want %q", strings.Join(roles, " "), want)
	}
}

func TestAnthropicErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     fakeanthropic.FaultFunc
		stream    bool
		onChunk   bool
		retry     llm.RetryPolicy
		wantKind  llm.ErrorKind // "" = success
		wantMsg   string
		requests  int
		wantSleep time.Duration // first sleep, when exact
	}{
		{name: "429 retry-after then ok", fault: fakeanthropic.FaultFirst(1, fakeanthropic.Status(429, "3")), retry: quick, requests: 2, wantSleep: 3 * time.Second},
		{name: "429 ratelimit reset header", fault: fakeanthropic.FaultFirst(1, fakeanthropic.Fault{Kind: fakeanthropic.KindStatus, Code: 429, ResetIn: 5 * time.Second}),
			retry: quick, requests: 2, wantSleep: 4 * time.Second},
		{name: "529 overloaded then ok", fault: fakeanthropic.FaultFirst(2, fakeanthropic.Status(529, "")), retry: quick, requests: 3},
		{name: "429 always", fault: fakeanthropic.FaultAlways(fakeanthropic.Status(429, "0")), retry: quick,
			wantKind: llm.KindRateLimited, wantMsg: "(HTTP 429): rate limited: fake fault", requests: 4},
		{name: "529 always", fault: fakeanthropic.FaultAlways(fakeanthropic.Status(529, "")), retry: quick,
			wantKind: llm.KindServer, wantMsg: "(HTTP 529): server error", requests: 4},
		{name: "500 stream then ok", fault: fakeanthropic.FaultFirst(1, fakeanthropic.Status(500, "")), stream: true, retry: quick, requests: 2},
		{name: "401", fault: fakeanthropic.FaultAlways(fakeanthropic.Status(401, "")), retry: quick,
			wantKind: llm.KindAuth, wantMsg: "check $ANTHROPIC_API_KEY", requests: 1},
		{name: "403", fault: fakeanthropic.FaultAlways(fakeanthropic.Status(403, "")), retry: quick, wantKind: llm.KindAuth, requests: 1},
		{name: "400", fault: fakeanthropic.FaultAlways(fakeanthropic.Status(400, "")), retry: quick, wantKind: llm.KindClient, wantMsg: "request rejected", requests: 1},
		{name: "cut body then ok", fault: fakeanthropic.FaultFirst(1, fakeanthropic.Fault{Kind: fakeanthropic.KindCutStream}), retry: quick, requests: 2},
		{name: "cut stream nothing delivered", fault: fakeanthropic.FaultAlways(fakeanthropic.Fault{Kind: fakeanthropic.KindCutStream}), stream: true, retry: quick,
			wantKind: llm.KindBadResponse, wantMsg: "stream ended before message_stop", requests: 2},
		{name: "cut stream after text", fault: fakeanthropic.FaultAlways(fakeanthropic.Fault{Kind: fakeanthropic.KindCutStream}), stream: true, onChunk: true, retry: quick,
			wantKind: llm.KindBadResponse, wantMsg: "stream ended before message_stop", requests: 1},
		{name: "error event", fault: fakeanthropic.FaultAlways(fakeanthropic.Fault{Kind: fakeanthropic.KindStreamError}), stream: true, retry: quick,
			wantKind: llm.KindServer, wantMsg: "overloaded_error: Overloaded", requests: 1},
		{name: "malformed", fault: fakeanthropic.FaultAlways(fakeanthropic.Fault{Kind: fakeanthropic.KindMalformed}), retry: quick,
			wantKind: llm.KindBadResponse, wantMsg: "malformed JSON", requests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAnthHarness(t, tt.retry, fakeanthropic.WithFault(tt.fault))
			req := claudeReq(nil)
			req.Stream = tt.stream
			var onChunk llm.ChunkFunc
			if tt.onChunk {
				onChunk = func(string) {}
			}
			resp, err := h.client.Complete(context.Background(), req, onChunk)
			if n := len(h.srv.Requests()); n != tt.requests {
				t.Errorf("server got %d requests, want %d", n, tt.requests)
			}
			if tt.wantKind == "" {
				if err != nil || resp.Text != "plan a day in NYC" {
					t.Fatalf("err %v, resp %+v", err, resp)
				}
			} else {
				var e *llm.Error
				if !errors.As(err, &e) || e.Kind != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want kind %s with %q", err, tt.wantKind, tt.wantMsg)
				}
				if e.Model != req.Model || e.Endpoint != h.srv.URL() {
					t.Errorf("error names %q at %q", e.Model, e.Endpoint)
				}
			}
			if s := h.sleeps; tt.wantSleep > 0 && (len(s) == 0 || s[0] < tt.wantSleep || s[0] > tt.wantSleep+2*time.Second) {
				t.Errorf("sleeps = %v, want first about %v", s, tt.wantSleep)
			}
		})
	}
}

func TestAnthropicInputErrors(t *testing.T) {
	h := newAnthHarness(t, quick)
	tests := []struct {
		name    string
		env     map[string]string
		req     *llm.Request
		wantErr string
		kind    llm.ErrorKind
	}{
		{"no key", map[string]string{"ANTHROPIC_API_KEY": ""}, claudeReq(nil), "no API key: set $ANTHROPIC_API_KEY", llm.KindAuth},
		{"no key named env", nil, func() *llm.Request { r := claudeReq(nil); r.APIKeyEnv = "MY_CLAUDE_KEY"; return r }(), "set $MY_CLAUDE_KEY", llm.KindAuth},
		{"unknown setting", nil, claudeReq(map[string]any{"presence_penalty": 0.5}), "setting presence_penalty: not a Claude parameter", llm.KindClient},
		{"bad max tokens", nil, claudeReq(map[string]any{"max_tokens": 0}), "setting max_tokens: want at least 1", llm.KindClient},
		{"bad role", nil, claudeReq(nil, llm.Message{Role: "critic", Content: "x"}), `role "critic" cannot be sent to Claude`, llm.KindClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				old := h.env[k]
				h.env[k] = v
				defer func() { h.env[k] = old }()
			}
			_, err := h.client.Complete(context.Background(), tt.req, nil)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %s %q", err, tt.kind, tt.wantErr)
			}
		})
	}
	if n := len(h.srv.Seen()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestAnthropicEndpoint(t *testing.T) {
	c := llm.NewAnthropic(llm.OpenAIOptions{Getenv: func(string) string { return "" }})
	if got := c.Endpoint(""); got != "https://api.anthropic.com" {
		t.Errorf("default endpoint %q", got)
	}
	c = llm.NewAnthropic(llm.OpenAIOptions{Getenv: func(k string) string { return map[string]string{"ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"}[k] }})
	if got := c.Endpoint(""); got != "http://127.0.0.1:9" {
		t.Errorf("env endpoint %q", got)
	}
	if got := c.Endpoint("http://x/v1"); got != "http://x/v1" {
		t.Errorf("request endpoint %q", got)
	}
}
