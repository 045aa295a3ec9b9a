package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

// What the endpoint receives from the hand-encoded chat path: ChatBody's
// bytes, on every attempt, with go-openai's headers; streams (still
// encoded by go-openai and spliced by the transport) get the same bytes as
// ChatBody's stream view.
func TestChatWireBodies(t *testing.T) {
	settings := map[string]any{"temperature": 0, "top_p": 0.5, "max_tokens": 64, "stop": []any{"<end>"},
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "f", "parameters": map[string]any{"type": "object"}}}}}
	msgs := []llm.Message{
		{Role: "system", Content: "Be <terse> & exact."},
		{Role: "user", Content: ""},
		{Role: "assistant", ToolCalls: json.RawMessage(`[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]`)},
		{Role: "tool", ToolCallID: "c1", Content: "ok"},
	}
	for _, stream := range []bool{false, true} {
		// The first attempt gets a 500: the retry must resend the same bytes.
		h := newHarness(t, quick, 0, fakeopenai.WithFault(fakeopenai.FaultFirst(1, fakeopenai.Status(500, ""))))
		req := &llm.Request{Provider: "openai", BaseURL: h.srv.URL(), Model: "gpt-4o-mini", Messages: msgs, Settings: settings, Stream: stream}
		if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		want, err := llm.ChatBody(req)
		if err != nil {
			t.Fatal(err)
		}
		seen := h.srv.Seen()
		if len(seen) != 2 {
			t.Fatalf("stream=%v: %d requests, want 2 (a 500 and its retry)", stream, len(seen))
		}
		for i, s := range seen {
			if !bytes.Equal(s.Body, want) {
				t.Errorf("stream=%v attempt %d: body\n %s\nwant\n %s", stream, i+1, s.Body, want)
			}
			if s.Path != "/v1/chat/completions" || s.Header.Get("Authorization") != "Bearer sk-test-key" ||
				s.Header.Get("Content-Type") != "application/json" {
				t.Errorf("stream=%v attempt %d: %s %v", stream, i+1, s.Path, s.Header)
			}
			if accept := s.Header.Get("Accept"); !stream && accept != "application/json" || stream && accept != "text/event-stream" {
				t.Errorf("stream=%v attempt %d: Accept %q", stream, i+1, accept)
			}
		}
	}
}

// A 307 from the endpoint is followed with the same body (the request's
// GetBody), as go-openai's requests were.
func TestChatWireRedirect(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL()+"/chat/completions", http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(k string) string {
		return map[string]string{"OPENAI_BASE_URL": front.URL}[k] // no key: nothing to bind
	}})
	req := &llm.Request{Provider: "openai", BaseURL: front.URL, Model: "m",
		Messages: []llm.Message{{Role: "user", Content: "hello"}}, Settings: map[string]any{"temperature": 0}}
	r, err := c.Complete(context.Background(), req, nil)
	if err != nil || r.Text != "hello" {
		t.Fatalf("Complete = %+v, %v", r, err)
	}
	want, _ := llm.ChatBody(req)
	if seen := srv.Seen(); len(seen) != 1 || !bytes.Equal(seen[0].Body, want) {
		t.Fatalf("redirected requests %+v, want one with %s", seen, want)
	}
}
