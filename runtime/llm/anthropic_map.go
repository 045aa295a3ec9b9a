package llm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// This file maps aieval's OpenAI-shaped request to the parts every Claude
// API has (Anthropic Messages and Bedrock Converse): a top-level system
// text, strictly alternating user/assistant turns made of blocks, and
// tools with a JSON schema. Each client renders them in its wire format.

// ClaudeSettingKeys are the model settings the Claude clients map, besides
// aieval's own (model, stream): the OpenAI names and the AIConfig SDK's
// Claude names (max_tokens_to_sample, stop_sequences, top_k). The runtime
// must pass these through to Claude requests.
var ClaudeSettingKeys = []string{
	"temperature", "top_p", "top_k", "max_tokens", "max_tokens_to_sample", "max_completion_tokens",
	"stop", "stop_sequences", "tools", "tool_choice", "functions", "function_call", "user", "metadata",
}

// ClaudeDefaultMaxTokens is sent when the settings name no limit: both
// APIs require one (Anthropic rejects a request without max_tokens).
const ClaudeDefaultMaxTokens = 4096

type claudeSettings struct {
	maxTokens   int
	temperature *float64
	topP        *float64
	topK        *int
	stop        []string
	tools       []claudeTool
	toolChoice  *claudeToolChoice
	user        string
}

type claudeTool struct {
	Name        string
	Description string
	Schema      json.RawMessage
}

// claudeToolChoice is auto, any (OpenAI's "required"), tool (one named
// tool) or none.
type claudeToolChoice struct {
	Type string
	Name string
}

func parseClaudeSettings(in map[string]any) (claudeSettings, error) {
	s := claudeSettings{maxTokens: ClaudeDefaultMaxTokens}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key is reported, always the same one
	for _, k := range keys {
		if err := s.apply(k, normalize(in[k])); err != nil {
			return s, fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return s, nil
}

// CheckClaudeSetting reports whether setting k can be sent to a Claude API
// as v, so `aieval validate` can catch a wrong value before any call.
func CheckClaudeSetting(k string, v any) error {
	var s claudeSettings
	return s.apply(k, normalize(v))
}

func (s *claudeSettings) apply(k string, v any) error {
	if v == nil {
		return nil // null: same as absent
	}
	float := func(dst **float64) error {
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		*dst = &f
		return nil
	}
	switch k {
	case "model", "stream", "stream_options":
		return nil // decided by the Request itself
	case "temperature":
		return float(&s.temperature)
	case "top_p":
		return float(&s.topP)
	case "top_k":
		n, err := toInt(v)
		s.topK = &n
		return err
	case "max_tokens", "max_tokens_to_sample", "max_completion_tokens":
		n, err := toInt(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("want at least 1, got %d", n)
		}
		s.maxTokens = n
		return err
	case "stop", "stop_sequences":
		switch x := v.(type) {
		case string:
			s.stop = append(s.stop, x)
		case []any:
			for _, e := range x {
				str, ok := e.(string)
				if !ok {
					return fmt.Errorf("want a string or a list of strings, got a %T in the list", e)
				}
				s.stop = append(s.stop, str)
			}
		default:
			return fmt.Errorf("want a string or a list of strings, got %T", v)
		}
		return nil
	case "user":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		s.user = str
		return nil
	case "metadata":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want a map, got %T", v)
		}
		if u, ok := m["user_id"].(string); ok {
			s.user = u
		}
		return nil
	case "tools", "functions":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want a list of tools, got %T", v)
		}
		for i, t := range list {
			ct, err := claudeToolOf(t)
			if err != nil {
				return fmt.Errorf("tool %d: %w", i+1, err)
			}
			s.tools = append(s.tools, ct)
		}
		return nil
	case "tool_choice", "function_call":
		tc, err := claudeToolChoiceOf(v)
		s.toolChoice = tc
		return err
	}
	return fmt.Errorf("not a Claude parameter (remove it from the model settings)")
}

