package fakebedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Request is a validated Converse or ConverseStream call.
type Request struct {
	ModelID         string // from the path, unescaped
	Stream          bool   // converse-stream
	Messages        []Message
	System          []SystemBlock
	InferenceConfig *InferenceConfig
	ToolConfig      *ToolConfig
	Additional      map[string]any // additionalModelRequestFields

	Raw []byte
}

// Message is one turn.
type Message struct {
	Role    string         `json:"role"`
	Content []ContentBlock `json:"content"`
}

// ContentBlock is a union: exactly one member is set.
type ContentBlock struct {
	Text       *string         `json:"text,omitempty"`
	Image      json.RawMessage `json:"image,omitempty"`
	ToolUse    *ToolUseBlock   `json:"toolUse,omitempty"`
	ToolResult json.RawMessage `json:"toolResult,omitempty"`
	Document   json.RawMessage `json:"document,omitempty"`
}

// ToolUseBlock is a toolUse content block.
type ToolUseBlock struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// SystemBlock is one system prompt entry.
type SystemBlock struct {
	Text string `json:"text"`
}

// InferenceConfig holds the common inference parameters.
type InferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

// ToolConfig is the toolConfig member.
type ToolConfig struct {
	Tools []struct {
		ToolSpec struct {
			Name        string `json:"name"`
			Description string `json:"description,omitempty"`
			InputSchema struct {
				JSON json.RawMessage `json:"json"`
			} `json:"inputSchema"`
		} `json:"toolSpec"`
	} `json:"tools"`
	ToolChoice json.RawMessage `json:"toolChoice,omitempty"`
}

// LastUser is the text of the last user turn.
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role != "user" {
			continue
		}
		var t []string
		for _, b := range r.Messages[i].Content {
			if b.Text != nil {
				t = append(t, *b.Text)
			}
		}
		return strings.Join(t, "\n")
	}
	return ""
}

// SystemText joins the system blocks.
func (r Request) SystemText() string {
	var t []string
	for _, s := range r.System {
		t = append(t, s.Text)
	}
	return strings.Join(t, "\n")
}

func decode(body []byte) (Request, error) {
	req := Request{Raw: body}
	var w struct {
		Messages                     []Message        `json:"messages"`
		System                       []SystemBlock    `json:"system"`
		InferenceConfig              *InferenceConfig `json:"inferenceConfig"`
		ToolConfig                   *ToolConfig      `json:"toolConfig"`
		AdditionalModelRequestFields map[string]any   `json:"additionalModelRequestFields"`
		GuardrailConfig              json.RawMessage  `json:"guardrailConfig"`
		RequestMetadata              map[string]any   `json:"requestMetadata"`
		PerformanceConfig            json.RawMessage  `json:"performanceConfig"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return req, fmt.Errorf("malformed input request: %v", err)
	}
	req.Messages, req.System, req.InferenceConfig, req.ToolConfig, req.Additional =
		w.Messages, w.System, w.InferenceConfig, w.ToolConfig, w.AdditionalModelRequestFields
	if len(req.Messages) == 0 {
		return req, apiError("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return req, fmt.Errorf("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1)
		}
		if i == 0 && m.Role != "user" {
			return req, apiError("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
		}
		if i > 0 && m.Role == req.Messages[i-1].Role {
			return req, apiError("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return req, fmt.Errorf("messages.%d.content: member must not be empty", i+1)
		}
		for j, b := range m.Content {
			set := 0
			for _, on := range []bool{b.Text != nil, b.Image != nil, b.ToolUse != nil, b.ToolResult != nil, b.Document != nil} {
				if on {
					set++
				}
			}
			if set != 1 {
				return req, fmt.Errorf("messages.%d.content.%d: a content block must set exactly one member", i+1, j+1)
			}
			if b.Text != nil && *b.Text == "" {
				return req, apiError("The text field in the ContentBlock object is blank. Add text to the text field, and try again.")
			}
		}
	}
	if ic := req.InferenceConfig; ic != nil {
		switch {
		case ic.MaxTokens != nil && *ic.MaxTokens < 1:
			return req, errors.New("inferenceConfig.maxTokens: Member must have value greater than or equal to 1")
		case ic.Temperature != nil && (*ic.Temperature < 0 || *ic.Temperature > 1):
			return req, errors.New("inferenceConfig.temperature: Member must have value between 0 and 1")
		case ic.TopP != nil && (*ic.TopP < 0 || *ic.TopP > 1):
			return req, errors.New("inferenceConfig.topP: Member must have value between 0 and 1")
		}
	}
	if tc := req.ToolConfig; tc != nil {
		if len(tc.Tools) == 0 {
			return req, errors.New("toolConfig.tools: member must not be empty")
		}
		for i, t := range tc.Tools {
			var schema map[string]any
			if t.ToolSpec.Name == "" || json.Unmarshal(t.ToolSpec.InputSchema.JSON, &schema) != nil {
				return req, fmt.Errorf("toolConfig.tools.%d: toolSpec needs a name and inputSchema.json", i+1)
			}
		}
	}
	return req, nil
}

// apiError is a message in bedrock-runtime's own words (capitalized, with
// a full stop), kept verbatim.
type apiError string

func (e apiError) Error() string { return string(e) }
