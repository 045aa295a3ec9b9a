package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

const secretKey = "sk-test-SECRET-never-shown"

// wireServer speaks the OpenAI chat completions wire format, JSON or SSE,
// and records every request body.
type wireServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	auth   []string
}

func newWireServer(t *testing.T) *wireServer {
	ws := &wireServer{}
	ws.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ws.mu.Lock()
		ws.bodies = append(ws.bodies, body)
		ws.auth = append(ws.auth, r.Header.Get("Authorization"))
		ws.mu.Unlock()
		msgs, _ := body["messages"].([]any)
		last, _ := msgs[len(msgs)-1].(map[string]any)
		reply := fmt.Sprintf("re[%v]", last["content"])
		if body["stream"] == true {
			w.Header().Set("Content-Type", "text/event-stream")
			for i, part := range []string{reply[:3], reply[3:]} {
				chunk := map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": body["model"],
					"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": part}}}}
				if i == 0 {
					chunk["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)["role"] = "assistant"
				}
				b, _ := json.Marshal(chunk)
				fmt.Fprintf(w, "data: %s\n\n", b)
				w.(http.Flusher).Flush()
			}
			end, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": body["model"],
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
			fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", end)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "c1", "object": "chat.completion", "model": body["model"],
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": reply}}},
			"usage": map[string]any{"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
		})
	}))
	t.Cleanup(ws.Close)
	return ws
}

func (ws *wireServer) requests() []map[string]any {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]map[string]any(nil), ws.bodies...)
}

func TestOpenAIWireIntegration(t *testing.T) {
	ws := newWireServer(t)
	client := llm.NewOpenAI(llm.OpenAIOptions{
		HTTPClient: ws.Client(),
		Retry:      &llm.RetryPolicy{},
		Getenv: func(k string) string {
			if k == "TEST_KEY" {
				return secretKey
			}
			return ""
		},
	})
	var events []string
	cb := &CallbackManager{}
	cb.Add(func(_ context.Context, ev Event) {
		b, _ := json.Marshal(ev)
		events = append(events, string(b))
	})
	rt := New(Options{Parsers: map[string]llm.Client{ParserOpenAI: client}, Callbacks: cb})
	src := doc(fmt.Sprintf(`{"parameters":{"city":"<NYC>","order_by":"price"},"models":{"gpt-4":{"base_url":%q,"api_key_env":"TEST_KEY","model":"gpt-4-0613","temperature":0.5,"system_prompt":"Plan for {{city}}"}}}`, ws.URL+"/v1"),
		`{"name":"get_activities","input":"Things to do in {{city}}","metadata":{"model":"gpt-4"}}`,
		`{"name":"gen_itinerary","input":"Order {{{get_activities.output}}} by {{order_by}}","metadata":{"model":{"name":"gpt-4","settings":{"max_tokens":100,"stream":false}},"parameters":{"order_by":"duration"}}}`)
	c := mustParse(t, src)

	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			before := len(ws.requests())
			var chunks []string
			res, err := rt.Run(context.Background(), c, "gen_itinerary", RunOptions{Stream: stream, OnChunk: func(s string) { chunks = append(chunks, s) }})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			bodies := ws.requests()[before:]
			if len(bodies) != 2 {
				t.Fatalf("%d requests, want 2 (dependency first)", len(bodies))
			}
			dep, target := bodies[0], bodies[1]
			wantDep := []any{
				map[string]any{"role": "system", "content": "Plan for &lt;NYC&gt;"},
				map[string]any{"role": "user", "content": "Things to do in &lt;NYC&gt;"},
			}
			if !reflect.DeepEqual(dep["messages"], wantDep) {
				t.Fatalf("dependency messages = %v", dep["messages"])
			}
			depOut := "re[Things to do in &lt;NYC&gt;]"
			wantTarget := []any{
				map[string]any{"role": "system", "content": "Plan for &lt;NYC&gt;"},
				map[string]any{"role": "user", "content": "Things to do in &lt;NYC&gt;"},
				map[string]any{"role": "assistant", "content": depOut},
				map[string]any{"role": "user", "content": "Order " + depOut + " by duration"},
			}
			if !reflect.DeepEqual(target["messages"], wantTarget) {
				t.Fatalf("target messages = %v", target["messages"])
			}
			if target["model"] != "gpt-4-0613" || target["temperature"] != 0.5 || target["max_tokens"] != 100.0 {
				t.Fatalf("target body = %v", target)
			}
			for _, k := range []string{"system_prompt", "base_url", "api_key_env", "provider"} {
				if _, ok := target[k]; ok {
					t.Fatalf("sent aieval-only key %q", k)
				}
			}
			if (target["stream"] == true) != stream {
				t.Fatalf("stream in body = %v, want %v", target["stream"], stream)
			}
			if stream && len(chunks) == 0 {
				t.Fatal("no chunks streamed")
			}
			if want := "re[Order " + depOut + " by duration]"; res.Output != want {
				t.Fatalf("output = %q, want %q", res.Output, want)
			}
			for _, a := range ws.auth {
				if a != "Bearer "+secretKey {
					t.Fatalf("authorization = %q", a)
				}
			}
		})
	}
	all := strings.Join(events, "\n")
	if strings.Contains(all, secretKey) {
		t.Fatal("the API key appears in a callback event")
	}
}
