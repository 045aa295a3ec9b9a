package fakeopenai

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// ChatRequest is a decoded POST /v1/chat/completions body. Pointer fields are
// nil when the key was absent, so tests can tell "sent 0" from "not sent".
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Stop                json.RawMessage `json:"stop,omitempty"`
	N                   *int            `json:"n,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	LogitBias           map[string]int  `json:"logit_bias,omitempty"`
	Tools               json.RawMessage `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	Functions           json.RawMessage `json:"functions,omitempty"`
	FunctionCall        json.RawMessage `json:"function_call,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	User                string          `json:"user,omitempty"`
	Logprobs            *bool           `json:"logprobs,omitempty"`
	TopLogprobs         *int            `json:"top_logprobs,omitempty"`

	// Raw is the body exactly as received.
	Raw []byte `json:"-"`
}

// StreamOptions is the request's stream_options object.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one chat turn; Content accepts a string or a list of parts.
type Message struct {
	Role       string          `json:"role"`
	Content    Content         `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
}

// Content is a message's content: Text when sent as a string, Parts when
// sent as a list of content parts.
type Content struct {
	Text  string
	Parts []Part
}

// Part is one content part.
type Part struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image_url part's payload.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UnmarshalJSON accepts a string, a list of parts, or null.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	default:
		return json.Unmarshal(b, &c.Parts)
	}
}

// MarshalJSON writes the form it was sent in.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// String is the text of the content: Text, or the text parts joined by
// newlines.
func (c Content) String() string {
	if c.Parts == nil {
		return c.Text
	}
	var texts []string
	for _, p := range c.Parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// LastUser is the text of the last user message ("" if none).
func (r ChatRequest) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content.String()
		}
	}
	return ""
}

// Keys lists the top-level keys of the body as sent, sorted.
func (r ChatRequest) Keys() []string {
	m := r.Fields()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Fields is the body's top-level object, values undecoded; nil if Raw is
// not a JSON object.
func (r ChatRequest) Fields() map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(r.Raw, &m) != nil {
		return nil
	}
	return m
}

// EmbedRequest is a decoded POST /v1/embeddings body.
type EmbedRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"-"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
	Raw            []byte   `json:"-"`
}

func decodeEmbed(body []byte) (EmbedRequest, error) {
	var w struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return EmbedRequest{}, err
	}
	r := EmbedRequest{Model: w.Model, EncodingFormat: w.EncodingFormat, Raw: body}
	in := bytes.TrimSpace(w.Input)
	if len(in) > 0 && in[0] == '"' {
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return r, err
		}
		r.Input = []string{s}
		return r, nil
	}
	if err := json.Unmarshal(in, &r.Input); err != nil {
		return r, err
	}
	return r, nil
}
