// Package fakegemini is a local test server speaking the Gemini API's
// generateContent and streamGenerateContent (SSE, CRLF line ends) wire
// format, strict about paths, the x-goog-api-key header, foreign
// credential headers and the request's fields and types, with request
// recording and fault injection.
package fakegemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Request is a decoded generateContent body. Decoding rejects unknown
// fields, as the real API does ("Unknown name").
type Request struct {
	Contents          []Content         `json:"contents"`
	SystemInstruction *Content          `json:"systemInstruction,omitempty"`
	GenerationConfig  *GenerationConfig `json:"generationConfig,omitempty"`
	SafetySettings    []struct {
		Category  string `json:"category"`
		Threshold string `json:"threshold"`
	} `json:"safetySettings,omitempty"`
	Tools      []Tool          `json:"tools,omitempty"`
	ToolConfig json.RawMessage `json:"toolConfig,omitempty"`
}

// Content is one turn.
type Content struct {
	Role  string `json:"role,omitempty"`
	Parts []Part `json:"parts"`
}

// Part is one piece of a turn.
type Part struct {
	Text       *string `json:"text,omitempty"`
	Thought    bool    `json:"thought,omitempty"`
	InlineData *struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	} `json:"inlineData,omitempty"`
	FileData *struct {
		MimeType string `json:"mimeType,omitempty"`
		FileURI  string `json:"fileUri"`
	} `json:"fileData,omitempty"`
	FunctionCall     *FunctionCall `json:"functionCall,omitempty"`
	FunctionResponse *struct {
		ID       string         `json:"id,omitempty"`
		Name     string         `json:"name"`
		Response map[string]any `json:"response"`
	} `json:"functionResponse,omitempty"`
}

// FunctionCall is a model's call of a declared function.
type FunctionCall struct {
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name"`
	Args map[string]any `json:"args,omitempty"`
}

// GenerationConfig holds the sampling fields, typed as the API types them.
type GenerationConfig struct {
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int            `json:"topK,omitempty"`
	MaxOutputTokens    *int            `json:"maxOutputTokens,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	CandidateCount     *int            `json:"candidateCount,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	Seed               *int            `json:"seed,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseSchema     json.RawMessage `json:"responseSchema,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ResponseLogprobs   *bool           `json:"responseLogprobs,omitempty"`
	Logprobs           *int            `json:"logprobs,omitempty"`
	ThinkingConfig     json.RawMessage `json:"thinkingConfig,omitempty"`
}

// Tool is a set of function declarations.
type Tool struct {
	FunctionDeclarations []struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"functionDeclarations,omitempty"`
	GoogleSearch  json.RawMessage `json:"googleSearch,omitempty"`
	CodeExecution json.RawMessage `json:"codeExecution,omitempty"`
}

// LastUser is the text of the last user turn.
func (r Request) LastUser() string {
	for i := len(r.Contents) - 1; i >= 0; i-- {
		if r.Contents[i].Role == "user" {
			var b strings.Builder
			for _, p := range r.Contents[i].Parts {
				if p.Text != nil {
					b.WriteString(*p.Text)
				}
			}
			return b.String()
		}
	}
	return ""
}

// Reply is what the fake answers.
type Reply struct {
	Text         string
	Calls        []FunctionCall
	FinishReason string // default STOP
	BlockReason  string // non-empty: the prompt is blocked, no candidates
}

// Fault is what the server does instead of answering.
type Fault struct {
	Code       int    // an HTTP error status with a Google error body
	RetryAfter string // with Code: a Retry-After header
	CutStream  bool   // send the first chunk of a stream, then close without a finishReason
}

// Seen is one recorded request.
type Seen struct {
	Method string
	Path   string // path and query
	Header http.Header
	Body   []byte
	Req    Request // decoded, when it decoded
}

// Option configures New.
type Option func(*Server)

// WithKey sets the API key the server accepts (default "gm-test-key").
func WithKey(k string) Option { return func(s *Server) { s.key = k } }

// WithReply sets the answer. Default: echo the last user text.
func WithReply(fn func(Request) Reply) Option { return func(s *Server) { s.reply = fn } }

// WithFault injects faults; n is the 1-based request number.
func WithFault(fn func(n int64, r Request) *Fault) Option { return func(s *Server) { s.fault = fn } }

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	*httptest.Server
	key   string
	reply func(Request) Reply
	fault func(int64, Request) *Fault
	n     atomic.Int64

	mu   sync.Mutex
	seen []Seen
}

// New starts a server; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{key: "gm-test-key", reply: func(r Request) Reply { return Reply{Text: r.LastUser()} }}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Requests returns every request seen, in arrival order.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// foreignHeaders are other providers' credential headers: a request that
// carries one leaked a key meant for another host.
var foreignHeaders = []string{"Authorization", "Api-Key", "X-Api-Key", "X-Amz-Security-Token"}

