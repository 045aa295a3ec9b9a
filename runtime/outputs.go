package runtime

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/runtime/llm"
)

// SetOutput records out as prompt's latest output (for `aieval prompt --save`).
// Like the SDK's run, it replaces the prompt's outputs with this one.
func (c *Config) SetOutput(prompt string, res *llm.Response) error {
	if res == nil {
		return fmt.Errorf("set output of %q: no response", prompt)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := -1
	for i, p := range c.prompts {
		if p.Name == prompt {
			idx = i
			break
		}
	}
	if idx < 0 {
		return fmt.Errorf("set output: no prompt named %q", prompt)
	}
	pn := resolveAlias(mapGet(c.root, "prompts"))
	if pn == nil || pn.Kind != yaml.SequenceNode || idx >= len(pn.Content) || pn.Content[idx].Kind != yaml.MappingNode {
		return fmt.Errorf("set output of %q: prompt is not a plain object in the file", prompt)
	}
	outs := valueNode([]any{outputValue(res)})
	setKey(pn.Content[idx], "outputs", outs)
	val, err := nodeValue(outs, budgetFor(outs), 0)
	if err != nil {
		return fmt.Errorf("set output of %q: %w", prompt, err)
	}
	// Copy on write: a *Prompt handed out earlier never changes under a
	// reader, and neither does the slice (a Run shares it, uncopied).
	np := *c.prompts[idx]
	np.Outputs, _ = val.([]any)
	ps := append([]*Prompt(nil), c.prompts...)
	ps[idx] = &np
	c.prompts = ps
	return nil
}

// setKey sets key in a mapping node, appending it when absent.
func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// outputValue is an output the way the SDK's OpenAI parser writes it.
func outputValue(res *llm.Response) orderedMap {
	var data any = res.Text
	if len(res.ToolCalls) > 0 && res.Text == "" {
		var calls any
		if json.Unmarshal(res.ToolCalls, &calls) == nil {
			data = orderedMap{{"kind", "tool_calls"}, {"value", calls}}
		}
	}
	role := res.Role
	if role == "" {
		role = "assistant"
	}
	meta := orderedMap{}
	if res.Model != "" {
		meta = append(meta, kv{"model", res.Model})
	}
	if res.FinishReason != "" {
		meta = append(meta, kv{"finish_reason", res.FinishReason})
	}
	if res.Usage != (llm.Usage{}) {
		meta = append(meta, kv{"usage", orderedMap{
			{"prompt_tokens", res.Usage.PromptTokens},
			{"completion_tokens", res.Usage.CompletionTokens},
			{"total_tokens", res.Usage.TotalTokens},
		}})
	}
	meta = append(meta, kv{"role", role})
	return orderedMap{
		{"output_type", "execute_result"},
		{"execution_count", 0},
		{"data", data},
		{"metadata", meta},
	}
}

// outputText is the text of one saved output, as the SDK's get_output_text.
func outputText(out any) string {
	o, ok := out.(map[string]any)
	if !ok || o["output_type"] != "execute_result" {
		return ""
	}
	switch d := o["data"].(type) {
	case string:
		return d
	case map[string]any:
		if v, ok := d["value"].(string); ok && d["kind"] != nil {
			return v
		}
		if d["kind"] == "tool_calls" {
			b, _ := json.MarshalIndent(d, "", "  ")
			return string(b)
		}
		// Older SDKs saved the whole ChatCompletionMessage.
		if s, ok := d["content"].(string); ok && s != "" {
			return s
		}
		if fc, ok := d["function_call"]; ok && fc != nil {
			b, _ := json.Marshal(fc)
			return string(b)
		}
	case nil:
		return ""
	default:
		b, _ := json.Marshal(d)
		return string(b)
	}
	return ""
}

// latestOutput returns the last saved output, or nil.
func latestOutput(p *Prompt) any {
	if len(p.Outputs) == 0 {
		return nil
	}
	return p.Outputs[len(p.Outputs)-1]
}

// outputMessage turns a saved output into the assistant turn the SDK
// replays as chat history, with the tool calls it holds. As in the SDK, only
// an output whose metadata (or metadata.raw_response) says role
// "assistant" is replayed: its text as content, a tool_calls output as the
// last call's function_call. An old-format output (the whole
// ChatCompletionMessage saved as data, role inside it) is read too, where
// the SDK drops it.
func outputMessage(out any) (llm.Message, json.RawMessage, bool) {
	o, ok := out.(map[string]any)
	if !ok || o["output_type"] != "execute_result" {
		return llm.Message{}, nil, false
	}
	md := asMap(o["metadata"])
	raw := asMap(md["raw_response"])
	role, _ := md["role"].(string)
	if role == "" {
		role, _ = raw["role"].(string)
	}
	name, _ := md["name"].(string)
	if name == "" {
		name, _ = raw["name"].(string)
	}
	d, isMap := o["data"].(map[string]any)
	if isMap && d["kind"] == nil && d["value"] == nil {
		// Old format: the data is the message itself.
		if r, _ := d["role"].(string); r == "assistant" || (r == "" && role == "assistant") {
			m := llm.Message{Role: "assistant", Name: name}
			m.Content, _ = d["content"].(string)
			if n, ok := d["name"].(string); ok && n != "" {
				m.Name = n
			}
			if fc := d["function_call"]; fc != nil {
				m.FunctionCall, _ = json.Marshal(fc)
			}
			if tc, ok := d["tool_calls"].([]any); ok && len(tc) > 0 {
				if m.FunctionCall == nil {
					m.FunctionCall = lastFunction(tc)
				}
				return m, cleanToolCalls(tc), true
			}
			return m, nil, true
		}
		return llm.Message{}, nil, false
	}
	if role != "assistant" {
		return llm.Message{}, nil, false
	}
	switch data := o["data"].(type) {
	case string:
		return llm.Message{Role: "assistant", Content: data, Name: name}, nil, true
	case map[string]any:
		if v, ok := data["value"].(string); ok {
			return llm.Message{Role: "assistant", Content: v, Name: name}, nil, true
		}
		if calls, ok := data["value"].([]any); ok && data["kind"] == "tool_calls" && len(calls) > 0 {
			return toolCallsTurn(calls, name)
		}
	}
	// The SDK sends {"content": null, "role": "assistant"} here, which the
	// API refuses; an empty assistant turn is what it means.
	return llm.Message{Role: "assistant", Name: name}, nil, true
}

// toolCallsTurn is a tool_calls output as the SDK replays it: an assistant
// turn with the last call's function_call and no content. The calls come
// back too: historyTurns sends them as tool_calls instead when the next
// turn answers them (role "tool"), which function_call cannot pair with.
func toolCallsTurn(calls []any, name string) (llm.Message, json.RawMessage, bool) {
	return llm.Message{Role: "assistant", Name: name, FunctionCall: lastFunction(calls)}, cleanToolCalls(calls), true
}

// lastFunction is the function {name, arguments} of the last tool call.
func lastFunction(calls []any) json.RawMessage {
	if len(calls) == 0 {
		return nil
	}
	f := asMap(asMap(calls[len(calls)-1])["function"])
	name, _ := f["name"].(string)
	args, _ := f["arguments"].(string)
	b, _ := json.Marshal(struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}{name, args})
	return b
}

// cleanToolCalls keeps what the API takes of saved tool calls ({id, type,
// function: {name, arguments}}): a streamed answer's "index", say, makes
// the API refuse the message.
func cleanToolCalls(calls []any) json.RawMessage {
	type fn struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type call struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function fn     `json:"function"`
	}
	out := make([]call, 0, len(calls))
	for _, c := range calls {
		m := asMap(c)
		f := asMap(m["function"])
		cl := call{Type: "function"}
		cl.ID, _ = m["id"].(string)
		if t, ok := m["type"].(string); ok && t != "" {
			cl.Type = t
		}
		cl.Function.Name, _ = f["name"].(string)
		cl.Function.Arguments, _ = f["arguments"].(string)
		out = append(out, cl)
	}
	b, _ := json.Marshal(out)
	return b
}
