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
)

// ProviderHuggingFace is the parser id of the Hugging Face client.
const ProviderHuggingFace = "huggingface"

// DefaultHuggingFaceBaseURL is the Inference Providers router, used when
// neither the request nor HF_INFERENCE_ENDPOINT names an endpoint.
const DefaultHuggingFaceBaseURL = "https://router.huggingface.co"

// HuggingFaceKeyEnvs are the token variables: huggingface_hub's, then the
// AIConfig SDK's.
var HuggingFaceKeyEnvs = []string{"HF_TOKEN", "HUGGING_FACE_API_TOKEN"}

// hfGenerateKeys are TGI's /generate parameters as the SDK's
// HuggingFaceTextGenerationParser passes them, plus OpenAI's names.
var hfGenerateKeys = map[string]string{
	"temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "max_new_tokens": "max_new_tokens",
	"max_tokens": "max_new_tokens", "max_completion_tokens": "max_new_tokens", "max_tokens_to_sample": "max_new_tokens",
	"stop": "stop", "stop_sequences": "stop", "do_sample": "do_sample", "repetition_penalty": "repetition_penalty",
	"frequency_penalty": "frequency_penalty", "return_full_text": "return_full_text", "seed": "seed", "truncate": "truncate",
	"typical_p": "typical_p", "watermark": "watermark", "best_of": "best_of", "decoder_input_details": "decoder_input_details",
	"details": "details",
}

// HuggingFaceSettingKeys are the model settings the client maps.
func HuggingFaceSettingKeys() []string {
	keys := []string{"tools", "tool_choice", "response_format", "n", "presence_penalty", "logprobs", "top_logprobs"}
	for k := range hfGenerateKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// HuggingFace calls a text-generation server: TGI's /generate and
// /generate_stream on an endpoint of its own (HF_INFERENCE_ENDPOINT, an
// Inference Endpoint or a local TGI), and the OpenAI-compatible
// /v1/chat/completions on the router or an endpoint ending in /v1.
type HuggingFace struct{ rest rest }

// NewHuggingFace builds a client; it is safe for concurrent use.
func NewHuggingFace(opts OpenAIOptions) *HuggingFace { return &HuggingFace{rest: newRest(opts)} }

// Endpoint is baseURL, else $HF_INFERENCE_ENDPOINT, else the router.
func (h *HuggingFace) Endpoint(baseURL string) string {
	return h.rest.base.endpoint(baseURL, "HF_INFERENCE_ENDPOINT", DefaultHuggingFaceBaseURL)
}

// chatEndpoint reports whether an endpoint speaks OpenAI's chat
// completions rather than TGI's /generate.
func chatEndpoint(endpoint string) bool {
	return endpoint == DefaultHuggingFaceBaseURL || strings.HasSuffix(endpoint, "/v1")
}

// Complete runs one text generation, streamed when req.Stream.
func (h *HuggingFace) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	endpoint := h.Endpoint(req.BaseURL)
	names := keyNames(req.APIKeyEnv, HuggingFaceKeyEnvs)
	keyEnv, key := h.rest.firstEnv(names...)
	if key == "" && endpoint == DefaultHuggingFaceBaseURL {
		// A local TGI takes no token; the router always does.
		return nil, missingKey(endpoint, req.Model, names...)
	}
	if chatEndpoint(endpoint) {
		return h.chat(ctx, req, endpoint, keyEnv, onChunk)
	}
	body, err := buildGenerate(req)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	hdr := http.Header{}
	if key != "" {
		hdr.Set("Authorization", "Bearer "+key)
	}
	url := endpoint + "/generate"
	if req.Stream {
		url += "_stream"
	}
	st := &callState{endpoint: endpoint, keyEnv: keyEnv, key: key}
	return h.rest.call(ctx, st, req.Model, onChunk, func(ctx context.Context, chunk ChunkFunc) (*Response, error) {
		resp, err := h.rest.post(ctx, url, body, hdr)
		if err != nil {
			return nil, err
		}
		if req.Stream {
			defer resp.Body.Close()
			return readTGIStream(resp, req.Model, chunk)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		// TGI answers an object; the serverless API a one-element list.
		if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
			var list []tgiAnswer
			if err := json.Unmarshal(b, &list); err != nil {
				return nil, err
			}
			if len(list) == 0 {
				return nil, errEmptyChoices
			}
			return list[0].response(req.Model), nil
		}
		var a tgiAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, err
		}
		return a.response(req.Model), nil
	})
}

// chat sends the request to an OpenAI-compatible HF endpoint with the HF
// token, TGI's parameter names turned into OpenAI's.
func (h *HuggingFace) chat(ctx context.Context, req *Request, endpoint, keyEnv string, onChunk ChunkFunc) (*Response, error) {
	r := *req
	r.BaseURL = endpoint
	if !strings.HasSuffix(endpoint, "/v1") {
		r.BaseURL += "/v1"
	}
	r.APIKeyEnv = keyEnv
	r.Settings = map[string]any{}
	for k, v := range req.Settings {
		switch k {
		case "max_new_tokens", "max_tokens_to_sample":
			k = "max_tokens"
		case "stop_sequences":
			k = "stop"
		case "do_sample", "top_k", "repetition_penalty", "return_full_text", "truncate", "typical_p",
			"watermark", "best_of", "decoder_input_details", "details":
			continue // TGI-only knobs with no chat completions field
		}
		r.Settings[k] = v
	}
	return h.rest.base.Complete(ctx, &r, onChunk)
}

