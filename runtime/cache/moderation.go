package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// errNoModerate is returned by wrappers whose client cannot moderate.
var errNoModerate = errors.New("this model's parser has no moderation endpoint")

// moderationKey is a moderation request's address; "kind" keeps it apart
// from chat and embedding keys.
func (c *Cache) moderationKey(req *llm.ModerationRequest) (string, error) {
	base := req.BaseURL
	if c.opts.Endpoint != nil {
		base = c.opts.Endpoint(&llm.Request{Provider: req.Provider, BaseURL: req.BaseURL, Model: req.Model})
	}
	data, err := json.Marshal(struct {
		Kind     string `json:"kind"`
		Provider string `json:"provider"`
		BaseURL  string `json:"base_url,omitempty"`
		Model    string `json:"model"`
		Input    string `json:"input"`
	}{"moderations", req.Provider, NormalizeEndpoint(base), req.Model, req.Input})
	if err != nil {
		return "", fmt.Errorf("encode moderation request: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
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
	if kerr == nil && (c.mode == ReadWrite || c.mode == ReadOnly) {
		if v := c.lookupModeration(k); v != nil {
			c.hits.Add(1)
			c.markUsed(k)
			return v, nil
		}
	}
	if c.mode != Off {
		c.misses.Add(1)
	}
	if c.opts.Offline {
		return nil, &MissError{Model: req.Model, Key: k}
	}
	if !ok {
		return nil, errNoModerate
	}
	v, err := next.Moderate(ctx, req)
	if err != nil {
		return nil, err
	}
	if kerr == nil && (c.mode == ReadWrite || c.mode == Refresh) {
		if err := c.storeModeration(k, req, v); err != nil && c.opts.Warn != nil {
			c.opts.Warn(err.Error())
		}
	}
	return v, nil
}

func (c *Cache) lookupModeration(key string) *llm.ModerationResult {
	for _, dir := range append(c.opts.ReadFirst[:len(c.opts.ReadFirst):len(c.opts.ReadFirst)], c.dir) {
		p := entryPath(dir, key)
		data, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.warn(p, err)
			}
			continue
		}
		var e moderationEntry
		if err := json.Unmarshal(data, &e); err != nil {
			c.warn(p, fmt.Errorf("decode: %w", err))
			continue
		}
		if e.Key != key || e.Kind != "moderations" || e.Result == nil {
			c.warn(p, fmt.Errorf("not the moderation of key %s", key))
			continue
		}
		return e.Result
	}
	return nil
}

func (c *Cache) storeModeration(key string, req *llm.ModerationRequest, v *llm.ModerationResult) error {
	e := moderationEntry{
		Key: key, Kind: "moderations", Model: req.Model, Provider: req.Provider,
		RecordedAt: c.opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339),
		Note:       c.opts.Note, Input: req.Input, BaseURL: NormalizeEndpoint(req.BaseURL), Result: v,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&e); err != nil {
		return fmt.Errorf("write cache entry %s: %w", key, err)
	}
	if err := atomicWrite(entryPath(c.dir, key), buf.Bytes()); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	c.writes.Add(1)
	c.markUsed(key)
	return nil
}

// Moderate passes moderations to the wrapped client (the cache).
func (m *Memo) Moderate(ctx context.Context, req *llm.ModerationRequest) (*llm.ModerationResult, error) {
	mo, ok := m.next.(llm.Moderator)
	if !ok {
		return nil, errNoModerate
	}
	return mo.Moderate(ctx, req)
}
