package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

// harness is a client wired to a fake server with an injected sleep that
// records every wait instead of waiting.
type harness struct {
	srv    *fakeopenai.Server
	client *llm.OpenAI
	mu     sync.Mutex
	sleeps []time.Duration
}

func newHarness(t testing.TB, retry llm.RetryPolicy, timeout time.Duration, opts ...fakeopenai.Option) *harness {
	t.Helper()
	h := &harness{srv: fakeopenai.New(opts...)}
	t.Cleanup(h.srv.Close)
	h.client = llm.NewOpenAI(llm.OpenAIOptions{
		Retry:   &retry,
		Timeout: timeout,
		// The key's own endpoint is the fake: OPENAI_API_KEY goes only there.
		Getenv: func(k string) string {
			return map[string]string{"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": h.srv.URL()}[k]
		},
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
	})
	return h
}

func (h *harness) Sleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

var quick = llm.RetryPolicy{MaxRetries: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: 10 * time.Second}

func userReq(h *harness, text string) *llm.Request {
	return &llm.Request{Provider: "openai", BaseURL: h.srv.URL(), Model: "gpt-4o-mini", Messages: []llm.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Content: text},
	}}
}

func TestCompleteNonStreaming(t *testing.T) {
	h := newHarness(t, quick, 0, fakeopenai.WithLatency(20*time.Millisecond))
	resp, err := h.client.Complete(context.Background(), userReq(h, "plan a day in NYC"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "plan a day in NYC" || resp.Role != "assistant" || resp.FinishReason != "stop" || resp.Model != "gpt-4o-mini" {
		t.Errorf("resp = %+v", resp)
	}
	if resp.Usage != (llm.Usage{PromptTokens: 8, CompletionTokens: 5, TotalTokens: 13}) {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if resp.Latency < 20*time.Millisecond || resp.Latency > 5*time.Second {
		t.Errorf("latency = %v, want about the server's 20ms", resp.Latency)
	}
	b := h.srv.Bodies()[0]
	if b.Stream || b.StreamOptions != nil || len(b.Messages) != 2 || b.Messages[0].Content.Text != "You are terse." {
		t.Errorf("server got %s", b.Raw)
	}
}

func TestCompleteStreaming(t *testing.T) {
	reply := "Morning: Central Park. Afternoon: the Met."
	h := newHarness(t, quick, 0, fakeopenai.WithReply(func(fakeopenai.ChatRequest) string { return reply }))
	req := userReq(h, "plan")
	req.Stream = true
	var chunks []string
	resp, err := h.client.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != reply || strings.Join(chunks, "") != reply || len(chunks) != 6 {
		t.Errorf("text %q from chunks %q", resp.Text, chunks)
	}
	if resp.Usage.CompletionTokens != 6 || resp.Usage.PromptTokens != 4 || resp.Role != "assistant" || resp.FinishReason != "stop" {
		t.Errorf("resp = %+v", resp)
	}
	b := h.srv.Bodies()[0]
	if !b.Stream || b.StreamOptions == nil || !b.StreamOptions.IncludeUsage {
		t.Errorf("server got %s", b.Raw)
	}
}

func TestSettingsMapping(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     map[string]string // key -> JSON the server must get
	}{
		{"yaml ints and floats", map[string]any{"temperature": 1, "top_p": 0.9, "max_tokens": 100.0, "n": 2, "seed": 42},
			map[string]string{"temperature": "1", "top_p": "0.9", "max_tokens": "100", "n": "2", "seed": "42"}},
		{"explicit zeros survive", map[string]any{"temperature": 0, "presence_penalty": 0.0, "frequency_penalty": 0.5, "logprobs": false},
			map[string]string{"temperature": "0", "presence_penalty": "0", "frequency_penalty": "0.5", "logprobs": "false"}},
		{"stop string", map[string]any{"stop": "END"}, map[string]string{"stop": `["END"]`}},
		{"stop list", map[string]any{"stop": []any{"a", "b"}}, map[string]string{"stop": `["a","b"]`}},
		{"logit bias floats", map[string]any{"logit_bias": map[string]any{"1639": 6.0, "50256": -100}},
			map[string]string{"logit_bias": `{"1639":6,"50256":-100}`}},
		{"logprobs", map[string]any{"logprobs": true, "top_logprobs": 3, "user": "u1", "max_completion_tokens": 50},
			map[string]string{"logprobs": "true", "top_logprobs": "3", "user": `"u1"`, "max_completion_tokens": "50"}},
		{"response format", map[string]any{"response_format": map[any]any{"type": "json_schema", "json_schema": map[string]any{
			"name": "x", "strict": true, "schema": map[string]any{"type": "object"}}}},
			map[string]string{"response_format": `{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}}`}},
		{"tools", map[string]any{
			"tools": []any{map[string]any{"type": "function", "function": map[string]any{
				"name": "get_weather", "parameters": map[string]any{"type": "object"}}}},
			"tool_choice": "auto"},
			map[string]string{"tools": `[{"function":{"name":"get_weather","parameters":{"type":"object"}},"type":"function"}]`, "tool_choice": `"auto"`}},
		{"functions", map[string]any{"functions": []any{map[string]any{"name": "f", "parameters": map[string]any{}}},
			"function_call": map[string]any{"name": "f"}},
			map[string]string{"functions": `[{"name":"f","parameters":{}}]`, "function_call": `{"name":"f"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, quick, 0)
			req := userReq(h, "hi")
			req.Settings = tt.settings
			if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
				t.Fatal(err)
			}
			fields := h.srv.Bodies()[0].Fields()
			if fields == nil {
				t.Fatalf("body is not a JSON object: %s", h.srv.Bodies()[0].Raw)
			}
			allowed := map[string]bool{"model": true, "messages": true, "stream": true}
			for k, want := range tt.want {
				allowed[k] = true
				if got := string(fields[k]); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			for k := range fields {
				if !allowed[k] {
					t.Errorf("server got unexpected key %q in %s", k, h.srv.Bodies()[0].Raw)
				}
			}
		})
	}
}

func TestSettingsRejected(t *testing.T) {
	for name, settings := range map[string]map[string]any{
		"unknown key":   {"temprature": 0.5},
		"string number": {"temperature": "hot"},
		"fractional n":  {"n": 1.5},
		"bad stop":      {"stop": 3},
		"bad tools":     {"tools": "get_weather"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, quick, 0)
			req := userReq(h, "hi")
			req.Settings = settings
			_, err := h.client.Complete(context.Background(), req, nil)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindClient || !strings.Contains(err.Error(), "setting ") {
				t.Errorf("err = %v, want a client error naming the setting", err)
			}
			if h.srv.Requests() != 0 {
				t.Errorf("a bad request was sent")
			}
		})
	}
}

func TestSettingsNotMutated(t *testing.T) {
	h := newHarness(t, quick, 0)
	inner := map[any]any{"type": "json_object"}
	settings := map[string]any{"response_format": inner}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := userReq(h, "hi")
			req.Settings = settings
			if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, ok := settings["response_format"].(map[any]any); !ok {
		t.Error("settings map was rewritten by the client")
	}
}

func TestMultimodalParts(t *testing.T) {
	h := newHarness(t, quick, 0)
	req := userReq(h, "")
	req.Messages[1] = llm.Message{Role: "user", Parts: []llm.Part{
		{Type: "text", Text: "What is in this image?"},
		{Type: "image_url", ImageURL: "https://example.com/cat.png", Detail: "high"},
	}}
	resp, err := h.client.Complete(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "What is in this image?" {
		t.Errorf("text = %q", resp.Text)
	}
	var body struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	json.Unmarshal(h.srv.Bodies()[0].Raw, &body)
	want := `[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"high"}}]`
	if got := string(body.Messages[1].Content); got != want {
		t.Errorf("content = %s\nwant      %s", got, want)
	}
	req.Messages[1].Parts = []llm.Part{{Type: "input_audio", Text: "x"}}
	if _, err := h.client.Complete(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "input_audio") {
		t.Errorf("unsupported part: err = %v", err)
	}
}

func TestEndpointAndKeyResolution(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL() + "/", "OPENAI_API_KEY": "sk-one", "OTHER_KEY": "sk-other"}
	var mu sync.Mutex
	c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(k string) string { mu.Lock(); defer mu.Unlock(); return env[k] }})
	ask := func(keyEnv string) {
		t.Helper()
		_, err := c.Complete(context.Background(), &llm.Request{Model: "m", APIKeyEnv: keyEnv,
			Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	ask("")
	ask("OTHER_KEY")
	mu.Lock()
	env["OPENAI_API_KEY"] = "sk-two" // a changed key is used, not a cached one
	mu.Unlock()
	ask("")
	mu.Lock()
	env["OPENAI_API_KEY"] = "" // local servers take no key
	mu.Unlock()
	ask("")
	got := srv.Authorizations()
	want := map[string]int{"Bearer sk-one": 1, "Bearer sk-other": 1, "Bearer sk-two": 1, "": 1}
	if len(got) != len(want) {
		t.Fatalf("authorizations = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("authorizations = %v, want %v", got, want)
		}
	}
	if c.Endpoint("") != srv.URL() || c.Endpoint("http://x/v1/") != "http://x/v1" {
		t.Errorf("endpoint resolution: %q", c.Endpoint(""))
	}
	if llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(string) string { return "" }}).Endpoint("") != llm.DefaultBaseURL {
		t.Error("default base URL")
	}
}

func TestEmbed(t *testing.T) {
	h := newHarness(t, quick, 0)
	in := []string{"the cat sat on the mat", "a dog ran", ""}
	vecs, err := h.client.Embed(context.Background(), &llm.EmbedRequest{BaseURL: h.srv.URL(), Model: "text-embedding-3-small", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 {
		t.Fatalf("got %d vectors", len(vecs))
	}
	for i, v := range vecs {
		want := llm.HashVector(in[i])
		for j := range v {
			if d := v[j] - want[j]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("vector %d differs from HashVector at %d", i, j)
			}
		}
	}
	bad := newHarness(t, llm.RetryPolicy{MaxRetries: 1}, 0,
		fakeopenai.WithEmbedFault(func(int64, fakeopenai.EmbedRequest) fakeopenai.Fault { return fakeopenai.Status(503, "") }))
	_, err = bad.client.Embed(context.Background(), &llm.EmbedRequest{BaseURL: bad.srv.URL(), Model: "m", Input: in})
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindServer || e.Attempts != 2 || bad.srv.EmbedRequests() != 2 {
		t.Errorf("err = %v (%+v), requests %d", err, e, bad.srv.EmbedRequests())
	}
}