func apiError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
	w.Write(b)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seen := Seen{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	record := func() {
		s.mu.Lock()
		s.seen = append(s.seen, seen)
		s.mu.Unlock()
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	model, method, ok2 := strings.Cut(rest, ":")
	if r.Method != http.MethodPost || !ok || !ok2 || model == "" || strings.Contains(model, "/") ||
		(method != "generateContent" && method != "streamGenerateContent") {
		record()
		apiError(w, 404, "NOT_FOUND", "no such method: "+r.Method+" "+r.URL.Path)
		return
	}
	stream := method == "streamGenerateContent"
	if stream && r.URL.Query().Get("alt") != "sse" {
		record()
		apiError(w, 400, "INVALID_ARGUMENT", "this fake streams only with alt=sse")
		return
	}
	for _, h := range foreignHeaders {
		if r.Header.Get(h) != "" {
			record()
			apiError(w, 400, "INVALID_ARGUMENT", "foreign credential header "+h)
			return
		}
	}
	if r.URL.Query().Get("key") != "" {
		record()
		apiError(w, 400, "INVALID_ARGUMENT", "key in the URL: send it in x-goog-api-key")
		return
	}
	if got := r.Header.Get("X-Goog-Api-Key"); got != s.key {
		record()
		apiError(w, 403, "PERMISSION_DENIED", "API key not valid. Please pass a valid API key.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		record()
		apiError(w, 400, "INVALID_ARGUMENT", "Content-Type must be application/json")
		return
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		record()
		apiError(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	seen.Req = req
	record()
	if msg := check(&req); msg != "" {
		apiError(w, 400, "INVALID_ARGUMENT", msg)
		return
	}
	n := s.n.Add(1)
	var f *Fault
	if s.fault != nil {
		f = s.fault(n, req)
	}
	if f != nil && f.Code != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		status := map[int]string{429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}[f.Code]
		apiError(w, f.Code, status, "injected fault")
		return
	}
	rep := s.reply(req)
	if !stream {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		b, _ := json.Marshal(answer(model, req, rep, rep.Text, true))
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	chunks := split(rep.Text)
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	for i, c := range chunks {
		last := i == len(chunks)-1
		b, _ := json.Marshal(answer(model, req, rep, c, last))
		fmt.Fprintf(w, "data: %s\r\n\r\n", b)
		if fl != nil {
			fl.Flush()
		}
		if f != nil && f.CutStream {
			return // no finishReason: the client must see a cut stream
		}
	}
}

// check enforces what the API requires beyond types.
func check(r *Request) string {
	if len(r.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified"
	}
	for i, c := range r.Contents {
		if c.Role != "user" && c.Role != "model" {
			return "Please use a valid role: user, model (contents[" + strconv.Itoa(i) + "])"
		}
		if len(c.Parts) == 0 {
			return "contents.parts must not be empty (contents[" + strconv.Itoa(i) + "])"
		}
		if i > 0 && r.Contents[i-1].Role == c.Role {
			return "roles must alternate (contents[" + strconv.Itoa(i) + "])"
		}
	}
	if s := r.SystemInstruction; s != nil && (s.Role != "" && s.Role != "user" && s.Role != "system") {
		return "systemInstruction: bad role " + s.Role
	}
	for _, t := range r.Tools {
		for _, d := range t.FunctionDeclarations {
			if d.Name == "" {
				return "functionDeclarations: name is required"
			}
		}
	}
	return ""
}

// answer is one GenerateContentResponse: the whole answer, or one chunk
// of a stream (with the finishReason and full usage on the last).
func answer(model string, req Request, rep Reply, text string, last bool) map[string]any {
	prompt := 0
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			if p.Text != nil {
				prompt += len(strings.Fields(*p.Text))
			}
		}
	}
	out := len(strings.Fields(rep.Text))
	resp := map[string]any{"modelVersion": model + "-001", "responseId": "fake-1"}
	if rep.BlockReason != "" {
		resp["promptFeedback"] = map[string]any{"blockReason": rep.BlockReason}
		resp["usageMetadata"] = map[string]any{"promptTokenCount": prompt, "totalTokenCount": prompt}
		return resp
	}
	parts := []map[string]any{}
	if text != "" || len(rep.Calls) == 0 {
		parts = append(parts, map[string]any{"text": text})
	}
	if last {
		for _, c := range rep.Calls {
			parts = append(parts, map[string]any{"functionCall": c})
		}
	}
	cand := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
	usage := map[string]any{"promptTokenCount": prompt}
	if last {
		fr := rep.FinishReason
		if fr == "" {
			fr = "STOP"
		}
		cand["finishReason"] = fr
		cand["safetyRatings"] = []map[string]any{{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}}
		usage["candidatesTokenCount"] = out
		usage["totalTokenCount"] = prompt + out
	}
	resp["candidates"] = []any{cand}
	resp["usageMetadata"] = usage
	return resp
}

// split cuts text into word-sized chunks that join back to it.
func split(text string) []string {
	var out []string
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}
