package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
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
