package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeanthropic"
	"github.com/aieval/aieval/internal/fakeazure"
	"github.com/aieval/aieval/internal/fakebedrock"
	"github.com/aieval/aieval/internal/fakegemini"
	"github.com/aieval/aieval/internal/fakehf"
	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime"
)

// provFakes is one strict fake server per provider, and the environment
// that points aieval at them, as a user points it at local servers.
type provFakes struct {
	oa, groq *fakeopenai.Server
	gm       *fakegemini.Server
	az       *fakeazure.Server
	hf       *fakehf.Server
	an       *fakeanthropic.Server
	br       *fakebedrock.Server
}

const (
	e2eOpenAIKey = "sk-e2e-openai-0123456789"
	e2eGroqKey   = "gsk_e2e_groq_0123456789"
	e2eGeminiKey = "gm-e2e-gemini-key"
	e2eAzureKey  = "az-e2e-azure-key"
	e2eHFKey     = "hf_e2e_token_0123"
)

func startFakes(t *testing.T) *provFakes {
	t.Helper()
	// Every fake echoes the last user text, and answers a grader's
	// request (an llm-rubric) with a passing verdict.
	oaReply := func(r fakeopenai.ChatRequest) string { return graded(r.LastUser()) }
	f := &provFakes{
		oa: fakeopenai.New(fakeopenai.WithReply(oaReply)), groq: fakeopenai.New(fakeopenai.WithReply(oaReply)),
		gm: fakegemini.New(fakegemini.WithKey(e2eGeminiKey), fakegemini.WithReply(func(r fakegemini.Request) fakegemini.Reply {
			return fakegemini.Reply{Text: graded(r.LastUser())}
		})),
		az: fakeazure.New(e2eAzureKey, fakeopenai.WithReply(oaReply)),
		hf: fakehf.New(e2eHFKey, func(r fakehf.Request) (string, string) { return graded(r.Inputs), "eos_token" }, nil),
		an: fakeanthropic.New(fakeanthropic.WithReply(func(r fakeanthropic.Request) fakeanthropic.Reply {
			return fakeanthropic.Reply{Text: graded(r.LastUser())}
		})),
		br: fakebedrock.New(fakebedrock.WithReply(func(r fakebedrock.Request) fakebedrock.Reply {
			return fakebedrock.Reply{Text: graded(r.LastUser())}
		})),
	}
	for _, s := range []interface{ Close() }{f.oa, f.groq, f.gm, f.az, f.hf, f.an, f.br} {
		t.Cleanup(s.Close)
	}
	return f
}

// graded is the fakes' answer to text: a passing verdict for a grader's
// request, else the text itself.
func graded(text string) string {
	if strings.Contains(text, "<rubric>") {
		return `{"pass": true, "score": 0.9, "reason": "it does"}`
	}
	return text
}

// env is every provider's key and endpoint variable, each its own fake.
func (f *provFakes) env(extra ...string) []string {
	return append([]string{
		"OPENAI_API_KEY", e2eOpenAIKey, "OPENAI_BASE_URL", f.oa.URL(),
		"GROQ_API_KEY", e2eGroqKey, "GROQ_BASE_URL", f.groq.URL(),
		"GEMINI_API_KEY", e2eGeminiKey, "GOOGLE_GEMINI_BASE_URL", f.gm.URL,
		"AZURE_OPENAI_API_KEY", e2eAzureKey, "AZURE_OPENAI_ENDPOINT", f.az.URL,
		"HF_TOKEN", e2eHFKey, "HF_INFERENCE_ENDPOINT", f.hf.URL,
		"ANTHROPIC_API_KEY", fakeanthropic.DefaultKey, "ANTHROPIC_BASE_URL", f.an.URL(),
		"AWS_ACCESS_KEY_ID", fakebedrock.AccessKeyID, "AWS_SECRET_ACCESS_KEY", fakebedrock.SecretAccessKey,
		"AWS_REGION", fakebedrock.Region, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f.br.URL,
		"AWS_EC2_METADATA_DISABLED", "true",
	}, extra...)
}

