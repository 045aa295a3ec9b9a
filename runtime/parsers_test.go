package runtime

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

func TestUnsupportedParser(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"gemini-pro"}`, `{"name":"p","input":"x"}`))
	rt, rec := newTest(Options{})
	_, err := rt.Run(context.Background(), c, "p", RunOptions{})
	var ue *UnsupportedError
	var le *llm.Error
	if !errors.As(err, &ue) || !errors.As(err, &le) || le.Kind != llm.KindUnsupported {
		t.Fatalf("error = %v, want an unsupported error", err)
	}
	for _, s := range []string{"gemini-pro", "base_url", "api_key_env"} {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %s", err, s)
		}
	}
	if len(rec.requests()) != 0 {
		t.Fatal("called a parser for an unsupported model")
	}
	// Mapped to an endpoint by the suite, it runs on the OpenAI parser.
	rt, rec = newTest(Options{Endpoints: map[string]Endpoint{"gemini-pro": {BaseURL: "http://gw/v1", APIKeyEnv: "GEMINI_API_KEY", Model: "gemini-1.5"}}})
	run(t, rt, c, "p", RunOptions{})
	req := rec.requests()[0]
	if req.Provider != ParserOpenAI || req.BaseURL != "http://gw/v1" || req.APIKeyEnv != "GEMINI_API_KEY" || req.Model != "gemini-1.5" {
		t.Fatalf("request = %+v", req)
	}
}

func TestRoute(t *testing.T) {
	meta := &Metadata{ModelParsers: map[string]string{"mixtral": "AnyscaleEndpoint", "mine": "echo", "hf": "HuggingFaceTextGenerationParser"}}
	tests := []struct {
		model    string
		settings map[string]any
		eps      map[string]Endpoint
		parser   string
		base     string
		keyEnv   string
		ok       bool
	}{
		{"gpt-4", nil, nil, "openai", "", "", true},
		{"o3-mini", nil, nil, "openai", "", "", true},
		{"echo", nil, nil, "echo", "", "", true},
		{"mine", nil, nil, "echo", "", "", true},
		{"mixtral", nil, nil, "openai", AnyscaleBaseURL, AnyscaleKeyEnv, true},
		{"AnyscaleEndpoint", nil, nil, "openai", AnyscaleBaseURL, AnyscaleKeyEnv, true},
		{"Groq", nil, nil, "openai", GroqBaseURL, GroqKeyEnv, true},
		{"llama3", nil, nil, "openai", "", "", true},
		{"custom", map[string]any{"base_url": "http://h/v1"}, nil, "openai", "http://h/v1", "", true},
		{"custom", map[string]any{"provider": "echo"}, nil, "echo", "", "", true},
		{"hf", nil, nil, "HuggingFaceTextGenerationParser", "", "", false},
		{"hf", nil, map[string]Endpoint{"hf": {BaseURL: "http://tgi/v1"}}, "openai", "http://tgi/v1", "", true},
		{"gpt-4", nil, map[string]Endpoint{"gpt-4": {Provider: "echo"}}, "echo", "", "", true},
		{"gemini-pro", nil, nil, "gemini-pro", "", "", false},
		{"dall-e-3", nil, nil, "dall-e-3", "", "", false},
		{"gpt-35-turbo", nil, nil, "gpt-35-turbo", "", "", false},
		{"PaLM Chat", nil, nil, "PaLM Chat", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			rt, _ := newTest(Options{Endpoints: tt.eps})
			got := rt.route(meta, tt.model, tt.settings)
			if got.Parser != tt.parser || got.BaseURL != tt.base || got.APIKeyEnv != tt.keyEnv || got.Supported != tt.ok {
				t.Fatalf("route = %+v", got)
			}
		})
	}
}

func TestModelMap(t *testing.T) {
	c := mustParse(t, doc(`{"models":{"gpt-4":{"model":"gpt-4-0613","temperature":0.2,"top_p":0.5},"llama3":{"base_url":"http://ollama/v1","temperature":0.8}}}`,
		`{"name":"p","input":"x","metadata":{"model":{"name":"gpt-4","settings":{"max_tokens":50}}}}`))
	rt, rec := newTest(Options{ModelMap: map[string]string{"gpt-4": "llama3"}})
	run(t, rt, c, "p", RunOptions{})
	req := rec.requests()[0]
	want := map[string]any{"temperature": 0.8, "top_p": 0.5, "max_tokens": 50.0}
	if req.Model != "llama3" || req.BaseURL != "http://ollama/v1" || !reflect.DeepEqual(req.Settings, want) {
		t.Fatalf("request = model %q base %q settings %v", req.Model, req.BaseURL, req.Settings)
	}
}

func TestCompleteAndEmbed(t *testing.T) {
	rt, rec := newTest(Options{ModelMap: map[string]string{"gpt-4": "gpt-4o"}})
	res, err := rt.Complete(context.Background(), "gpt-4", []llm.Message{{Role: "user", Content: "grade"}}, map[string]any{"temperature": 0, "system_prompt": "x"})
	if err != nil || res.Text != "out:grade" {
		t.Fatalf("Complete = %v, %v", res, err)
	}
	req := rec.requests()[0]
	if req.Model != "gpt-4o" || !reflect.DeepEqual(req.Settings, map[string]any{"temperature": 0}) {
		t.Fatalf("request = %+v", req)
	}
	vecs, err := rt.Embed(context.Background(), "text-embedding-3-small", []string{"ab", "abc"})
	if err != nil || !reflect.DeepEqual(vecs, [][]float64{{2}, {3}}) {
		t.Fatalf("Embed = %v, %v", vecs, err)
	}
	if _, err := rt.Embed(context.Background(), "gemini-pro", []string{"x"}); err == nil {
		t.Fatal("embedding with an unsupported model did not fail")
	}
}

func TestDefaultEchoParser(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"echo"}`, `{"name":"p","input":"hello {{who}}"}`))
	res, err := New(Options{}).Run(context.Background(), c, "p", RunOptions{Params: map[string]any{"who": "world"}})
	if err != nil || res.Output != "hello world" {
		t.Fatalf("echo = %v, %v", res, err)
	}
}
