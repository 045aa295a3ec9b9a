package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// rawServer is an OpenAI chat endpoint that keeps every request body as
// sent, byte for byte, and answers reply.
type rawServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newRawServer(t *testing.T, reply string) *rawServer {
	rs := &rawServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "bad path or key", http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Model    string            `json:"model"`
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(b, &body) != nil || body.Model == "" || len(body.Messages) == 0 {
			http.Error(w, "model and messages are required", http.StatusBadRequest)
			return
		}
		rs.mu.Lock()
		rs.bodies = append(rs.bodies, b)
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": reply}}}})
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *rawServer) last(t *testing.T) []byte {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.bodies) == 0 {
		t.Fatal("no request reached the server")
	}
	return rs.bodies[len(rs.bodies)-1]
}

// sdkRuntime calls rs through the real OpenAI client.
func sdkRuntime(rs *rawServer) *Runtime {
	client := llm.NewOpenAI(llm.OpenAIOptions{HTTPClient: rs.Client(), Retry: &llm.RetryPolicy{},
		Getenv: func(k string) string {
			switch k {
			case "OPENAI_API_KEY":
				return "sk-test"
			case "OPENAI_BASE_URL":
				return rs.URL + "/v1"
			}
			return ""
		}})
	return New(Options{Parsers: map[string]llm.Client{ParserOpenAI: client}})
}

// sameJSON compares two JSON texts as values ("" vs null vs absent differ).
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("request body\n got: %s\nwant: %s", got, want)
	}
}

// sdkNoStream adds "stream": false, which the SDK sends when run with
// InferenceOptions(stream=False), aieval's default.
func sdkNoStream(body string) string {
	return strings.Replace(body, `{"model":`, `{"stream":false,"model":`, 1)
}

