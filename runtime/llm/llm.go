// Package llm holds the wire-level model call: the request aieval sends, the
// response it gets back, and the clients that talk to OpenAI-compatible
// endpoints. It knows nothing of aiconfig files or tests.
package llm

import (
	"context"
	"encoding/json"
	"time"
)

// Part is one piece of a multimodal message (OpenAI content parts).
type Part struct {
	Type     string `json:"type"` // "text" or "image_url"
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Message is one chat turn as sent to the model.
type Message struct {
	Role         string          `json:"role"`
	Content      string          `json:"content,omitempty"`
	Parts        []Part          `json:"parts,omitempty"`
	Name         string          `json:"name,omitempty"`
	ToolCallID   string          `json:"tool_call_id,omitempty"`
	ToolCalls    json.RawMessage `json:"tool_calls,omitempty"`
	FunctionCall json.RawMessage `json:"function_call,omitempty"`
}

// Request is a fully resolved model call. Everything in it except the
// fields tagged `json:"-"` is part of the cache identity, so it must never
// hold a credential.
type Request struct {
	Provider string         `json:"provider"` // parser id, e.g. "openai", "echo"
	BaseURL  string         `json:"base_url,omitempty"`
	Model    string         `json:"model"`
	Messages []Message      `json:"messages"`
	Settings map[string]any `json:"settings,omitempty"` // only the API's own keys (temperature, ...)
	// Sample distinguishes repeated draws of the same request (repeat: N).
	Sample int `json:"sample,omitempty"`

	// APIKeyEnv names the environment variable holding the key; the key
	// itself is read at call time and never stored.
	APIKeyEnv string `json:"-"`
	Stream    bool   `json:"-"`
}

// Usage is token accounting reported by the endpoint.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Response is what a model call returned.
type Response struct {
	Text         string          `json:"text"`
	Refusal      string          `json:"refusal,omitempty"` // the model declined: its explanation, Text empty
	Role         string          `json:"role,omitempty"`
	ToolCalls    json.RawMessage `json:"tool_calls,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Model        string          `json:"model,omitempty"` // as served
	Usage        Usage           `json:"usage"`
	// Logprobs are the output tokens' log probabilities, when the request
	// asked for them (settings logprobs: true) and the endpoint gave them.
	Logprobs []float64     `json:"logprobs,omitempty"`
	Latency  time.Duration `json:"latency"`
	Cached   bool          `json:"-"`
}

// ChunkFunc receives streamed text deltas as they arrive.
type ChunkFunc func(delta string)

// Client is the one ability every model backend has.
type Client interface {
	Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error)
}

// EmbedRequest asks for one vector per input text.
type EmbedRequest struct {
	Provider  string   `json:"provider"`
	BaseURL   string   `json:"base_url,omitempty"`
	Model     string   `json:"model"`
	Input     []string `json:"input"`
	APIKeyEnv string   `json:"-"`
}

// ModerationRequest asks an OpenAI-compatible /moderations endpoint about
// one text. Like Request, every field but APIKeyEnv is its cache identity.
type ModerationRequest struct {
	Provider  string `json:"provider"`
	BaseURL   string `json:"base_url,omitempty"`
	Model     string `json:"model"`
	Input     string `json:"input"`
	APIKeyEnv string `json:"-"`
}

// ModerationResult is the first result of a /moderations answer.
type ModerationResult struct {
	Flagged    bool               `json:"flagged"`
	Categories map[string]bool    `json:"categories"`
	Scores     map[string]float64 `json:"category_scores,omitempty"`
}

// Moderator is the optional moderation ability of a client.
type Moderator interface {
	Moderate(ctx context.Context, req *ModerationRequest) (*ModerationResult, error)
}
