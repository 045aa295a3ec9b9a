// Package fakehf is a local text-generation-inference (TGI) server:
// POST /generate and /generate_stream (SSE written "data:" without a
// space, no [DONE]), strict about the Bearer token, foreign credential
// headers and the parameters' names and types, with request recording
// and fault injection. The OpenAI-compatible /v1/chat/completions of the
// router is fakeopenai's.
package fakehf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
)

// Parameters are TGI's generate parameters; unknown ones are refused.
type Parameters struct {
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	TopK                *int     `json:"top_k,omitempty"`
	MaxNewTokens        *int     `json:"max_new_tokens,omitempty"`
	Stop                []string `json:"stop,omitempty"`
	DoSample            *bool    `json:"do_sample,omitempty"`
	RepetitionPenalty   *float64 `json:"repetition_penalty,omitempty"`
	FrequencyPenalty    *float64 `json:"frequency_penalty,omitempty"`
	ReturnFullText      *bool    `json:"return_full_text,omitempty"`
	Seed                *int     `json:"seed,omitempty"`
	Truncate            *int     `json:"truncate,omitempty"`
	TypicalP            *float64 `json:"typical_p,omitempty"`
	Watermark           *bool    `json:"watermark,omitempty"`
	BestOf              *int     `json:"best_of,omitempty"`
	Details             *bool    `json:"details,omitempty"`
	DecoderInputDetails *bool    `json:"decoder_input_details,omitempty"`
}

// Request is a decoded /generate body.
type Request struct {
	Inputs     string     `json:"inputs"`
	Parameters Parameters `json:"parameters"`
	Stream     bool       `json:"stream,omitempty"`
}

// Seen is one recorded request.
type Seen struct {
	Path   string
	Header http.Header
	Body   []byte
	Req    Request
}

// Fault replaces an answer.
type Fault struct {
	Code       int
	RetryAfter string
}

// Server is a running fake TGI.
type Server struct {
	*httptest.Server
	token string // "" accepts no Authorization header at all
	reply func(Request) (text, finish string)
	fault func(n int64) *Fault
	n     atomic.Int64

	mu   sync.Mutex
	seen []Seen
}

// New starts a server accepting token (as "Bearer token"); "" means the
// server takes no token, like a local TGI.
func New(token string, reply func(Request) (string, string), fault func(n int64) *Fault) *Server {
	if reply == nil {
		reply = func(r Request) (string, string) { return r.Inputs, "eos_token" }
	}
	s := &Server{token: token, reply: reply, fault: fault}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Requests is every request seen, in order.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

func tgiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg, "error_type": typ})
	w.Write(b)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seen := Seen{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decErr := dec.Decode(&req)
	seen.Req = req
	s.mu.Lock()
	s.seen = append(s.seen, seen)
	s.mu.Unlock()
	stream := r.URL.Path == "/generate_stream"
	if r.Method != http.MethodPost || (r.URL.Path != "/generate" && !stream) {
		tgiError(w, 404, "not_found", "no route "+r.Method+" "+r.URL.Path)
		return
	}
	for _, h := range []string{"Api-Key", "X-Api-Key", "X-Goog-Api-Key"} {
		if r.Header.Get(h) != "" {
			tgiError(w, 400, "validation", "foreign credential header "+h)
			return
		}
	}
	if want := "Bearer " + s.token; (s.token == "" && r.Header.Get("Authorization") != "") || (s.token != "" && r.Header.Get("Authorization") != want) {
		tgiError(w, 401, "authentication", "Invalid credentials in Authorization header")
		return
	}
	if decErr != nil {
		tgiError(w, 422, "validation", "Failed to deserialize the JSON body into the target type: "+decErr.Error())
		return
	}
	p := req.Parameters
	switch {
	case req.Inputs == "":
		tgiError(w, 422, "validation", "`inputs` cannot be empty")
		return
	case p.Temperature != nil && *p.Temperature <= 0:
		tgiError(w, 422, "validation", "Input validation error: `temperature` must be strictly positive")
		return
	case p.TopP != nil && (*p.TopP <= 0 || *p.TopP >= 1):
		tgiError(w, 422, "validation", "Input validation error: `top_p` must be > 0.0 and < 1.0")
		return
	case p.TopK != nil && *p.TopK <= 0:
		tgiError(w, 422, "validation", "Input validation error: `top_k` must be strictly positive")
		return
	}
	if s.fault != nil {
		if f := s.fault(s.n.Add(1)); f != nil {
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			tgiError(w, f.Code, "overloaded", "injected fault")
			return
		}
	}
	text, finish := s.reply(req)
	words := strings.Fields(text)
	prefill := make([]map[string]any, len(strings.Fields(req.Inputs)))
	for i := range prefill {
		prefill[i] = map[string]any{"id": i, "text": "t"}
	}
	details := map[string]any{"finish_reason": finish, "generated_tokens": len(words), "seed": nil}
	if p.DecoderInputDetails != nil && *p.DecoderInputDetails {
		details["prefill"] = prefill
	}
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		out := map[string]any{"generated_text": text}
		if p.Details != nil && *p.Details {
			out["details"] = details
		}
		b, _ := json.Marshal(out)
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	pieces := strings.SplitAfter(text, " ")
	for i, piece := range pieces {
		ev := map[string]any{"index": i + 1, "token": map[string]any{"id": i, "text": piece, "logprob": -0.1, "special": false},
			"generated_text": nil, "details": nil}
		if i == len(pieces)-1 {
			ev["generated_text"] = text
			ev["details"] = details
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "data:%s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
}
