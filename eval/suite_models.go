package eval

import (
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/runtime"
)

// models reads `models: {name: {base_url, api_key_env, provider, model}}`.
func (l *loader) models(n *yaml.Node) map[string]runtime.Endpoint {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind == yaml.SequenceNode {
		l.errf(d.Line, "models must be a mapping of model name to {base_url, api_key_env}, got a list; to run every test on several models list them under matrix: [a, b] (models: then maps each one to its endpoint)")
		return nil
	}
	if d.Kind != yaml.MappingNode {
		l.errf(d.Line, "models must be a mapping of model name to {base_url, api_key_env}, got %s", kindName(d))
		return nil
	}
	out := map[string]runtime.Endpoint{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := l.deref(d.Content[i]), d.Content[i+1]
		if k == nil {
			return out
		}
		name := k.Value
		if vv := l.deref(v); vv != nil && vv.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(vv.Content); j += 2 {
				if kk := vv.Content[j]; kk.Value == "api_key" {
					// Never echo the value: it is probably a real key.
					l.errf(kk.Line, "models.%s: api_key is not allowed in a suite; put the key in an environment variable and name it with api_key_env", name)
					vv = nil
					break
				}
			}
			if vv == nil {
				continue
			}
		}
		f, ok := l.fields(v, "models."+name, modelKeys)
		if !ok {
			continue
		}
		var ep runtime.Endpoint
		if x := f["provider"]; x != nil {
			ep.Provider, _ = l.str(x, "provider")
		}
		if x := f["model"]; x != nil {
			ep.Model, _ = l.str(x, "model")
		}
		if x := f["base_url"]; x != nil {
			if s, ok := l.str(x, "base_url"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					l.errf(x.Line, "models.%s.base_url must be an http(s) URL such as http://127.0.0.1:11434/v1", name)
				} else if u.User != nil {
					l.errf(x.Line, "models.%s.base_url must not hold credentials; use api_key_env", name)
				}
				ep.BaseURL = s
			}
		}
		if x := f["api_key_env"]; x != nil {
			if s, ok := l.str(x, "api_key_env"); ok {
				if !envNameRe.MatchString(s) {
					l.errf(x.Line, "models.%s.api_key_env must be the name of an environment variable (like OPENAI_API_KEY), not the key itself", name)
				}
				ep.APIKeyEnv = s
			}
		}
		out[name] = ep
	}
	return out
}

// matrix reads `matrix: [model, ...]`: the models every test runs on,
// each named as in the aiconfig or the suite's models: mapping.
func (l *loader) matrix(n *yaml.Node, what string) []string {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.SequenceNode || len(d.Content) == 0 {
		l.errf(d.Line, "%s must be a non-empty list of model names, e.g. [gpt-4o, claude-3-5-sonnet, llama3]", what)
		return nil
	}
	out := make([]string, 0, len(d.Content))
	for _, c := range d.Content {
		m, ok := l.str(c, what+" entry")
		if !ok {
			continue
		}
		switch m = strings.TrimSpace(m); {
		case m == "":
			l.errf(l.deref(c).Line, "%s: empty model name", what)
		case slices.Contains(out, m):
			l.errf(l.deref(c).Line, "%s: model %q is listed twice", what, m)
		case strings.ContainsAny(m, "[]"):
			l.errf(l.deref(c).Line, "%s: model %q: a model name cannot hold [ or ]", what, m)
		default:
			out = append(out, m)
		}
	}
	return out
}

// prices reads `prices: {model: {input: USD per 1M tokens, output: ...}}`.
func (l *loader) prices(n *yaml.Node) map[string]Price {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.MappingNode {
		l.errf(d.Line, "prices must be a mapping of model name to {input, output} (USD per 1M tokens), got %s", kindName(d))
		return nil
	}
	out := map[string]Price{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		name := d.Content[i].Value
		f, ok := l.fields(d.Content[i+1], "prices."+name, priceKeys)
		if !ok {
			continue
		}
		var p Price
		for key, dst := range map[string]*float64{"input": &p.Input, "output": &p.Output} {
			if x := f[key]; x != nil {
				v, ok := l.number(x, "prices."+name+"."+key, "a number of USD per 1M tokens")
				if ok && (v < 0 || v > maxPrice) {
					l.errf(x.Line, "prices.%s.%s must be from 0 to %g USD per 1M tokens, got %v", name, key, float64(maxPrice), v)
				}
				*dst = v
			}
		}
		out[name] = p
	}
	return out
}
