package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aieval/aieval/runtime/llm"
)

// Key is the request's content address: sha256 hex of its canonical JSON.
// json.Marshal sorts map keys, compacts raw JSON and leaves out the
// fields tagged "-" (the key's variable name, streaming), so only what
// reaches the model counts. It returns "" for a request that cannot be
// encoded (a NaN setting, say); such requests are never cached.
func Key(req *llm.Request) string {
	k, _ := key(req)
	return k
}

func key(req *llm.Request) (string, error) {
	r := *req
	r.BaseURL = NormalizeEndpoint(r.BaseURL)
	if r.Messages == nil {
		r.Messages = []llm.Message{} // nil and empty ask the same thing
	}
	bp := keyJSON.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // a huge request's buffer is not kept
			keyJSON.Put(bp)
		}
	}()
	data, ok := appendRequestJSON((*bp)[:0], &r)
	if ok {
		*bp = data
	} else {
		var err error
		if data, err = json.Marshal(&r); err != nil {
			return "", fmt.Errorf("encode request: %w", err)
		}
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// keyJSON are key's encoding buffers.
var keyJSON = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// key is the request's address in this cache: with its effective endpoint.
func (c *Cache) key(req *llm.Request) (string, error) { return keyWith(req, c.opts.Endpoint) }

// keyWith is key with the endpoint given by endpoint (nil: the request's).
func keyWith(req *llm.Request, endpoint func(*llm.Request) string) (string, error) {
	if endpoint == nil {
		return key(req)
	}
	r := *req
	r.BaseURL = endpoint(req)
	return key(&r)
}
