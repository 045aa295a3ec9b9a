package llm

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// SKELETON: filled in by the llm work. Signatures are the contract.

// RetryPolicy bounds retries of one model call.
type RetryPolicy struct {
	MaxRetries    int           // retries after the first try; 0 = never retry
	BaseDelay     time.Duration // first backoff; doubled each retry, with jitter
	MaxDelay      time.Duration // cap of one backoff
	MaxRetryAfter time.Duration // cap on a server's Retry-After
}

// DefaultRetry is used when no policy is given.
var DefaultRetry = RetryPolicy{MaxRetries: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 20 * time.Second, MaxRetryAfter: 60 * time.Second}

// OpenAIOptions configure the OpenAI-compatible client.
type OpenAIOptions struct {
	HTTPClient *http.Client                               // nil: a default client
	Retry      *RetryPolicy                               // nil: DefaultRetry
	Timeout    time.Duration                              // per attempt; 0 = none
	Getenv     func(string) string                        // nil: os.Getenv (OPENAI_API_KEY, OPENAI_BASE_URL, APIKeyEnv)
	Sleep      func(context.Context, time.Duration) error // nil: real sleep; tests inject
}

// OpenAI talks to any OpenAI-compatible endpoint through go-openai.
type OpenAI struct{ opts OpenAIOptions }

// NewOpenAI builds a client; it is safe for concurrent use.
func NewOpenAI(opts OpenAIOptions) *OpenAI { return &OpenAI{opts: opts} }

// Complete sends a chat completion, streamed when req.Stream.
func (o *OpenAI) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	return nil, errors.New("not implemented")
}

// Embed calls /embeddings.
func (o *OpenAI) Embed(ctx context.Context, req *EmbedRequest) ([][]float64, error) {
	return nil, errors.New("not implemented")
}
