// Package cache records and replays model calls. A cache directory holds one
// small, stably formatted JSON file per request, so it can be committed and
// its git diffs read: CI then replays every unchanged prompt and calls a
// model only for requests that changed.
//
// The package wraps an llm.Client and knows nothing of aiconfig files; the
// runtime package does not import it either (the caller wires them).
package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/runtime/llm"
)

// Mode says whether the cache is read, written, both or neither.
type Mode string

const (
	ReadWrite Mode = "read-write" // read hits, record misses (default)
	ReadOnly  Mode = "read-only"  // read hits, never write
	Refresh   Mode = "refresh"    // never read, call and overwrite
	Off       Mode = "off"        // no cache at all
)

// Modes lists the modes, for --help.
func Modes() []string {
	return []string{string(ReadWrite), string(ReadOnly), string(Refresh), string(Off)}
}

// ParseMode reads a --cache-mode value; "" is ReadWrite.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return ReadWrite, nil
	case ReadWrite, ReadOnly, Refresh, Off:
		return m, nil
	}
	return "", fmt.Errorf("unknown cache mode %q (use one of %s)", s, strings.Join(Modes(), ", "))
}

// DefaultDir is the per-user cache directory used when --cache is not given.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find user cache dir: %w", err)
	}
	return filepath.Join(d, "aieval"), nil
}

// Options tune a Cache.
type Options struct {
	// Offline never calls the wrapped client: a miss is a *MissError.
	Offline bool
	// Warn receives one-line warnings (corrupt entries). nil drops them.
	Warn func(string)
	// Passthrough picks requests that bypass the cache entirely (never
	// read, written, nor refused offline) because they cost nothing to
	// compute. nil means DefaultPassthrough.
	Passthrough func(*llm.Request) bool
	// Now stamps recorded_at; nil means time.Now.
	Now func() time.Time
	// Note is written into every entry this cache records, e.g.
	// "hand-written fixture" for example caches that are not real outputs.
	Note string
	// ReadFirst are directories read, never written, before dir: a
	// baseline reads the cache as committed at its git ref first, so
	// entries pruned or forged on the branch cannot change it.
	ReadFirst []string
	// NoUsed records no set of used keys: Used is then empty, so a
	// caller that never prunes (a run nobody asks Used of) spends no
	// memory per cached call. Never Prune with such a cache's Used.
	NoUsed bool
	// Endpoint gives the endpoint a request really goes to (its base_url,
	// else the provider's variable such as OPENAI_BASE_URL); it is part of
	// the key, normalised. "" means the provider's default endpoint, which
	// keys as no endpoint, so caches recorded before stay valid. nil keys
	// on req.BaseURL alone.
	Endpoint func(req *llm.Request) string
}

// DefaultPassthrough lets the local "echo" parser through: it calls no
// model, so caching it only adds files, and offline runs may use it.
func DefaultPassthrough(req *llm.Request) bool { return req.Provider == "echo" }

// MissError is an offline cache miss.
type MissError struct {
	Model string
	Key   string
}

func (e *MissError) Error() string {
	return fmt.Sprintf("no cached output for model %s (offline); record it with --cache-mode read-write", e.Model)
}

// Stats counts what the cache did during a run.
type Stats struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	Writes int64 `json:"writes"`
}

// Cache is a record/replay store rooted at one directory. It is safe for
// concurrent use.
type Cache struct {
	dir  string
	mode Mode
	opts Options

	hits, misses, writes atomic.Int64

	mu     sync.Mutex
	used   usedKeys
	warned map[string]bool

	// shards holds the shard directories already checked (created, not a
	// link): one check per shard per run, not four system calls per entry.
	shards sync.Map
}

// Open prepares the cache at dir. Writable modes create dir now so a
// permission problem shows before any model call.
func Open(dir string, mode Mode, opts Options) (*Cache, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	if mode == "" {
		mode = ReadWrite
	}
	if mode == Refresh && opts.Offline {
		return nil, errors.New("open cache: --offline cannot be combined with --cache-mode refresh (refresh always calls the model)")
	}
	if mode != Off {
		if dir == "" {
			return nil, errors.New("open cache: no directory given (pass --cache DIR or --cache-mode off)")
		}
		if mode == ReadWrite || mode == Refresh {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("open cache %s: %w", dir, err)
			}
		}
	}
	if opts.Passthrough == nil {
		opts.Passthrough = DefaultPassthrough
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{dir: dir, mode: mode, opts: opts, warned: map[string]bool{}}, nil
}

// Dir is the cache's root directory.
func (c *Cache) Dir() string { return c.dir }