// buildGenerate maps a Request to TGI's {"inputs", "parameters"}. The
// turns are joined as text: /generate takes one prompt string.
func buildGenerate(req *Request) ([]byte, error) {
	var parts []string
	for i := range req.Messages {
		m := &req.Messages[i]
		for _, p := range m.Parts {
			if p.Type != "text" && p.Type != "" {
				return nil, fmt.Errorf("message %d: type %q cannot be sent to text generation (text only)", i+1, p.Type)
			}
		}
		if t := MessageText(m); t != "" {
			parts = append(parts, t)
		}
	}
	params := map[string]any{"return_full_text": false, "details": true}
	keys := make([]string, 0, len(req.Settings))
	for k := range req.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := normalize(req.Settings[k])
		if v == nil {
			continue
		}
		field, ok := hfGenerateKeys[k]
		if !ok {
			switch k {
			case "model", "stream", "stream_options":
				continue
			}
			return nil, unknownSetting("text generation", k)
		}
		switch field {
		case "temperature", "top_p", "repetition_penalty", "frequency_penalty", "typical_p":
			f, err := toFloat(v)
			if err != nil {
				return nil, fmt.Errorf("setting %s: %w", k, err)
			}
			params[field] = f
		case "top_k", "max_new_tokens", "seed", "truncate", "best_of":
			n, err := toInt(v)
			if err != nil {
				return nil, fmt.Errorf("setting %s: %w", k, err)
			}
			params[field] = n
		case "stop":
			switch s := v.(type) {
			case string:
				params[field] = []string{s}
			case []any:
				out := make([]string, 0, len(s))
				for _, x := range s {
					str, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("setting %s: want a string or a list of strings", k)
					}
					out = append(out, str)
				}
				params[field] = out
			default:
				return nil, fmt.Errorf("setting %s: want a string or a list of strings, got %T", k, v)
			}
		default:
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("setting %s: want true or false, got %T", k, v)
			}
			params[field] = b
		}
	}
	// TGI refuses temperature 0 and top_p 1 ("must be strictly positive",
	// "< 1"): they mean greedy and no nucleus cut, so say that instead.
	if t, ok := params["temperature"].(float64); ok && t == 0 {
		delete(params, "temperature")
		params["do_sample"] = false
	}
	if p, ok := params["top_p"].(float64); ok && p >= 1 {
		delete(params, "top_p")
	}
	return json.Marshal(map[string]any{"inputs": strings.Join(parts, "\n\n"), "parameters": params})
}

type tgiDetails struct {
	FinishReason    string            `json:"finish_reason"`
	GeneratedTokens int               `json:"generated_tokens"`
	Prefill         []json.RawMessage `json:"prefill"`
}

type tgiAnswer struct {
	GeneratedText *string     `json:"generated_text"`
	Details       *tgiDetails `json:"details"`
	Error         string      `json:"error"`
}

func (a *tgiAnswer) response(model string) *Response {
	r := &Response{Role: "assistant", Model: model, FinishReason: "stop"}
	if a.GeneratedText != nil {
		r.Text = *a.GeneratedText
	}
	if d := a.Details; d != nil {
		r.FinishReason = tgiFinish(d.FinishReason)
		r.Usage = Usage{PromptTokens: len(d.Prefill), CompletionTokens: d.GeneratedTokens, TotalTokens: len(d.Prefill) + d.GeneratedTokens}
	}
	return r
}

func tgiFinish(s string) string {
	switch s {
	case "length":
		return "length"
	case "eos_token", "stop_sequence", "":
		return "stop"
	}
	return s
}

// readTGIStream reads /generate_stream: one token per event, the last with
// generated_text and details; no [DONE].
func readTGIStream(resp *http.Response, model string, onChunk ChunkFunc) (*Response, error) {
	var text strings.Builder
	var final *Response
	err := readSSE(resp.Body, func(data []byte) error {
		var ev struct {
			Token *struct {
				Text    string `json:"text"`
				Special bool   `json:"special"`
			} `json:"token"`
			tgiAnswer
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return err
		}
		if ev.Error != "" {
			return &Error{Kind: KindServer, Msg: "server error in stream: " + shorten(ev.Error, 200)}
		}
		if ev.Token != nil && !ev.Token.Special && ev.Token.Text != "" {
			text.WriteString(ev.Token.Text)
			if onChunk != nil {
				onChunk(ev.Token.Text)
			}
		}
		if ev.Details != nil || ev.GeneratedText != nil {
			final = ev.response(model)
		}
		return nil
	})
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &streamErr{err}
	}
	if final == nil {
		if err == nil {
			err = io.EOF
		}
		return nil, streamEnded(err, "its final event (details)")
	}
	final.Text = text.String()
	return final, nil
}
