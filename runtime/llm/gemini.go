package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// ProviderGemini is the parser id of the Gemini API client.
const ProviderGemini = "gemini"

// DefaultGeminiBaseURL is used when neither the request nor
// GOOGLE_GEMINI_BASE_URL names an endpoint.
const DefaultGeminiBaseURL = "https://generativelanguage.googleapis.com"

// GeminiKeyEnvs are the key variables, in the official SDK's order of
// precedence (GOOGLE_API_KEY wins when both are set).
var GeminiKeyEnvs = []string{"GOOGLE_API_KEY", "GEMINI_API_KEY"}

// Gemini talks to the Gemini API (generateContent, streamGenerateContent)
// over the shared retrying transport. It is hand-written: the official
// google.golang.org/genai SDK brings Google's auth, gRPC and protobuf
// modules for what is two JSON endpoints here.
type Gemini struct{ rest rest }

// NewGemini builds a client; it is safe for concurrent use.
func NewGemini(opts OpenAIOptions) *Gemini { return &Gemini{rest: newRest(opts)} }

// Endpoint is the base URL a request goes to: baseURL, else
// $GOOGLE_GEMINI_BASE_URL, else DefaultGeminiBaseURL; without a trailing
// slash. A base URL ending in an API version (/v1beta, /v1) keeps it.
func (g *Gemini) Endpoint(baseURL string) string {
	return g.rest.base.endpoint(baseURL, "GOOGLE_GEMINI_BASE_URL", DefaultGeminiBaseURL)
}

// CircuitOpen reports whether calls to the endpoint currently fail fast.
func (g *Gemini) CircuitOpen(baseURL string) bool { return g.rest.circuitOpen(g.Endpoint(baseURL)) }

// geminiModelPath is the resource name of a model: "gemini-pro" and
// "models/gemini-pro" are both models/gemini-pro; tunedModels/x stays.
func geminiModelPath(model string) string {
	if strings.HasPrefix(model, "models/") || strings.HasPrefix(model, "tunedModels/") {
		return model
	}
	return "models/" + model
}

// Complete sends generateContent, or streamGenerateContent when req.Stream.
func (g *Gemini) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	endpoint := g.Endpoint(req.BaseURL)
	names := keyNames(req.APIKeyEnv, GeminiKeyEnvs)
	keyEnv, key := g.rest.firstEnv(names...)
	if v := strings.ToLower(g.rest.getenv("GOOGLE_GENAI_USE_VERTEXAI")); v == "1" || v == "true" {
		return nil, &Error{Kind: KindUnsupported, Endpoint: endpoint, Model: req.Model,
			Msg: "Vertex AI needs Google OAuth credentials, which aieval does not read: unset GOOGLE_GENAI_USE_VERTEXAI and use $GEMINI_API_KEY, or point GOOGLE_GEMINI_BASE_URL at a proxy that adds them"}
	}
	if key == "" {
		return nil, missingKey(endpoint, req.Model, names...)
	}
	body, err := buildGemini(req)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	base := endpoint
	if !strings.HasSuffix(base, "/v1beta") && !strings.HasSuffix(base, "/v1") && !strings.HasSuffix(base, "/v1alpha") {
		base += "/v1beta"
	}
	url := base + "/" + geminiModelPath(req.Model)
	if req.Stream {
		url += ":streamGenerateContent?alt=sse"
	} else {
		url += ":generateContent"
	}
	hdr := http.Header{"X-Goog-Api-Key": {key}}
	st := &callState{endpoint: endpoint, keyEnv: keyEnv, key: key}
	return g.rest.call(ctx, st, req.Model, onChunk, func(ctx context.Context, chunk ChunkFunc) (*Response, error) {
		resp, err := g.rest.post(ctx, url, body, hdr)
		if err != nil {
			return nil, err
		}
		if req.Stream {
			defer resp.Body.Close()
			return readGeminiStream(resp, chunk)
		}
		var gr geminiResponse
		if err := decodeJSON(resp, &gr); err != nil {
			return nil, err
		}
		acc := &geminiAcc{}
		if err := acc.add(&gr, nil); err != nil {
			return nil, err
		}
		return acc.response()
	})
}

