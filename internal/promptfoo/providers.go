package promptfoo

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// modelSet is the aiconfig's metadata.models being built.
type modelSet struct {
	byKey map[string]map[string]any
	order []string
}

// add returns the key of a model with these settings, adding it (under
// key, or key_2 ... when another model already has that name).
func (ms *modelSet) add(key string, settings map[string]any) string {
	for i := 1; ; i++ {
		k := key
		if i > 1 {
			k = key + "_" + strconv.Itoa(i)
		}
		cur, taken := ms.byKey[k]
		if !taken {
			ms.byKey[k] = settings
			ms.order = append(ms.order, k)
			return k
		}
		if reflect.DeepEqual(cur, settings) {
			return k
		}
	}
}

// OpenAI-compatible hosts promptfoo names by prefix.
var compatHosts = map[string][2]string{ // prefix: base URL, key variable
	"mistral":    {"https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
	"deepseek":   {"https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"},
	"openrouter": {"https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
	"togetherai": {"https://api.together.xyz/v1", "TOGETHER_API_KEY"},
	"perplexity": {"https://api.perplexity.ai", "PERPLEXITY_API_KEY"},
	"fireworks":  {"https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"},
	"xai":        {"https://api.x.ai/v1", "XAI_API_KEY"},
	"localai":    {"http://localhost:8080/v1", ""},
}

const ollamaBaseURL = "http://127.0.0.1:11434/v1"

// oModel matches OpenAI's o-series names (o1, o3-mini, o4-mini).
var oModel = regexp.MustCompile(`^o\d`)

// providers reads `providers:` (or `targets:`): ids, {id, label, config},
// or {id: {config, label}} maps. It returns the model keys, in order.
func (im *importer) providers(n *yaml.Node, ms *modelSet) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id, label string, config, at *yaml.Node) {
		if k, ok := im.provider(id, label, config, at, ms); ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	item := func(c *yaml.Node) {
		c = resolveAlias(c)
		switch c.Kind {
		case yaml.ScalarNode:
			add(c.Value, "", nil, c)
		case yaml.MappingNode:
			keys, f, at := fields(c)
			if f["id"] != nil {
				for _, k := range keys {
					switch k {
					case "id", "label", "config":
					default:
						im.noteAt(at[k], "provider %s: %s not mapped", f["id"].Value, k)
					}
				}
				label := ""
				if f["label"] != nil {
					label = f["label"].Value
				}
				add(f["id"].Value, label, f["config"], c)
				return
			}
			for _, k := range keys { // {openai:gpt-4: {config: ...}}
				_, sub, _ := fields(f[k])
				label := ""
				if sub["label"] != nil {
					label = sub["label"].Value
				}
				add(k, label, sub["config"], at[k])
			}
		default:
			im.noteAt(c, "provider: expected an id or {id, config}: skipped")
		}
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			item(c)
		}
	default:
		item(n)
	}
	return out
}

