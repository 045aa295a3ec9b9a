package llm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	openai "github.com/sashabaranov/go-openai"
)

// buildChat maps a Request to go-openai's request. extra holds JSON members
// for settings explicitly set to a zero value, which go-openai's omitempty
// would drop (temperature: 0 must reach the model as 0, not as absent).
func buildChat(req *Request) (openai.ChatCompletionRequest, []byte, error) {
	cr := openai.ChatCompletionRequest{Model: req.Model}
	msgs, err := buildMessages(req.Messages)
	if err != nil {
		return cr, nil, err
	}
	cr.Messages = msgs
	var kbuf [16]string // every call: a typical model's settings, on the stack
	keys := kbuf[:0]
	for k := range req.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable error and extra order
	var extra []byte
	for _, k := range keys {
		zero, err := applySetting(&cr, k, req.Settings[k])
		if err != nil {
			return cr, nil, fmt.Errorf("setting %s: %w", k, err)
		}
		if zero != "" {
			if len(extra) > 0 {
				extra = append(extra, ',')
			}
			extra = append(extra, zero...)
		}
	}
	return cr, extra, nil
}

// CheckSetting reports whether setting k can be sent to an
// OpenAI-compatible API as v (type and range), so `aieval validate` catches
// a wrong value before any model call rather than on every test.
func CheckSetting(k string, v any) error {
	var cr openai.ChatCompletionRequest
	_, err := applySetting(&cr, k, v)
	return err
}

func applySetting(cr *openai.ChatCompletionRequest, k string, v any) (zero string, err error) {
	v = normalize(v)
	if v == nil {
		return "", nil // null: same as absent
	}
	f32 := func(dst *float32) (string, error) {
		f, err := toFloat(v)
		if err != nil {
			return "", err
		}
		// Past float32's range the value becomes an infinity, which JSON
		// cannot encode: every call would fail.
		if math.IsInf(float64(float32(f)), 0) || math.IsNaN(f) {
			return "", fmt.Errorf("number %v is out of range", f)
		}
		*dst = float32(f)
		if f == 0 {
			if z, ok := zeroMembers[k]; ok {
				return z, nil
			}
			return strconv.Quote(k) + ":0", nil
		}
		return "", nil
	}
	i := func(dst *int) (string, error) {
		n, err := toInt(v)
		*dst = n
		return "", err
	}
	switch k {
	case "model", "stream", "stream_options":
		return "", nil // decided by the Request itself
	case "temperature":
		return f32(&cr.Temperature)
	case "top_p":
		return f32(&cr.TopP)
	case "presence_penalty":
		return f32(&cr.PresencePenalty)
	case "frequency_penalty":
		return f32(&cr.FrequencyPenalty)
	case "max_tokens":
		//lint:ignore SA1019 the aiconfig says max_tokens and the SDK sends it as such; o1 models take max_completion_tokens, which maps below
		return i(&cr.MaxTokens)
	case "max_completion_tokens":
		return i(&cr.MaxCompletionTokens)
	case "n":
		return i(&cr.N)
	case "top_logprobs":
		z, err := i(&cr.TopLogProbs)
		if err == nil && cr.TopLogProbs == 0 {
			z = `"top_logprobs":0`
		}
		return z, err
	case "seed":
		n, err := toInt(v)
		cr.Seed = &n
		return "", err
	case "logprobs":
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want true or false, got %T", v)
		}
		cr.LogProbs = b
		if !b {
			return `"logprobs":false`, nil
		}
		return "", nil
	case "user":
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a string, got %T", v)
		}
		cr.User = s
		return "", nil
	case "stop":
		switch s := v.(type) {
		case string:
			cr.Stop = []string{s}
		case []any:
			for _, x := range s {
				str, ok := x.(string)
				if !ok {
					return "", fmt.Errorf("want a string or a list of strings, got a %T in the list", x)
				}
				cr.Stop = append(cr.Stop, str)
			}
		default:
			return "", fmt.Errorf("want a string or a list of strings, got %T", v)
		}
		return "", nil
	case "logit_bias":
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("want a map of token id to bias, got %T", v)
		}
		cr.LogitBias = make(map[string]int, len(m))
		for tok, b := range m {
			n, err := toInt(b)
			if err != nil {
				return "", fmt.Errorf("token %s: %w", tok, err)
			}
			cr.LogitBias[tok] = n
		}
		return "", nil
	// Decoded into locals: a pointer into cr handed to encoding/json would
	// put every call's request on the heap.
	case "tools":
		var tools []openai.Tool
		err := viaJSON(v, &tools)
		cr.Tools = tools
		return "", err
	case "functions":
		var fns []openai.FunctionDefinition
		err := viaJSON(v, &fns)
		//lint:ignore SA1019 aiconfig files written for the legacy functions API send them as written
		cr.Functions = fns
		return "", err
	case "response_format":
		var rf openai.ChatCompletionResponseFormat
		if err := viaJSON(v, &rf); err != nil {
			return "", err
		}
		cr.ResponseFormat = &rf
		return "", nil
	case "tool_choice":
		cr.ToolChoice = v // a string ("auto") or an object, sent as given
		return "", nil
	case "function_call":
		//lint:ignore SA1019 sent as written, with functions above
		cr.FunctionCall = v
		return "", nil
	}
	return "", fmt.Errorf("not an OpenAI chat completion parameter (remove it from the model settings)")
}

