package runtime

import (
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aieval/aieval/runtime/llm"
)

// Parser ids: the clients a Runtime registers by these names.
const (
	ParserOpenAI      = "openai"
	ParserEcho        = "echo"
	ParserGemini      = llm.ProviderGemini
	ParserAzure       = llm.ProviderAzure
	ParserHuggingFace = llm.ProviderHuggingFace
	// The Anthropic and Bedrock clients live in runtime/llm
	// (ProviderAnthropic, ProviderBedrock).
	ParserAnthropic = "anthropic"
	ParserBedrock   = "bedrock"
)

// Well-known hosts of the SDK's hosted OpenAI-compatible parsers.
const (
	// AnyscaleBaseURL was Anyscale's shared endpoint, shut down in August
	// 2024; kept to name it in errors.
	AnyscaleBaseURL   = "https://api.endpoints.anyscale.com/v1"
	AnyscaleKeyEnv    = "ANYSCALE_ENDPOINT_API_KEY"
	GroqBaseURL       = "https://api.groq.com/openai/v1"
	GroqKeyEnv        = "GROQ_API_KEY"
	GroqBaseURLEnv    = "GROQ_BASE_URL"
	settingBaseURL    = "base_url"
	settingAPIKeyEnv  = "api_key_env"
	settingProvider   = "provider"
	settingStream     = "stream"
	settingSystem     = "system_prompt"
	settingModelField = "model"
)

// provider is a service a model name or parser id belongs to. Its id is
// what Route.Provider reports; parser is the client that calls it.
type provider struct {
	id      string
	parser  string   // "" when aieval has no client for it
	keyEnvs []string // default key variables, in precedence order
	keyName string   // the one to name when none is set; default keyEnvs[0]
	baseEnv string   // variable overriding the endpoint
	base    string   // default endpoint, "" when the client decides
	retired string   // why it cannot run, for retired services
}

var (
	provOpenAI    = &provider{id: "openai", parser: ParserOpenAI, keyEnvs: []string{"OPENAI_API_KEY"}, baseEnv: "OPENAI_BASE_URL", base: llm.DefaultBaseURL}
	provEcho      = &provider{id: "echo", parser: ParserEcho}
	provGroq      = &provider{id: "groq", parser: ParserOpenAI, keyEnvs: []string{GroqKeyEnv}, baseEnv: GroqBaseURLEnv, base: GroqBaseURL}
	provGemini    = &provider{id: "gemini", parser: ParserGemini, keyEnvs: llm.GeminiKeyEnvs, keyName: "GEMINI_API_KEY", baseEnv: "GOOGLE_GEMINI_BASE_URL", base: llm.DefaultGeminiBaseURL}
	provAzure     = &provider{id: "azure", parser: ParserAzure, keyEnvs: llm.AzureKeyEnvs, baseEnv: "AZURE_OPENAI_ENDPOINT"}
	provHF        = &provider{id: "huggingface", parser: ParserHuggingFace, keyEnvs: llm.HuggingFaceKeyEnvs, baseEnv: "HF_INFERENCE_ENDPOINT", base: llm.DefaultHuggingFaceBaseURL}
	provAnthropic = &provider{id: "anthropic", parser: ParserAnthropic, keyEnvs: []string{"ANTHROPIC_API_KEY"}, baseEnv: "ANTHROPIC_BASE_URL", base: "https://api.anthropic.com"}
	provBedrock   = &provider{id: "bedrock", parser: ParserBedrock, baseEnv: "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"}
	provPaLM      = &provider{id: "palm", retired: "palm"}
	provAnyscale  = &provider{id: "anyscale", retired: "anyscale"}
	provSDKOnly   = &provider{id: "sdk"} // an SDK parser aieval has no client for
)

