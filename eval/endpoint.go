package eval

import (
	"context"
	"errors"
	"os"

	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// endpointOf is the endpoint a request really goes to, for the cache key:
// its base_url, else the OpenAI variable the client reads. The default
// endpoint keys as "" so caches recorded before the endpoint was keyed
// still replay.
func (r *runner) endpointOf(req *llm.Request) string {
	if req.Provider == runtime.ParserEcho {
		return ""
	}
	ep := req.BaseURL
	if ep == "" {
		getenv := r.opts.Getenv
		if getenv == nil {
			getenv = os.Getenv // as the OpenAI client does
		}
		ep = getenv("OPENAI_BASE_URL")
	}
	ep = cache.NormalizeEndpoint(ep)
	if ep == cache.NormalizeEndpoint(llm.DefaultBaseURL) {
		return ""
	}
	return ep
}

// Embed lets embeddings through the meter to the parser, so the cache
// around the meter records and replays them.
func (m *meter) Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error) {
	e, ok := m.next.(runtime.Embedder)
	if !ok {
		return nil, errors.New("this model's parser cannot embed")
	}
	return e.Embed(ctx, req)
}

// Moderate lets moderations through the meter to the parser, so the cache
// around the meter records and replays them.
func (m *meter) Moderate(ctx context.Context, req *llm.ModerationRequest) (*llm.ModerationResult, error) {
	mo, ok := m.next.(llm.Moderator)
	if !ok {
		return nil, errors.New("this model's parser has no moderation endpoint")
	}
	return mo.Moderate(ctx, req)
}
