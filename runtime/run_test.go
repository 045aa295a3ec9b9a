package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// recorder is a fake llm.Client that records requests and answers
// "out:<last user text>" (or what reply says).
type recorder struct {
	mu    sync.Mutex
	reqs  []*llm.Request
	reply func(*llm.Request) string
}

func (r *recorder) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	text := "out:" + llm.LastUserText(req.Messages)
	if r.reply != nil {
		text = r.reply(req)
	}
	if onChunk != nil {
		onChunk(text)
	}
	return &llm.Response{Text: text, Role: "assistant", Model: req.Model}, nil
}

func (r *recorder) Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error) {
	out := make([][]float64, len(req.Input))
	for i := range req.Input {
		out[i] = []float64{float64(len(req.Input[i]))}
	}
	return out, nil
}

func (r *recorder) requests() []*llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*llm.Request(nil), r.reqs...)
}

func newTest(opts Options) (*Runtime, *recorder) {
	rec := &recorder{}
	if opts.Parsers == nil {
		opts.Parsers = map[string]llm.Client{ParserOpenAI: rec, ParserEcho: llm.Echo{}}
	}
	return New(opts), rec
}

func run(t *testing.T, rt *Runtime, c *Config, prompt string, opts RunOptions) *Result {
	t.Helper()
	res, err := rt.Run(context.Background(), c, prompt, opts)
	if err != nil {
		t.Fatalf("run %s: %v", prompt, err)
	}
	return res
}

func lastUser(req *llm.Request) string { return llm.LastUserText(req.Messages) }

