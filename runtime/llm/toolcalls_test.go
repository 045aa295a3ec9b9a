package llm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func TestToolCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, c := range []string{
				`{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"NYC\"}"}}]}}]}`,
				`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
				`[DONE]`,
			} {
				io.WriteString(w, "data: "+c+"\n\n")
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"",
			"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"NYC\"}"}}]}}]}`)
	}))
	defer srv.Close()
	c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(string) string { return "" }})
	want := `[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"NYC\"}"}}]`
	for _, stream := range []bool{false, true} {
		resp, err := c.Complete(context.Background(), &llm.Request{BaseURL: srv.URL, Model: "m", Stream: stream,
			Messages: []llm.Message{{Role: "user", Content: "weather?"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.ToolCalls) != want || resp.FinishReason != "tool_calls" {
			t.Errorf("stream=%v: tool calls %s finish %q", stream, resp.ToolCalls, resp.FinishReason)
		}
	}
}

func TestAssistantToolCallMessageSent(t *testing.T) {
	h := newHarness(t, quick, 0)
	req := userReq(h, "x")
	req.Messages = append(req.Messages,
		llm.Message{Role: "assistant", ToolCalls: []byte(`[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]`)},
		llm.Message{Role: "tool", ToolCallID: "c1", Content: "sunny"},
		llm.Message{Role: "user", Content: "and tomorrow?"})
	if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	m := h.srv.Bodies()[0].Messages
	if len(m) != 5 || string(m[2].ToolCalls) != `[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]` || m[3].ToolCallID != "c1" {
		t.Errorf("messages sent: %s", h.srv.Bodies()[0].Raw)
	}
}

func TestCallerDeadline(t *testing.T) {
	h := newHarness(t, quick, 0, fakeopenai.WithLatency(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := h.client.Complete(ctx, userReq(h, "q"), nil)
	if e, ok := err.(*llm.Error); !ok || e.Kind != llm.KindTimeout || !e.Retryable() {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkComplete measures the client's own cost per call against a
// local server (which is in the numbers too).
func BenchmarkComplete(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "json"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, llm.DefaultRetry, benchTimeout, fakeopenai.WithKeep(0))
			req := userReq(h, "Plan a day in New York with a museum and a park.")
			req.Stream = stream
			req.Settings = map[string]any{"temperature": 0.2, "max_tokens": 256}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

var benchTimeout = 30 * time.Second
