package llm

import (
	"encoding/json"
	"slices"
	"strconv"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aieval/aieval/internal/jsonw"
)

// The chat path encodes its request body itself: encoding/json's
// reflection over go-openai's request (and go-openai's request builder
// around it) cost about a fifth of the client's own CPU per call. The
// bytes are those go-openai would send after the transport spliced in the
// zero-valued settings and restored the placeholder contents (stdChatBody,
// kept for the tests that prove it): the same keys in the struct's order,
// encoding/json's number and string formatting. Members whose values are
// free-form (tools, functions, response_format, tool_choice, ...) are rare
// on a test's path and are encoded by encoding/json, so their bytes are
// its bytes by construction.

// appendChatBody appends the JSON body of cr, with extra (JSON members,
// comma separated) first, as go-openai's marshal, the transport's splice
// and restoreContent together produce it.
func appendChatBody(b []byte, cr *openai.ChatCompletionRequest, extra []byte) ([]byte, error) {
	var err error
	b = append(b, '{')
	if len(extra) > 0 {
		b = append(append(b, extra...), ',')
	}
	b = append(b, `"model":`...)
	b = jsonw.StringHTML(b, cr.Model)
	b = append(b, `,"messages":`...)
	if cr.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range cr.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendMessage(b, &cr.Messages[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	//lint:ignore SA1019 sent as the aiconfig names it (settings.go)
	b = appendIntMember(b, "max_tokens", cr.MaxTokens)
	b = appendIntMember(b, "max_completion_tokens", cr.MaxCompletionTokens)
	b = appendFloat32Member(b, "temperature", cr.Temperature)
	b = appendFloat32Member(b, "top_p", cr.TopP)
	b = appendIntMember(b, "n", cr.N)
	b = append(b, `,"stream":`...)
	b = strconv.AppendBool(b, cr.Stream)
	if len(cr.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range cr.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.StringHTML(b, s)
		}
		b = append(b, ']')
	}
	b = appendFloat32Member(b, "presence_penalty", cr.PresencePenalty)
	if cr.ResponseFormat != nil {
		if b, err = appendStdMember(b, "response_format", cr.ResponseFormat); err != nil {
			return nil, err
		}
	}
	if cr.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, int64(*cr.Seed), 10)
	}
	b = appendFloat32Member(b, "frequency_penalty", cr.FrequencyPenalty)
	if len(cr.LogitBias) > 0 {
		b = append(b, `,"logit_bias":{`...)
		keys := make([]string, 0, len(cr.LogitBias))
		for k := range cr.LogitBias {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts map keys
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsonw.StringHTML(b, k), ':')
			b = strconv.AppendInt(b, int64(cr.LogitBias[k]), 10)
		}
		b = append(b, '}')
	}
	if cr.LogProbs {
		b = append(b, `,"logprobs":true`...)
	}
	b = appendIntMember(b, "top_logprobs", cr.TopLogProbs)
	b = appendStringMember(b, "user", cr.User)
	// The rest are free-form or never set by buildChat: encoding/json's own
	// bytes, member by member, in the struct's order (boxed only when set).
	w := stdMembers{b: b}
	//lint:ignore SA1019 legacy functions are sent as the aiconfig wrote them (settings.go)
	if functions := cr.Functions; len(functions) > 0 {
		w.add("functions", functions)
	}
	//lint:ignore SA1019 sent as written, with functions
	if fc := cr.FunctionCall; fc != nil {
		w.add("function_call", fc)
	}
	if len(cr.Tools) > 0 {
		w.add("tools", cr.Tools)
	}
	if cr.ToolChoice != nil {
		w.add("tool_choice", cr.ToolChoice)
	}
	if cr.StreamOptions != nil {
		w.add("stream_options", cr.StreamOptions)
	}
	if cr.ParallelToolCalls != nil {
		w.add("parallel_tool_calls", cr.ParallelToolCalls)
	}
	if cr.Store {
		w.add("store", true)
	}
	if cr.ReasoningEffort != "" {
		w.add("reasoning_effort", cr.ReasoningEffort)
	}
	if len(cr.Metadata) > 0 {
		w.add("metadata", cr.Metadata)
	}
	if cr.Prediction != nil {
		w.add("prediction", cr.Prediction)
	}
	if len(cr.ChatTemplateKwargs) > 0 {
		w.add("chat_template_kwargs", cr.ChatTemplateKwargs)
	}
	if cr.ServiceTier != "" {
		w.add("service_tier", cr.ServiceTier)
	}
	if cr.Verbosity != "" {
		w.add("verbosity", cr.Verbosity)
	}
	if cr.SafetyIdentifier != "" {
		w.add("safety_identifier", cr.SafetyIdentifier)
	}
	if len(cr.GuidedChoice) > 0 {
		w.add("guided_choice", cr.GuidedChoice)
	}
	if w.err != nil {
		return nil, w.err
	}
	b = w.b
	return append(b, '}'), nil
}