// counts is how many requests each fake has seen.
func (f *provFakes) counts() map[string]int {
	return map[string]int{
		"openai": len(f.oa.Seen()), "groq": len(f.groq.Seen()), "gemini": len(f.gm.Requests()),
		"azure": len(f.az.Requests()), "huggingface": len(f.hf.Requests()),
		"anthropic": len(f.an.Seen()), "bedrock": len(f.br.Seen()),
	}
}

// newCalls is the number of requests per fake since before.
func newCalls(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// tripPlanner is the seed's NYC trip planner as the AIConfig README and
// the Getting-Started cookbook write it, with gemini-pro as the default
// model, chained into gpt-4 with a system prompt.
const tripPlanner = `{
  "name": "NYC Trip Planner",
  "schema_version": "latest",
  "metadata": {
    "parameters": {},
    "models": {
      "gemini-pro": {"model": "gemini-pro", "top_p": 1, "temperature": 1},
      "gpt-4": {
        "model": "gpt-4",
        "max_tokens": 3000,
        "system_prompt": "You are an expert travel coordinator with exquisite taste."
      }
    },
    "default_model": "gemini-pro"
  },
  "description": "Intrepid explorer with Gemini, ChatGPT and AIConfig",
  "prompts": [
    {"name": "get_activities", "input": "Tell me 10 fun attractions to do in NYC."},
    {
      "name": "gen_itinerary",
      "input": "Generate an itinerary ordered by {{order_by}} for these activities: {{get_activities.output}}.",
      "metadata": {"model": "gpt-4", "parameters": {"order_by": "geographic location"}}
    }
  ],
  "$schema": "https://json.schemastore.org/aiconfig-1.0"
}`

const tripSuite = `description: NYC trip planner on Gemini and GPT-4
config: travel.aiconfig.json
tests:
  - name: lists attractions
    prompt: get_activities
    assert:
      - type: icontains
        value: attractions
  - name: itinerary from the activities
    prompt: gen_itinerary
    params: {order_by: price}
    assert:
      - type: contains-all
        value: ["ordered by price", "10 fun attractions"]
`

// TestTripPlannerGeminiToGPT4 runs the seed's trip planner through `aieval
// prompt` (both prompts, streamed and not) and as a suite: the first prompt
// goes to Gemini with generationConfig, the chained one to OpenAI with the
// system prompt and Gemini's output in it.
func TestTripPlannerGeminiToGPT4(t *testing.T) {
	f := startFakes(t)
	dir := t.TempDir()
	cfg := write(t, dir, "travel.aiconfig.json", tripPlanner)
	c := newCLI(t, f.env()...)
	for _, stream := range []bool{false, true} {
		args := []string{"prompt", cfg, "get_activities"}
		if stream {
			args = append(args, "--stream")
		}
		before := f.counts()
		o := c.run(args...)
		if o.code != 0 || strings.TrimSpace(o.stdout) != "Tell me 10 fun attractions to do in NYC." {
			t.Fatalf("stream=%v get_activities: %+v", stream, o)
		}
		if got := newCalls(before, f.counts()); len(got) != 1 || got["gemini"] != 1 {
			t.Fatalf("stream=%v get_activities calls = %v, want one Gemini call", stream, got)
		}
		g := f.gm.Requests()[len(f.gm.Requests())-1]
		wantPath := ":generateContent"
		if stream {
			wantPath = ":streamGenerateContent?alt=sse"
		}
		if !strings.Contains(g.Path, "/models/gemini-pro"+wantPath) || g.Header.Get("x-goog-api-key") != e2eGeminiKey {
			t.Errorf("stream=%v Gemini request %s %v", stream, g.Path, g.Header)
		}
		if gc := g.Req.GenerationConfig; gc == nil || gc.Temperature == nil || *gc.Temperature != 1 || gc.TopP == nil || *gc.TopP != 1 {
			t.Errorf("stream=%v generationConfig = %s", stream, g.Body)
		}

		args[2] = "gen_itinerary"
		before = f.counts()
		o = c.run(args...)
		want := "Generate an itinerary ordered by geographic location for these activities: Tell me 10 fun attractions to do in NYC.."
		if o.code != 0 || strings.TrimSpace(o.stdout) != want {
			t.Fatalf("stream=%v gen_itinerary: %+v", stream, o)
		}
		if got := newCalls(before, f.counts()); len(got) != 2 || got["gemini"] != 1 || got["openai"] != 1 {
			t.Fatalf("stream=%v gen_itinerary calls = %v, want Gemini then OpenAI", stream, got)
		}
		b := f.oa.Bodies()[len(f.oa.Bodies())-1]
		if b.Model != "gpt-4" || len(b.Messages) != 2 || b.Messages[0].Role != "system" ||
			b.Messages[0].Content.Text != "You are an expert travel coordinator with exquisite taste." ||
			b.MaxTokens == nil || *b.MaxTokens != 3000 || b.Stream != stream {
			t.Errorf("stream=%v OpenAI request = %s", stream, b.Raw)
		}
	}

	suite := write(t, dir, "travel.eval.yaml", tripSuite)
	js := filepath.Join(dir, "results.json")
	before := f.counts()
	o := c.run("run", "--no-progress", "--cache", filepath.Join(dir, "cache"), "--json", js, suite)
	if o.code != 0 {
		t.Fatalf("suite: %+v", o)
	}
	if got := newCalls(before, f.counts()); got["gemini"] != 1 || got["openai"] != 1 {
		// The chained get_activities is made once for both tests.
		t.Errorf("suite calls = %v", got)
	}
	var res struct {
		Summary struct{ Passed, Total int } `json:"summary"`
	}
	if b, err := os.ReadFile(js); err != nil || json.Unmarshal(b, &res) != nil || res.Summary.Passed != 2 {
		t.Fatalf("results: %s %v", b, err)
	}
	// Replayed: --offline makes no call, and every test still passes.
	before = f.counts()
	if o := c.run("run", "--no-progress", "--offline", "--cache", filepath.Join(dir, "cache"), suite); o.code != 0 {
		t.Fatalf("offline replay: %+v", o)
	}
	if got := newCalls(before, f.counts()); len(got) != 0 {
		t.Errorf("offline replay called %v", got)
	}
}

const corpusDir = "../../runtime/testdata/corpus/"

// corpusCase is one text prompt of a corpus file, with the params the
// cookbook sets in code, and what the provider's request must hold.
type corpusCase struct {
	file, prompt string
	params       []string
	provider     string
	check        func(t *testing.T, f *provFakes)
}

// TestCorpusProviders runs every text prompt of the corpus files whose
// provider is Gemini, Claude on Bedrock, Azure OpenAI or Hugging Face
// through `aieval prompt`, against strict fakes that refuse what the real
// API refuses (a refusal fails the run: exit 3). Each case also checks the
// fields its provider needs.
func TestCorpusProviders(t *testing.T) {
	lastGemini := func(t *testing.T, f *provFakes) fakegemini.Seen {
		rs := f.gm.Requests()
		return rs[len(rs)-1]
	}
	azure := func(t *testing.T, f *provFakes) {
		rs := f.az.Requests()
		r := rs[len(rs)-1]
		if r.Deployment != "gpt-35-turbo" || r.APIVersion == "" || r.Header.Get("api-key") != e2eAzureKey || r.Header.Get("Authorization") != "" {
			t.Errorf("Azure request %s deployment %q api-version %q headers %v", r.Path, r.Deployment, r.APIVersion, r.Header)
		}
	}
	bedrock := func(stream bool) func(t *testing.T, f *provFakes) {
		return func(t *testing.T, f *provFakes) {
			rs, seen := f.br.Requests(), f.br.Seen()
			r, s := rs[len(rs)-1], seen[len(seen)-1]
			if s.Why != "" || !strings.HasPrefix(s.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+fakebedrock.AccessKeyID+"/") {
				t.Errorf("Bedrock signature: %q (%s)", s.Header.Get("Authorization"), s.Why)
			}
			if r.ModelID != "anthropic.claude-v2:1" || r.Stream != stream || r.InferenceConfig == nil || r.InferenceConfig.MaxTokens == nil || *r.InferenceConfig.MaxTokens != 500 {
				t.Errorf("Converse request %s: %s", s.Path, r.Raw)
			}
		}
	}
	tgi := func(stream bool, topP float64) func(t *testing.T, f *provFakes) {
		return func(t *testing.T, f *provFakes) {
			rs := f.hf.Requests()
			r := rs[len(rs)-1]
			wantPath := "/generate"
			if stream {
				wantPath = "/generate_stream"
			}
			p := r.Req.Parameters
			if r.Path != wantPath || r.Header.Get("Authorization") != "Bearer "+e2eHFKey ||
				p.TopP == nil || *p.TopP != topP || p.Temperature == nil || *p.Temperature != 0.9 {
				t.Errorf("TGI request %s %v: %s", r.Path, r.Header, r.Body)
			}
		}
	}
	cases := []corpusCase{
		{"cookbooks__Claude-And-Azure__azure.aiconfig.json", "multilinguality", []string{"animal=duck"}, "azure", azure},
		{"cookbooks__Claude-And-Azure__azure.aiconfig.json", "pronounciation", []string{"animal=duck"}, "azure", azure},
		{"cookbooks__Claude-And-Azure__claude.aiconfig.json", "multilinguality", nil, "bedrock", bedrock(true)},
		{"cookbooks__Claude-And-Azure__claude.aiconfig.json", "pronounciation", []string{"language=Spanish"}, "bedrock", bedrock(false)},
		{"cookbooks__Gemini__gemini_demo.aiconfig.json", "multilinguality", nil, "gemini", func(t *testing.T, f *provFakes) {
			if g := lastGemini(t, f); !strings.Contains(g.Path, "/v1beta/models/gemini-pro:streamGenerateContent?alt=sse") {
				t.Errorf("stream: true did not stream: %s", g.Path)
			}
		}},
		{"cookbooks__Gemini__gemini_demo.aiconfig.json", "pronounciation", []string{"language=Spanish"}, "gemini", func(t *testing.T, f *provFakes) {
			// remember_chat_context: the earlier prompt (no output saved)
			// is in the one user turn Gemini's alternation allows.
			if g := lastGemini(t, f); len(g.Req.Contents) != 1 || len(g.Req.Contents[0].Parts) != 2 {
				t.Errorf("chat context not sent: %s", g.Body)
			}
		}},
		{"my_aiconfig.aiconfig.json", "prompt_1", nil, "gemini", func(t *testing.T, f *provFakes) {
			gc := lastGemini(t, f).Req.GenerationConfig
			if gc == nil || gc.Temperature == nil || *gc.Temperature != 0.4 || gc.TopP == nil || *gc.TopP != 0.1 || gc.TopK == nil || *gc.TopK != 1 {
				t.Errorf("generation_config not mapped: %+v", gc)
			}
		}},
		{"cookbooks__HuggingFace__Mistral-aiconfig.json", "prompt1", nil, "huggingface", tgi(true, 0.9)},
		{"typescript____tests____parsers__hf__hf-test-config.json", "prompt1", nil, "huggingface", tgi(false, 0.9)},
		{"typescript____tests____parsers__hf__hf-test-config.json", "prompt2", nil, "huggingface", tgi(false, 0.7)},
		{"typescript____tests____parsers__hf__hf-test-config.json", "promptWithParams", []string{"city=Rome"}, "huggingface", func(t *testing.T, f *provFakes) {
			rs := f.hf.Requests()
			if p := rs[len(rs)-1].Req.Parameters; p.DoSample == nil || *p.DoSample {
				t.Errorf("do_sample: false not sent: %s", rs[len(rs)-1].Body)
			}
		}},
	}
	// Every prompt of the corpus routed to one of these providers is a
	// case above, or skipped here for the reason given.
	skip := map[string]string{
		"cookbooks__Claude-And-Azure__azure.aiconfig.json/set_params_in_code": "empty input: the cookbook sets it in code",
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.file+"/"+tc.prompt] = true
	}
	files, _ := filepath.Glob(corpusDir + "*")
	rt := runtime.New(runtime.Options{Getenv: func(string) string { return "" }})
	for _, file := range files {
		cfg, err := runtime.Load(file)
		if err != nil {
			continue // the one broken file, tested in runtime
		}
		for _, name := range cfg.PromptNames() {
			mr, _ := rt.PromptRoute(cfg, name)
			key := filepath.Base(file) + "/" + name
			switch mr.Provider {
			case "gemini", "anthropic", "bedrock", "azure", "huggingface":
				if !covered[key] && skip[key] == "" {
					t.Errorf("%s routes to %s but is not run here", key, mr.Provider)
				}
			}
		}
	}
	f := startFakes(t)
	c := newCLI(t, f.env()...)
	for _, tc := range cases {
		t.Run(strings.SplitN(tc.file, ".", 2)[0]+"/"+tc.prompt, func(t *testing.T) {
			args := []string{"prompt", corpusDir + tc.file, tc.prompt}
			for _, p := range tc.params {
				args = append(args, "--param", p)
			}
			before := f.counts()
			o := c.run(args...)
			if o.code != 0 || strings.TrimSpace(o.stdout) == "" {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", o.code, o.stdout, o.stderr)
			}
			got := newCalls(before, f.counts())
			for p, n := range got {
				if p != tc.provider {
					t.Errorf("%d calls went to %s, want only %s: %v", n, p, tc.provider, got)
				}
			}
			if got[tc.provider] == 0 {
				t.Fatalf("no call reached %s: %v", tc.provider, got)
			}
			tc.check(t, f)
		})
	}
}

