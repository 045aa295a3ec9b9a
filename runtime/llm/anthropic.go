package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Anthropic Messages API (https://docs.anthropic.com/en/api/messages).
const (
	ProviderAnthropic       = "anthropic"
	AnthropicDefaultBaseURL = "https://api.anthropic.com"
	AnthropicKeyEnv         = "ANTHROPIC_API_KEY"
	AnthropicBaseURLEnv     = "ANTHROPIC_BASE_URL"
	AnthropicVersion        = "2023-06-01" // the anthropic-version header
)

// Anthropic is a hand-written client of the Messages API. It sends through
// the OpenAI client's HTTP stack, so retries, Retry-After, the circuit
// breaker and error kinds are the same for every provider.
type Anthropic struct{ oa *OpenAI }

// NewAnthropic builds a client; it is safe for concurrent use.
func NewAnthropic(opts OpenAIOptions) *Anthropic { return &Anthropic{oa: NewOpenAI(opts)} }

// Endpoint is the base URL a request goes to: req.BaseURL, else
// $ANTHROPIC_BASE_URL, else AnthropicDefaultBaseURL; no trailing slash.
func (a *Anthropic) Endpoint(baseURL string) string {
	return a.oa.endpoint(baseURL, AnthropicBaseURLEnv, AnthropicDefaultBaseURL)
}

// CircuitOpen reports whether calls to the endpoint currently fail fast.
func (a *Anthropic) CircuitOpen(baseURL string) bool {
	return a.oa.tr.breakers.get(a.Endpoint(baseURL)).isOpen()
}

// messagesURL accepts a base with or without the /v1 the SDKs leave out.
func messagesURL(endpoint string) string {
	if strings.HasSuffix(endpoint, "/v1") {
		return endpoint + "/messages"
	}
	return endpoint + "/v1/messages"
}

// Complete sends one Messages call, streamed when req.Stream.
func (a *Anthropic) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	endpoint := a.Endpoint(req.BaseURL)
	keyEnv := req.APIKeyEnv
	if keyEnv == "" {
		keyEnv = AnthropicKeyEnv
	}
	key := a.oa.getenv(keyEnv)
	if key == "" {
		return nil, &Error{Kind: KindAuth, Endpoint: endpoint, Model: req.Model, Msg: "no API key: set $" + keyEnv}
	}
	body, err := anthropicBody(req)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	st := &callState{endpoint: endpoint, keyEnv: keyEnv, key: key, retryHint: anthropicRetryHint}
	hdr := http.Header{}
	hdr.Set("x-api-key", key)
	hdr.Set("anthropic-version", AnthropicVersion)
	url := messagesURL(endpoint)
	return rest{a.oa}.call(ctx, st, req.Model, onChunk, func(ctx context.Context, chunk ChunkFunc) (*Response, error) {
		resp, err := rest{a.oa}.post(ctx, url, body, hdr)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if req.Stream {
			return anthropicStream(resp.Body, chunk)
		}
		return anthropicWhole(resp.Body)
	})
}

// Wire types of the Messages API.
type anthRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int             `json:"max_tokens"`
	System        string          `json:"system,omitempty"`
	Messages      []anthMessage   `json:"messages"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Tools         []anthTool      `json:"tools,omitempty"`
	ToolChoice    *anthToolChoice `json:"tool_choice,omitempty"`
	Metadata      *anthMetadata   `json:"metadata,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
}

type anthMessage struct {
	Role    string      `json:"role"`
	Content []anthBlock `json:"content"`
}

type anthBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Source    *anthSource     `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   *string         `json:"content,omitempty"`
}

type anthSource struct {
	Type      string `json:"type"` // base64 or url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type anthTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type anthToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

type anthMetadata struct {
	UserID string `json:"user_id"`
}

func anthropicBody(req *Request) ([]byte, error) {
	s, err := parseClaudeSettings(req.Settings)
	if err != nil {
		return nil, err
	}
	system, turns, err := claudeConversation(req.Messages)
	if err != nil {
		return nil, err
	}
	ar := anthRequest{Model: req.Model, MaxTokens: s.maxTokens, System: system, Messages: make([]anthMessage, 0, len(turns)),
		Temperature: s.temperature, TopP: s.topP, TopK: s.topK, StopSequences: s.stop, Stream: req.Stream}
	for _, t := range turns {
		am := anthMessage{Role: t.Role}
		for _, b := range t.Blocks {
			am.Content = append(am.Content, anthBlockOf(b))
		}
		ar.Messages = append(ar.Messages, am)
	}
	for _, t := range s.tools {
		ar.Tools = append(ar.Tools, anthTool{Name: t.Name, Description: t.Description, InputSchema: t.Schema})
	}
	if tc := s.toolChoice; tc != nil && len(ar.Tools) > 0 {
		ar.ToolChoice = &anthToolChoice{Type: tc.Type, Name: tc.Name}
	}
	if s.user != "" {
		ar.Metadata = &anthMetadata{UserID: s.user}
	}
	return json.Marshal(ar)
}

func anthBlockOf(b claudeBlock) anthBlock {
	switch b.Kind {
	case "image":
		if b.URL != "" {
			return anthBlock{Type: "image", Source: &anthSource{Type: "url", URL: b.URL}}
		}
		return anthBlock{Type: "image", Source: &anthSource{Type: "base64", MediaType: b.MediaType, Data: b.Data}}
	case "tool_use":
		return anthBlock{Type: "tool_use", ID: b.ID, Name: b.Name, Input: b.Input}
	case "tool_result":
		text := b.Text
		return anthBlock{Type: "tool_result", ToolUseID: b.ID, Content: &text}
	}
	text := b.Text
	return anthBlock{Type: "text", Text: &text}
}

// anthMessageResp is a Messages API answer (and message_start's message).
type anthMessageResp struct {
	Type       string `json:"type"`
	Role       string `json:"role"`
	Model      string `json:"model"`
	StopReason string `json:"stop_reason"`
	Content    []struct {
		Type  string          `json:"type"`
		Text  string          `json:"text"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	} `json:"content"`
	Usage anthUsage `json:"usage"`
}

type anthUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// prompt counts every input token, cached or not: the size of the prompt.
func (u anthUsage) prompt() int {
	return u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
}

func anthropicWhole(body io.Reader) (*Response, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var m anthMessageResp
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Type != "message" {
		return nil, &Error{Kind: KindBadResponse, Msg: "answer is not a message (type " + quoteOr(m.Type, "missing") + ")"}
	}
	resp := &Response{Role: m.Role, Model: m.Model, FinishReason: claudeFinish(m.StopReason)}
	var text strings.Builder
	var calls []claudeToolCall
	for _, c := range m.Content {
		switch c.Type {
		case "text":
			text.WriteString(c.Text)
		case "tool_use":
			calls = append(calls, claudeToolCall{ID: c.ID, Name: c.Name, Input: c.Input})
		}
	}
	resp.Text = text.String()
	resp.ToolCalls = claudeToolCallsJSON(calls)
	p := m.Usage.prompt()
	resp.Usage = Usage{PromptTokens: p, CompletionTokens: m.Usage.OutputTokens, TotalTokens: p + m.Usage.OutputTokens}
	if resp.Role == "" {
		resp.Role = "assistant"
	}
	return resp, nil
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return `"` + shorten(s, 40) + `"`
}