// provider maps one provider to a model of the aiconfig and returns its key.
func (im *importer) provider(id, label string, config, at *yaml.Node, ms *modelSet) (string, bool) {
	if strings.HasPrefix(id, "file://") || strings.HasPrefix(id, "exec:") || strings.HasPrefix(id, "python:") ||
		strings.HasPrefix(id, "http:") || strings.HasPrefix(id, "https:") || strings.HasPrefix(id, "webhook:") {
		im.noteAt(at, "provider %s: custom providers (scripts, HTTP targets) are not mapped; give the aiconfig a model aieval calls, or serve it as an OpenAI-compatible endpoint and set base_url", id)
		return "", false
	}
	parts := strings.Split(id, ":")
	vendor, rest := parts[0], parts[1:]
	// The model is the last part; a middle part is the API (chat,
	// completion, messages). Bedrock model ids hold colons themselves
	// (anthropic.claude-3-5-sonnet-20241022-v2:0).
	model, api := "", ""
	switch {
	case vendor == "bedrock" && len(rest) > 1 && !strings.Contains(rest[0], "."):
		api, model = rest[0], strings.Join(rest[1:], ":")
	case vendor == "bedrock":
		model = strings.Join(rest, ":")
	case len(rest) == 1:
		model = rest[0]
	case len(rest) > 1:
		api, model = rest[0], strings.Join(rest[1:], ":")
	}
	settings := map[string]any{}
	switch vendor {
	case "echo":
		model = "echo"
	case "openai":
		switch api {
		case "", "chat", "completion", "responses", "embedding", "embeddings":
		default:
			im.noteAt(at, "provider %s: the OpenAI %s API is not mapped (chat models only)", id, api)
			return "", false
		}
		if !strings.HasPrefix(model, "gpt-") && !oModel.MatchString(model) && !strings.HasPrefix(model, "text-embedding") && !strings.HasPrefix(model, "chatgpt-") {
			settings["provider"] = "openai"
		}
	case "anthropic":
		if !strings.HasPrefix(model, "claude-") {
			settings["provider"] = "anthropic"
		}
	case "vertex", "google":
		if vendor == "vertex" {
			im.noteAt(at, "provider %s: mapped to the Gemini API (GEMINI_API_KEY or GOOGLE_API_KEY), not Vertex AI's project credentials", id)
		}
		if !strings.HasPrefix(model, "gemini-") {
			settings["provider"] = "gemini"
		}
	case "ollama":
		settings["base_url"] = ollamaBaseURL
	case "azure", "azureopenai":
		settings["provider"] = "azure"
		settings["deployment"] = model
	case "bedrock":
		if !strings.Contains(model, "anthropic.claude") {
			im.noteAt(at, "provider %s: aieval's Bedrock client runs Claude models only; not mapped", id)
			return "", false
		}
		settings["provider"] = "bedrock"
	case "groq":
		settings["provider"] = "groq"
	case "huggingface", "hf":
		settings["provider"] = "huggingface"
	default:
		host, ok := compatHosts[vendor]
		if !ok {
			im.noteAt(at, "provider %s: not mapped (aieval calls OpenAI-compatible endpoints, Anthropic, Gemini, Azure OpenAI, Claude on Bedrock, Hugging Face and Groq)", id)
			return "", false
		}
		settings["base_url"] = host[0]
		if host[1] != "" {
			settings["api_key_env"] = host[1]
		}
	}
	if model == "" {
		im.noteAt(at, "provider %s names no model: not mapped", id)
		return "", false
	}
	key := model
	if label != "" {
		key = slug(label)
	}
	if vendor == "azure" || vendor == "azureopenai" {
		key = "azure-" + model
		if label != "" {
			key = slug(label)
		}
	}
	if key != model && vendor != "azure" && vendor != "azureopenai" {
		settings["model"] = model
	}
	if config != nil {
		im.providerConfig(id, vendor, config, settings)
	}
	return ms.add(key, settings), true
}

// configKeys maps promptfoo's provider config keys to aiconfig model
// settings ("" = the same name).
var configKeys = map[string]string{
	"temperature": "", "max_tokens": "", "top_p": "", "top_k": "", "frequency_penalty": "", "presence_penalty": "",
	"stop": "", "seed": "", "response_format": "", "tools": "", "tool_choice": "", "logprobs": "", "top_logprobs": "",
	"max_completion_tokens": "", "reasoning_effort": "",
	"maxTokens": "max_tokens", "max_output_tokens": "max_tokens", "maxOutputTokens": "max_tokens", "topP": "top_p", "topK": "top_k",
	"stopSequences": "stop", "stop_sequences": "stop",
	"apiBaseUrl": "base_url", "apiHost": "base_url", "baseUrl": "base_url", "base_url": "",
	"apiKeyEnvar":   "api_key_env",
	"deployment_id": "deployment", "deploymentName": "deployment",
}

func (im *importer) providerConfig(id, vendor string, config *yaml.Node, settings map[string]any) {
	keys, f, at := fields(config)
	for _, k := range keys {
		v := plain(f[k])
		switch k {
		case "apiKey":
			im.noteAt(at[k], "provider %s: config.apiKey not copied (aieval never writes a key): put it in an environment variable and set apiKeyEnvar", id)
			continue
		case "region":
			im.noteAt(at[k], "provider %s: config.region not mapped: set AWS_REGION", id)
			continue
		case "generationConfig":
			sub, _ := v.(map[string]any)
			for sk, sv := range sub {
				if to, ok := configKeys[sk]; ok {
					if to == "" {
						to = sk
					}
					settings[to] = sv
				} else {
					im.noteAt(at[k], "provider %s: config.generationConfig.%s not mapped", id, sk)
				}
			}
			continue
		}
		to, ok := configKeys[k]
		if !ok {
			im.noteAt(at[k], "provider %s: config.%s not mapped", id, k)
			continue
		}
		if to == "" {
			to = k
		}
		if s, isText := v.(string); isText && strings.HasPrefix(s, "file://") {
			if k == "tools" || k == "response_format" {
				if data, err := readLimited(im.ref(s)); err == nil {
					var doc any
					if yaml.Unmarshal(data, &doc) == nil {
						v = normalize(doc)
						// JSON round trip: yaml may give int keys.
						if b, err := json.Marshal(v); err == nil {
							_ = json.Unmarshal(b, &v)
						}
					}
				}
			}
			if s2, still := v.(string); still && strings.HasPrefix(s2, "file://") {
				im.noteAt(at[k], "provider %s: config.%s from %s could not be read: not mapped", id, k, s)
				continue
			}
		}
		if to == "base_url" {
			s, _ := v.(string)
			if !strings.Contains(s, "://") {
				s = "https://" + s
			}
			v = s
		}
		settings[to] = v
	}
}
