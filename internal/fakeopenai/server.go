// Package fakeopenai is a local test server speaking the OpenAI wire format
// (chat completions, JSON and SSE, embeddings and moderations) with injectable latency
// and faults, so model calls can be tested without a network or a key.
package fakeopenai

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/fakewire"
)

// Server is a running fake endpoint. It is safe for concurrent use.
type Server struct {
	*httptest.Server

	latency    time.Duration
	reply      func(ChatRequest) string
	fault      FaultFunc
	embedFault func(n int64, req EmbedRequest) Fault
	moderate   func(input string) []string
	keep       int
	bucket     *bucket // WithRateLimit; nil: no limit

	done      chan struct{}
	closeOnce sync.Once

	chats, embeds, faulted atomic.Int64
	moderations            atomic.Int64
	inflight, maxInflight  atomic.Int64

	mu     sync.Mutex
	bodies []ChatRequest
	seen   []Seen
	auth   map[string]int
}

// Seen is what the server recorded of one request besides its decoded body.
type Seen struct {
	Path   string // URL path and query
	Header http.Header
	Body   []byte
}

// Option configures New.
type Option func(*Server)

// WithLatency delays every answer by d (the client's cancel still ends it).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithReply sets the assistant text for a request. Default: echo the last
// user message.
func WithReply(fn func(req ChatRequest) string) Option { return func(s *Server) { s.reply = fn } }

// WithFault injects faults into chat completions; n is the 1-based request
// number.
func WithFault(fn FaultFunc) Option { return func(s *Server) { s.fault = fn } }

// WithEmbedFault injects faults into embeddings; n counts embedding requests.
func WithEmbedFault(fn func(n int64, req EmbedRequest) Fault) Option {
	return func(s *Server) { s.embedFault = fn }
}

// WithKeep bounds how many requests are recorded (Bodies, Seen); default
// 10000, negative keeps all, 0 keeps none. Counters are always exact.
func WithKeep(n int) Option { return func(s *Server) { s.keep = n } }

// New starts a server; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		reply: ChatRequest.LastUser,
		keep:  10000,
		done:  make(chan struct{}),
		auth:  map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST /v1/embeddings", s.handleEmbed)
	mux.HandleFunc("POST /v1/moderations", s.handleModeration)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "unknown route "+r.Method+" "+r.URL.Path)
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// URL is the base URL clients use, ending in /v1.
func (s *Server) URL() string { return s.Server.URL + "/v1" }

// Close stops the server, first releasing any hanging handler.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.Server.CloseClientConnections()
		s.Server.Close()
	})
}

// Requests is the number of chat completion requests received.
func (s *Server) Requests() int64 { return s.chats.Load() }

// EmbedRequests is the number of embedding requests received.
func (s *Server) EmbedRequests() int64 { return s.embeds.Load() }

// Faults is the number of requests answered with a fault.
func (s *Server) Faults() int64 { return s.faulted.Load() }

// MaxInFlight is the highest number of requests handled at once.
func (s *Server) MaxInFlight() int64 { return s.maxInflight.Load() }

// Bodies returns the recorded chat requests in arrival order.
func (s *Server) Bodies() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.bodies...)
}

// Seen returns the recorded requests (all routes) in arrival order.
func (s *Server) Seen() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// Authorizations returns the distinct Authorization header values received
// (over every request, recorded or not) and how often each came.
func (s *Server) Authorizations() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.auth))
	for k, v := range s.auth {
		out[k] = v
	}
	return out
}

// Leaks lists where secret appears in recorded requests other than the
// Authorization header: in a URL, another header, or a body.
func (s *Server) Leaks(secret string) []string {
	var out []string
	for i, r := range s.Seen() {
		out = append(out, fakewire.Leaks(i, r.Path, r.Header, r.Body, secret, "Authorization")...)
	}
	return out
}

func (s *Server) record(r *http.Request, body []byte, chat *ChatRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth[r.Header.Get("Authorization")]++
	if s.keep >= 0 && len(s.seen) >= s.keep {
		return
	}
	s.seen = append(s.seen, Seen{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	if chat != nil {
		s.bodies = append(s.bodies, *chat)
	}
}

func (s *Server) enter() func() {
	n := s.inflight.Add(1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { s.inflight.Add(-1) }
}

// wait sleeps d unless the client goes away or the server closes; it
// reports whether the handler should go on.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.record(r, body, nil)
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+err.Error())
		return
	}
	req.Raw = body
	n := s.chats.Add(1)
	s.record(r, body, &req)
	f := None
	if s.fault != nil {
		f = s.fault(n, req)
	}
	if s.bucket != nil && f.Kind == KindNone && !s.bucket.take(w) {
		writeError(w, http.StatusTooManyRequests, errType(http.StatusTooManyRequests), "Rate limit reached for requests")
		return
	}
	if f.Kind != KindNone {
		s.faulted.Add(1)
	}
	if f.Kind != KindHang && !s.wait(r, s.latency) {
		return
	}
	if s.doFault(w, r, f, req.Stream) {
		return
	}
	text := s.reply(req)
	cut := f.Kind == KindCutStream
	if req.Stream {
		writeStream(w, &req, n, text, cut)
		return
	}
	b, _ := json.Marshal(chatResponse(&req, n, text))
	if cut {
		// Promise the whole body, send half, drop the connection.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		fakewire.ResetConn(w, false)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// doFault applies f; it reports whether the request is fully handled.
func (s *Server) doFault(w http.ResponseWriter, r *http.Request, f Fault, stream bool) bool {
	switch f.Kind {
	case KindStatus:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, f.Code, errType(f.Code), "fake fault: HTTP "+itoa(f.Code))
	case KindHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case KindReset:
		fakewire.ResetConn(w, true)
	case KindMalformed:
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"id\":\"chatcmpl-bad\",\"choices\":[{\"delta\":{\"content\":\"x\"}]}\n\ndata: [DONE]\n\n")
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-bad","object":"chat.completion","choices":[{"message":{"role":"assistant","content":"oops"}]}`)
	case KindEmptyChoices:
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"id\":\"chatcmpl-empty\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\ndata: [DONE]\n\n")
			return true
		}
		writeJSON(w, map[string]any{"id": "chatcmpl-empty", "object": "chat.completion", "choices": []any{},
			"usage": map[string]int{"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})
	case KindCutStream:
		return false // handled by the writers, which need the reply
	default:
		return false
	}
	return true
}

func errType(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case code == http.StatusUnauthorized:
		return "invalid_api_key"
	case code >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func itoa(n int) string { return strconv.Itoa(n) }
