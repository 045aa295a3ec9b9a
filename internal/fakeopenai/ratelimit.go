package fakeopenai

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// WithRateLimit makes the server allow rps chat requests a second with a
// burst of burst (a token bucket, full at start), the way OpenAI's and
// Groq's request limits behave: every answer carries
// x-ratelimit-limit-requests, x-ratelimit-remaining-requests and
// x-ratelimit-reset-requests (time until the bucket is full, as "1.5s" or
// "120ms"); a request finding the bucket empty is answered 429 with
// Retry-After (whole seconds, rounded up), retry-after-ms and those
// headers. RateLimited counts the 429s.
func WithRateLimit(rps float64, burst int) Option {
	return func(s *Server) {
		s.bucket = &bucket{rate: rps, burst: float64(max(burst, 1)), tokens: float64(max(burst, 1)), last: time.Now()}
	}
}

// WithRetryAfterOnly makes the rate limit of WithRateLimit (given before
// it) answer like a server with no budget headers: a 429 carries only
// Retry-After in whole seconds.
func WithRetryAfterOnly() Option {
	return func(s *Server) {
		if s.bucket != nil {
			s.bucket.bare = true
		}
	}
}

type bucket struct {
	bare         bool // only Retry-After
	mu           sync.Mutex
	rate, burst  float64
	tokens       float64
	last         time.Time
	limited, all int64
}

// take spends a token if there is one, and writes the budget headers.
func (b *bucket) take(w http.ResponseWriter) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.all++
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	} else {
		b.limited++
	}
	h := w.Header()
	if !b.bare {
		h.Set("x-ratelimit-limit-requests", strconv.Itoa(int(b.burst)))
		h.Set("x-ratelimit-remaining-requests", strconv.Itoa(int(b.tokens)))
		h.Set("x-ratelimit-reset-requests", secs((b.burst-b.tokens)/b.rate).String())
	}
	if !ok {
		wait := (1 - b.tokens) / b.rate
		if !b.bare {
			h.Set("retry-after-ms", strconv.Itoa(int(math.Ceil(wait*1000))))
		}
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait))))
	}
	return ok
}

func secs(f float64) time.Duration {
	return time.Duration(f * float64(time.Second)).Round(time.Millisecond)
}

// RateLimited is the number of chat requests answered 429 by the rate
// limit (WithRateLimit), and the number it judged.
func (s *Server) RateLimited() (limited, total int64) {
	if s.bucket == nil {
		return 0, 0
	}
	s.bucket.mu.Lock()
	defer s.bucket.mu.Unlock()
	return s.bucket.limited, s.bucket.all
}
