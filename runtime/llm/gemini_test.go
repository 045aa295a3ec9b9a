package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakegemini"
	"github.com/aieval/aieval/runtime/llm"
)

func newGemini(t *testing.T, env map[string]string, opts ...fakegemini.Option) (*fakegemini.Server, *llm.Gemini, *[]time.Duration) {
	t.Helper()
	srv := fakegemini.New(opts...)
	t.Cleanup(srv.Close)
	if env == nil {
		env = map[string]string{"GEMINI_API_KEY": "gm-test-key"}
	}
	env["GOOGLE_GEMINI_BASE_URL"] = srv.URL
	var sleeps []time.Duration
	c := llm.NewGemini(llm.OpenAIOptions{
		Retry:  &quick,
		Getenv: func(k string) string { return env[k] },
		Sleep:  func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return ctx.Err() },
	})
	return srv, c, &sleeps
}

func geminiReq(model string) *llm.Request {
	return &llm.Request{Provider: llm.ProviderGemini, Model: model, Messages: []llm.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Content: "plan a day in NYC"},
	}}
}

func TestGeminiPlain(t *testing.T) {
	srv, c, _ := newGemini(t, nil)
	req := geminiReq("gemini-pro")
	req.Settings = map[string]any{"temperature": 0, "top_p": 0.9, "top_k": 40, "max_tokens": 100, "stop": "END", "n": 1}
	resp, err := c.Complete(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "plan a day in NYC" || resp.FinishReason != "stop" || resp.Role != "assistant" || resp.Model != "gemini-pro-001" {
		t.Errorf("resp = %+v", resp)
	}
	if resp.Usage != (llm.Usage{PromptTokens: 5, CompletionTokens: 5, TotalTokens: 10}) {
		t.Errorf("usage = %+v", resp.Usage)
	}
	seen := srv.Requests()[0]
	if seen.Path != "/v1beta/models/gemini-pro:generateContent" || seen.Header.Get("X-Goog-Api-Key") != "gm-test-key" {
		t.Errorf("path %s header %v", seen.Path, seen.Header)
	}
	g := seen.Req.GenerationConfig
	if g == nil || *g.Temperature != 0 || *g.TopP != 0.9 || *g.TopK != 40 || *g.MaxOutputTokens != 100 ||
		len(g.StopSequences) != 1 || g.StopSequences[0] != "END" || *g.CandidateCount != 1 {
		t.Errorf("generationConfig = %s", seen.Body)
	}
	if si := seen.Req.SystemInstruction; si == nil || *si.Parts[0].Text != "You are terse." || len(seen.Req.Contents) != 1 {
		t.Errorf("system / contents = %s", seen.Body)
	}
}

func TestGeminiSDKSettingsAndModelNames(t *testing.T) {
	srv, c, _ := newGemini(t, map[string]string{"GOOGLE_API_KEY": "gm-test-key", "GEMINI_API_KEY": "other"})
	req := geminiReq("models/gemini-1.5-flash")
	// The SDK's nested generation_config (my_aiconfig.aiconfig.json) and
	// its max_output_tokens; a flat key wins over the nested one.
	req.Settings = map[string]any{
		"generation_config": map[string]any{"top_p": 0.1, "top_k": 1, "temperature": 0.4, "max_output_tokens": 7},
		"temperature":       0.5,
		"safety_settings":   []any{map[string]any{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}},
	}
	if _, err := c.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	seen := srv.Requests()[0]
	g := seen.Req.GenerationConfig
	if seen.Path != "/v1beta/models/gemini-1.5-flash:generateContent" || *g.TopP != 0.1 || *g.TopK != 1 || *g.Temperature != 0.5 ||
		*g.MaxOutputTokens != 7 || len(seen.Req.SafetySettings) != 1 {
		t.Errorf("%s %s", seen.Path, seen.Body)
	}
	// GOOGLE_API_KEY wins over GEMINI_API_KEY, as in Google's SDK.
	if seen.Header.Get("X-Goog-Api-Key") != "gm-test-key" {
		t.Errorf("key header = %q", seen.Header.Get("X-Goog-Api-Key"))
	}
}

func TestGeminiStreamCRLF(t *testing.T) {
	reply := "Morning: Central Park. Afternoon: the Met."
	srv, c, _ := newGemini(t, nil, fakegemini.WithReply(func(fakegemini.Request) fakegemini.Reply {
		return fakegemini.Reply{Text: reply, FinishReason: "MAX_TOKENS"}
	}))
	req := geminiReq("gemini-2.0-flash")
	req.Stream = true
	var chunks []string
	resp, err := c.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != reply || strings.Join(chunks, "") != reply || len(chunks) != 6 || resp.FinishReason != "length" {
		t.Errorf("resp %+v chunks %q", resp, chunks)
	}
	if resp.Usage.CompletionTokens != 6 || resp.Usage.PromptTokens != 5 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if p := srv.Requests()[0].Path; p != "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse" {
		t.Errorf("path = %s", p)
	}
}

func TestGeminiToolsAndCalls(t *testing.T) {
	srv, c, _ := newGemini(t, nil, fakegemini.WithReply(func(fakegemini.Request) fakegemini.Reply {
		return fakegemini.Reply{Calls: []fakegemini.FunctionCall{{Name: "get_weather", Args: map[string]any{"city": "NYC"}}}}
	}))
	req := geminiReq("gemini-1.5-pro")
	req.Settings = map[string]any{
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{
			"name": "get_weather", "description": "weather", "parameters": map[string]any{"type": "object"}, "strict": true}}},
		"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}},
	}
	resp, err := c.Complete(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct{ Name, Arguments string }
	}
	if err := json.Unmarshal(resp.ToolCalls, &calls); err != nil || len(calls) != 1 || calls[0].Type != "function" ||
		calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"city":"NYC"}` || calls[0].ID == "" {
		t.Fatalf("tool calls = %s (%v)", resp.ToolCalls, err)
	}
	if resp.FinishReason != "tool_calls" {
		t.Errorf("finish = %q", resp.FinishReason)
	}
	seen := srv.Requests()[0]
	if len(seen.Req.Tools) != 1 || seen.Req.Tools[0].FunctionDeclarations[0].Name != "get_weather" ||
		!strings.Contains(string(seen.Req.ToolConfig), `"allowedFunctionNames":["get_weather"]`) {
		t.Errorf("body = %s", seen.Body)
	}
	// The call and its result go back as functionCall / functionResponse.
	req.Messages = append(req.Messages,
		llm.Message{Role: "assistant", ToolCalls: resp.ToolCalls},
		llm.Message{Role: "tool", ToolCallID: calls[0].ID, Content: `{"temp": 21}`},
	)
	if _, err := c.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	ct := srv.Requests()[1].Req.Contents
	if len(ct) != 3 || ct[1].Role != "model" || ct[1].Parts[0].FunctionCall.Name != "get_weather" ||
		ct[2].Parts[0].FunctionResponse.Name != "get_weather" || ct[2].Parts[0].FunctionResponse.Response["temp"] != 21.0 {
		t.Errorf("contents = %s", srv.Requests()[1].Body)
	}
}

func TestGeminiFinishAndBlocked(t *testing.T) {
	for _, tt := range []struct {
		rep    fakegemini.Reply
		finish string
	}{
		{fakegemini.Reply{Text: "x", FinishReason: "SAFETY"}, "content_filter"},
		{fakegemini.Reply{Text: "x", FinishReason: "RECITATION"}, "content_filter"},
		{fakegemini.Reply{BlockReason: "SAFETY"}, "content_filter"},
		{fakegemini.Reply{Text: "x", FinishReason: "OTHER"}, "other"},
	} {
		for _, stream := range []bool{false, true} {
			_, c, _ := newGemini(t, nil, fakegemini.WithReply(func(fakegemini.Request) fakegemini.Reply { return tt.rep }))
			req := geminiReq("gemini-pro")
			req.Stream = stream
			resp, err := c.Complete(context.Background(), req, nil)
			if err != nil || resp.FinishReason != tt.finish {
				t.Errorf("%+v stream=%v: %+v, %v", tt.rep, stream, resp, err)
			}
		}
	}
}

func TestGeminiErrorsAndRetries(t *testing.T) {
	srv, c, sleeps := newGemini(t, nil, fakegemini.WithFault(func(n int64, _ fakegemini.Request) *fakegemini.Fault {
		if n <= 2 {
			return &fakegemini.Fault{Code: 429, RetryAfter: "3"}
		}
		if n == 3 {
			return &fakegemini.Fault{Code: 503}
		}
		return nil
	}))
	if _, err := c.Complete(context.Background(), geminiReq("gemini-pro"), nil); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 4 || len(*sleeps) != 3 || (*sleeps)[0] != 3*time.Second {
		t.Errorf("requests %d sleeps %v", len(srv.Requests()), *sleeps)
	}
	// A bad request is not retried and keeps Google's message.
	_, c, _ = newGemini(t, nil, fakegemini.WithFault(func(int64, fakegemini.Request) *fakegemini.Fault { return &fakegemini.Fault{Code: 400} }))
	_, err := c.Complete(context.Background(), geminiReq("gemini-pro"), nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindClient || e.Attempts != 1 || !strings.Contains(err.Error(), "injected fault") {
		t.Errorf("err = %v", err)
	}
	// A wrong key: auth, naming the variable used; the key never shows.
	_, c, _ = newGemini(t, map[string]string{"GEMINI_API_KEY": "AIza-wrong-key"})
	_, err = c.Complete(context.Background(), geminiReq("gemini-pro"), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "$GEMINI_API_KEY") || strings.Contains(err.Error(), "AIza-wrong-key") {
		t.Errorf("err = %v", err)
	}
	// No key at all: an auth error before any request.
	srv, c, _ = newGemini(t, map[string]string{})
	_, err = c.Complete(context.Background(), geminiReq("gemini-pro"), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "GOOGLE_API_KEY") || !strings.Contains(err.Error(), "GEMINI_API_KEY") || len(srv.Requests()) != 0 {
		t.Errorf("err = %v", err)
	}
	// Vertex AI: a clear error, no request.
	srv, c, _ = newGemini(t, map[string]string{"GEMINI_API_KEY": "gm-test-key", "GOOGLE_GENAI_USE_VERTEXAI": "true"})
	_, err = c.Complete(context.Background(), geminiReq("gemini-pro"), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindUnsupported || !strings.Contains(err.Error(), "GOOGLE_GENAI_USE_VERTEXAI") || len(srv.Requests()) != 0 {
		t.Errorf("err = %v", err)
	}
	// An unknown setting is refused before sending.
	srv, c, _ = newGemini(t, nil)
	req := geminiReq("gemini-pro")
	req.Settings = map[string]any{"temprature": 1}
	if _, err = c.Complete(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "temprature") || len(srv.Requests()) != 0 {
		t.Errorf("err = %v", err)
	}
}

func TestGeminiCutStreamRetried(t *testing.T) {
	srv, c, _ := newGemini(t, nil, fakegemini.WithFault(func(n int64, _ fakegemini.Request) *fakegemini.Fault {
		return &fakegemini.Fault{CutStream: true}
	}))
	req := geminiReq("gemini-pro")
	req.Stream = true
	_, err := c.Complete(context.Background(), req, nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindBadResponse || !strings.Contains(err.Error(), "finishReason") {
		t.Errorf("err = %v", err)
	}
	if len(srv.Requests()) != 2 {
		t.Errorf("a cut stream with nothing delivered is retried once: %d requests", len(srv.Requests()))
	}
}

func TestGeminiPrices(t *testing.T) {
	p := llm.DefaultPrices()
	for model, want := range map[string]float64{"gemini-1.5-flash-002": 0.075, "models/gemini-2.0-flash": 0.10, "gemini-2.5-pro": 1.25, "gemini-1.5-flash-8b-001": 0.0375, "gemini-pro": 0.5} {
		if pr, ok := p.Lookup(model); !ok || pr.Input != want {
			t.Errorf("%s: %+v %v", model, pr, ok)
		}
	}
}
