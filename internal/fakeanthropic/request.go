package fakeanthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Request is a validated POST /v1/messages body.
type Request struct {
	Model         string
	MaxTokens     int
	System        string // the system text (string or text blocks joined)
	Messages      []Message
	Temperature   *float64
	TopP          *float64
	TopK          *int
	StopSequences []string
	Stream        bool
	Tools         []Tool
	ToolChoice    *ToolChoice
	UserID        string

	Raw []byte // the body as received
}

// Message is one turn; a string content is given as one text block.
type Message struct {
	Role    string
	Content []Block
}

// Block is one content block.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *Source         `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   *bool           `json:"is_error,omitempty"`
	Cache     json.RawMessage `json:"cache_control,omitempty"`
}

// Source is an image block's source.
type Source struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// Tool is a client tool definition.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	Cache       json.RawMessage `json:"cache_control,omitempty"`
}

// ToolChoice is the tool_choice object.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// LastUser is the text of the last user turn's text blocks.
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role != "user" {
			continue
		}
		var t []string
		for _, b := range r.Messages[i].Content {
			if b.Type == "text" {
				t = append(t, b.Text)
			}
		}
		return strings.Join(t, "\n")
	}
	return ""
}

// Keys lists the body's top-level keys, sorted.
func (r Request) Keys() []string {
	var m map[string]json.RawMessage
	json.Unmarshal(r.Raw, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var known = map[string]bool{
	"model": true, "max_tokens": true, "messages": true, "system": true, "temperature": true, "top_p": true,
	"top_k": true, "stop_sequences": true, "stream": true, "tools": true, "tool_choice": true, "metadata": true,
	"thinking": true, "service_tier": true, "container": true, "mcp_servers": true,
}

// decode checks the body the way the API does and returns its first fault
// in the API's words.
func decode(body []byte) (Request, error) {
	req := Request{Raw: body}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return req, fmt.Errorf("invalid JSON body: %v", err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			return req, fmt.Errorf("%s: Extra inputs are not permitted", k)
		}
	}
	for _, k := range []string{"model", "max_tokens", "messages"} {
		if _, ok := top[k]; !ok {
			return req, fmt.Errorf("%s: Field required", k)
		}
	}
	field := func(k string, dst any) error {
		v, ok := top[k]
		if !ok {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
		return nil
	}
	var stream *bool
	var meta *struct {
		UserID string `json:"user_id"`
	}
	var rawMsgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	for _, f := range []struct {
		k   string
		dst any
	}{{"model", &req.Model}, {"max_tokens", &req.MaxTokens}, {"messages", &rawMsgs}, {"temperature", &req.Temperature},
		{"top_p", &req.TopP}, {"top_k", &req.TopK}, {"stop_sequences", &req.StopSequences}, {"stream", &stream},
		{"tools", &req.Tools}, {"tool_choice", &req.ToolChoice}, {"metadata", &meta}} {
		if err := field(f.k, f.dst); err != nil {
			return req, err
		}
	}
	if stream != nil {
		req.Stream = *stream
	}
	if meta != nil {
		req.UserID = meta.UserID
	}
	switch {
	case req.Model == "":
		return req, errors.New("model: String should have at least 1 character")
	case req.MaxTokens < 1:
		return req, errors.New("max_tokens: Input should be greater than or equal to 1")
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 1):
		return req, errors.New("temperature: Input should be between 0 and 1")
	case req.TopP != nil && (*req.TopP < 0 || *req.TopP > 1):
		return req, errors.New("top_p: Input should be between 0 and 1")
	case req.TopK != nil && *req.TopK < 0:
		return req, errors.New("top_k: Input should be greater than or equal to 0")
	case len(rawMsgs) == 0:
		return req, errors.New("messages: at least one message is required")
	}
	if sys, ok := top["system"]; ok {
		s, err := systemText(sys)
		if err != nil {
			return req, err
		}
		req.System = s
	}
	for i, m := range rawMsgs {
		switch m.Role {
		case "user", "assistant":
		case "system":
			// The API's own words, full stop included.
			return req, apiError(fmt.Sprintf(`messages.%d: Unexpected role "system". The Messages API accepts a top-level `+"`system`"+` parameter, not "system" as an input message role.`, i))
		default:
			return req, fmt.Errorf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if i == 0 && m.Role != "user" {
			return req, errors.New("messages: first message must use the \"user\" role")
		}
		if i > 0 && m.Role == rawMsgs[i-1].Role {
			return req, fmt.Errorf("messages: roles must alternate between \"user\" and \"assistant\", but found multiple %q roles in a row", m.Role)
		}
		blocks, err := contentBlocks(m.Content, i)
		if err != nil {
			return req, err
		}
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: blocks})
	}
	for i, t := range req.Tools {
		if !toolName.MatchString(t.Name) {
			return req, fmt.Errorf("tools.%d.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", i)
		}
		var schema map[string]any
		if json.Unmarshal(t.InputSchema, &schema) != nil || schema["type"] != "object" {
			return req, fmt.Errorf("tools.%d.input_schema: must be a JSON schema object with type: object", i)
		}
	}
	if tc := req.ToolChoice; tc != nil {
		switch {
		case tc.Type != "auto" && tc.Type != "any" && tc.Type != "tool" && tc.Type != "none":
			return req, errors.New("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
		case tc.Type == "tool" && tc.Name == "":
			return req, errors.New("tool_choice.name: Field required")
		case len(req.Tools) == 0 && tc.Type != "none" && tc.Type != "auto":
			return req, errors.New("tool_choice: may only be specified while providing tools")
		}
	}
	return req, nil
}

func systemText(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var blocks []Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", errors.New("system: Input should be a valid string or a list of text blocks")
	}
	var t []string
	for i, b := range blocks {
		if b.Type != "text" {
			return "", fmt.Errorf("system.%d.type: Input should be 'text'", i)
		}
		t = append(t, b.Text)
	}
	return strings.Join(t, "\n"), nil
}

func contentBlocks(raw json.RawMessage, i int) ([]Block, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, fmt.Errorf("messages.%d: content must be non-empty", i)
		}
		return []Block{{Type: "text", Text: s}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var blocks []Block
	if err := dec.Decode(&blocks); err != nil {
		return nil, fmt.Errorf("messages.%d.content: %v", i, err)
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("messages.%d.content: at least one content block is required", i)
	}
	for j, b := range blocks {
		at := fmt.Sprintf("messages.%d.content.%d", i, j)
		switch b.Type {
		case "text":
			if b.Text == "" {
				return nil, fmt.Errorf("%s: text content blocks must be non-empty", at)
			}
		case "image":
			if b.Source == nil || !(b.Source.Type == "base64" && b.Source.MediaType != "" && b.Source.Data != "" || b.Source.Type == "url" && b.Source.URL != "") {
				return nil, fmt.Errorf("%s.source: want {type: base64, media_type, data} or {type: url, url}", at)
			}
		case "tool_use":
			var in map[string]any
			if b.ID == "" || b.Name == "" || json.Unmarshal(b.Input, &in) != nil || in == nil {
				return nil, fmt.Errorf("%s: tool_use needs id, name and an input object", at)
			}
		case "tool_result":
			if b.ToolUseID == "" {
				return nil, fmt.Errorf("%s.tool_use_id: Field required", at)
			}
		default:
			return nil, fmt.Errorf("%s.type: unknown content block type %q", at, b.Type)
		}
	}
	return blocks, nil
}

type apiError string

func (e apiError) Error() string { return string(e) }
