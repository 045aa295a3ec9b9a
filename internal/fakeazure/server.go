// Package fakeazure is a local Azure OpenAI endpoint: it checks Azure's
// paths (/openai/deployments/{deployment}/chat/completions?api-version=
// and /openai/v1/chat/completions), the api-key header and that no
// Authorization header came, then answers through fakeopenai (same JSON,
// SSE framing and fault injection), with Azure's first stream chunk that
// has prompt_filter_results and empty choices.
package fakeazure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// Seen is one request as it reached the Azure front.
type Seen struct {
	Path       string // path and query
	Deployment string // "" on the v1 path
	APIVersion string
	Header     http.Header
}

// Server is a running fake; Inner is the OpenAI fake answering behind it.
type Server struct {
	*httptest.Server
	Inner    *fakeopenai.Server
	key      string
	versions map[string]bool

	mu   sync.Mutex
	seen []Seen
}

// New starts a server accepting key; opts configure the inner OpenAI fake.
func New(key string, opts ...fakeopenai.Option) *Server {
	s := &Server{Inner: fakeopenai.New(opts...), key: key,
		versions: map[string]bool{"2024-10-21": true, "2024-06-01": true, "2025-01-01-preview": true, "2023-12-01-preview": true, "2024-02-01": true}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Close stops both servers.
func (s *Server) Close() { s.Server.Close(); s.Inner.Close() }

// Requests is every request seen by the front, in order.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

func azureError(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": errCode, "message": msg}})
	w.Write(b)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	seen := Seen{Path: r.URL.RequestURI(), APIVersion: q.Get("api-version"), Header: r.Header.Clone()}
	v1 := r.URL.Path == "/openai/v1/chat/completions"
	if !v1 {
		rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
		dep, tail, _ := strings.Cut(rest, "/")
		if !ok || dep == "" || tail != "chat/completions" {
			s.record(seen)
			azureError(w, 404, "404", "Resource not found")
			return
		}
		seen.Deployment, _ = url.PathUnescape(dep)
	}
	s.record(seen)
	if r.Method != http.MethodPost {
		azureError(w, 405, "405", "method not allowed")
		return
	}
	switch {
	case v1 && seen.APIVersion != "" && seen.APIVersion != "preview":
		azureError(w, 400, "BadRequest", "api-version on the v1 path must be absent or preview")
		return
	case !v1 && seen.APIVersion == "":
		azureError(w, 404, "404", "Resource not found") // Azure's answer to a missing api-version
		return
	case !v1 && !s.versions[seen.APIVersion]:
		azureError(w, 400, "BadRequest", "API version not supported")
		return
	}
	if r.Header.Get("Authorization") != "" {
		azureError(w, 400, "BadRequest", "an Authorization header came with api-key: a foreign key leaked")
		return
	}
	for _, h := range []string{"X-Goog-Api-Key", "X-Api-Key"} {
		if r.Header.Get(h) != "" {
			azureError(w, 400, "BadRequest", "foreign credential header "+h)
			return
		}
	}
	if r.Header.Get("api-key") != s.key {
		azureError(w, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint.")
		return
	}
	// Hand on to the OpenAI fake under its own path, with its auth view
	// showing the api-key as a Bearer so its recording stays useful.
	in := r.Clone(r.Context())
	in.URL.Path, in.URL.RawQuery = "/v1/chat/completions", ""
	in.RequestURI = ""
	in.Header.Set("Authorization", "Bearer "+r.Header.Get("api-key"))
	s.Inner.Config.Handler.ServeHTTP(&firstChunk{ResponseWriter: w}, in)
}

func (s *Server) record(x Seen) {
	s.mu.Lock()
	s.seen = append(s.seen, x)
	s.mu.Unlock()
}

// firstChunk writes Azure's prompt-filter chunk before a stream's first
// byte.
type firstChunk struct {
	http.ResponseWriter
	started bool
}

var filterChunk = []byte(`data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}` + "\n\n")

func (f *firstChunk) Write(b []byte) (int, error) {
	if !f.started {
		f.started = true
		if strings.HasPrefix(f.Header().Get("Content-Type"), "text/event-stream") && bytes.HasPrefix(b, []byte("data:")) {
			if _, err := f.ResponseWriter.Write(filterChunk); err != nil {
				return 0, err
			}
		}
	}
	return f.ResponseWriter.Write(b)
}

func (f *firstChunk) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (resets).
func (f *firstChunk) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// Hijack lets the inner fake drop the connection (cut streams, resets).
func (f *firstChunk) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := f.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}
