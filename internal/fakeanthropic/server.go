// Package fakeanthropic is a local test server speaking the Anthropic
// Messages API (POST /v1/messages, JSON and SSE) as its reference describes
// it, strict about what a real server rejects (auth headers, unknown
// fields, a missing max_tokens, a system role inside messages, turns that
// do not alternate), with scripted replies and injectable faults.
package fakeanthropic

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/fakewire"
)

// Version is the only anthropic-version the server accepts.
const Version = "2023-06-01"

// DefaultKey is the x-api-key the server accepts unless WithKey says.
const DefaultKey = "sk-ant-fake-0123456789"

// Reply is what the model answers. A zero StopReason is end_turn, or
// tool_use when ToolUses is set.
type Reply struct {
	Text       string
	ToolUses   []ToolUse
	StopReason string
}

// ToolUse is one tool_use block of a reply.
type ToolUse struct {
	ID    string
	Name  string
	Input map[string]any
}

// Kind says how the server misbehaves for one request.
type Kind int

const (
	KindNone        Kind = iota
	KindStatus           // answer Code with an Anthropic error body
	KindCutStream        // send part of the answer, then drop the connection
	KindMalformed        // 200 with a body that is not valid JSON
	KindStreamError      // a 200 stream that sends an error event (overloaded_error)
)

// Fault is what the server does with one request.
type Fault struct {
	Kind       Kind
	Code       int    // KindStatus: HTTP status (429, 500, 529, ...)
	RetryAfter string // KindStatus: retry-after header, "" for none
	// ResetIn: with a 429, send anthropic-ratelimit-requests-remaining: 0
	// and -reset this far in the future.
	ResetIn time.Duration
}

// Status answers code, with a retry-after header when retryAfter != "".
func Status(code int, retryAfter string) Fault {
	return Fault{Kind: KindStatus, Code: code, RetryAfter: retryAfter}
}

// FaultFunc picks the fault for request number n (1-based).
type FaultFunc func(n int64, req Request) Fault

// FaultFirst fails the first k requests with f.
func FaultFirst(k int64, f Fault) FaultFunc {
	return func(n int64, _ Request) Fault {
		if n <= k {
			return f
		}
		return Fault{}
	}
}

// FaultAlways fails every request with f.
func FaultAlways(f Fault) FaultFunc { return func(int64, Request) Fault { return f } }

// Server is a running fake endpoint, safe for concurrent use.
type Server struct {
	*httptest.Server
	key   string
	reply func(Request) Reply
	fault FaultFunc
	now   func() time.Time

	n  atomic.Int64
	mu sync.Mutex
	// requests that passed validation, in arrival order
	reqs []Request
	seen []Seen
}

// Seen is one request as received, valid or not.
type Seen struct {
	Path   string
	Header http.Header
	Body   []byte
	Status int // what the server answered
}

// Option configures New.
type Option func(*Server)

// WithKey sets the x-api-key the server accepts.
func WithKey(k string) Option { return func(s *Server) { s.key = k } }

// WithReply scripts the answer. Default: echo the last user text.
func WithReply(fn func(Request) Reply) Option { return func(s *Server) { s.reply = fn } }

// WithFault injects faults.
func WithFault(fn FaultFunc) Option { return func(s *Server) { s.fault = fn } }

// New starts a server; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{key: DefaultKey, now: time.Now}
	s.reply = func(r Request) Reply { return Reply{Text: r.LastUser()} }
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.handle)
	s.Server = httptest.NewServer(mux)
	return s
}

// URL is the base URL clients use (as ANTHROPIC_BASE_URL: no /v1).
func (s *Server) URL() string { return s.Server.URL }

// Requests returns the valid requests received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Seen returns every request received, valid or not.
func (s *Server) Seen() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// Leaks lists where secret appears in requests other than x-api-key.
func (s *Server) Leaks(secret string) []string {
	var out []string
	for i, r := range s.Seen() {
		out = append(out, fakewire.Leaks(i, r.Path, r.Header, r.Body, secret, "X-Api-Key")...)
	}
	return out
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	status := 200
	// Recorded before answering: a client may read the whole answer and
	// look at Seen before this handler returns.
	s.mu.Lock()
	idx := len(s.seen)
	s.seen = append(s.seen, Seen{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body, Status: status})
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.seen[idx].Status = status
		s.mu.Unlock()
	}()
	fail := func(code int, typ, msg string) {
		status = code
		writeError(w, code, typ, msg)
	}
	if r.URL.Path != "/v1/messages" {
		fail(404, "not_found_error", "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		fail(405, "invalid_request_error", "Method Not Allowed")
		return
	}
	switch k := r.Header.Get("X-Api-Key"); {
	case k == "":
		fail(401, "authentication_error", "x-api-key header is required")
		return
	case k != s.key:
		fail(401, "authentication_error", "invalid x-api-key")
		return
	}
	if v := r.Header.Get("Anthropic-Version"); v != Version {
		fail(400, "invalid_request_error", "anthropic-version: unsupported or missing version "+strconv.Quote(v))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(400, "invalid_request_error", "Content-Type must be application/json")
		return
	}
	req, err := decode(body)
	if err != nil {
		fail(400, "invalid_request_error", err.Error())
		return
	}
	n := s.n.Add(1)
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	var f Fault
	if s.fault != nil {
		f = s.fault(n, req)
	}
	switch f.Kind {
	case KindStatus:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.ResetIn > 0 {
			w.Header().Set("Anthropic-Ratelimit-Requests-Limit", "50")
			w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "0")
			w.Header().Set("Anthropic-Ratelimit-Requests-Reset", s.now().Add(f.ResetIn).UTC().Format(time.RFC3339))
		}
		fail(f.Code, errType(f.Code), "fake fault: HTTP "+strconv.Itoa(f.Code))
		return
	case KindMalformed:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_bad","type":"message","content":[{"type":"text","text":"oops"`)
		return
	}
	rep := s.reply(req)
	if req.Stream {
		writeStream(w, &req, n, rep, f.Kind)
		return
	}
	b, _ := json.Marshal(message(&req, n, rep))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake_"+strconv.FormatInt(n, 10))
	if f.Kind == KindCutStream {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		fakewire.ResetConn(w, false)
		return
	}
	w.Write(b)
}

func errType(code int) string {
	switch {
	case code == 429:
		return "rate_limit_error"
	case code == 401:
		return "authentication_error"
	case code == 403:
		return "permission_error"
	case code == 404:
		return "not_found_error"
	case code == 529:
		return "overloaded_error"
	case code >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
