package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeazure"
	"github.com/aieval/aieval/internal/fakegemini"
	"github.com/aieval/aieval/internal/fakehf"
	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func TestUnsupportedParser(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"dall-e-3"}`, `{"name":"p","input":"x"}`))
	rt, rec := newTest(Options{})
	_, err := rt.Run(context.Background(), c, "p", RunOptions{})
	var ue *UnsupportedError
	var le *llm.Error
	if !errors.As(err, &ue) || !errors.As(err, &le) || le.Kind != llm.KindUnsupported {
		t.Fatalf("error = %v, want an unsupported error", err)
	}
	for _, s := range []string{"dall-e-3", "base_url", "api_key_env"} {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %s", err, s)
		}
	}
	if len(rec.requests()) != 0 {
		t.Fatal("called a parser for an unsupported model")
	}
	// Mapped to an endpoint by the suite, a model runs on the OpenAI parser,
	// even one with a native client.
	c = mustParse(t, doc(`{"default_model":"gemini-pro"}`, `{"name":"p","input":"x"}`))
	rt, rec = newTest(Options{Endpoints: map[string]Endpoint{"gemini-pro": {BaseURL: "http://gw/v1", APIKeyEnv: "GEMINI_API_KEY", Model: "gemini-1.5"}}})
	run(t, rt, c, "p", RunOptions{})
	req := rec.requests()[0]
	if req.Provider != ParserOpenAI || req.BaseURL != "http://gw/v1" || req.APIKeyEnv != "GEMINI_API_KEY" || req.Model != "gemini-1.5" {
		t.Fatalf("request = %+v", req)
	}
	// A provider this Runtime has no client for (Anthropic, Bedrock in a
	// build without them) is "cannot run", not a crash.
	c = mustParse(t, doc(`{"default_model":"claude-3-5-sonnet-latest"}`, `{"name":"p","input":"x"}`))
	_, err = rt.Run(context.Background(), c, "p", RunOptions{})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `provider "anthropic"`) || !strings.Contains(err.Error(), "cannot run") {
		t.Fatalf("error = %v", err)
	}
}

func TestRetiredProviders(t *testing.T) {
	for _, tt := range []struct{ meta, want string }{
		{`{"default_model":"models/text-bison-001"}`, "gemini-1.5-flash"},
		{`{"default_model":"PaLM Chat"}`, "Google retired"},
		{`{"default_model":"m","model_parsers":{"m":"AnyscaleEndpoint"}}`, "August 2024"},
	} {
		c := mustParse(t, doc(tt.meta, `{"name":"p","input":"x"}`))
		rt, _ := newTest(Options{})
		_, err := rt.Run(context.Background(), c, "p", RunOptions{})
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "models:") {
			t.Errorf("%s: error = %v", tt.meta, err)
		}
	}
}

func TestRoute(t *testing.T) {
	for _, k := range []string{"GOOGLE_API_KEY", "GEMINI_API_KEY", "GROQ_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "HF_TOKEN", "HF_INFERENCE_ENDPOINT",
		"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY", "HUGGING_FACE_API_TOKEN", "ANTHROPIC_BASE_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	meta := &Metadata{ModelParsers: map[string]string{"mixtral": "AnyscaleEndpoint", "mine": "echo", "hf": "HuggingFaceTextGenerationParser",
		"mixtral-8x7b-32768": "mixtral-8x7b-32768", "gpt-35-turbo": "gpt-35-turbo", "claudev2:1": "ClaudeBedrockModelParser", "g": "GeminiModelParser"}}
	tests := []struct {
		model    string
		settings map[string]any
		eps      map[string]Endpoint
		provider string
		parser   string
		base     string
		keyEnv   string
		apiModel string
		ok       bool
	}{
		{"gpt-4", nil, nil, "openai", "openai", "", "", "gpt-4", true},
		{"o3-mini", nil, nil, "openai", "openai", "", "", "o3-mini", true},
		{"echo", nil, nil, "echo", "echo", "", "", "echo", true},
		{"mine", nil, nil, "echo", "echo", "", "", "mine", true},
		{"llama3", nil, nil, "openai", "openai", "", "", "llama3", true},
		{"custom", map[string]any{"base_url": "http://h/v1"}, nil, "openai", "openai", "http://h/v1", "", "custom", true},
		{"custom", map[string]any{"provider": "echo"}, nil, "echo", "echo", "", "", "custom", true},
		{"gpt-4", nil, map[string]Endpoint{"gpt-4": {Provider: "echo"}}, "echo", "echo", "", "", "gpt-4", true},
		// Groq: the cookbook's self-mapped parser id, the parser ids.
		{"mixtral-8x7b-32768", nil, nil, "groq", "openai", GroqBaseURL, GroqKeyEnv, "mixtral-8x7b-32768", true},
		{"Groq", nil, nil, "groq", "openai", GroqBaseURL, GroqKeyEnv, "Groq", true},
		{"x", map[string]any{"provider": "GroqParser", "model": "llama3-70b-8192"}, nil, "groq", "openai", GroqBaseURL, GroqKeyEnv, "llama3-70b-8192", true},
		// Retired and SDK-only.
		{"mixtral", nil, nil, "anyscale", "AnyscaleEndpoint", "", "", "mixtral", false},
		{"AnyscaleEndpoint", nil, nil, "anyscale", "AnyscaleEndpoint", "", "", "AnyscaleEndpoint", false},
		{"PaLM Chat", nil, nil, "palm", "PaLM Chat", "", "", "PaLM Chat", false},
		{"models/text-bison-001", nil, nil, "palm", "models/text-bison-001", "", "", "models/text-bison-001", false},
		{"dall-e-3", nil, nil, "sdk", "dall-e-3", "", "", "dall-e-3", false},
		{"who-knows", nil, nil, "", "who-knows", "", "", "who-knows", false},
		// Native clients.
		{"gemini-pro", nil, nil, "gemini", "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY", "gemini-pro", true},
		{"models/gemini-1.5-flash", nil, nil, "gemini", "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY", "models/gemini-1.5-flash", true},
		{"g", map[string]any{"model": "gemini-2.0-flash"}, nil, "gemini", "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY", "gemini-2.0-flash", true},
		{"gemini-pro", map[string]any{"base_url": "http://gw/v1"}, nil, "openai", "openai", "http://gw/v1", "", "gemini-pro", true},
		{"gemini-pro", map[string]any{"base_url": "http://fake", "provider": "gemini"}, nil, "gemini", "gemini", "http://fake", "GEMINI_API_KEY", "gemini-pro", true},
		{"gpt-35-turbo", nil, nil, "azure", "azure", "", "AZURE_OPENAI_API_KEY", "gpt-35-turbo", true},
		{"gpt-35-turbo", map[string]any{"deployment": "prod"}, nil, "azure", "azure", "", "AZURE_OPENAI_API_KEY", "prod", true},
		{"x", map[string]any{"provider": "AzureOpenAIParser", "engine": "e1"}, nil, "azure", "azure", "", "AZURE_OPENAI_API_KEY", "e1", true},
		{"hf", nil, nil, "huggingface", "huggingface", "https://router.huggingface.co", "HF_TOKEN", "hf", true},
		{"hf", nil, map[string]Endpoint{"hf": {BaseURL: "http://tgi/v1"}}, "openai", "openai", "http://tgi/v1", "", "hf", true},
		{"hf", nil, map[string]Endpoint{"hf": {Provider: "huggingface", BaseURL: "http://tgi"}}, "huggingface", "huggingface", "http://tgi", "HF_TOKEN", "hf", true},
		{"claude-3-5-sonnet-latest", nil, nil, "anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY", "claude-3-5-sonnet-latest", true},
		{"claudev2:1", map[string]any{"model": "anthropic.claude-v2:1"}, nil, "bedrock", "bedrock", "", "", "anthropic.claude-v2:1", true},
		{"anthropic.claude-3-haiku-20240307-v1:0", nil, nil, "bedrock", "bedrock", "", "", "anthropic.claude-3-haiku-20240307-v1:0", true},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			rt, _ := newTest(Options{Endpoints: tt.eps})
			got := rt.route(meta, tt.model, tt.settings)
			want := Route{Model: tt.model, Provider: tt.provider, Parser: tt.parser, BaseURL: tt.base, APIKeyEnv: tt.keyEnv, APIModel: tt.apiModel, Supported: tt.ok}
			if got != want {
				t.Fatalf("route = %+v\nwant    %+v", got, want)
			}
		})
	}
	// Endpoint variables move a provider; key variables follow what is set.
	t.Setenv("GROQ_BASE_URL", "http://groq.local/openai/v1")
	t.Setenv("GOOGLE_API_KEY", "x")
	rt, _ := newTest(Options{})
	if got := rt.route(meta, "mixtral-8x7b-32768", nil); got.BaseURL != "http://groq.local/openai/v1" || got.APIKeyEnv != GroqKeyEnv {
		t.Errorf("groq route = %+v", got)
	}
	if got := rt.route(meta, "gemini-pro", nil); got.APIKeyEnv != "GOOGLE_API_KEY" {
		t.Errorf("gemini route = %+v", got)
	}
	// Bedrock: the region is in the request (hence the cache identity),
	// and endpoint variables win over it in the SDK's order.
	bed := "anthropic.claude-3-haiku-20240307-v1:0"
	for _, tc := range []struct{ env, want string }{
		{"AWS_DEFAULT_REGION=eu-west-1", "https://bedrock-runtime.eu-west-1.amazonaws.com"},
		{"AWS_REGION=us-west-2", "https://bedrock-runtime.us-west-2.amazonaws.com"},
		{"AWS_ENDPOINT_URL=http://aws.local", "http://aws.local"},
		{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://bedrock.local", "http://bedrock.local"},
	} {
		k, v, _ := strings.Cut(tc.env, "=")
		t.Setenv(k, v)
		if got := rt.route(meta, bed, nil); got.BaseURL != tc.want {
			t.Errorf("after %s: bedrock base = %q, want %q", tc.env, got.BaseURL, tc.want)
		}
	}
	// The environment is the Runtime's own when it is given one.
	rt2 := New(Options{Getenv: func(k string) string {
		return map[string]string{"AWS_REGION": "ap-south-1", "GOOGLE_GEMINI_BASE_URL": "http://gm.local"}[k]
	}})
	if got := rt2.route(meta, bed, nil).BaseURL; got != "https://bedrock-runtime.ap-south-1.amazonaws.com" {
		t.Errorf("Getenv bedrock base = %q", got)
	}
	if got := rt2.route(meta, "gemini-pro", nil).BaseURL; got != "http://gm.local" {
		t.Errorf("Getenv gemini base = %q", got)
	}
}

// TestCorpusRoutes routes every prompt of every corpus file: the provider
// each goes to, and whether this Runtime (all native clients but
// Anthropic and Bedrock) can run it.
func TestCorpusRoutes(t *testing.T) {
	special := map[string]string{ // file prefix or file/prompt -> provider; the rest is openai
		"cookbooks__Anyscale__recommender":                                           "anyscale",
		"cookbooks__Anyscale__travel.aiconfig.yaml/get":                              "anyscale",
		"cookbooks__Anyscale__travel.aiconfig.yaml/gen_it":                           "anyscale",
		"cookbooks__Anyscale__updated.aiconfig.json/get":                             "anyscale",
		"cookbooks__Anyscale__updated.aiconfig.json/gen_it":                          "anyscale",
		"cookbooks__Claude-And-Azure__azure":                                         "azure",
		"cookbooks__Claude-And-Azure__claude":                                        "bedrock",
		"cookbooks__Gemini":                                                          "gemini",
		"cookbooks__Gradio":                                                          "sdk",
		"cookbooks__Groq":                                                            "groq",
		"cookbooks__HuggingFace__Mistral":                                            "huggingface",
		"cookbooks__LLaMA-Guard__aiconfig.json/guard":                                "sdk",
		"cookbooks__Multi-LLM-Consistency__Multi-LLM_Consistency_aiconfig.json/palm": "palm",
		"cookbooks__llama":                                                           "sdk",
		"extensions__HuggingFace__python__src__aiconfig_extension_hugging_face__local_inference__hf_local_example.aiconfig.json/translate":  "",
		"extensions__HuggingFace__python__src__aiconfig_extension_hugging_face__local_inference__hf_local_example.aiconfig.json/summarize":  "",
		"extensions__HuggingFace__python__src__aiconfig_extension_hugging_face__local_inference__hf_local_example.aiconfig.json/generate_a": "sdk",
		"extensions__HuggingFace__python__src__aiconfig_extension_hugging_face__local_inference__hf_local_example.aiconfig.json/generate_c": "",
		"my_aiconfig": "gemini",
		"python__demo__Chained-Config.json/prompt1#0":                  "palm",
		"python__src__aiconfig__editor__travel.aiconfig.json/prompt_4": "anyscale",
		"python__tests__aiconfigs__basic_dalle3":                       "sdk",
		"python__tests__aiconfigs__basic_palm":                         "palm",
		"typescript____tests____parsers__hf":                           "huggingface",
		"typescript____tests____parsers__palm":                         "palm",
	}
	runs := map[string]bool{"openai": true, "groq": true, "gemini": true, "azure": true, "huggingface": true}
	rt := New(Options{Parsers: map[string]llm.Client{ParserOpenAI: llm.Echo{}, ParserEcho: llm.Echo{}, ParserGemini: llm.Echo{}, ParserAzure: llm.Echo{}, ParserHuggingFace: llm.Echo{}}})
	n := 0
	for _, f := range corpusFiles(t) {
		c, err := Load(f)
		if err != nil {
			continue // the one broken file, tested in config_test.go
		}
		seen := map[string]int{}
		for _, p := range c.prompts {
			key := filepath.Base(f) + "/" + p.Name
			if seen[p.Name] > 0 || p.Name == "prompt1" && strings.Contains(f, "Chained-Config") {
				key += "#" + strconv.Itoa(seen[p.Name])
			}
			seen[p.Name]++
			want, best := "openai", 0
			for pre, prov := range special {
				if strings.HasPrefix(key, pre) && len(pre) > best {
					want, best = prov, len(pre)
				}
			}
			model, settings := rt.settingsFor(&c.meta, p)
			mr := rt.RouteOf(&c.meta, model, settings)
			if mr.Provider != want || mr.Supported != runs[want] {
				t.Errorf("%s: model %q routes to %+v, want provider %q", key, model, mr, want)
			}
			if !mr.Supported && mr.Reason == "" {
				t.Errorf("%s: no reason given", key)
			}
			n++
		}
	}
	if n < 90 {
		t.Fatalf("routed %d prompts", n)
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

// TestKeysStayWithTheirProvider runs one prompt per provider, all keys
// set, each provider's endpoint a fake: no fake sees another provider's
// key anywhere (URL, headers, body) — every provider pair.
func TestKeysStayWithTheirProvider(t *testing.T) {
	oa, groq := fakeopenai.New(), fakeopenai.New()
	gm := fakegemini.New()
	az := fakeazure.New("az-test-key")
	hf := fakehf.New("hf_test", nil, nil)
	for _, s := range []interface{ Close() }{oa, groq, gm, az, hf} {
		defer s.Close()
	}
	keys := map[string]string{
		"openai": "sk-openai-key-1", "groq": "gsk-groq-key-1", "gemini": "gm-test-key", "azure": "az-test-key",
		"huggingface": "hf_test", "anthropic": "sk-ant-key-1", "aws": "AKIAFAKEKEY123",
	}
	for k, v := range map[string]string{
		"OPENAI_API_KEY": keys["openai"], "OPENAI_BASE_URL": oa.URL(),
		"GROQ_API_KEY": keys["groq"], "GROQ_BASE_URL": groq.URL(),
		"GEMINI_API_KEY": keys["gemini"], "GOOGLE_API_KEY": "", "GOOGLE_GEMINI_BASE_URL": gm.URL,
		"AZURE_OPENAI_API_KEY": keys["azure"], "AZURE_OPENAI_ENDPOINT": az.URL, "OPENAI_API_VERSION": "",
		"HF_TOKEN": keys["huggingface"], "HF_INFERENCE_ENDPOINT": hf.URL,
		"ANTHROPIC_API_KEY": keys["anthropic"], "AWS_ACCESS_KEY_ID": keys["aws"],
	} {
		t.Setenv(k, v)
	}
	c := mustParse(t, doc(`{"model_parsers":{"mistralai/Mistral-7B-v0.1":"HuggingFaceTextGenerationParser","mixtral-8x7b-32768":"mixtral-8x7b-32768","gpt-35-turbo":"gpt-35-turbo"}}`,
		`{"name":"openai","input":"a b","metadata":{"model":"gpt-4"}}`,
		`{"name":"groq","input":"a b","metadata":{"model":"mixtral-8x7b-32768"}}`,
		`{"name":"gemini","input":"a b","metadata":{"model":"gemini-pro","settings":{"system_prompt":"be terse"}}}`,
		`{"name":"azure","input":"a b","metadata":{"model":"gpt-35-turbo"}}`,
		`{"name":"huggingface","input":"a b","metadata":{"model":"mistralai/Mistral-7B-v0.1","settings":{"temperature":0.5}}}`))
	rt := New(Options{})
	for _, p := range []string{"openai", "groq", "gemini", "azure", "huggingface"} {
		for _, stream := range []bool{false, true} {
			res, err := rt.Run(context.Background(), c, p, RunOptions{Stream: stream})
			if err != nil || res.Output != "a b" {
				t.Fatalf("%s stream=%v: %v %v", p, stream, res, err)
			}
		}
	}
	type dump struct{ path, header, body string }
	seen := map[string][]dump{}
	for _, s := range oa.Seen() {
		seen["openai"] = append(seen["openai"], dump{s.Path, fmt.Sprint(s.Header), string(s.Body)})
	}
	for _, s := range groq.Seen() {
		seen["groq"] = append(seen["groq"], dump{s.Path, fmt.Sprint(s.Header), string(s.Body)})
	}
	for _, s := range gm.Requests() {
		seen["gemini"] = append(seen["gemini"], dump{s.Path, fmt.Sprint(s.Header), string(s.Body)})
	}
	for _, s := range az.Requests() {
		seen["azure"] = append(seen["azure"], dump{s.Path, fmt.Sprint(s.Header), ""})
	}
	for _, s := range hf.Requests() {
		seen["huggingface"] = append(seen["huggingface"], dump{s.Path, fmt.Sprint(s.Header), string(s.Body)})
	}
	for host, ds := range seen {
		if len(ds) != 2 {
			t.Errorf("%s got %d requests, want 2", host, len(ds))
		}
		for owner, key := range keys {
			if owner == host {
				continue
			}
			for _, d := range ds {
				if strings.Contains(d.path+d.header+d.body, key) {
					t.Errorf("%s's key reached %s", owner, host)
				}
			}
		}
		own := false
		for _, d := range ds {
			own = own || strings.Contains(d.header, keys[host])
		}
		if !own {
			t.Errorf("%s did not get its own key", host)
		}
	}
}