// parserIDs are the SDK's parser ids and provider names, lower-cased.
var parserIDs = map[string]*provider{
	"echo":   provEcho,
	"openai": provOpenAI, "chatgpt": provOpenAI, "openaiparser": provOpenAI, "defaultopenaiparser": provOpenAI,
	"groq": provGroq, "groqparser": provGroq,
	"anyscaleendpoint": provAnyscale, "anyscale": provAnyscale,
	"gemini": provGemini, "geminimodelparser": provGemini, "geminiparser": provGemini, "google": provGemini, "googlegenai": provGemini,
	"azure": provAzure, "azureopenai": provAzure, "azure_openai": provAzure, "azureopenaiparser": provAzure, "azureparser": provAzure,
	"huggingface": provHF, "hf": provHF, "huggingfacetextgenerationparser": provHF, "huggingfacetextparser": provHF,
	"huggingfacetextgenerationremoteinference": provHF, "huggingfaceconversationalremoteinference": provHF,
	"huggingfacetextgenerationtransformer": provHF,
	"anthropic":                            provAnthropic, "claude": provAnthropic, "claudemodelparser": provAnthropic, "anthropicparser": provAnthropic,
	"bedrock": provBedrock, "claudebedrockmodelparser": provBedrock, "claudebedrock": provBedrock, "amazonbedrock": provBedrock,
	"palm": provPaLM, "palm chat": provPaLM, "palm text": provPaLM, "palm-chat": provPaLM, "palm-text": provPaLM,
	"palmchatparser": provPaLM, "palmtextparser": provPaLM,
}

// groqModels are Groq's own model ids (the Groq cookbook registers its
// parser under them): a name rule sending them to OpenAI would hand the
// OpenAI key a model it cannot serve.
var groqModels = map[string]bool{
	"mixtral-8x7b-32768": true, "llama2-70b-4096": true, "llama3-8b-8192": true, "llama3-70b-8192": true,
	"gemma-7b-it": true, "gemma2-9b-it": true, "llama-3.1-8b-instant": true, "llama-3.1-70b-versatile": true,
	"llama-3.3-70b-versatile": true, "llama3-groq-70b-8192-tool-use-preview": true, "llama3-groq-8b-8192-tool-use-preview": true,
	"llama-guard-3-8b": true, "deepseek-r1-distill-llama-70b": true, "qwen-qwq-32b": true,
}

// nameRules map model-name prefixes to providers, most specific first.
var nameRules = []struct {
	prefix string
	p      *provider
}{
	{"models/gemini-", provGemini}, {"gemini-", provGemini}, {"tunedModels/", provGemini},
	{"models/text-bison", provPaLM}, {"models/chat-bison", provPaLM}, {"text-bison", provPaLM}, {"chat-bison", provPaLM},
	{"models/embedding-gecko", provPaLM}, {"PaLM", provPaLM}, {"palm", provPaLM},
	{"anthropic.claude-", provBedrock}, {"us.anthropic.claude-", provBedrock}, {"eu.anthropic.claude-", provBedrock},
	{"apac.anthropic.claude-", provBedrock}, {"global.anthropic.claude-", provBedrock},
	{"claude-", provAnthropic},
	{"gpt-35-", provAzure}, // Azure's spelling of gpt-3.5
	// SDK parsers and models with no client here (images, speech, local
	// inference).
	{"HuggingFace", provSDKOnly}, {"huggingface", provSDKOnly}, {"dall-e", provSDKOnly}, {"text-to-image", provSDKOnly},
	{"Text2Image", provSDKOnly}, {"whisper", provSDKOnly}, {"tts-", provSDKOnly}, {"LLaMA", provSDKOnly},
	{"LlamaGuard", provSDKOnly}, {"stable-diffusion", provSDKOnly}, {"models/", provSDKOnly}, {"Claude", provSDKOnly},
	{"Bedrock", provSDKOnly}, {"Azure", provSDKOnly}, {"Gemini", provSDKOnly},
	// OpenAI and the common OpenAI-compatible servers (Ollama, vLLM...).
	{"gpt-", provOpenAI}, {"o1", provOpenAI}, {"o3", provOpenAI}, {"o4", provOpenAI}, {"chatgpt-", provOpenAI},
	{"text-davinci", provOpenAI}, {"text-embedding", provOpenAI}, {"llama", provOpenAI}, {"mistral", provOpenAI}, {"mixtral", provOpenAI},
}

