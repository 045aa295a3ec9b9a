package eval

import (
	"context"
	"net/http"
	"reflect"
	"sync"

	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// The model client every suite's runtime is built with: retries, shared
// connections, and the memo/cache/meter wrapper that --max-cost reads.

func (r *runner) retryPolicy() *llm.RetryPolicy {
	if r.opts.Retry != nil {
		return r.opts.Retry
	}
	if r.opts.Retries < 0 {
		return nil // the client's default
	}
	p := llm.DefaultRetry
	p.MaxRetries = r.opts.Retries
	return &p
}

// httpClient shares connections between all calls: enough idle ones per
// host that a full pool of workers never redials.
func (r *runner) httpClient() *http.Client {
	if r.opts.HTTPClient != nil {
		return r.opts.HTTPClient
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(100, 4*r.opts.Concurrency)
	tr.MaxIdleConnsPerHost = max(16, 2*r.opts.Concurrency)
	return &http.Client{Transport: tr}
}

// wrapper builds memo(cache(meter(parser))): identical requests of one run
// are made once (shared chained dependencies), the cache replays and
// records, and the meter counts what was really spent (with --max-cost
// only: it prices every call).
func (r *runner) wrapper() (func(llm.Client) llm.Client, error) {
	mode, err := cache.ParseMode(r.opts.CacheMode)
	if err != nil {
		return nil, err
	}
	if mode != cache.Off || r.opts.Offline {
		dir := r.opts.CacheDir
		if dir == "" && mode != cache.Off {
			if dir, err = cache.DefaultDir(); err != nil {
				return nil, err
			}
		}
		copts := cache.Options{Offline: r.opts.Offline, Warn: r.opts.Warn, Note: r.opts.CacheNote,
			ReadFirst: r.opts.CacheReadFirst, Endpoint: cache.EndpointOf(r.opts.Getenv),
			// Only OnCacheDone can ask the cache which keys it used.
			NoUsed: r.opts.OnCacheDone == nil}
		if r.cache, err = cache.Open(dir, mode, copts); err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	done := map[llm.Client]llm.Client{}
	return func(p llm.Client) llm.Client {
		comparable := p != nil && reflect.TypeOf(p).Comparable()
		if comparable {
			mu.Lock()
			defer mu.Unlock()
			if w, ok := done[p]; ok {
				return w // one memo per parser for the whole run
			}
		}
		c := p
		if r.opts.MaxCost > 0 { // only a budget reads what was spent
			c = &meter{next: p, r: r}
		}
		if r.cache != nil {
			c = r.cache.Wrap(c)
		}
		w := cache.NewMemo(c, 0)
		if comparable {
			done[p] = w
		}
		return w
	}, nil
}

// meter adds the cost of every call that reached a model to the budget.
type meter struct {
	next llm.Client
	r    *runner
}

func (m *meter) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	resp, err := m.next.Complete(ctx, req, onChunk)
	if err == nil && resp != nil && !resp.Cached {
		if c, ok := m.r.prices.cost(req, resp); ok && c > 0 {
			m.r.spentMu.Lock()
			m.r.spent += c
			m.r.spentMu.Unlock()
		}
	}
	return resp, err
}

// overBudget reports whether --max-cost has been reached.
func (r *runner) overBudget() bool {
	if r.opts.MaxCost <= 0 {
		return false
	}
	r.spentMu.Lock()
	defer r.spentMu.Unlock()
	return r.spent >= r.opts.MaxCost
}