// zeroMembers are the float settings' zero members, built once (every
// call with temperature: 0 sends one).
var zeroMembers = map[string]string{
	"temperature": `"temperature":0`, "top_p": `"top_p":0`,
	"presence_penalty": `"presence_penalty":0`, "frequency_penalty": `"frequency_penalty":0`,
}

// viaJSON converts YAML/JSON-decoded values into go-openai's typed fields.
func viaJSON(v, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("wrong shape: %w", err)
	}
	return nil
}

// normalize returns a copy with YAML's map[any]any turned into
// map[string]any, recursively, so values encode as JSON.
func normalize(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = normalize(val)
		}
		return m
	case map[string]any:
		// Copy: settings maps are shared by concurrent calls.
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = normalize(val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = normalize(val)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return v
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case string:
		// Loaders keep numbers past float64's or int64's range (1e400,
		// 2^70) as text.
		_, ferr := strconv.ParseFloat(x, 64)
		_, ierr := strconv.ParseInt(x, 10, 64)
		if errors.Is(ferr, strconv.ErrRange) || errors.Is(ierr, strconv.ErrRange) {
			return 0, fmt.Errorf("number %s is out of range", x)
		}
		return 0, fmt.Errorf("want a number, got %q", x)
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

func toInt(v any) (int, error) {
	f, err := toFloat(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("want a whole number, got %v", f)
	}
	return int(f), nil
}

func buildMessages(in []Message) ([]openai.ChatCompletionMessage, error) {
	out := make([]openai.ChatCompletionMessage, len(in))
	for i, m := range in {
		cm := openai.ChatCompletionMessage{Role: m.Role, Name: m.Name, ToolCallID: m.ToolCallID}
		if len(m.Parts) > 0 {
			if m.Content != "" {
				cm.MultiContent = append(cm.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: m.Content})
			}
			for j, p := range m.Parts {
				switch p.Type {
				case "text", "":
					cm.MultiContent = append(cm.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: p.Text})
				case "image_url":
					cm.MultiContent = append(cm.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeImageURL,
						ImageURL: &openai.ChatMessageImageURL{URL: p.ImageURL, Detail: openai.ImageURLDetail(p.Detail)}})
				default:
					return nil, fmt.Errorf("message %d part %d: type %q cannot be sent to an OpenAI-compatible endpoint (use text or image_url)", i+1, j+1, p.Type)
				}
			}
		} else {
			cm.Content = m.Content
			if m.Content == "" {
				// go-openai drops an empty content (omitempty); the API
				// refuses a user turn without one, and the SDK sends "".
				// A turn that calls a tool has content null, as the SDK's.
				cm.Content = contentEmpty
				if len(m.ToolCalls) > 0 || len(m.FunctionCall) > 0 {
					cm.Content = contentNull
				}
			}
		}
		if len(m.ToolCalls) > 0 {
			var calls []openai.ToolCall // a local: &cm.ToolCalls would put cm on the heap
			if err := json.Unmarshal(m.ToolCalls, &calls); err != nil {
				return nil, fmt.Errorf("message %d tool_calls: %w", i+1, err)
			}
			cm.ToolCalls = calls
		}
		if len(m.FunctionCall) > 0 {
			cm.FunctionCall = &openai.FunctionCall{}
			if err := json.Unmarshal(m.FunctionCall, cm.FunctionCall); err != nil {
				return nil, fmt.Errorf("message %d function_call: %w", i+1, err)
			}
		}
		out[i] = cm
	}
	return out, nil
}

// contentEmpty and contentNull stand in for an empty and a null content in
// go-openai's message (whose content is omitempty); restoreContent puts the
// real value back in the encoded body. The random part keeps a prompt from
// ever producing them.
var (
	contentNonce = func() string {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		return hex.EncodeToString(b)
	}()
	contentEmpty = "aieval-content-empty-" + contentNonce
	contentNull  = "aieval-content-null-" + contentNonce

	contentMark      = []byte("aieval-content-")
	contentEmptyJSON = []byte(`"content":"` + contentEmpty + `"`)
	contentNullJSON  = []byte(`"content":"` + contentNull + `"`)
)

// restoreContent replaces buildMessages' placeholders in a request body
// with "content":"" and "content":null.
func restoreContent(body []byte) []byte {
	if !bytes.Contains(body, contentMark) {
		return body
	}
	body = bytes.ReplaceAll(body, contentEmptyJSON, []byte(`"content":""`))
	return bytes.ReplaceAll(body, contentNullJSON, []byte(`"content":null`))
}

// ChatBody is the JSON body an OpenAI-compatible endpoint receives for req
// (the `aieval prompt --dry-run` view), byte for byte as Complete sends it.
func ChatBody(req *Request) ([]byte, error) {
	cr, extra, err := buildChat(req)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		cr.Stream = true
		cr.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	b, err := appendChatBody(nil, &cr, extra)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}