// classify names the provider of a parser id or model name: the SDK's
// parser ids first, then name rules; nil when unknown. byName reports
// that only a name rule matched.
func classify(id string) (p *provider, byName bool) {
	if p := parserIDs[strings.ToLower(id)]; p != nil {
		return p, false
	}
	if groqModels[id] {
		return provGroq, true
	}
	for _, r := range nameRules {
		if strings.HasPrefix(id, r.prefix) {
			return r.p, true
		}
	}
	return nil, false
}

// Route is where a model name goes. Each route carries its provider and
// that provider's key variable, so no rule sends one provider's key to
// another's host.
type Route struct {
	Model     string // model name after --model mapping
	Parser    string // client id: "openai", "gemini", ..., or an SDK id aieval cannot run
	Provider  string // the service: openai, groq, gemini, azure, huggingface, anthropic, bedrock, ...
	BaseURL   string // "" when the client's default applies
	APIKeyEnv string // "" when the client's default applies
	APIModel  string // name sent to the API (an Azure deployment)
	Supported bool
}

// route decides the provider and endpoint of a (renamed) model.
// Precedence: the suite's endpoint mapping (an OpenAI-compatible endpoint
// unless it names a provider), the aiconfig's model_parsers, the
// settings' provider, then the model name as an SDK parser id, then name
// rules. A base_url in the settings of a model known only by a name rule
// means an OpenAI-compatible server, as before native clients existed.
func (r *Runtime) route(meta *Metadata, model string, settings map[string]any) Route {
	ep := r.opts.Endpoints[model]
	rt := Route{Model: model, BaseURL: ep.BaseURL, APIKeyEnv: ep.APIKeyEnv, APIModel: ep.Model}
	id := ep.Provider
	if id == "" && ep.BaseURL != "" {
		id = ParserOpenAI
	}
	if id == "" && meta != nil {
		id = meta.ModelParsers[model]
	}
	if id == "" {
		id = str(settings[settingProvider])
	}
	if id == "" {
		id = model
	}
	if rt.BaseURL == "" {
		rt.BaseURL = str(settings[settingBaseURL])
	}
	if rt.APIKeyEnv == "" {
		rt.APIKeyEnv = str(settings[settingAPIKeyEnv])
	}
	if rt.APIModel == "" {
		rt.APIModel = str(settings[settingModelField])
	}
	if rt.APIModel == "" {
		rt.APIModel = model
	}
	p, byName := classify(id)
	switch {
	case rt.BaseURL != "" && (p == nil || byName || p.retired != "" || p == provSDKOnly):
		// An explicit endpoint for a model no parser id claims: any
		// OpenAI-compatible server.
		p = provOpenAI
	case p == nil || p.parser == "":
		rt.Parser = id
		if p != nil {
			rt.Provider = p.id
		}
		return rt
	}
	rt.Parser, rt.Provider, rt.Supported = p.parser, p.id, true
	if p == provAzure {
		for _, k := range llm.AzureDeploymentKeys {
			if d := str(settings[k]); d != "" {
				rt.APIModel = d
				break
			}
		}
	}
	if p == provOpenAI || p == provEcho {
		return rt // the OpenAI client reads OPENAI_BASE_URL and OPENAI_API_KEY itself
	}
	if rt.BaseURL == "" && p.baseEnv != "" {
		rt.BaseURL = r.getenv(p.baseEnv)
	}
	if rt.BaseURL == "" && p == provBedrock {
		rt.BaseURL = r.bedrockEndpoint()
	}
	if rt.BaseURL == "" {
		rt.BaseURL = p.base // the endpoint is part of the cache key
	}
	if rt.APIKeyEnv == "" && len(p.keyEnvs) > 0 {
		rt.APIKeyEnv = p.keyEnvs[0]
		if p.keyName != "" {
			rt.APIKeyEnv = p.keyName
		}
		for _, k := range p.keyEnvs {
			if r.getenv(k) != "" {
				rt.APIKeyEnv = k
				break
			}
		}
	}
	return rt
}

// PromptRoute reports where the named prompt of c is sent: its model
// after --model renaming, with its merged settings. ok is false when c has
// no such prompt.
func (r *Runtime) PromptRoute(c *Config, prompt string) (mr ModelRoute, ok bool) {
	p, ok := c.Prompt(prompt)
	if !ok {
		return ModelRoute{}, false
	}
	meta := c.Metadata()
	model, settings := r.settingsFor(&meta, p)
	return r.RouteOf(&meta, model, settings), true
}

