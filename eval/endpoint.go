package eval

import (
	"context"
	"errors"

	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

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