// Wire types of the Gemini API (ai.google.dev/api/generate-content).
type (
	geminiPart struct {
		Text             string          `json:"text,omitempty"`
		Thought          bool            `json:"thought,omitempty"`
		InlineData       *geminiBlob     `json:"inlineData,omitempty"`
		FileData         *geminiFile     `json:"fileData,omitempty"`
		FunctionCall     *geminiCall     `json:"functionCall,omitempty"`
		FunctionResponse *geminiFuncResp `json:"functionResponse,omitempty"`
	}
	geminiBlob struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	}
	geminiFile struct {
		MimeType string `json:"mimeType,omitempty"`
		FileURI  string `json:"fileUri"`
	}
	geminiCall struct {
		ID   string          `json:"id,omitempty"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args,omitempty"`
	}
	geminiFuncResp struct {
		ID       string          `json:"id,omitempty"`
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	}
	geminiContent struct {
		Role  string       `json:"role,omitempty"`
		Parts []geminiPart `json:"parts"`
	}
	geminiResponse struct {
		Candidates []struct {
			Content      geminiContent `json:"content"`
			FinishReason string        `json:"finishReason"`
			Index        int           `json:"index"`
		} `json:"candidates"`
		PromptFeedback *struct {
			BlockReason string `json:"blockReason"`
		} `json:"promptFeedback"`
		UsageMetadata *struct {
			PromptTokenCount     int `json:"promptTokenCount"`
			CandidatesTokenCount int `json:"candidatesTokenCount"`
			ThoughtsTokenCount   int `json:"thoughtsTokenCount"`
			TotalTokenCount      int `json:"totalTokenCount"`
		} `json:"usageMetadata"`
		ModelVersion string `json:"modelVersion"`
		Error        *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
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

// geminiConfigKeys maps the SDK's and OpenAI's flat setting names to
// generationConfig fields.
var geminiConfigKeys = map[string]string{
	"temperature": "temperature", "top_p": "topP", "top_k": "topK",
	"max_output_tokens": "maxOutputTokens", "max_tokens": "maxOutputTokens",
	"max_completion_tokens": "maxOutputTokens", "max_tokens_to_sample": "maxOutputTokens",
	"stop": "stopSequences", "stop_sequences": "stopSequences",
	"candidate_count": "candidateCount", "n": "candidateCount",
	"presence_penalty": "presencePenalty", "frequency_penalty": "frequencyPenalty",
	"seed": "seed", "response_mime_type": "responseMimeType", "response_schema": "responseSchema",
	"response_logprobs": "responseLogprobs", "logprobs": "responseLogprobs", "top_logprobs": "logprobs",
	"thinking_config": "thinkingConfig",
}

// GeminiSettingKeys are the model settings the Gemini client maps.
func GeminiSettingKeys() []string {
	keys := []string{"generation_config", "safety_settings", "tools", "functions", "tool_choice",
		"function_call", "response_format", "tool_config"}
	for k := range geminiConfigKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func geminiSettings(body map[string]any, settings map[string]any) error {
	cfg := map[string]any{}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The SDK's nested generation_config first, so flat keys win.
	if v := normalize(settings["generation_config"]); v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("setting generation_config: want a map, got %T", v)
		}
		for k, x := range m {
			field := k
			if f, ok := geminiConfigKeys[k]; ok {
				field = f
			}
			if err := setGeminiConfig(cfg, field, x); err != nil {
				return fmt.Errorf("setting generation_config.%s: %w", k, err)
			}
		}
	}
	var tools []map[string]any
	var decls []any
	for _, k := range keys {
		v := normalize(settings[k])
		if v == nil || k == "generation_config" {
			continue
		}
		if field, ok := geminiConfigKeys[k]; ok {
			if err := setGeminiConfig(cfg, field, v); err != nil {
				return fmt.Errorf("setting %s: %w", k, err)
			}
			continue
		}
		switch k {
		case "model", "stream", "stream_options":
		case "safety_settings":
			body["safetySettings"] = v
		case "tool_config":
			body["toolConfig"] = v
		case "tools":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("setting tools: want a list, got %T", v)
			}
			for _, t := range list {
				tm, _ := t.(map[string]any)
				switch {
				case tm["type"] == "function" && tm["function"] != nil:
					decls = append(decls, tm["function"])
				case tm["functionDeclarations"] != nil || tm["function_declarations"] != nil ||
					tm["googleSearch"] != nil || tm["codeExecution"] != nil:
					tools = append(tools, tm) // already in Gemini's shape
				default:
					return fmt.Errorf("setting tools: want OpenAI function tools or Gemini tools, got %s", shorten(fmt.Sprint(t), 80))
				}
			}
		case "functions":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("setting functions: want a list, got %T", v)
			}
			decls = append(decls, list...)
		case "tool_choice", "function_call":
			tc, err := geminiToolChoice(v)
			if err != nil {
				return fmt.Errorf("setting %s: %w", k, err)
			}
			body["toolConfig"] = tc
		case "response_format":
			m, _ := v.(map[string]any)
			switch m["type"] {
			case "json_object":
				cfg["responseMimeType"] = "application/json"
			case "json_schema":
				cfg["responseMimeType"] = "application/json"
				if js, ok := m["json_schema"].(map[string]any); ok && js["schema"] != nil {
					cfg["responseJsonSchema"] = js["schema"]
				}
			case "text":
			default:
				return fmt.Errorf("setting response_format: want type text, json_object or json_schema")
			}
		default:
			return unknownSetting("Gemini", k)
		}
	}
	if len(decls) > 0 {
		for _, d := range decls {
			dm, ok := d.(map[string]any)
			if !ok || dm["name"] == nil {
				return fmt.Errorf("setting tools: a function needs a name")
			}
			delete(dm, "strict") // OpenAI's; Gemini refuses unknown fields
		}
		tools = append(tools, map[string]any{"functionDeclarations": decls})
	}
	if len(tools) > 0 {
		body["tools"] = tools
	}
	if len(cfg) > 0 {
		body["generationConfig"] = cfg
	}
	return nil
}