// Mode is the cache's mode.
func (c *Cache) Mode() Mode { return c.mode }

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Writes: c.writes.Load()}
}

// Used returns a copy of the keys hit or written during this run, the
// input of Prune (empty with Options.NoUsed).
func (c *Cache) Used() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used.set()
}

func (c *Cache) markUsed(key string) {
	if c.opts.NoUsed {
		return
	}
	c.mu.Lock()
	c.used.add(key)
	c.mu.Unlock()
}

func (c *Cache) warn(path string, err error) {
	c.mu.Lock()
	seen := c.warned[path]
	c.warned[path] = true
	c.mu.Unlock()
	if !seen && c.opts.Warn != nil {
		c.opts.Warn(fmt.Sprintf("ignore corrupt cache entry %s: %v (it is treated as a miss and re-recorded)", path, err))
	}
}

// warnWrite reports a failed write once per run (a read-only cache dir
// fails every write the same way), and a refused shard once per shard.
func (c *Cache) warnWrite(err error) {
	cat, msg := "\x00write", err.Error()+" (entries are not recorded; further write errors this run are not shown)"
	var se *shardError
	if errors.As(err, &se) {
		cat, msg = "\x00shard "+se.dir, err.Error()
	}
	c.mu.Lock()
	seen := c.warned[cat]
	c.warned[cat] = true
	c.mu.Unlock()
	if !seen && c.opts.Warn != nil {
		c.opts.Warn(msg)
	}
}

// Wrap returns a client that answers from the cache and records misses
// made through next.
func (c *Cache) Wrap(next llm.Client) llm.Client { return &client{c: c, next: next} }

type client struct {
	c    *Cache
	next llm.Client
}

func (cl *client) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	c := cl.c
	if req == nil {
		return nil, errors.New("cache: nil request")
	}
	if c.opts.Passthrough(req) {
		return cl.next.Complete(ctx, req, onChunk)
	}
	k, kerr := c.key(req)
	if kerr == nil && (c.mode == ReadWrite || c.mode == ReadOnly) {
		if resp := c.lookup(k); resp != nil {
			c.hits.Add(1)
			c.markUsed(k)
			if onChunk != nil && resp.Text != "" {
				onChunk(resp.Text) // a streaming caller still sees the text
			}
			return resp, nil
		}
	}
	if c.mode != Off {
		c.misses.Add(1)
	}
	if c.opts.Offline {
		return nil, &MissError{Model: req.Model, Key: k}
	}
	resp, err := cl.next.Complete(ctx, req, onChunk)
	if err != nil || resp == nil {
		return resp, err // errors are never cached
	}
	if kerr == nil && (c.mode == ReadWrite || c.mode == Refresh) {
		if err := c.store(k, req, resp); err != nil {
			// The answer is good; a failed write only costs a future call.
			c.warnWrite(err)
		}
	}
	return resp, nil
}

// Recorded is the recorded answer to req, if any, without a model call
// and without counting a hit or a miss: what a dry run shows.
func (c *Cache) Recorded(_ context.Context, req *llm.Request) (*llm.Response, bool) {
	k, err := c.key(req)
	if err != nil {
		return nil, false
	}
	resp := c.lookup(k)
	return resp, resp != nil
}

// lookup reads the entry for key; a missing or unreadable entry is nil.
// The ReadFirst directories are read before the cache's own.
func (c *Cache) lookup(key string) *llm.Response {
	for _, dir := range append(c.opts.ReadFirst[:len(c.opts.ReadFirst):len(c.opts.ReadFirst)], c.dir) {
		p := entryPath(dir, key)
		data, err := safefile.ReadFile(p, safefile.Limit()) // a committed entry may be a link to /dev/zero
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.warn(p, err)
			}
			continue
		}
		e, err := decodeEntry(data, key)
		if err != nil {
			c.warn(p, err)
			continue
		}
		return e.response()
	}
	return nil
}

func (c *Cache) store(key string, req *llm.Request, resp *llm.Response) error {
	p := entryPath(c.dir, key)
	if c.mode == Refresh {
		// Re-recording an identical answer would only churn recorded_at
		// and latency in git diffs: keep the file.
		if data, err := safefile.ReadFile(p, safefile.Limit()); err == nil {
			if old, err := decodeEntry(data, key); err == nil && old.sameAnswer(resp) {
				c.markUsed(key)
				return nil
			}
		}
	}
	if err := writeEntry(c.dir, key, req, resp, c.opts.Note, c.opts.Now(), &c.shards); err != nil {
		return err
	}
	c.writes.Add(1)
	c.markUsed(key)
	return nil
}