func TestParamPrecedence(t *testing.T) {
	// "city" is also the name of an earlier prompt: the lowest layer.
	tests := []struct {
		name   string
		global string
		local  string
		run    map[string]any
		want   string
	}{
		{"prompt reference only", `{}`, `{}`, nil, "[in:Paris]"},
		{"global beats prompt reference", `{"city":"global"}`, `{}`, nil, "global"},
		{"prompt beats global", `{"city":"global"}`, `{"city":"local"}`, nil, "local"},
		{"run-time beats prompt", `{"city":"global"}`, `{"city":"local"}`, map[string]any{"city": "run"}, "run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, doc(fmt.Sprintf(`{"default_model":"gpt-4","parameters":%s}`, tt.global),
				`{"name":"city","input":"Paris"}`,
				fmt.Sprintf(`{"name":"p","input":"{{#if city.input}}[in:{{city.input}}]{{else}}{{city}}{{/if}}","metadata":{"parameters":%s,"remember_chat_context":false}}`, tt.local)))
			rt, rec := newTest(Options{})
			run(t, rt, c, "p", RunOptions{Params: tt.run})
			reqs := rec.requests()
			if got := lastUser(reqs[len(reqs)-1]); got != tt.want {
				t.Fatalf("resolved %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChainingRunsDependenciesFirstAndOnce(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4","parameters":{"city":"NYC"}}`,
		`{"name":"a","input":"list {{city}}","outputs":[{"output_type":"execute_result","data":"STALE","metadata":{"role":"assistant"}}]}`,
		`{"name":"b","input":"order {{a.output}}","metadata":{"remember_chat_context":false}}`,
		`{"name":"unrelated","input":"zzz"}`,
		`{"name":"c","input":"{{a.output}} | {{b.output}}","metadata":{"remember_chat_context":false}}`))
	rt, rec := newTest(Options{})
	res := run(t, rt, c, "c", RunOptions{Params: map[string]any{"city": "Rome"}, Sample: 3})
	reqs := rec.requests()
	var order []string
	for _, r := range reqs {
		order = append(order, lastUser(r))
	}
	want := []string{"list Rome", "order out:list Rome", "out:list Rome | out:order out:list Rome"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("calls = %q, want %q", order, want)
	}
	if reqs[0].Sample != 0 || reqs[1].Sample != 0 || reqs[2].Sample != 3 {
		t.Fatalf("samples = %d %d %d, want 0 0 3", reqs[0].Sample, reqs[1].Sample, reqs[2].Sample)
	}
	if len(res.Deps) != 2 || res.Deps[0].Prompt != "a" || res.Deps[1].Prompt != "b" || res.Deps[1].Deps[0] != res.Deps[0] {
		t.Fatalf("deps = %+v", res.Deps)
	}
	// The config is never mutated by a run.
	p, _ := c.Prompt("a")
	if outputText(latestOutput(p)) != "STALE" {
		t.Fatal("Run changed the config's outputs")
	}
}

func TestSavedOutputUsedWhenNotReferencedForRun(t *testing.T) {
	// {{a.output}} always reruns a; but chat context uses saved outputs of
	// prompts that are not dependencies.
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`,
		`{"name":"a","input":"first","outputs":[{"output_type":"execute_result","data":"saved answer","metadata":{"role":"assistant"}}]}`,
		`{"name":"b","input":"second"}`))
	rt, rec := newTest(Options{})
	run(t, rt, c, "b", RunOptions{})
	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d calls, want 1", len(reqs))
	}
	want := []llm.Message{{Role: "user", Content: "first"}, {Role: "assistant", Content: "saved answer"}, {Role: "user", Content: "second"}}
	if !reflect.DeepEqual(reqs[0].Messages, want) {
		t.Fatalf("messages = %+v", reqs[0].Messages)
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ input, want string }{
		{`{{x}}`, "&lt;b&gt; &amp; &quot;q&quot;"},
		{`{{{x}}}`, `<b> & "q"`},
		{`{{&x}}`, `<b> & "q"`},
		{`{{#if x}}yes{{/if}}{{#each list}}[{{this}}]{{/each}}`, "yes[1][2]"},
		{`a{{missing}}b`, "ab"},
		{`{{n}}/{{f}}`, "3/0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			in, _ := json.Marshal(tt.input)
			c := mustParse(t, doc(`{"default_model":"gpt-4","parameters":{"x":"<b> & \"q\"","list":[1,2],"n":3,"f":0.5}}`, `{"name":"p","input":`+string(in)+`}`))
			rt, rec := newTest(Options{})
			run(t, rt, c, "p", RunOptions{})
			if got := lastUser(rec.requests()[0]); got != tt.want {
				t.Fatalf("resolved %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMissingParamRendersEmptyWithWarning(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`, `{"name":"p","input":"hi {{who}}!"}`))
	rt, rec := newTest(Options{})
	res := run(t, rt, c, "p", RunOptions{})
	if got := lastUser(rec.requests()[0]); got != "hi !" {
		t.Fatalf("resolved %q", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `"who"`) {
		t.Fatalf("warnings = %v", res.Warnings)
	}
	res = run(t, rt, c, "p", RunOptions{Params: map[string]any{"who": "you"}})
	if len(res.Warnings) != 0 {
		t.Fatalf("warnings with the param given = %v", res.Warnings)
	}
}

func TestSettings(t *testing.T) {
	meta := `{"default_model":"gpt-3.5-turbo","models":{
		"gpt-4":{"model":"gpt-4-0613","temperature":0.1,"top_p":1,"system_prompt":"sys","stream":true},
		"gpt-3.5-turbo":{"temperature":0.9,"max_tokens":10},
		"local":{"base_url":"http://127.0.0.1:9/v1","api_key_env":"LOCAL_KEY","provider":"openai","seed":7}}}`
	tests := []struct {
		name, prompt string
		model        string
		settings     map[string]any
		base, keyEnv string
		stream       bool
	}{
		{"string model uses global settings", `{"name":"p","input":"x","metadata":{"model":"gpt-4"}}`,
			"gpt-4-0613", map[string]any{"temperature": 0.1, "top_p": 1.0}, "", "", true},
		{"object model merges, prompt wins", `{"name":"p","input":"x","metadata":{"model":{"name":"gpt-4","settings":{"temperature":0.7,"max_tokens":5,"stream":false,"custom_sdk_key":1}}}}`,
			"gpt-4-0613", map[string]any{"temperature": 0.7, "top_p": 1.0, "max_tokens": 5.0}, "", "", false},
		{"no model uses default_model", `{"name":"p","input":"x"}`,
			"gpt-3.5-turbo", map[string]any{"temperature": 0.9, "max_tokens": 10.0}, "", "", false},
		{"endpoint settings stay out of the API settings", `{"name":"p","input":"x","metadata":{"model":"local"}}`,
			"local", map[string]any{"seed": 7.0}, "http://127.0.0.1:9/v1", "LOCAL_KEY", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, doc(meta, tt.prompt))
			rt, rec := newTest(Options{})
			run(t, rt, c, "p", RunOptions{})
			req := rec.requests()[0]
			if req.Model != tt.model || !reflect.DeepEqual(req.Settings, tt.settings) || req.BaseURL != tt.base || req.APIKeyEnv != tt.keyEnv || req.Stream != tt.stream {
				t.Fatalf("request = model %q settings %v base %q key %q stream %v", req.Model, req.Settings, req.BaseURL, req.APIKeyEnv, req.Stream)
			}
		})
	}
}

func TestSettingsWhitelist(t *testing.T) {
	all := map[string]any{}
	for _, k := range OpenAISettingKeys {
		all[k] = 1
	}
	for _, k := range []string{"model", "system_prompt", "stream", "base_url", "api_key_env", "provider", "top_k", "messages"} {
		all[k] = 1
	}
	got := FilterSettings(all)
	if len(got) != len(OpenAISettingKeys) {
		t.Fatalf("FilterSettings kept %v", got)
	}
}

func TestSystemPrompt(t *testing.T) {
	for _, sys := range []string{`"You plan trips to {{city}}."`, `{"role":"system","content":"You plan trips to {{city}}."}`} {
		c := mustParse(t, doc(`{"parameters":{"city":"<NYC>"}}`,
			`{"name":"p","input":"go","metadata":{"model":{"name":"gpt-4","settings":{"system_prompt":`+sys+`}}}}`))
		rt, rec := newTest(Options{})
		run(t, rt, c, "p", RunOptions{})
		msgs := rec.requests()[0].Messages
		want := []llm.Message{{Role: "system", Content: "You plan trips to &lt;NYC&gt;."}, {Role: "user", Content: "go"}}
		if !reflect.DeepEqual(msgs, want) {
			t.Fatalf("messages = %+v", msgs)
		}
	}
}

func TestChatContext(t *testing.T) {
	out := func(data, role string) string {
		return fmt.Sprintf(`"outputs":[{"output_type":"execute_result","execution_count":0,"data":%q,"metadata":{"role":%q}}]`, data, role)
	}
	prompts := []string{
		`{"name":"a","input":"q1 {{x}}","metadata":{"model":"gpt-4"},` + out("a1", "assistant") + `}`,
		`{"name":"other","input":"elsewhere","metadata":{"model":"gpt-3.5-turbo"},` + out("o1", "assistant") + `}`,
		`{"name":"b","input":"q2","metadata":{"model":"gpt-4"},` + out("not an answer", "user") + `}`,
		`{"name":"c","input":"q3","metadata":{"model":"gpt-4"},"outputs":[{"output_type":"execute_result","data":{"role":"assistant","content":"old format"}}]}`,
	}
	tests := []struct {
		remember string
		want     []llm.Message
	}{
		{`true`, []llm.Message{
			{Role: "user", Content: "q1 X"}, {Role: "assistant", Content: "a1"},
			{Role: "user", Content: "q2"},
			{Role: "user", Content: "q3"}, {Role: "assistant", Content: "old format"},
			{Role: "user", Content: "now"}}},
		{`false`, []llm.Message{{Role: "user", Content: "now"}}},
	}
	for _, tt := range tests {
		t.Run("remember="+tt.remember, func(t *testing.T) {
			ps := append(append([]string(nil), prompts...), `{"name":"d","input":"now","metadata":{"model":"gpt-4","remember_chat_context":`+tt.remember+`}}`)
			c := mustParse(t, doc(`{"parameters":{"x":"X"}}`, ps...))
			rt, rec := newTest(Options{})
			run(t, rt, c, "d", RunOptions{})
			if got := rec.requests()[0].Messages; !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("messages = %+v", got)
			}
		})
	}
	// Absent means on.
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"1"}`, `{"name":"b","input":"2"}`))
	rt, rec := newTest(Options{})
	run(t, rt, c, "b", RunOptions{})
	if n := len(rec.requests()[0].Messages); n != 2 {
		t.Fatalf("%d messages with remember_chat_context absent, want 2", n)
	}
}

func TestStreamFlag(t *testing.T) {
	c := mustParse(t, doc(`{"models":{"gpt-4":{"stream":true}}}`,
		`{"name":"streamed","input":"a","metadata":{"model":"gpt-4"}}`,
		`{"name":"plain","input":"b","metadata":{"model":"gpt-3.5-turbo","remember_chat_context":false}}`))
	tests := []struct {
		prompt string
		opt    bool
		want   bool
	}{{"streamed", false, true}, {"plain", false, false}, {"plain", true, true}}
	for _, tt := range tests {
		rt, rec := newTest(Options{})
		var chunks []string
		run(t, rt, c, tt.prompt, RunOptions{Stream: tt.opt, OnChunk: func(s string) { chunks = append(chunks, s) }})
		if got := rec.requests()[0].Stream; got != tt.want {
			t.Fatalf("%s stream=%v: Request.Stream = %v", tt.prompt, tt.opt, got)
		}
		if tt.want != (len(chunks) > 0) {
			t.Fatalf("%s: chunks %v, stream %v", tt.prompt, chunks, tt.want)
		}
	}
}

func TestAttachments(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4o"}`, `{"name":"p","input":{"data":"describe {{what}}","attachments":[
		{"mime_type":"image/png","data":{"kind":"base64","value":"AAAA"}},
		{"mime_type":"image/jpeg","data":"https://x/y.jpg","metadata":{"detail":"low"}},
		{"mime_type":"text/plain","data":"notes"}]},"metadata":{"parameters":{"what":"these"}}}`))
	rt, rec := newTest(Options{})
	run(t, rt, c, "p", RunOptions{})
	got := rec.requests()[0].Messages[0]
	want := llm.Message{Role: "user", Parts: []llm.Part{
		{Type: "text", Text: "describe these"},
		{Type: "image_url", ImageURL: "data:image/png;base64,AAAA"},
		{Type: "image_url", ImageURL: "https://x/y.jpg", Detail: "low"},
		{Type: "text", Text: "notes"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("message = %+v", got)
	}
}

func TestConcurrentRuns(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`,
		`{"name":"a","input":"a {{n}}"}`, `{"name":"b","input":"b {{a.output}}"}`))
	rt, rec := newTest(Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := rt.Run(context.Background(), c, "b", RunOptions{Params: map[string]any{"n": i}})
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf("out:b out:a %d", i); res.Output != want {
				errs <- fmt.Errorf("output %q, want %q", res.Output, want)
			}
		}(i)
		if i%10 == 0 {
			_ = c.SetOutput("a", &llm.Response{Text: "saved"})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 100 {
		t.Fatalf("%d calls, want 100", n)
	}
}

func TestCallbacksAndWrap(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"x"}`, `{"name":"b","input":"{{a.output}}"}`))
	var mu sync.Mutex
	var events []string
	cb := &CallbackManager{}
	cb.Add(func(ctx context.Context, ev Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%s:%v", ev.Name, ev.Data["prompt"]))
		if _, ok := ev.Data["duration_ms"]; strings.HasSuffix(ev.Name, "complete") && !ok {
			t.Errorf("%s has no timing", ev.Name)
		}
	})
	wrapped := 0
	rt, _ := newTest(Options{Callbacks: cb, Wrap: func(p llm.Client) llm.Client { wrapped++; return p }})
	run(t, rt, c, "b", RunOptions{})
	want := []string{
		"on_resolve_start:a", "on_resolve_complete:a", "on_run_start:a", "on_run_complete:a",
		"on_resolve_start:b", "on_resolve_complete:b", "on_run_start:b", "on_run_complete:b",
	}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %v", events)
	}
	if wrapped != 2 {
		t.Fatalf("Wrap called %d times, want once per parser", wrapped)
	}
}

func TestResolveDoesNotCallTheTarget(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"x"}`, `{"name":"b","input":"{{a.output}}!"}`))
	rt, rec := newTest(Options{})
	req, err := rt.Resolve(context.Background(), c, "b", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lastUser(req) != "out:x!" || len(rec.requests()) != 1 {
		t.Fatalf("resolved %q after %d calls", lastUser(req), len(rec.requests()))
	}
	if _, err := rt.Run(context.Background(), c, "nope", RunOptions{}); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("unknown prompt error = %v", err)
	}
}
