package cache

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aieval/aieval/runtime/llm"
)

// embedder is the optional embedding ability of a wrapped client.
type embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error)
}

// errNoEmbed is returned by wrappers whose client cannot embed.
var errNoEmbed = errors.New("this model's parser cannot embed")

// embedKey is an embedding request's address. "kind" keeps it apart from
// every chat request's key.
func (c *Cache) embedKey(req *llm.EmbedRequest) (string, error) {
	input := req.Input
	if input == nil {
		input = []string{}
	}
	return c.sideKey("embeddings", req.Provider, req.BaseURL, req.Model, input)
}

// embedEntry is the on-disk form of recorded embeddings.
type embedEntry struct {
	Key        string      `json:"key"`
	Kind       string      `json:"kind"`
	Model      string      `json:"model"`
	Provider   string      `json:"provider"`
	RecordedAt string      `json:"recorded_at"`
	Note       string      `json:"note,omitempty"`
	Input      []string    `json:"input"`
	BaseURL    string      `json:"base_url,omitempty"`
	Embeddings [][]float64 `json:"embeddings"`
}

// Embed answers embeddings from the cache like Complete answers chats:
// replayed when recorded, refused offline, recorded on a miss.
func (cl *client) Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error) {
	c := cl.c
	next, ok := cl.next.(embedder)
	if req == nil {
		return nil, errors.New("cache: nil embedding request")
	}
	if c.opts.Passthrough(&llm.Request{Provider: req.Provider, Model: req.Model}) {
		if !ok {
			return nil, errNoEmbed
		}
		return next.Embed(ctx, req)
	}
	k, kerr := c.embedKey(req)
	return sideCall(c, "embeddings", req.Model, k, kerr,
		func(data []byte) ([][]float64, bool) {
			var e embedEntry
			if json.Unmarshal(data, &e) != nil || e.Key != k || e.Kind != "embeddings" || len(e.Embeddings) != len(req.Input) {
				return nil, false
			}
			return e.Embeddings, true
		},
		func() ([][]float64, error) {
			if !ok {
				return nil, errNoEmbed
			}
			return next.Embed(ctx, req)
		},
		func(v [][]float64) any {
			return embedEntry{Key: k, Kind: "embeddings", Model: req.Model, Provider: req.Provider, RecordedAt: c.recordedAt(),
				Note: c.opts.Note, Input: req.Input, BaseURL: NormalizeEndpoint(req.BaseURL), Embeddings: v}
		})
}

// Embed passes embeddings to the wrapped client (the cache), unshared:
// `similar` asks for each test's own output.
func (m *Memo) Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error) {
	e, ok := m.next.(embedder)
	if !ok {
		return nil, errNoEmbed
	}
	return e.Embed(ctx, req)
}