// bedrockEndpoint is the endpoint the Bedrock client will use when the
// request names none: $AWS_ENDPOINT_URL_BEDROCK_RUNTIME, $AWS_ENDPOINT_URL,
// else the regional host of $AWS_REGION / $AWS_DEFAULT_REGION. Putting it
// in the request puts the region in the cache identity: an answer
// recorded in us-east-1 is not replayed for eu-west-1. "" when only the
// AWS profile names the region (the client resolves it).
func (r *Runtime) bedrockEndpoint() string {
	for _, k := range []string{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"} {
		if v := r.getenv(k); v != "" {
			return v
		}
	}
	region := r.getenv("AWS_REGION")
	if region == "" {
		region = r.getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return ""
	}
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// ModelRoute is where calls of one model go, for `aieval validate -v`:
// the provider, the endpoint (no credentials) and the key variable.
type ModelRoute struct {
	Model     string `json:"model"`
	APIModel  string `json:"api_model,omitempty"` // the name sent, when not Model (settings' model, an Azure deployment)
	Provider  string `json:"provider"`
	Parser    string `json:"parser"`
	Endpoint  string `json:"endpoint,omitempty"`
	KeyEnv    string `json:"key_env,omitempty"` // a variable name, or "AWS credential chain"
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"` // why it cannot run
}

// RouteOf reports where model's calls go, with the settings it has in the
// aiconfig (global merged with the prompt's).
func (r *Runtime) RouteOf(meta *Metadata, model string, settings map[string]any) ModelRoute {
	rt := r.route(meta, model, settings)
	mr := ModelRoute{Model: model, Provider: rt.Provider, Parser: rt.Parser, Supported: rt.Supported, KeyEnv: rt.APIKeyEnv, Endpoint: rt.BaseURL}
	if rt.APIModel != model {
		mr.APIModel = rt.APIModel
	}
	if rt.Supported {
		if _, ok := r.parsers[rt.Parser]; !ok && r.parsers != nil {
			mr.Supported = false
		}
	}
	if !mr.Supported {
		mr.Reason = (&UnsupportedError{Model: model, Parser: rt.Parser}).Error()
	}
	switch rt.Provider {
	case "openai":
		if mr.Endpoint == "" {
			mr.Endpoint = r.getenv("OPENAI_BASE_URL")
		}
		if mr.Endpoint == "" {
			mr.Endpoint = llm.DefaultBaseURL
		}
		if mr.KeyEnv == "" {
			mr.KeyEnv = "OPENAI_API_KEY"
		}
	case "anthropic":
		if mr.Endpoint == "" {
			mr.Endpoint = provAnthropic.base
		}
	case "bedrock":
		if mr.Endpoint == "" {
			// The region comes from the AWS profile at call time.
			mr.Endpoint = "https://bedrock-runtime.$AWS_REGION.amazonaws.com"
		}
		mr.KeyEnv = "AWS credential chain"
	case "echo":
		mr.Endpoint, mr.KeyEnv = "", ""
	}
	mr.Endpoint = withoutCredentials(mr.Endpoint)
	return mr
}

// withoutCredentials drops user info and the query (where keys hide) from
// an endpoint URL. Routes are computed per test (the grader's too) over a
// handful of endpoints: the answers are kept, not parsed again each time.
func withoutCredentials(s string) string {
	if v, ok := credless.Load(s); ok {
		return v.(string)
	}
	out := stripCredentials(s)
	if credlessN.Add(1) <= maxCredless {
		credless.Store(s, out)
	}
	return out
}

var (
	credless    sync.Map // endpoint -> withoutCredentials(endpoint)
	credlessN   atomic.Int32
	maxCredless = int32(256)
)

func stripCredentials(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimRight(u.String(), "/")
}

// providerSettings are the settings sent to a route's client: each client
// gets the keys it maps, the rest (system_prompt, stream, base_url, SDK
// extras) stays in aieval as FilterSettings does for OpenAI.
func providerSettings(rt Route, s map[string]any) map[string]any {
	if len(s) == 0 {
		return nil
	}
	keys := providerSettingSets[rt.Parser]
	if keys == nil {
		keys = openAISettingSet
	}
	return keepSet(s, keys)
}

// The key lists as sets, made once: routing filters every request's
// settings through them.
var (
	openAISettingSet    = keySet(OpenAISettingKeys)
	providerSettingSets = func() map[string]map[string]bool {
		out := make(map[string]map[string]bool, len(providerSettingKeys))
		for id, keys := range providerSettingKeys {
			out[id] = keySet(keys)
		}
		return out
	}()
)

var providerSettingKeys = map[string][]string{
	ParserGemini:      llm.GeminiSettingKeys(),
	ParserHuggingFace: llm.HuggingFaceSettingKeys(),
	ParserAnthropic:   llm.ClaudeSettingKeys,
	ParserBedrock:     llm.ClaudeSettingKeys,
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// UnsupportedError is returned by Run for a model whose parser aieval
// cannot run. It unwraps to an *llm.Error of kind unsupported.
type UnsupportedError struct {
	Model  string
	Parser string
}

func (e *UnsupportedError) Error() string {
	p, _ := classify(e.Parser)
	if p == nil {
		p, _ = classify(e.Model)
	}
	switch {
	case p == provPaLM:
		return fmt.Sprintf("model %q uses PaLM (parser %q), which Google retired: map it to a Gemini model with `models: {%s: {provider: gemini, model: gemini-1.5-flash}}` in the suite, or --model %s=gemini-1.5-flash",
			e.Model, e.Parser, e.Model, e.Model)
	case p == provAnyscale:
		return fmt.Sprintf("model %q uses Anyscale Endpoints (parser %q), whose shared endpoint %s shut down in August 2024: remap it with `models: {%s: {base_url: ..., api_key_env: ...}}` in the suite (any OpenAI-compatible host) or --model %s=...",
			e.Model, e.Parser, AnyscaleBaseURL, e.Model, e.Model)
	case p != nil && p.parser != "":
		return fmt.Sprintf("model %q uses provider %q, which this build of aieval cannot run: map it to an OpenAI-compatible endpoint with `models: {%s: {base_url: ..., api_key_env: ...}}` in the suite",
			e.Model, p.id, e.Model)
	}
	return fmt.Sprintf("model %q uses parser %q, which aieval cannot run: map it to an OpenAI-compatible endpoint with `models: {%s: {base_url: ..., api_key_env: ...}}` in the suite or base_url in the model settings",
		e.Model, e.Parser, e.Model)
}

func (e *UnsupportedError) Unwrap() error {
	return &llm.Error{Kind: llm.KindUnsupported, Model: e.Model, Msg: "parser " + e.Parser}
}

// KnownModel reports whether name is a model or parser id the AIConfig SDK
// or aieval knows by name (runnable or not).
func KnownModel(name string) bool {
	p, _ := classify(name)
	return p != nil
}

// ProviderIDs lists the providers routing knows, for help texts.
func ProviderIDs() []string {
	seen := map[string]bool{}
	for _, p := range parserIDs {
		seen[p.id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Parsers builds one client per parser id aieval runs natively, all
// sharing opts (HTTP client, retries, environment). run and prompt both
// use it, so a provider added here is reachable from every command. Pass
// the same Getenv as Options.Getenv, so routing and the clients read one
// environment.
func Parsers(opts llm.OpenAIOptions) map[string]llm.Client {
	return map[string]llm.Client{
		ParserOpenAI:      llm.NewOpenAI(opts),
		ParserEcho:        llm.Echo{},
		ParserGemini:      llm.NewGemini(opts),
		ParserAzure:       llm.NewAzure(opts),
		ParserHuggingFace: llm.NewHuggingFace(opts),
		ParserAnthropic:   llm.NewAnthropic(opts),
		ParserBedrock:     llm.NewBedrock(opts),
	}
}

// getenv is Options.Getenv, else os.Getenv.
func (r *Runtime) getenv(k string) string {
	if r.opts.Getenv != nil {
		return r.opts.Getenv(k)
	}
	return os.Getenv(k)
}
