package fakeopenai_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
)

func postChat(t *testing.T, s *fakeopenai.Server) *http.Response {
	t.Helper()
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestRateLimit: a burst of 2 at 1/s answers two requests, then 429 with
// Retry-After, retry-after-ms and the x-ratelimit budget headers.
func TestRateLimit(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithRateLimit(1, 2))
	defer s.Close()
	var codes []int
	var last *http.Response
	for i := 0; i < 3; i++ {
		last = postChat(t, s)
		codes = append(codes, last.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("statuses %v, want 200 200 429", codes)
	}
	h := last.Header
	if h.Get("Retry-After") != "1" || h.Get("retry-after-ms") == "" || h.Get("x-ratelimit-limit-requests") != "2" ||
		h.Get("x-ratelimit-remaining-requests") != "0" || !strings.HasSuffix(h.Get("x-ratelimit-reset-requests"), "s") {
		t.Errorf("429 headers %v", h)
	}
	if limited, total := s.RateLimited(); limited != 1 || total != 3 {
		t.Errorf("RateLimited = %d of %d", limited, total)
	}

	bare := fakeopenai.New(fakeopenai.WithRateLimit(1, 1), fakeopenai.WithRetryAfterOnly())
	defer bare.Close()
	postChat(t, bare)
	r := postChat(t, bare)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" || r.Header.Get("retry-after-ms") != "" || r.Header.Get("x-ratelimit-remaining-requests") != "" {
		t.Errorf("bare 429: %d %v", r.StatusCode, r.Header)
	}
}