// claudeToolOf takes a tool in OpenAI's shape ({type: function, function:
// {name, description, parameters}}), the legacy function shape, Anthropic's
// ({name, description, input_schema}) or Bedrock's ({toolSpec: ...}).
func claudeToolOf(v any) (claudeTool, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return claudeTool{}, fmt.Errorf("want a map, got %T", v)
	}
	if f, ok := m["function"].(map[string]any); ok {
		m = f
	} else if ts, ok := m["toolSpec"].(map[string]any); ok {
		m = ts
	}
	name, _ := m["name"].(string)
	if name == "" {
		return claudeTool{}, fmt.Errorf("no name")
	}
	desc, _ := m["description"].(string)
	schema := m["parameters"]
	if schema == nil {
		schema = m["input_schema"]
	}
	if is, ok := m["inputSchema"].(map[string]any); ok {
		schema = is["json"]
	}
	if schema == nil {
		// Both APIs require a schema; a tool without arguments has this one.
		schema = map[string]any{"type": "object", "properties": map[string]any{}}
	}
	b, err := json.Marshal(schema)
	if err != nil {
		return claudeTool{}, fmt.Errorf("parameters: %w", err)
	}
	return claudeTool{Name: name, Description: desc, Schema: b}, nil
}

// claudeToolChoiceOf takes OpenAI's tool_choice ("auto", "none",
// "required", {type: function, function: {name}}), the legacy
// function_call ("auto", {name}) or Anthropic's ({type: auto|any|tool, name}).
func claudeToolChoiceOf(v any) (*claudeToolChoice, error) {
	switch x := v.(type) {
	case string:
		switch x {
		case "auto", "none":
			return &claudeToolChoice{Type: x}, nil
		case "required", "any":
			return &claudeToolChoice{Type: "any"}, nil
		}
		return nil, fmt.Errorf("want auto, none, required or a tool, got %q", x)
	case map[string]any:
		if f, ok := x["function"].(map[string]any); ok {
			if name, _ := f["name"].(string); name != "" {
				return &claudeToolChoice{Type: "tool", Name: name}, nil
			}
		}
		typ, _ := x["type"].(string)
		name, _ := x["name"].(string)
		switch {
		case typ == "auto" || typ == "any" || typ == "none":
			return &claudeToolChoice{Type: typ}, nil
		case name != "" && (typ == "" || typ == "tool" || typ == "function"):
			return &claudeToolChoice{Type: "tool", Name: name}, nil
		}
	}
	return nil, fmt.Errorf("want auto, none, required or {type: function, function: {name: ...}}, got %v", v)
}

// claudeBlock is one content block of a turn.
type claudeBlock struct {
	Kind      string // text, image, tool_use, tool_result
	Text      string // text; tool_result's content
	MediaType string // image: e.g. image/png, with Data
	Data      string // image: base64
	URL       string // image: a URL instead of Data (Anthropic only)
	ID        string // tool_use id; tool_result's tool_use_id
	Name      string // tool_use
	Input     json.RawMessage
}

type claudeTurn struct {
	Role   string // user or assistant
	Blocks []claudeBlock
}