// TestSDKRequests pins the request the AIConfig Python SDK sends
// (default_parsers/openai.py deserialize + util/params.py, pybars3) for
// each of the six causes of issue 12, as the whole JSON body, run with
// stream=False (aieval does not stream by default; the SDK does).
func TestSDKRequests(t *testing.T) {
	tests := []struct {
		name, config, prompt string
		params               map[string]any
		want                 string
	}{
		{"1 escaping like Handlebars.js and pybars",
			doc(`{"default_model":"gpt-4","parameters":{"who":"Tom's \"bar\" <b> & `+"`x`"+` = y"}}`,
				`{"name":"p","input":"Hi {{who}} / {{{who}}}"}`), "p", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":"Hi Tom&#x27;s &quot;bar&quot; &lt;b&gt; &amp; &#x60;x&#x60; = y / Tom's \"bar\" <b> & ` + "`x`" + ` = y"}]}`},
		{"1 escaping of a chained output",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"first"}`,
				`{"name":"b","input":"Use {{a.output}}","metadata":{"remember_chat_context":false}}`), "b", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":"Use it&#x27;s &lt;done&gt;"}]}`},
		{"2 empty content is kept",
			doc(`{"default_model":"gpt-4","parameters":{"x":false}}`, `{"name":"p","input":"{{#if x}}hi{{/if}}"}`), "p", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":""}]}`},
		{"3 chat-message input",
			doc(`{"default_model":"gpt-4","parameters":{"t":"20"}}`,
				`{"name":"w","input":{"role":"function","name":"get_weather","content":"{\"temp\": {{t}} }"}}`), "w", nil,
			`{"model":"gpt-4","messages":[{"role":"function","name":"get_weather","content":"{\"temp\": 20 }"}]}`},
		{"4 settings messages are rendered and replace system prompt and history",
			doc(`{"default_model":"gpt-4","parameters":{"user":"Ann"},"models":{"gpt-4":{"temperature":0.5,"system_prompt":"ignored",`+
				`"messages":[{"role":"system","content":"You help {{user}}."},{"role":"assistant","content":"Hello {{user}}!"}]}}}`,
				`{"name":"a","input":"earlier","outputs":[{"output_type":"execute_result","data":"x","metadata":{"role":"assistant"}}]}`,
				`{"name":"p","input":"Plan for {{user}}"}`), "p", nil,
			`{"model":"gpt-4","temperature":0.5,"messages":[{"role":"system","content":"You help Ann."},{"role":"assistant","content":"Hello Ann!"},{"role":"user","content":"Plan for Ann"}]}`},
		{"5 .length of lists and strings",
			doc(`{"default_model":"gpt-4","parameters":{"items":["a","b"],"name":"héllo"}}`,
				`{"name":"p","input":"{{items.length}} items: {{#each items}}{{this}} {{/each}}({{name.length}})"}`), "p", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":"2 items: a b (5)"}]}`},
		{"6 each over an object in the file's key order",
			doc(`{"default_model":"gpt-4","parameters":{"prefs":{"zeta":"1","alpha":"2","mid":"3"}}}`,
				`{"name":"p","input":"{{#each prefs}}{{@key}}={{this}};{{/each}}"}`), "p", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":"zeta=1;alpha=2;mid=3;"}]}`},
		{"6 each over an object in YAML key order",
			"name: t\nschema_version: latest\nmetadata:\n  default_model: gpt-4\n  parameters:\n    prefs: {zeta: 1, alpha: 2, mid: 3}\nprompts:\n  - name: p\n    input: \"{{#each prefs}}{{@key}}={{this}};{{/each}}\"\n", "p", nil,
			`{"model":"gpt-4","messages":[{"role":"user","content":"zeta=1;alpha=2;mid=3;"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRawServer(t, "it's <done>")
			c := mustParse(t, tt.config)
			if _, err := sdkRuntime(rs).Run(context.Background(), c, tt.prompt, RunOptions{Params: tt.params}); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, rs.last(t), sdkNoStream(tt.want))
		})
	}
}

// TestSDKHistory pins how saved outputs are replayed as chat history.
func TestSDKHistory(t *testing.T) {
	out := func(data, meta string) string {
		return fmt.Sprintf(`"outputs":[{"output_type":"execute_result","execution_count":0,"data":%s,"metadata":%s}]`, data, meta)
	}
	calls := `{"kind":"tool_calls","value":[{"id":"call_1","type":"function","index":0,"function":{"name":"f","arguments":"{\"a\":1}"}}]}`
	tests := []struct{ name, prompts, want string }{
		{"an output without an assistant role is not replayed",
			`{"name":"a","input":"q1",` + out(`"a1"`, `{}`) + `}`,
			`[{"role":"user","content":"q1"},{"role":"user","content":"now"}]`},
		{"role from raw_response",
			`{"name":"a","input":"q1",` + out(`"a1"`, `{"raw_response":{"role":"assistant"}}`) + `}`,
			`[{"role":"user","content":"q1"},{"role":"assistant","content":"a1"},{"role":"user","content":"now"}]`},
		{"an old-format output is read",
			`{"name":"a","input":"q1","outputs":[{"output_type":"execute_result","data":{"role":"assistant","content":"old"}}]}`,
			`[{"role":"user","content":"q1"},{"role":"assistant","content":"old"},{"role":"user","content":"now"}]`},
		{"a tool_calls output is sent as the SDK's function_call",
			`{"name":"a","input":"q1",` + out(calls, `{"role":"assistant"}`) + `}`,
			`[{"role":"user","content":"q1"},{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{\"a\":1}"}},{"role":"user","content":"now"}]`},
		{"a tool_calls output answered by a tool turn is sent as tool_calls",
			`{"name":"a","input":"q1",` + out(calls, `{"role":"assistant"}`) + `},` +
				`{"name":"t","input":{"role":"tool","tool_call_id":"call_1","content":"42"}}`,
			`[{"role":"user","content":"q1"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},` +
				`{"role":"tool","tool_call_id":"call_1","content":"42"},{"role":"user","content":"now"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRawServer(t, "ok")
			c := mustParse(t, doc(`{"default_model":"gpt-4"}`, tt.prompts, `{"name":"now","input":"now"}`))
			if _, err := sdkRuntime(rs).Run(context.Background(), c, "now", RunOptions{}); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, rs.last(t), sdkNoStream(`{"model":"gpt-4","messages":`+tt.want+`}`))
		})
	}
}

// TestEachObjectStable renders one {{#each}}-over-object prompt 1,000
// times: Go maps iterate at random, so this flipped before.
func TestEachObjectStable(t *testing.T) {
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"k%02d":"%d"`, 19-i, i)
	}
	c := mustParse(t, doc(`{"default_model":"echo","parameters":{"obj":{`+strings.Join(keys, ",")+`}}}`,
		`{"name":"p","input":"{{#each obj}}{{@key}}={{this}},{{/each}}"}`))
	rt, _ := newTest(Options{})
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		req, err := rt.Resolve(context.Background(), c, "p", RunOptions{Params: map[string]any{"run": map[string]any{"b": 1, "a": 2}}})
		if err != nil {
			t.Fatal(err)
		}
		seen[req.Messages[len(req.Messages)-1].Content] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d different prompts from 1000 renders", len(seen))
	}
	for got := range seen {
		if !strings.HasPrefix(got, "k19=0,k18=1,") {
			t.Fatalf("not in file order: %q", got)
		}
	}
}

// TestStreamOverride: NoStream (--stream=false) beats stream: true.
func TestStreamOverride(t *testing.T) {
	c := mustParse(t, doc(`{"models":{"gpt-4":{"stream":true}}}`, `{"name":"p","input":"a","metadata":{"model":"gpt-4"}}`))
	rt, _ := newTest(Options{})
	for _, tt := range []struct {
		opts RunOptions
		want bool
	}{{RunOptions{}, true}, {RunOptions{NoStream: true}, false}, {RunOptions{Stream: true, NoStream: true}, false}} {
		req, err := rt.Resolve(context.Background(), c, "p", tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if req.Stream != tt.want {
			t.Errorf("%+v: stream %v, want %v", tt.opts, req.Stream, tt.want)
		}
	}
}
