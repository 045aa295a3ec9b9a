package llm

import "strings"

// keyHome is where the key in a well-known variable may be sent: the host
// of its provider's endpoint variable when set, else its provider's own
// hosts. A suite in a pull request chooses base_url and api_key_env, so
// without this it could name OPENAI_API_KEY (or GITHUB_TOKEN) and send it
// to any host. No origins and no endpoint variable: never sent.
type keyHome struct {
	endpointEnv string
	origins     []string
}

var keyHomes = map[string]keyHome{
	"OPENAI_API_KEY":            {"OPENAI_BASE_URL", []string{"https://api.openai.com"}},
	"GROQ_API_KEY":              {"GROQ_BASE_URL", []string{"https://api.groq.com"}},
	"ANTHROPIC_API_KEY":         {"ANTHROPIC_BASE_URL", []string{"https://api.anthropic.com"}},
	"GEMINI_API_KEY":            {"GOOGLE_GEMINI_BASE_URL", []string{"https://generativelanguage.googleapis.com"}},
	"GOOGLE_API_KEY":            {"GOOGLE_GEMINI_BASE_URL", []string{"https://generativelanguage.googleapis.com"}},
	"AZURE_OPENAI_API_KEY":      {"AZURE_OPENAI_ENDPOINT", nil},
	"HF_TOKEN":                  {"HF_INFERENCE_ENDPOINT", []string{"https://api-inference.huggingface.co", "https://router.huggingface.co"}},
	"HUGGING_FACE_API_TOKEN":    {"HF_INFERENCE_ENDPOINT", []string{"https://api-inference.huggingface.co", "https://router.huggingface.co"}},
	"MISTRAL_API_KEY":           {"", []string{"https://api.mistral.ai"}},
	"TOGETHER_API_KEY":          {"", []string{"https://api.together.xyz"}},
	"XAI_API_KEY":               {"", []string{"https://api.x.ai"}},
	"DEEPSEEK_API_KEY":          {"", []string{"https://api.deepseek.com"}},
	"OPENROUTER_API_KEY":        {"", []string{"https://openrouter.ai"}},
	"ANYSCALE_ENDPOINT_API_KEY": {"", []string{"https://api.endpoints.anyscale.com"}},
	"GITHUB_TOKEN":              {"", []string{"https://models.github.ai", "https://models.inference.ai.azure.com"}},
	"GH_TOKEN":                  {"", []string{"https://models.github.ai", "https://models.inference.ai.azure.com"}},
	// Credentials that are no model API key at all.
	"AWS_SECRET_ACCESS_KEY":          {},
	"AWS_SESSION_TOKEN":              {},
	"AWS_ACCESS_KEY_ID":              {},
	"ACTIONS_RUNTIME_TOKEN":          {},
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": {},
}

// keyOrigins returns where the key in variable name may go, and whether
// name is bound at all (other names are the suite's own choice).
func (o *OpenAI) keyOrigins(name string) (origins []string, via string, bound bool) {
	home, ok := keyHomes[name]
	if !ok {
		return nil, "", false
	}
	if name == "OPENAI_API_KEY" {
		return []string{origin(o.Endpoint(""))}, "OPENAI_BASE_URL", true
	}
	if home.endpointEnv != "" {
		if v := strings.TrimSpace(o.getenv(home.endpointEnv)); v != "" {
			return []string{origin(v)}, home.endpointEnv, true
		}
	}
	return home.origins, home.endpointEnv, true
}
