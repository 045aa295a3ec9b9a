package llm

import (
	"fmt"
	"sort"
)

// geminiConfigKeys maps the SDK's and OpenAI's flat setting names to
// generationConfig fields.
var geminiConfigKeys = map[string]string{
	"temperature": "temperature", "top_p": "topP", "top_k": "topK",
	"max_output_tokens": "maxOutputTokens", "max_tokens": "maxOutputTokens",
	"max_completion_tokens": "maxOutputTokens", "max_tokens_to_sample": "maxOutputTokens",
	"stop": "stopSequences", "stop_sequences": "stopSequences",
	"candidate_count": "candidateCount", "n": "candidateCount",
	"presence_penalty": "presencePenalty", "frequency_penalty": "frequencyPenalty",
	"seed": "seed", "response_mime_type": "responseMimeType", "response_schema": "responseSchema",
	"response_logprobs": "responseLogprobs", "logprobs": "responseLogprobs", "top_logprobs": "logprobs",
	"thinking_config": "thinkingConfig",
}

// GeminiSettingKeys are the model settings the Gemini client maps.
func GeminiSettingKeys() []string {
	keys := []string{"generation_config", "safety_settings", "tools", "functions", "tool_choice",
		"function_call", "response_format", "tool_config"}
	for k := range geminiConfigKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func geminiSettings(body map[string]any, settings map[string]any) error {
	cfg := map[string]any{}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The SDK's nested generation_config first, so flat keys win.
	if v := normalize(settings["generation_config"]); v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("setting generation_config: want a map, got %T", v)
		}
		for k, x := range m {
			field := k
			if f, ok := geminiConfigKeys[k]; ok {
				field = f
			}
			if err := setGeminiConfig(cfg, field, x); err != nil {
				return fmt.Errorf("setting generation_config.%s: %w", k, err)
			}
		}
	}
	var tools []map[string]any
	var decls []any
	for _, k := range keys {
		v := normalize(settings[k])
		if v == nil || k == "generation_config" {
			continue
		}
		if field, ok := geminiConfigKeys[k]; ok {
			if err := setGeminiConfig(cfg, field, v); err != nil {
				return fmt.Errorf("setting %s: %w", k, err)
			}
			continue
		}
		switch k {
		case "model", "stream", "stream_options":
		case "safety_settings":
			body["safetySettings"] = v
		case "tool_config":
			body["toolConfig"] = v
		case "tools":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("setting tools: want a list, got %T", v)
			}
			for _, t := range list {
				tm, _ := t.(map[string]any)
				switch {
				case tm["type"] == "function" && tm["function"] != nil:
					decls = append(decls, tm["function"])
				case tm["functionDeclarations"] != nil || tm["function_declarations"] != nil ||
					tm["googleSearch"] != nil || tm["codeExecution"] != nil:
					tools = append(tools, tm) // already in Gemini's shape
				default:
					return fmt.Errorf("setting tools: want OpenAI function tools or Gemini tools, got %s", shorten(fmt.Sprint(t), 80))
				}
			}
		case "functions":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("setting functions: want a list, got %T", v)
			}
			decls = append(decls, list...)
		case "tool_choice", "function_call":
			tc, err := geminiToolChoice(v)
			if err != nil {
				return fmt.Errorf("setting %s: %w", k, err)
			}
			body["toolConfig"] = tc
		case "response_format":
			m, _ := v.(map[string]any)
			switch m["type"] {
			case "json_object":
				cfg["responseMimeType"] = "application/json"
			case "json_schema":
				cfg["responseMimeType"] = "application/json"
				if js, ok := m["json_schema"].(map[string]any); ok && js["schema"] != nil {
					cfg["responseJsonSchema"] = js["schema"]
				}
			case "text":
			default:
				return fmt.Errorf("setting response_format: want type text, json_object or json_schema")
			}
		default:
			return unknownSetting("Gemini", k)
		}
	}
	if len(decls) > 0 {
		for _, d := range decls {
			dm, ok := d.(map[string]any)
			if !ok || dm["name"] == nil {
				return fmt.Errorf("setting tools: a function needs a name")
			}
			delete(dm, "strict") // OpenAI's; Gemini refuses unknown fields
		}
		tools = append(tools, map[string]any{"functionDeclarations": decls})
	}
	if len(tools) > 0 {
		body["tools"] = tools
	}
	if len(cfg) > 0 {
		body["generationConfig"] = cfg
	}
	return nil
}

func setGeminiConfig(cfg map[string]any, field string, v any) error {
	v = normalize(v)
	switch field {
	case "temperature", "topP", "presencePenalty", "frequencyPenalty":
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		cfg[field] = f
	case "topK", "maxOutputTokens", "candidateCount", "seed", "logprobs":
		n, err := toInt(v)
		if err != nil {
			return err
		}
		cfg[field] = n
	case "stopSequences":
		switch s := v.(type) {
		case string:
			cfg[field] = []string{s}
		case []any:
			out := make([]string, 0, len(s))
			for _, x := range s {
				str, ok := x.(string)
				if !ok {
					return fmt.Errorf("want a string or a list of strings, got a %T in the list", x)
				}
				out = append(out, str)
			}
			cfg[field] = out
		default:
			return fmt.Errorf("want a string or a list of strings, got %T", v)
		}
	case "responseLogprobs":
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %T", v)
		}
		cfg[field] = b
	default:
		cfg[field] = v
	}
	return nil
}

// geminiToolChoice maps OpenAI's tool_choice to toolConfig.
func geminiToolChoice(v any) (map[string]any, error) {
	mode := func(m string, names ...string) map[string]any {
		fc := map[string]any{"mode": m}
		if len(names) > 0 {
			fc["allowedFunctionNames"] = names
		}
		return map[string]any{"functionCallingConfig": fc}
	}
	switch x := v.(type) {
	case string:
		switch x {
		case "auto":
			return mode("AUTO"), nil
		case "none":
			return mode("NONE"), nil
		case "required", "any":
			return mode("ANY"), nil
		}
	case map[string]any:
		if f, ok := x["function"].(map[string]any); ok {
			if name, ok := f["name"].(string); ok {
				return mode("ANY", name), nil
			}
		}
		if name, ok := x["name"].(string); ok { // function_call: {name: f}
			return mode("ANY", name), nil
		}
	}
	return nil, fmt.Errorf("want auto, none, required or {function: {name: ...}}")
}
