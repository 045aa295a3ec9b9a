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
	// Copy on write: a *Prompt handed out earlier never changes under a reader.
	np := *c.prompts[idx]
	np.Outputs, _ = val.([]any)
	c.prompts[idx] = &np
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

// outputMessage turns a saved output into an assistant turn for chat
// context, or reports false when it is not an assistant message.
func outputMessage(out any) (llm.Message, bool) {
	o, ok := out.(map[string]any)
	if !ok || o["output_type"] != "execute_result" {
		return llm.Message{}, false
	}
	role, _ := asMap(o["metadata"])["role"].(string)
	switch d := o["data"].(type) {
	case string:
		if role == "" || role == "assistant" {
			return llm.Message{Role: "assistant", Content: d}, true
		}
	case map[string]any:
		if d["kind"] == "tool_calls" {
			if role != "" && role != "assistant" {
				return llm.Message{}, false
			}
			b, _ := json.Marshal(d["value"])
			return llm.Message{Role: "assistant", ToolCalls: b}, true
		}
		if r, _ := d["role"].(string); r == "assistant" || (r == "" && role == "assistant") {
			m := llm.Message{Role: "assistant"}
			m.Content, _ = d["content"].(string)
			if fc, ok := d["function_call"]; ok && fc != nil {
				m.FunctionCall, _ = json.Marshal(fc)
			}
			if tc, ok := d["tool_calls"]; ok && tc != nil {
				m.ToolCalls, _ = json.Marshal(tc)
			}
			return m, true
		}
		if v, ok := d["value"].(string); ok && role == "assistant" {
			return llm.Message{Role: "assistant", Content: v}, true
		}
	}
	return llm.Message{}, false
}
