package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/runtime/llm"
)

// The calls that are not chats (embeddings, moderations) are recorded and
// replayed like chats, through the same read and write paths: entries are
// read bounded and as regular files (a committed entry may be a link to
// /dev/zero), and written only into real shard directories of the cache,
// atomically.

// sideCall is the record/replay of one non-chat call of kind: replayed
// when recorded, refused offline, made and recorded on a miss. decode
// turns a recorded entry into the answer (false: not this key's);
// entry builds the entry to record for an answer.
func sideCall[T any](c *Cache, kind, model, key string, kerr error,
	decode func(data []byte) (T, bool), call func() (T, error), entry func(v T) any) (T, error) {
	var zero T
	if kerr == nil && (c.mode == ReadWrite || c.mode == ReadOnly) {
		if v, ok := readSide(c, kind, key, decode); ok {
			c.hits.Add(1)
			c.markUsed(key)
			return v, nil
		}
	}
	if c.mode != Off {
		c.misses.Add(1)
	}
	if c.opts.Offline {
		return zero, &MissError{Model: model, Key: key}
	}
	v, err := call()
	if err != nil {
		return zero, err
	}
	if kerr == nil && (c.mode == ReadWrite || c.mode == Refresh) {
		if err := c.writeSide(key, entry(v)); err != nil {
			c.warnWrite(err) // once a run, as for chats
		}
	}
	return v, nil
}

// readSide reads key's entry from the ReadFirst directories, then the
// cache's own; the first that decode accepts wins.
func readSide[T any](c *Cache, kind, key string, decode func(data []byte) (T, bool)) (T, bool) {
	var zero T
	for _, dir := range append(c.opts.ReadFirst[:len(c.opts.ReadFirst):len(c.opts.ReadFirst)], c.dir) {
		p := entryPath(dir, key)
		data, err := safefile.ReadFile(p, safefile.Limit())
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.warn(p, err)
			}
			continue
		}
		if v, ok := decode(data); ok {
			return v, true
		}
		c.warn(p, fmt.Errorf("not the %s of key %s", kind, key))
	}
	return zero, false
}

// writeSide records entry under key: indented JSON, into a checked shard
// directory, atomically.
func (c *Cache) writeSide(key string, entry any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(entry); err != nil {
		return fmt.Errorf("write cache entry %s: %w", key, err)
	}
	if err := writeChecked(c.dir, key, buf.Bytes(), &c.shards); err != nil {
		return err
	}
	c.writes.Add(1)
	c.markUsed(key)
	return nil
}

// recordedAt is the timestamp entries carry.
func (c *Cache) recordedAt() string {
	return c.opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
}

// sideKey is the address of a non-chat request of kind: its provider,
// effective endpoint (see Options.Endpoint), model and input. "kind" keeps
// it apart from every chat request's key and from the other kinds.
func (c *Cache) sideKey(kind, provider, baseURL, model string, input any) (string, error) {
	if c.opts.Endpoint != nil {
		baseURL = c.opts.Endpoint(&llm.Request{Provider: provider, BaseURL: baseURL, Model: model})
	}
	data, err := json.Marshal(struct {
		Kind     string `json:"kind"`
		Provider string `json:"provider"`
		BaseURL  string `json:"base_url,omitempty"`
		Model    string `json:"model"`
		Input    any    `json:"input"`
	}{kind, provider, NormalizeEndpoint(baseURL), model, input})
	if err != nil {
		return "", fmt.Errorf("encode %s request: %w", kind, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