// TestGroqCookbook: the Groq cookbook's self-mapped parser sends its calls
// to Groq's endpoint with GROQ_API_KEY, never to OpenAI with its key.
func TestGroqCookbook(t *testing.T) {
	f := startFakes(t)
	c := newCLI(t, f.env()...)
	for _, stream := range []string{"", "--stream"} {
		before := f.counts()
		args := []string{"prompt", corpusDir + "cookbooks__Groq__groq.aiconfig.json", "multilinguality", "--param", "animal=duck"}
		if stream != "" {
			args = append(args, stream)
		}
		if o := c.run(args...); o.code != 0 || !strings.Contains(o.stdout, "say duck") {
			t.Fatalf("groq %s: %+v", stream, o)
		}
		if got := newCalls(before, f.counts()); len(got) != 1 || got["groq"] != 1 {
			t.Fatalf("groq %s calls = %v", stream, got)
		}
	}
	if auth := f.groq.Authorizations(); len(auth) != 1 || auth["Bearer "+e2eGroqKey] != 2 {
		t.Errorf("Groq saw Authorization %v", auth)
	}
	if b := f.groq.Bodies(); b[0].Model != "mixtral-8x7b-32768" {
		t.Errorf("Groq model = %q", b[0].Model)
	}
}

// TestModelAcrossProviders: --model A=B moves a prompt to another
// provider, with that provider's mapping of the same settings.
func TestModelAcrossProviders(t *testing.T) {
	f := startFakes(t)
	dir := t.TempDir()
	trip := write(t, dir, "travel.aiconfig.json", tripPlanner)
	gem := corpusDir + "cookbooks__Gemini__gemini_demo.aiconfig.json"
	c := newCLI(t, f.env()...)
	tests := []struct {
		name     string
		args     []string
		provider string
		check    func(t *testing.T)
	}{
		{"gemini on claude", []string{gem, "multilinguality", "--model", "gemini-pro=claude-3-5-haiku-latest"}, "anthropic", func(t *testing.T) {
			r := f.an.Requests()[len(f.an.Requests())-1]
			if r.Model != "claude-3-5-haiku-latest" || r.MaxTokens <= 0 || !r.Stream {
				t.Errorf("Anthropic request: %s", r.Raw)
			}
		}},
		{"gpt-4 on claude", []string{trip, "gen_itinerary", "--model", "gpt-4=claude-3-5-haiku-latest", "--model", "gemini-pro=claude-3-5-haiku-latest"}, "anthropic", func(t *testing.T) {
			r := f.an.Requests()[len(f.an.Requests())-1]
			var top map[string]json.RawMessage
			json.Unmarshal(r.Raw, &top)
			if r.System != "You are an expert travel coordinator with exquisite taste." || r.MaxTokens != 3000 || top["system"] == nil {
				t.Errorf("Anthropic request (top-level system, max_tokens): %s", r.Raw)
			}
			for _, m := range r.Messages {
				if m.Role == "system" {
					t.Errorf("system role inside messages: %s", r.Raw)
				}
			}
		}},
		{"gpt-4 on gemini", []string{trip, "gen_itinerary", "--model", "gpt-4=gemini-1.5-flash"}, "gemini", func(t *testing.T) {
			g := f.gm.Requests()[len(f.gm.Requests())-1]
			if g.Req.SystemInstruction == nil || len(g.Req.SystemInstruction.Parts) == 0 ||
				g.Req.SystemInstruction.Parts[0].Text == nil || *g.Req.SystemInstruction.Parts[0].Text != "You are an expert travel coordinator with exquisite taste." ||
				g.Req.GenerationConfig == nil || g.Req.GenerationConfig.MaxOutputTokens == nil || *g.Req.GenerationConfig.MaxOutputTokens != 3000 {
				t.Errorf("Gemini request (systemInstruction, generationConfig): %s", g.Body)
			}
		}},
		{"gemini on bedrock", []string{gem, "multilinguality", "--model", "gemini-pro=anthropic.claude-3-haiku-20240307-v1:0"}, "bedrock", func(t *testing.T) {
			s := f.br.Seen()[len(f.br.Seen())-1]
			if s.Why != "" || !strings.HasSuffix(s.Path, "/converse-stream") {
				t.Errorf("Bedrock request %s: %s", s.Path, s.Why)
			}
		}},
		{"claude on gemini", []string{corpusDir + "cookbooks__Claude-And-Azure__claude.aiconfig.json", "multilinguality", "--model", "ClaudeBedrockModelParser=gemini-1.5-flash"}, "gemini", func(t *testing.T) {
			g := f.gm.Requests()[len(f.gm.Requests())-1]
			if gc := g.Req.GenerationConfig; gc == nil || gc.MaxOutputTokens == nil || *gc.MaxOutputTokens != 500 {
				t.Errorf("max_tokens_to_sample not mapped to maxOutputTokens: %s", g.Body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.counts()
			if o := c.run(append([]string{"prompt"}, tt.args...)...); o.code != 0 || strings.TrimSpace(o.stdout) == "" {
				t.Fatalf("%+v", o)
			}
			got := newCalls(before, f.counts())
			if got[tt.provider] == 0 || len(got) != 1 {
				t.Fatalf("calls = %v, want only %s", got, tt.provider)
			}
			tt.check(t)
		})
	}
}

// providerModels is one model per provider, as an aiconfig names it.
// A grader has no aiconfig, hence no model_parsers: one that no name rule
// claims (a Hugging Face hub id) names its provider in the suite's models:.
var providerModels = []struct{ provider, model, parsers, suiteModels string }{
	{"openai", "gpt-4o-mini", "", ""},
	{"groq", "mixtral-8x7b-32768", `"mixtral-8x7b-32768": "mixtral-8x7b-32768"`, ""},
	{"gemini", "gemini-1.5-flash", "", ""},
	{"anthropic", "claude-3-5-haiku-latest", "", ""},
	{"bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "", ""},
	{"azure", "gpt-35-turbo", `"gpt-35-turbo": "AzureOpenAIParser"`, ""},
	{"huggingface", "mistralai/Mistral-7B-v0.1", `"mistralai/Mistral-7B-v0.1": "HuggingFaceTextGenerationParser"`,
		"models:\n  mistralai/Mistral-7B-v0.1: {provider: huggingface}\n"},
}

// TestEveryProviderThroughTheMachinery runs, for each provider, a suite
// whose prompt and llm-rubric grader are both that provider's model; then
// replays it from the cache with --offline (no call); and checks that the
// cache entry names the provider and its endpoint, so the same prompt on
// another provider or endpoint is a different entry.
func TestEveryProviderThroughTheMachinery(t *testing.T) {
	f := startFakes(t)
	for _, pm := range providerModels {
		t.Run(pm.provider, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "p.aiconfig.json", `{"name": "p", "schema_version": "latest",
  "metadata": {"models": {}, "model_parsers": {`+pm.parsers+`}, "default_model": "`+pm.model+`"},
  "prompts": [{"name": "ask", "input": "Name three {{thing}}.", "metadata": {"model": {"name": "`+pm.model+`", "settings": {"system_prompt": "Be brief.", "temperature": 0.5}}}}]}`)
			suite := write(t, dir, "p.eval.yaml", `config: p.aiconfig.json
grader: `+pm.model+`
`+pm.suiteModels+`tests:
  - name: three things
    prompt: ask
    params: {thing: rivers}
    assert:
      - type: contains
        value: three rivers
      - type: llm-rubric
        value: It names three rivers
`)
			cacheDir := filepath.Join(dir, "cache")
			c := newCLI(t, f.env()...)
			before := f.counts()
			if o := c.run("run", "--no-progress", "--cache", cacheDir, suite); o.code != 0 {
				t.Fatalf("run: %+v", o)
			}
			if got := newCalls(before, f.counts()); len(got) != 1 || got[pm.provider] != 2 {
				t.Fatalf("calls = %v, want the prompt and the grader on %s", got, pm.provider)
			}
			before = f.counts()
			if o := c.run("run", "--no-progress", "--offline", "--cache", cacheDir, suite); o.code != 0 {
				t.Fatalf("offline: %+v", o)
			}
			if got := newCalls(before, f.counts()); len(got) != 0 {
				t.Fatalf("offline replay called %v", got)
			}
			entries, _ := filepath.Glob(filepath.Join(cacheDir, "*", "*.json"))
			if len(entries) != 2 {
				t.Fatalf("cache has %d entries, want 2", len(entries))
			}
			for _, e := range entries {
				b, _ := os.ReadFile(e)
				for _, key := range []string{e2eOpenAIKey, e2eGroqKey, e2eGeminiKey, e2eAzureKey, e2eHFKey, fakeanthropic.DefaultKey, fakebedrock.SecretAccessKey} {
					if strings.Contains(string(b), key) {
						t.Fatalf("a key is in the cache entry %s", e)
					}
				}
			}
			// Another endpoint of the same provider is another identity: a
			// miss offline, not a replay of the first endpoint's answer.
			moved := map[string]string{"openai": "OPENAI_BASE_URL", "groq": "GROQ_BASE_URL", "gemini": "GOOGLE_GEMINI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL",
				"bedrock": "AWS_REGION", "azure": "AZURE_OPENAI_ENDPOINT", "huggingface": "HF_INFERENCE_ENDPOINT"}[pm.provider]
			val := "http://127.0.0.1:9/other"
			if moved == "AWS_REGION" {
				val = "eu-west-1"
				c.env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = ""
			}
			c.env[moved] = val
			if o := c.run("run", "--no-progress", "--offline", "--cache", cacheDir, suite); o.code != 3 || !strings.Contains(o.stdout+o.stderr, "offline") {
				t.Errorf("%s moved, offline: want a miss (exit 3), got %+v", moved, o)
			}
		})
	}
}

// TestValidateVerboseRoutes: validate -v names, per prompt, the provider,
// the endpoint without credentials and the key variable (never its value).
func TestValidateVerboseRoutes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "travel.aiconfig.json", tripPlanner)
	suite := write(t, dir, "travel.eval.yaml", "config: travel.aiconfig.json\ngrader: claude-3-5-haiku-latest\nmodels:\n  gpt-4: {base_url: \"http://gw.local:8080/v1\", api_key_env: GW_KEY}\n"+
		"tests:"+strings.SplitN(tripSuite, "tests:", 2)[1])
	c := newCLI(t, "GEMINI_API_KEY", "gm-secret-value", "GOOGLE_GEMINI_BASE_URL", "https://user:pw-secret@gm.local/?key=q-secret")
	o := c.run("validate", "-v", filepath.Join(dir, "travel.aiconfig.json"), suite)
	if o.code != 0 {
		t.Fatalf("%+v", o)
	}
	for _, want := range []string{
		"prompt get_activities: gemini-pro -> gemini https://gm.local (key $GEMINI_API_KEY, set)",
		"prompt gen_itinerary: gpt-4 -> openai https://api.openai.com/v1 (key $OPENAI_API_KEY, not set)",
		"prompt gen_itinerary: gpt-4 -> openai http://gw.local:8080/v1 (key $GW_KEY, not set)",
		"grader: claude-3-5-haiku-latest -> anthropic https://api.anthropic.com (key $ANTHROPIC_API_KEY, not set)",
	} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("missing %q in\n%s", want, o.stdout)
		}
	}
	for _, secret := range []string{"gm-secret-value", "pw-secret", "q-secret"} {
		if strings.Contains(o.stdout+o.stderr, secret) {
			t.Errorf("validate -v printed %q", secret)
		}
	}
	if o := c.run("validate", filepath.Join(dir, "travel.aiconfig.json")); strings.Contains(o.stdout, "prompt ") {
		t.Errorf("routes without -v: %s", o.stdout)
	}
}