func setGeminiConfig(cfg map[string]any, field string, v any) error {
	v = normalize(v)
	switch field {
	case "temperature", "topP", "presencePenalty", "frequencyPenalty":
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		cfg[field] = f
	case "topK", "maxOutputTokens", "candidateCount", "seed", "logprobs":
		n, err := toInt(v)
		if err != nil {
			return err
		}
		cfg[field] = n
	case "stopSequences":
		switch s := v.(type) {
		case string:
			cfg[field] = []string{s}
		case []any:
			out := make([]string, 0, len(s))
			for _, x := range s {
				str, ok := x.(string)
				if !ok {
					return fmt.Errorf("want a string or a list of strings, got a %T in the list", x)
				}
				out = append(out, str)
			}
			cfg[field] = out
		default:
			return fmt.Errorf("want a string or a list of strings, got %T", v)
		}
	case "responseLogprobs":
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %T", v)
		}
		cfg[field] = b
	default:
		cfg[field] = v
	}
	return nil
}

// geminiToolChoice maps OpenAI's tool_choice to toolConfig.
func geminiToolChoice(v any) (map[string]any, error) {
	mode := func(m string, names ...string) map[string]any {
		fc := map[string]any{"mode": m}
		if len(names) > 0 {
			fc["allowedFunctionNames"] = names
		}
		return map[string]any{"functionCallingConfig": fc}
	}
	switch x := v.(type) {
	case string:
		switch x {
		case "auto":
			return mode("AUTO"), nil
		case "none":
			return mode("NONE"), nil
		case "required", "any":
			return mode("ANY"), nil
		}
	case map[string]any:
		if f, ok := x["function"].(map[string]any); ok {
			if name, ok := f["name"].(string); ok {
				return mode("ANY", name), nil
			}
		}
		if name, ok := x["name"].(string); ok { // function_call: {name: f}
			return mode("ANY", name), nil
		}
	}
	return nil, fmt.Errorf("want auto, none, required or {function: {name: ...}}")
}

