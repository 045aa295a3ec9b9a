package runtime

import (
	"fmt"
	"strings"

	"github.com/aieval/aieval/runtime/llm"
)

// Parser ids aieval runs natively.
const (
	ParserOpenAI = "openai"
	ParserEcho   = "echo"
)

// Well-known OpenAI-compatible hosts the SDK has parsers for.
const (
	AnyscaleBaseURL   = "https://api.endpoints.anyscale.com/v1"
	AnyscaleKeyEnv    = "ANYSCALE_ENDPOINT_API_KEY"
	GroqBaseURL       = "https://api.groq.com/openai/v1"
	GroqKeyEnv        = "GROQ_API_KEY"
	settingBaseURL    = "base_url"
	settingAPIKeyEnv  = "api_key_env"
	settingProvider   = "provider"
	settingStream     = "stream"
	settingSystem     = "system_prompt"
	settingModelField = "model"
)

// openAIPrefixes are model names served by OpenAI or by the common
// OpenAI-compatible servers (Ollama, vLLM, Groq, Together...).
var openAIPrefixes = []string{"gpt-", "o1", "o3", "o4", "chatgpt-", "text-davinci", "text-embedding", "llama", "mistral", "mixtral"}

// sdkOnlyPrefixes are the SDK's model names and parser ids that aieval has
// no native client for. They load and validate; running them needs a
// base_url mapping.
var sdkOnlyPrefixes = []string{
	"gemini", "models/", "palm", "PaLM", "HuggingFace", "huggingface", "dall-e", "Claude", "claude",
	"Bedrock", "Azure", "azure", "gpt-35", "text-to-image", "Text2Image", "whisper", "LLaMA",
	"LlamaGuard", "stable-diffusion", "tts-", "Gemini",
}

// Route is where a model name goes: the parser id and endpoint.
type Route struct {
	Model     string // model name after --model mapping
	Parser    string // parser id: "openai", "echo", or an SDK id aieval cannot run
	BaseURL   string
	APIKeyEnv string
	APIModel  string // name sent to the API
	Supported bool
}

// parserByName maps an id or model name to a native parser id, "" when
// unknown, and whether the SDK knows the name at all.
func parserByName(id string) (native string, known bool) {
	switch strings.ToLower(id) {
	case "echo":
		return ParserEcho, true
	case "openai", "chatgpt", "openaiparser", "defaultopenaiparser":
		return ParserOpenAI, true
	case "anyscaleendpoint", "anyscale", "groq", "groqparser":
		return ParserOpenAI, true
	}
	for _, p := range sdkOnlyPrefixes {
		if strings.HasPrefix(id, p) {
			return "", true
		}
	}
	for _, p := range openAIPrefixes {
		if strings.HasPrefix(id, p) {
			return ParserOpenAI, true
		}
	}
	return "", false
}

// hostDefaults gives the endpoint of the SDK's hosted OpenAI-compatible parsers.
func hostDefaults(id string) (baseURL, keyEnv string) {
	switch strings.ToLower(id) {
	case "anyscaleendpoint", "anyscale":
		return AnyscaleBaseURL, AnyscaleKeyEnv
	case "groq", "groqparser":
		return GroqBaseURL, GroqKeyEnv
	}
	return "", ""
}

// route decides the parser and endpoint of a (renamed) model. Precedence:
// the suite's endpoint, the aiconfig's model_parsers, the settings'
// provider, then the name itself.
func (r *Runtime) route(meta *Metadata, model string, settings map[string]any) Route {
	ep := r.opts.Endpoints[model]
	rt := Route{Model: model, Parser: ep.Provider, BaseURL: ep.BaseURL, APIKeyEnv: ep.APIKeyEnv, APIModel: ep.Model}
	if rt.Parser == "" && meta != nil {
		rt.Parser = meta.ModelParsers[model]
	}
	if rt.Parser == "" {
		rt.Parser = str(settings[settingProvider])
	}
	if rt.Parser == "" {
		rt.Parser = model
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
	if base, key := hostDefaults(rt.Parser); base != "" {
		if rt.BaseURL == "" {
			rt.BaseURL = base
		}
		if rt.APIKeyEnv == "" {
			rt.APIKeyEnv = key
		}
	}
	native, _ := parserByName(rt.Parser)
	switch {
	case native != "":
		rt.Parser = native
		rt.Supported = true
	case rt.BaseURL != "":
		// Any model with an endpoint is assumed OpenAI-compatible.
		rt.Parser = ParserOpenAI
		rt.Supported = true
	}
	return rt
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
	return fmt.Sprintf("model %q uses parser %q, which aieval cannot run: map it to an OpenAI-compatible endpoint with `models: {%s: {base_url: ..., api_key_env: ...}}` in the suite or base_url in the model settings",
		e.Model, e.Parser, e.Model)
}

func (e *UnsupportedError) Unwrap() error {
	return &llm.Error{Kind: llm.KindUnsupported, Model: e.Model, Msg: "parser " + e.Parser}
}

// KnownModel reports whether name is a model or parser id the AIConfig SDK
// or aieval knows by name (runnable or not).
func KnownModel(name string) bool {
	_, known := parserByName(name)
	return known
}

// defaultParsers are used when Options.Parsers is nil.
func defaultParsers() map[string]ModelParser {
	return map[string]ModelParser{
		ParserOpenAI: llm.NewOpenAI(llm.OpenAIOptions{}),
		ParserEcho:   llm.Echo{},
	}
}
