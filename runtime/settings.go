package runtime

// OpenAISettingKeys are the settings sent to the model API; every other
// key in model settings (system_prompt, stream, base_url, provider, SDK
// extras...) stays in aieval.
var OpenAISettingKeys = []string{
	"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "n",
	"presence_penalty", "frequency_penalty", "logit_bias", "tools", "tool_choice",
	"functions", "function_call", "response_format", "seed", "user", "logprobs", "top_logprobs",
}

// FilterSettings keeps only OpenAISettingKeys.
func FilterSettings(s map[string]any) map[string]any {
	if out := keepKeys(s, OpenAISettingKeys); out != nil {
		return out
	}
	return map[string]any{}
}

// keepKeys is s restricted to keys, nil when none is set: most prompts
// send no setting, and a request's Settings is then nil anyway.
func keepKeys(s map[string]any, keys []string) map[string]any {
	if len(s) == 0 {
		return nil
	}
	return keepSet(s, keySet(keys))
}

// keepSet is keepKeys with the keys as a set: a model's settings are a
// few keys, so looking each up in the set costs less than looking every
// allowed key up in them.
func keepSet(s map[string]any, keys map[string]bool) map[string]any {
	var out map[string]any
	for k, v := range s {
		if keys[k] {
			if out == nil {
				out = make(map[string]any, len(s))
			}
			out[k] = v
		}
	}
	return out
}

// keySet is keys as a set.
func keySet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// modelOf is the prompt's model name before any --model mapping.
func modelOf(meta *Metadata, p *Prompt) string {
	if p.Model != "" {
		return p.Model
	}
	return meta.DefaultModel
}

// settingsFor merges settings as the SDK's get_model_settings, then applies
// a --model rename: the new model's global settings win, the prompt's other
// settings stay, and keys that pinned the old model are dropped.
func (r *Runtime) settingsFor(meta *Metadata, p *Prompt) (model string, settings map[string]any) {
	return r.settingsAs(meta, p, "")
}

// settingsAs is settingsFor with the prompt's model first replaced by as
// (a matrix model, RunOptions.Model; "" keeps it), renamed the same way a
// --model mapping renames; the mapping then applies to the new model.
//
// The map may be the Config's own (when there is nothing to merge):
// callers read it and never change it.
func (r *Runtime) settingsAs(meta *Metadata, p *Prompt, as string) (model string, settings map[string]any) {
	model = modelOf(meta, p)
	if as == "" || as == model {
		if to, ok := r.opts.ModelMap[model]; !ok || to == model {
			// Nothing renamed: one of the two maps alone, shared, spares
			// a merged copy per call.
			switch g := meta.Models[model]; {
			case len(p.Settings) == 0:
				return model, g
			case len(g) == 0:
				return model, p.Settings
			}
		}
	}
	settings = make(map[string]any, len(meta.Models[model])+len(p.Settings))
	for k, x := range meta.Models[model] {
		settings[k] = x
	}
	for k, x := range p.Settings {
		settings[k] = x
	}
	rename := func(to string) {
		model = to
		for _, k := range []string{settingModelField, settingBaseURL, settingAPIKeyEnv, settingProvider} {
			delete(settings, k)
		}
		for k, x := range meta.Models[model] {
			settings[k] = x
		}
	}
	if as != "" && as != model {
		rename(as)
	}
	if to, ok := r.opts.ModelMap[model]; ok && to != model {
		rename(to)
	}
	return model, settings
}
