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

// embedder is the optional embedding ability of a wrapped client.
type embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error)
}

// errNoEmbed is returned by wrappers whose client cannot embed.
var errNoEmbed = errors.New("this model's parser cannot embed")

// embedKey is an embedding request's address. "kind" keeps it apart from
// every chat request's key.
func (c *Cache) embedKey(req *llm.EmbedRequest) (string, error) {
	base := req.BaseURL
	if c.opts.Endpoint != nil {
		base = c.opts.Endpoint(&llm.Request{Provider: req.Provider, BaseURL: req.BaseURL, Model: req.Model})
	}
	input := req.Input
	if input == nil {
		input = []string{}
	}
	data, err := json.Marshal(struct {
		Kind     string   `json:"kind"`
		Provider string   `json:"provider"`
		BaseURL  string   `json:"base_url,omitempty"`
		Model    string   `json:"model"`
		Input    []string `json:"input"`
	}{"embeddings", req.Provider, NormalizeEndpoint(base), req.Model, input})
	if err != nil {
		return "", fmt.Errorf("encode embedding request: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
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
	if kerr == nil && (c.mode == ReadWrite || c.mode == ReadOnly) {
		if v := c.lookupEmbed(k, len(req.Input)); v != nil {
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
		return nil, errNoEmbed
	}
	v, err := next.Embed(ctx, req)
	if err != nil {
		return nil, err
	}
	if kerr == nil && (c.mode == ReadWrite || c.mode == Refresh) {
		if err := c.storeEmbed(k, req, v); err != nil && c.opts.Warn != nil {
			c.opts.Warn(err.Error())
		}
	}
	return v, nil
}

func (c *Cache) lookupEmbed(key string, n int) [][]float64 {
	for _, dir := range append(c.opts.ReadFirst[:len(c.opts.ReadFirst):len(c.opts.ReadFirst)], c.dir) {
		p := entryPath(dir, key)
		data, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.warn(p, err)
			}
			continue
		}
		var e embedEntry
		if err := json.Unmarshal(data, &e); err != nil {
			c.warn(p, fmt.Errorf("decode: %w", err))
			continue
		}
		if e.Key != key || e.Kind != "embeddings" || len(e.Embeddings) != n {
			c.warn(p, fmt.Errorf("not the embeddings of key %s", key))
			continue
		}
		return e.Embeddings
	}
	return nil
}

func (c *Cache) storeEmbed(key string, req *llm.EmbedRequest, v [][]float64) error {
	e := embedEntry{
		Key: key, Kind: "embeddings", Model: req.Model, Provider: req.Provider,
		RecordedAt: c.opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339),
		Note:       c.opts.Note, Input: req.Input, BaseURL: NormalizeEndpoint(req.BaseURL), Embeddings: v,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&e); err != nil {
		return fmt.Errorf("write cache entry %s: %w", key, err)
	}
	if err := writeChecked(c.dir, key, buf.Bytes(), &c.shards); err != nil { // a linked shard is refused here too
		return err
	}
	c.writes.Add(1)
	c.markUsed(key)
	return nil
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
