package runtime

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aieval/aieval/runtime/llm"
)

// promptMessage resolves a prompt into its chat turn, as the SDK's
// add_prompt_as_message: a template input is a user turn (aieval also
// honours a role and name written next to data, and sends attachments); a
// chat-message input keeps its role, name and function_call (and, which
// the SDK drops though the API needs them, tool_calls and tool_call_id).
func (v *runView) promptMessage(p *Prompt, params map[string]any) (llm.Message, error) {
	text, err := render(inputTemplate(p), params)
	if err != nil {
		return llm.Message{}, fmt.Errorf("resolve prompt %q: %w", p.Name, err)
	}
	if in, ok := chatInput(p); ok {
		msg, err := chatMessage(in, text)
		if err != nil {
			return llm.Message{}, fmt.Errorf("prompt %q input: %w", p.Name, err)
		}
		return msg, nil
	}
	msg := llm.Message{Role: "user", Content: text}
	in, ok := p.Input.(map[string]any)
	if !ok {
		return msg, nil
	}
	if role, ok := in["role"].(string); ok && role != "" {
		msg.Role = role
	}
	msg.Name, _ = in["name"].(string)
	atts, _ := in["attachments"].([]any)
	if len(atts) == 0 {
		return msg, nil
	}
	if text != "" {
		msg.Parts = append(msg.Parts, llm.Part{Type: "text", Text: text})
	}
	for _, a := range atts {
		if part, ok := attachmentPart(asMap(a)); ok {
			msg.Parts = append(msg.Parts, part)
		}
	}
	msg.Content = ""
	return msg, nil
}

// chatMessage maps a chat message written in the file ({role, content,
// name, function_call, tool_calls, tool_call_id}) to a turn whose content
// is text (already rendered). A missing role is "user", as in the SDK.
func chatMessage(m map[string]any, text string) (llm.Message, error) {
	msg := llm.Message{Role: "user", Content: text}
	if role, ok := m["role"].(string); ok && role != "" {
		msg.Role = role
	}
	msg.Name, _ = m["name"].(string)
	msg.ToolCallID, _ = m["tool_call_id"].(string)
	if fc := m["function_call"]; fc != nil {
		b, err := json.Marshal(fc)
		if err != nil {
			return msg, fmt.Errorf("function_call: %w", err)
		}
		msg.FunctionCall = b
	}
	if tc := m["tool_calls"]; tc != nil {
		calls, ok := tc.([]any)
		if !ok {
			return msg, fmt.Errorf("tool_calls is a %T, want a list", tc)
		}
		msg.ToolCalls = cleanToolCalls(calls)
	}
	return msg, nil
}

// settingsTurns renders the model settings' messages (the SDK's
// resolve_prompt_string on each content) into turns.
func settingsTurns(p *Prompt, ms []any, params map[string]any) ([]llm.Message, error) {
	out := make([]llm.Message, 0, len(ms))
	for i, raw := range ms {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("prompt %q: model setting messages[%d] is a %T, want an object {role, content}", p.Name, i, raw)
		}
		text := ""
		switch c := m["content"].(type) {
		case string:
			var err error
			if text, err = render(c, params); err != nil {
				return nil, fmt.Errorf("resolve model setting messages[%d] of %q: %w", i, p.Name, err)
			}
		case nil:
		default:
			return nil, fmt.Errorf("prompt %q: model setting messages[%d].content is a %T, want a string", p.Name, i, c)
		}
		msg, err := chatMessage(m, text)
		if err != nil {
			return nil, fmt.Errorf("prompt %q: model setting messages[%d]: %w", p.Name, i, err)
		}
		out = append(out, msg)
	}
	return out, nil
}

// attachmentPart maps an attachment to an OpenAI content part: images as
// image_url (base64 becomes a data: URL), anything else as text.
func attachmentPart(a map[string]any) (llm.Part, bool) {
	mime, _ := a["mime_type"].(string)
	var value, kind string
	switch d := a["data"].(type) {
	case string:
		value = d
	case map[string]any:
		kind, _ = d["kind"].(string)
		value, _ = d["value"].(string)
		if kind == "" && value == "" {
			b, _ := json.Marshal(d)
			value = string(b)
		}
	case nil:
		return llm.Part{}, false
	default:
		b, _ := json.Marshal(d)
		value = string(b)
	}
	if strings.HasPrefix(mime, "image/") {
		url := value
		if kind == "base64" && !strings.HasPrefix(value, "data:") {
			url = "data:" + mime + ";base64," + value
		}
		detail, _ := asMap(a["metadata"])["detail"].(string)
		return llm.Part{Type: "image_url", ImageURL: url, Detail: detail}, true
	}
	return llm.Part{Type: "text", Text: value}, true
}