// geminiAcc folds one answer or a stream of chunks into a Response.
type geminiAcc struct {
	text     strings.Builder
	calls    []openai.ToolCall
	finish   string
	blocked  string
	model    string
	usage    Usage
	answered bool // a candidate or a block reason was seen
}

func (a *geminiAcc) add(gr *geminiResponse, onChunk ChunkFunc) error {
	if gr.Error != nil {
		return &Error{Kind: KindServer, Status: gr.Error.Code, Msg: "server error in stream: " + shorten(gr.Error.Message, 200)}
	}
	if gr.ModelVersion != "" {
		a.model = gr.ModelVersion
	}
	if u := gr.UsageMetadata; u != nil {
		out := u.CandidatesTokenCount + u.ThoughtsTokenCount
		total := u.TotalTokenCount
		if total == 0 {
			total = u.PromptTokenCount + out
		}
		a.usage = Usage{PromptTokens: u.PromptTokenCount, CompletionTokens: out, TotalTokens: total}
	}
	if pf := gr.PromptFeedback; pf != nil && pf.BlockReason != "" {
		a.blocked = pf.BlockReason
		a.answered = true
	}
	for _, c := range gr.Candidates {
		if c.Index != 0 {
			continue // candidateCount > 1: the first is the answer, as OpenAI's n
		}
		a.answered = true
		for _, p := range c.Content.Parts {
			switch {
			case p.Thought:
				// a thinking model's summary is not the answer
			case p.FunctionCall != nil:
				args := string(p.FunctionCall.Args)
				if args == "" || args == "null" {
					args = "{}"
				}
				id := p.FunctionCall.ID
				if id == "" {
					id = fmt.Sprintf("call_%d", len(a.calls))
				}
				a.calls = append(a.calls, openai.ToolCall{ID: id, Type: openai.ToolTypeFunction,
					Function: openai.FunctionCall{Name: p.FunctionCall.Name, Arguments: args}})
			case p.Text != "":
				a.text.WriteString(p.Text)
				if onChunk != nil {
					onChunk(p.Text)
				}
			}
		}
		if c.FinishReason != "" {
			a.finish = c.FinishReason
		}
	}
	return nil
}

func (a *geminiAcc) response() (*Response, error) {
	if !a.answered {
		return nil, errEmptyChoices
	}
	r := &Response{Text: a.text.String(), Role: "assistant", Model: a.model, Usage: a.usage,
		FinishReason: geminiFinish(a.finish, len(a.calls) > 0)}
	if a.blocked != "" {
		// A blocked prompt is an answer (the model refused), not a fault.
		r.FinishReason = "content_filter"
	}
	r.ToolCalls = toolCallsJSON(a.calls, nil)
	return r, nil
}

// geminiFinish maps finishReason to OpenAI's finish_reason values.
func geminiFinish(reason string, calls bool) string {
	switch reason {
	case "STOP", "":
		if calls {
			return "tool_calls"
		}
		if reason == "" {
			return ""
		}
		return "stop"
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE":
		return "content_filter"
	}
	return strings.ToLower(reason)
}

// readGeminiStream reads streamGenerateContent?alt=sse: each event is a
// whole GenerateContentResponse; the last one has the finishReason (there
// is no [DONE]), so a stream without it was cut.
func readGeminiStream(resp *http.Response, onChunk ChunkFunc) (*Response, error) {
	acc := &geminiAcc{}
	err := readSSE(resp.Body, func(data []byte) error {
		var gr geminiResponse
		if err := json.Unmarshal(data, &gr); err != nil {
			return err
		}
		return acc.add(&gr, onChunk)
	})
	if err != nil {
		ended := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if !ended {
			return nil, &streamErr{err}
		}
		if acc.finish == "" && acc.blocked == "" {
			return nil, streamEnded(err, "its finishReason")
		}
	}
	return acc.response()
}