// appendMessage is ChatCompletionMessage.MarshalJSON's output, with
// buildMessages' placeholders written as "" and null.
func appendMessage(b []byte, m *openai.ChatCompletionMessage) ([]byte, error) {
	if m.Content != "" && m.MultiContent != nil {
		return appendStd(b, m) // its own error
	}
	b = append(b, `{"role":`...)
	b = jsonw.StringHTML(b, m.Role)
	multi := len(m.MultiContent) > 0
	if !multi {
		switch m.Content {
		case "":
		case contentEmpty:
			b = append(b, `,"content":""`...)
		case contentNull:
			b = append(b, `,"content":null`...)
		default:
			b = appendStringMember(b, "content", m.Content)
		}
	}
	b = appendStringMember(b, "refusal", m.Refusal)
	if multi {
		b = append(b, `,"content":[`...)
		for i, p := range m.MultiContent {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPart(b, &p)
		}
		b = append(b, ']')
	}
	b = appendStringMember(b, "name", m.Name)
	b = appendStringMember(b, "reasoning_content", m.ReasoningContent)
	if m.FunctionCall != nil {
		b = append(b, `,"function_call":`...)
		b = appendFunctionCall(b, m.FunctionCall)
	}
	if len(m.ToolCalls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		for i, c := range m.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			sep := false
			if c.Index != nil {
				b = append(b, `"index":`...)
				b = strconv.AppendInt(b, int64(*c.Index), 10)
				sep = true
			}
			if c.ID != "" {
				if sep {
					b = append(b, ',')
				}
				b = append(b, `"id":`...)
				b = jsonw.StringHTML(b, c.ID)
				sep = true
			}
			if sep {
				b = append(b, ',')
			}
			b = append(b, `"type":`...)
			b = jsonw.StringHTML(b, string(c.Type))
			b = append(b, `,"function":`...)
			b = appendFunctionCall(b, &c.Function)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStringMember(b, "tool_call_id", m.ToolCallID)
	return append(b, '}'), nil
}

func appendPart(b []byte, p *openai.ChatMessagePart) []byte {
	b = append(b, '{')
	n := len(b)
	if p.Type != "" {
		b = append(b, `"type":`...)
		b = jsonw.StringHTML(b, string(p.Type))
	}
	if p.Text != "" {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"text":`...)
		b = jsonw.StringHTML(b, p.Text)
	}
	if p.ImageURL != nil {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"image_url":{`...)
		m := len(b)
		if p.ImageURL.URL != "" {
			b = append(b, `"url":`...)
			b = jsonw.StringHTML(b, p.ImageURL.URL)
		}
		if p.ImageURL.Detail != "" {
			if len(b) > m {
				b = append(b, ',')
			}
			b = append(b, `"detail":`...)
			b = jsonw.StringHTML(b, string(p.ImageURL.Detail))
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendFunctionCall(b []byte, f *openai.FunctionCall) []byte {
	b = append(b, '{')
	if f.Name != "" {
		b = append(b, `"name":`...)
		b = jsonw.StringHTML(b, f.Name)
	}
	if f.Arguments != "" {
		if f.Name != "" {
			b = append(b, ',')
		}
		b = append(b, `"arguments":`...)
		b = jsonw.StringHTML(b, f.Arguments)
	}
	return append(b, '}')
}

// appendStdMember appends ,"key": and encoding/json's bytes for v.
func appendStdMember(b []byte, key string, v any) ([]byte, error) {
	b = append(append(append(b, `,"`...), key...), `":`...)
	return appendStd(b, v)
}

// stdMembers appends members encoded by encoding/json, keeping the first
// error.
type stdMembers struct {
	b   []byte
	err error
}

func (w *stdMembers) add(key string, v any) {
	if w.err == nil {
		w.b, w.err = appendStdMember(w.b, key, v)
	}
}

func appendStd(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

func appendIntMember(b []byte, key string, n int) []byte {
	if n == 0 {
		return b // omitempty
	}
	b = append(append(append(b, `,"`...), key...), `":`...)
	return strconv.AppendInt(b, int64(n), 10)
}

func appendStringMember(b []byte, key, s string) []byte {
	if s == "" {
		return b // omitempty
	}
	b = append(append(append(b, `,"`...), key...), `":`...)
	return jsonw.StringHTML(b, s)
}

// appendFloat32Member writes a float32 setting as encoding/json does.
// applySetting refuses infinities and NaN, which encoding/json refuses.
func appendFloat32Member(b []byte, key string, f32 float32) []byte {
	if f32 == 0 {
		return b // omitempty
	}
	b = append(append(append(b, `,"`...), key...), `":`...)
	b, _ = jsonw.Float32(b, f32)
	return b
}
