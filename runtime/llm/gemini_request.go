package llm

import (
	"encoding/json"
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// buildGemini maps a Request to a generateContent body.
func buildGemini(req *Request) ([]byte, error) {
	body := map[string]any{}
	var system []geminiPart
	var contents []geminiContent
	names := map[string]string{} // tool call id -> function name, for tool results
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			parts, err := geminiParts(m)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			system = append(system, parts...)
		case "user", "":
			parts, err := geminiParts(m)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			contents = appendContent(contents, "user", parts)
		case "assistant", "model":
			parts, err := geminiParts(m)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			calls, err := geminiCalls(m, names)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			parts = append(parts, calls...)
			if len(parts) == 0 {
				parts = []geminiPart{{Text: ""}}
			}
			contents = appendContent(contents, "model", parts)
		case "tool", "function":
			name := m.Name
			if name == "" {
				name = names[m.ToolCallID]
			}
			if name == "" {
				return nil, fmt.Errorf("message %d: a tool result needs the name of its function (name, or a tool_call_id of an earlier call)", i+1)
			}
			contents = appendContent(contents, "user", []geminiPart{{FunctionResponse: &geminiFuncResp{
				Name: name, Response: toolResult(MessageText(&m))}}})
		default:
			return nil, fmt.Errorf("message %d: role %q cannot be sent to Gemini (use system, user, assistant or tool)", i+1, m.Role)
		}
	}
	if len(contents) == 0 {
		return nil, fmt.Errorf("no user message: Gemini needs at least one")
	}
	body["contents"] = contents
	if len(system) > 0 {
		body["systemInstruction"] = geminiContent{Parts: system}
	}
	if err := geminiSettings(body, req.Settings); err != nil {
		return nil, err
	}
	return json.Marshal(body)
}

// appendContent adds a turn, merging it into the last one of the same
// role: Gemini wants turns to alternate.
func appendContent(cs []geminiContent, role string, parts []geminiPart) []geminiContent {
	if n := len(cs); n > 0 && cs[n-1].Role == role {
		cs[n-1].Parts = append(cs[n-1].Parts, parts...)
		return cs
	}
	return append(cs, geminiContent{Role: role, Parts: parts})
}

func geminiParts(m Message) ([]geminiPart, error) {
	if len(m.Parts) == 0 {
		if m.Content == "" {
			return nil, nil
		}
		return []geminiPart{{Text: m.Content}}, nil
	}
	var out []geminiPart
	if m.Content != "" {
		out = append(out, geminiPart{Text: m.Content})
	}
	for j, p := range m.Parts {
		switch p.Type {
		case "text", "":
			out = append(out, geminiPart{Text: p.Text})
		case "image_url":
			if mime, data, ok := dataURL(p.ImageURL); ok {
				out = append(out, geminiPart{InlineData: &geminiBlob{MimeType: mime, Data: data}})
			} else if strings.HasPrefix(p.ImageURL, "gs://") || strings.Contains(p.ImageURL, "generativelanguage.googleapis.com/") {
				out = append(out, geminiPart{FileData: &geminiFile{FileURI: p.ImageURL}})
			} else {
				return nil, fmt.Errorf("part %d: Gemini takes images inline (a base64 data: URL) or as uploaded files, not %s", j+1, shorten(p.ImageURL, 60))
			}
		default:
			return nil, fmt.Errorf("part %d: type %q cannot be sent to Gemini (use text or image_url)", j+1, p.Type)
		}
	}
	return out, nil
}

// dataURL splits data:MIME;base64,DATA.
func dataURL(u string) (mime, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	head, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", false
	}
	mime, b64 := strings.CutSuffix(head, ";base64")
	return mime, data, b64 && mime != ""
}

// geminiCalls turns an assistant turn's OpenAI tool calls into
// functionCall parts, remembering each id's function name.
func geminiCalls(m Message, names map[string]string) ([]geminiPart, error) {
	var calls []openai.ToolCall
	if len(m.ToolCalls) > 0 {
		if err := json.Unmarshal(m.ToolCalls, &calls); err != nil {
			return nil, fmt.Errorf("tool_calls: %w", err)
		}
	}
	if len(m.FunctionCall) > 0 {
		var fc openai.FunctionCall
		if err := json.Unmarshal(m.FunctionCall, &fc); err != nil {
			return nil, fmt.Errorf("function_call: %w", err)
		}
		calls = append(calls, openai.ToolCall{Function: fc})
	}
	var out []geminiPart
	for _, c := range calls {
		args := json.RawMessage(c.Function.Arguments)
		if strings.TrimSpace(c.Function.Arguments) == "" {
			args = json.RawMessage("{}")
		} else if !json.Valid(args) {
			return nil, fmt.Errorf("tool call %s: arguments are not JSON", c.Function.Name)
		}
		if c.ID != "" {
			names[c.ID] = c.Function.Name
		}
		out = append(out, geminiPart{FunctionCall: &geminiCall{Name: c.Function.Name, Args: args}})
	}
	return out, nil
}

// toolResult is a functionResponse's response: the tool's JSON object as
// is, anything else wrapped as {"content": ...}.
func toolResult(text string) json.RawMessage {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(map[string]string{"content": text})
	return b
}
