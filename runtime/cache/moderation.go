package cache

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aieval/aieval/runtime/llm"
)

// errNoModerate is returned by wrappers whose client cannot moderate.
var errNoModerate = errors.New("this model's parser has no moderation endpoint")

// moderationKey is a moderation request's address; "kind" keeps it apart
// from chat and embedding keys.
func (c *Cache) moderationKey(req *llm.ModerationRequest) (string, error) {
	return c.sideKey("moderations", req.Provider, req.BaseURL, req.Model, req.Input)
}

// moderationEntry is the on-disk form of a recorded moderation.
type moderationEntry struct {
	Key        string                `json:"key"`
	Kind       string                `json:"kind"`
	Model      string                `json:"model"`
	Provider   string                `json:"provider"`
	RecordedAt string                `json:"recorded_at"`
	Note       string                `json:"note,omitempty"`
	Input      string                `json:"input"`
	BaseURL    string                `json:"base_url,omitempty"`
	Result     *llm.ModerationResult `json:"result"`
}

// Moderate answers moderations from the cache as Embed answers
// embeddings: replayed when recorded, refused offline, recorded on a miss.
func (cl *client) Moderate(ctx context.Context, req *llm.ModerationRequest) (*llm.ModerationResult, error) {
	c := cl.c
	next, ok := cl.next.(llm.Moderator)
	if req == nil {
		return nil, errors.New("cache: nil moderation request")
	}
	if c.opts.Passthrough(&llm.Request{Provider: req.Provider, Model: req.Model}) {
		if !ok {
			return nil, errNoModerate
		}
		return next.Moderate(ctx, req)
	}
	k, kerr := c.moderationKey(req)
	return sideCall(c, "moderations", req.Model, k, kerr,
		func(data []byte) (*llm.ModerationResult, bool) {
			var e moderationEntry
			if json.Unmarshal(data, &e) != nil || e.Key != k || e.Kind != "moderations" || e.Result == nil {
				return nil, false
			}
			return e.Result, true
		},
		func() (*llm.ModerationResult, error) {
			if !ok {
				return nil, errNoModerate
			}
			return next.Moderate(ctx, req)
		},
		func(v *llm.ModerationResult) any {
			return moderationEntry{Key: k, Kind: "moderations", Model: req.Model, Provider: req.Provider, RecordedAt: c.recordedAt(),
				Note: c.opts.Note, Input: req.Input, BaseURL: NormalizeEndpoint(req.BaseURL), Result: v}
		})
}

// Moderate passes moderations to the wrapped client (the cache).
func (m *Memo) Moderate(ctx context.Context, req *llm.ModerationRequest) (*llm.ModerationResult, error) {
	mo, ok := m.next.(llm.Moderator)
	if !ok {
		return nil, errNoModerate
	}
	return mo.Moderate(ctx, req)
}