// TestFakeRejectionsFailTheRun: what the fakes refuse (as the real APIs
// do) fails the prompt with exit 3 and the server's reason, so the tests
// above passing means the requests were accepted.
func TestFakeRejectionsFailTheRun(t *testing.T) {
	f := startFakes(t)
	tests := []struct {
		name, file, prompt string
		env                []string
		want               string
	}{
		{"azure api-version", "cookbooks__Claude-And-Azure__azure.aiconfig.json", "multilinguality", []string{"OPENAI_API_VERSION", "1999-01-01"}, "API version not supported"},
		{"azure key", "cookbooks__Claude-And-Azure__azure.aiconfig.json", "multilinguality", []string{"AZURE_OPENAI_API_KEY", "wrong"}, "AZURE_OPENAI_API_KEY"},
		{"bedrock signature", "cookbooks__Claude-And-Azure__claude.aiconfig.json", "multilinguality", []string{"AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789"}, "AWS rejected"},
		{"gemini key", "cookbooks__Gemini__gemini_demo.aiconfig.json", "multilinguality", []string{"GEMINI_API_KEY", "wrong"}, "GEMINI_API_KEY"},
		{"hf token", "typescript____tests____parsers__hf__hf-test-config.json", "prompt1", []string{"HF_TOKEN", "hf_wrong"}, "HF_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newCLI(t, f.env(tt.env...)...).run("prompt", corpusDir+tt.file, tt.prompt, "--param", "animal=duck")
			if o.code != 3 || !strings.Contains(o.stderr, tt.want) {
				t.Fatalf("want exit 3 naming %q, got %+v", tt.want, o)
			}
			if strings.Contains(o.stderr, "not-the-secret") || strings.Contains(o.stderr, "hf_wrong") {
				t.Errorf("a credential in the error: %s", o.stderr)
			}
		})
	}
}