// claudeConversation splits messages into the system text and turns that
// alternate user/assistant, as both APIs require: consecutive messages of
// one role are merged, tool results become user turns, system messages
// (wherever they are) are joined into the system text.
func claudeConversation(msgs []Message) (system string, turns []claudeTurn, err error) {
	var sys []string
	add := func(role string, blocks ...claudeBlock) {
		if n := len(turns); n > 0 && turns[n-1].Role == role {
			turns[n-1].Blocks = append(turns[n-1].Blocks, blocks...)
			return
		}
		turns = append(turns, claudeTurn{Role: role, Blocks: blocks})
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer":
			if t := messageText(m); t != "" {
				sys = append(sys, t)
			}
		case "user", "":
			blocks, err := userBlocks(m)
			if err != nil {
				return "", nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			add("user", blocks...)
		case "assistant":
			var blocks []claudeBlock
			if t := messageText(m); t != "" {
				blocks = append(blocks, claudeBlock{Kind: "text", Text: t})
			}
			uses, err := toolUses(m)
			if err != nil {
				return "", nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			blocks = append(blocks, uses...)
			if len(blocks) == 0 {
				continue // an empty assistant turn is rejected by both APIs
			}
			add("assistant", blocks...)
		case "tool", "function":
			id := m.ToolCallID
			if id == "" {
				id = m.Name
			}
			add("user", claudeBlock{Kind: "tool_result", ID: id, Text: messageText(m)})
		default:
			return "", nil, fmt.Errorf("message %d: role %q cannot be sent to Claude (use system, user, assistant or tool)", i+1, m.Role)
		}
	}
	return strings.Join(sys, "\n\n"), turns, nil
}

func messageText(m Message) string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	texts := []string{}
	if m.Content != "" {
		texts = append(texts, m.Content)
	}
	for _, p := range m.Parts {
		if p.Type == "text" || p.Type == "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

func userBlocks(m Message) ([]claudeBlock, error) {
	if len(m.Parts) == 0 {
		return []claudeBlock{{Kind: "text", Text: m.Content}}, nil
	}
	var out []claudeBlock
	if m.Content != "" {
		out = append(out, claudeBlock{Kind: "text", Text: m.Content})
	}
	for j, p := range m.Parts {
		switch p.Type {
		case "text", "":
			out = append(out, claudeBlock{Kind: "text", Text: p.Text})
		case "image_url":
			b, err := imageBlock(p.ImageURL)
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", j+1, err)
			}
			out = append(out, b)
		default:
			return nil, fmt.Errorf("part %d: type %q cannot be sent to Claude (use text or image_url)", j+1, p.Type)
		}
	}
	return out, nil
}

// imageBlock reads a data: URL into base64 data, or keeps an http(s) URL.
func imageBlock(u string) (claudeBlock, error) {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		mt, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || mt == "" {
			return claudeBlock{}, fmt.Errorf("image data URL must be data:<media type>;base64,<data>")
		}
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return claudeBlock{}, fmt.Errorf("image data URL: bad base64: %w", err)
		}
		return claudeBlock{Kind: "image", MediaType: mt, Data: data}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return claudeBlock{Kind: "image", URL: u}, nil
	}
	return claudeBlock{}, fmt.Errorf("image_url must be an http(s) or data: URL")
}

// toolUses turns an assistant message's OpenAI tool_calls (or legacy
// function_call) into tool_use blocks.
func toolUses(m Message) ([]claudeBlock, error) {
	var calls []openai.ToolCall
	if len(m.ToolCalls) > 0 {
		if err := json.Unmarshal(m.ToolCalls, &calls); err != nil {
			return nil, fmt.Errorf("tool_calls: %w", err)
		}
	}
	if len(calls) == 0 && len(m.FunctionCall) > 0 {
		var fn openai.FunctionCall
		if err := json.Unmarshal(m.FunctionCall, &fn); err != nil {
			return nil, fmt.Errorf("function_call: %w", err)
		}
		calls = append(calls, openai.ToolCall{ID: fn.Name, Function: fn})
	}
	out := make([]claudeBlock, 0, len(calls))
	for _, c := range calls {
		input := json.RawMessage(strings.TrimSpace(c.Function.Arguments))
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		if !json.Valid(input) {
			return nil, fmt.Errorf("tool call %s: arguments are not JSON", c.Function.Name)
		}
		out = append(out, claudeBlock{Kind: "tool_use", ID: c.ID, Name: c.Function.Name, Input: input})
	}
	return out, nil
}

// claudeToolCall is one tool call an answer asked for, before it is given
// in OpenAI's shape.
type claudeToolCall struct {
	ID, Name string
	Input    []byte // JSON object
}

// claudeToolCallsJSON gives tool calls in the shape the OpenAI client
// returns, so assertions on tool_calls see one format for every provider.
func claudeToolCallsJSON(calls []claudeToolCall) json.RawMessage {
	oc := make([]openai.ToolCall, 0, len(calls))
	for _, c := range calls {
		args := "{}"
		if in := strings.TrimSpace(string(c.Input)); in != "" {
			args = in
			if b, err := compactJSON(in); err == nil {
				args = b // streamed and whole answers give the same text
			}
		}
		oc = append(oc, openai.ToolCall{ID: c.ID, Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: c.Name, Arguments: args}})
	}
	return toolCallsJSON(oc, nil)
}

func compactJSON(s string) (string, error) {
	var v json.RawMessage
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v) // json.Marshal of RawMessage compacts it
	return string(b), err
}

// claudeFinish maps a Claude stop reason to OpenAI's finish_reason, the
// one vocabulary assertions see.
func claudeFinish(reason string) string {
	switch reason {
	case "end_turn", "stop_sequence":
		return "stop"
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal", "guardrail_intervened", "content_filtered":
		return "content_filter"
	}
	return reason
}
