package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// path is DIR/<key[:2]>/<key>.json: sharding keeps directories small.
// It is filepath.Join's answer in one allocation (the key is hex).
func entryPath(dir, key string) string {
	if dir == "" {
		return key[:2] + sep + key + ".json"
	}
	return filepath.Clean(dir) + sep + key[:2] + sep + key + ".json"
}

const sep = string(filepath.Separator)

// WriteEntry records resp as the answer to req under dir, as a run in
// read-write mode would. note (e.g. "hand-written fixture") is kept in the
// file; it is how example caches are produced.
func WriteEntry(dir string, req *llm.Request, resp *llm.Response, note string) error {
	k, err := key(req)
	if err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return writeEntry(dir, k, req, resp, note, time.Now(), nil)
}

// writeEntry writes one entry under dir; checked (nil: none) remembers the
// shard directories already made and checked.
func writeEntry(dir, key string, req *llm.Request, resp *llm.Response, note string, now time.Time, checked *sync.Map) error {
	data, err := encodeEntry(key, req, resp, note, now)
	if err != nil {
		return fmt.Errorf("write cache entry %s: %w", key, err)
	}
	return writeChecked(dir, key, data, checked)
}

// writeChecked writes data as key's entry under root, inside a checked
// shard directory.
func writeChecked(root, key string, data []byte, checked *sync.Map) error {
	if checked == nil {
		checked = new(sync.Map)
	}
	if _, ok := checked.Load(key[:2]); !ok {
		if _, err := shardDir(root, key); err != nil {
			return fmt.Errorf("write cache entry: %w", err)
		}
		checked.Store(key[:2], true)
	}
	if err := atomicWrite(entryPath(root, key), data); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}

// shardError is a shard directory that is not a real directory under the
// root (a committed symlink would send writes wherever it points).
type shardError struct{ dir, what string }

func (e *shardError) Error() string {
	return "cache shard " + e.dir + " is " + e.what + ", not a directory: entries under it are not written (remove it)"
}

// shardDir returns root/<key[:2]>, created if missing, after checking with
// Lstat that it is a directory and not a link: writes stay in the cache.
// Entry files need no check: they are renamed into place, which replaces
// a link rather than following it.
func shardDir(root, key string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	sd := filepath.Join(root, key[:2])
	if err := os.Mkdir(sd, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	st, err := os.Lstat(sd)
	if err != nil {
		return "", err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return "", &shardError{sd, "a symbolic link"}
	case !st.IsDir():
		return "", &shardError{sd, "a " + st.Mode().Type().String() + " file"}
	}
	return sd, nil
}

const tmpPrefix = ".tmp-"

// Prune deletes entry files whose key is not in used (and stray temp files
// left by a killed run), then empty shard directories. Other files in the
// directory are left alone.
func (c *Cache) Prune(used map[string]bool) (removed int, err error) {
	if c.dir == "" {
		return 0, nil
	}
	shards, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("prune cache %s: %w", c.dir, err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || !isShard(sh.Name()) {
			continue
		}
		sdir := filepath.Join(c.dir, sh.Name())
		files, err := os.ReadDir(sdir)
		if err != nil {
			return removed, fmt.Errorf("prune cache %s: %w", sdir, err)
		}
		left := len(files)
		for _, f := range files {
			name := f.Name()
			k, isEntry := strings.CutSuffix(name, ".json")
			stale := (strings.HasPrefix(name, tmpPrefix) && oldTemp(f)) ||
				(isEntry && isKey(k) && strings.HasPrefix(k, sh.Name()) && !used[k])
			if f.IsDir() || !stale {
				continue
			}
			if err := os.Remove(filepath.Join(sdir, name)); err != nil {
				return removed, fmt.Errorf("prune cache entry: %w", err)
			}
			left--
			if !strings.HasPrefix(name, tmpPrefix) {
				removed++
			}
		}
		if left == 0 {
			if err := os.Remove(sdir); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("prune cache shard: %w", err)
			}
		}
	}
	return removed, nil
}

// oldTemp spares temp files young enough to belong to a run still writing.
func oldTemp(f fs.DirEntry) bool {
	info, err := f.Info()
	return err == nil && time.Since(info.ModTime()) > 10*time.Minute
}

func isShard(s string) bool { return len(s) == 2 && isHex(s) }
func isKey(s string) bool   { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if (b < '0' || b > '9') && (b < 'a' || b > 'f') {
			return false
		}
	}
	return true
}