// anthEvent is the data of one streamed event; which fields are set
// depends on its type.
type anthEvent struct {
	Type         string           `json:"type"`
	Message      *anthMessageResp `json:"message"`
	Index        int              `json:"index"`
	ContentBlock *struct {
		Type string `json:"type"`
		Text string `json:"text"`
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"content_block"`
	Delta *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// anthropicStream reads the SSE events of a streamed answer up to
// message_stop (https://docs.anthropic.com/en/api/messages-streaming).
func anthropicStream(body io.Reader, onChunk ChunkFunc) (*Response, error) {
	resp := &Response{Role: "assistant"}
	var (
		text    strings.Builder
		calls   []claudeToolCall
		byIndex = map[int]int{} // content block index -> calls index
		inputs  = map[int]*strings.Builder{}
		started bool
		usage   anthUsage
	)
	err := claudeSSE(body, func(event string, data []byte) (bool, error) {
		var ev anthEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return false, err
		}
		if ev.Type == "" {
			ev.Type = event
		}
		switch ev.Type {
		case "ping":
		case "error":
			kind, msg := KindServer, "server error in stream"
			if ev.Error != nil {
				if ev.Error.Type == "rate_limit_error" {
					kind = KindRateLimited
				}
				msg += ": " + shorten(ev.Error.Type+": "+ev.Error.Message, 200)
			}
			return false, &Error{Kind: kind, Msg: msg}
		case "message_start":
			if ev.Message == nil {
				return false, &Error{Kind: KindBadResponse, Msg: "message_start without a message"}
			}
			started = true
			resp.Model = ev.Message.Model
			if ev.Message.Role != "" {
				resp.Role = ev.Message.Role
			}
			usage = ev.Message.Usage
		case "content_block_start":
			if cb := ev.ContentBlock; cb != nil && cb.Type == "tool_use" {
				byIndex[ev.Index] = len(calls)
				calls = append(calls, claudeToolCall{ID: cb.ID, Name: cb.Name})
				inputs[ev.Index] = &strings.Builder{}
			}
		case "content_block_delta":
			if ev.Delta == nil {
				return false, &Error{Kind: KindBadResponse, Msg: "content_block_delta without a delta"}
			}
			switch ev.Delta.Type {
			case "text_delta":
				text.WriteString(ev.Delta.Text)
				if onChunk != nil && ev.Delta.Text != "" {
					onChunk(ev.Delta.Text)
				}
			case "input_json_delta":
				if b := inputs[ev.Index]; b != nil {
					b.WriteString(ev.Delta.PartialJSON)
				}
			}
		case "content_block_stop":
			if i, ok := byIndex[ev.Index]; ok {
				calls[i].Input = []byte(inputs[ev.Index].String())
			}
		case "message_delta":
			if ev.Delta != nil && ev.Delta.StopReason != "" {
				resp.FinishReason = claudeFinish(ev.Delta.StopReason)
			}
			if u := ev.Usage; u != nil {
				// Counts here are cumulative; input counts come only from newer API versions.
				usage.OutputTokens = u.OutputTokens
				if u.InputTokens > 0 {
					usage.InputTokens = u.InputTokens
				}
			}
		case "message_stop":
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if !started {
		return nil, &Error{Kind: KindBadResponse, Msg: "stream without message_start"}
	}
	resp.Text = text.String()
	resp.ToolCalls = claudeToolCallsJSON(calls)
	p := usage.prompt()
	resp.Usage = Usage{PromptTokens: p, CompletionTokens: usage.OutputTokens, TotalTokens: p + usage.OutputTokens}
	return resp, nil
}

// claudeSSE calls fn with each server-sent event's name and data until fn
// says the stream is complete. A body that ends first is a bad response;
// other read errors are returned as stream errors for toError to name.
func claudeSSE(body io.Reader, fn func(event string, data []byte) (done bool, err error)) error {
	var fnErr error
	err := readEvents(body, func(event string, data []byte) error {
		done, err := fn(event, data)
		switch {
		case err != nil:
			fnErr = err
			return err
		case done:
			return errDone
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case fnErr != nil:
		return fnErr
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: KindBadResponse, Msg: "stream ended before message_stop"}
	}
	return &streamErr{err}
}

// anthropicRetryHint reads anthropic-ratelimit-{requests,tokens,...}-reset
// (RFC 3339 times) for a 429 without Retry-After: the wait is until every
// exhausted limit has reset.
func anthropicRetryHint(h http.Header, now time.Time) (time.Duration, bool) {
	var wait time.Duration
	found := false
	for _, lim := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
		if strings.TrimSpace(h.Get("anthropic-ratelimit-"+lim+"-remaining")) != "0" {
			continue
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get("anthropic-ratelimit-"+lim+"-reset")))
		if err != nil {
			continue
		}
		wait, found = max(wait, at.Sub(now)), true
	}
	return max(wait, 0), found
}
