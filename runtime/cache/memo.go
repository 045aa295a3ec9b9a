package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/aieval/aieval/runtime/llm"
)

// DefaultMemoLimit bounds how many answers a Memo keeps, so a 100k-test
// run does not hold every output; an evicted answer only costs a call (or
// a disk cache hit).
const DefaultMemoLimit = 4096

// Memo makes identical requests within one run once: concurrent callers
// share the in-flight call and later callers get the kept answer. Chained
// prompts that several tests depend on with the same params are the case
// it is for. Errors are not kept, so a later caller retries.
type Memo struct {
	next  llm.Client
	limit int
	g     singleflight.Group

	lastEndpoint atomic.Pointer[[2]string] // see endpoint

	mu    sync.Mutex
	done  map[string]*llm.Response
	order []string // insertion order, for FIFO eviction
}

// NewMemo wraps next. limit <= 0 means DefaultMemoLimit.
func NewMemo(next llm.Client, limit int) *Memo {
	if limit <= 0 {
		limit = DefaultMemoLimit
	}
	return &Memo{next: next, limit: limit, done: map[string]*llm.Response{}}
}

// Len is how many answers are kept.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.done)
}

// Complete implements llm.Client.
func (m *Memo) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	if req == nil {
		return nil, errors.New("memo: nil request")
	}
	k, err := m.memoKey(req)
	if err != nil {
		return m.next.Complete(ctx, req, onChunk) // cannot be keyed: no sharing
	}
	for {
		if resp := m.get(k); resp != nil {
			return deliver(resp, onChunk), nil
		}
		// Only this caller's closure can set these: no race.
		ran := false
		var own *llm.Response
		v, err, _ := m.g.Do(k, func() (any, error) {
			ran = true
			resp, err := m.next.Complete(ctx, req, onChunk)
			if err != nil || resp == nil {
				return nil, err
			}
			own = resp
			// Followers read the memo's private copy, never the
			// leader's response, which the leader may go on to change.
			return m.put(k, resp), nil
		})
		if err != nil {
			// The leader's context ended, not ours: try again as leader.
			if !ran && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				continue
			}
			return nil, err
		}
		if ran {
			return own, nil // streamed to onChunk already
		}
		resp, _ := v.(*llm.Response)
		if resp == nil {
			return nil, nil
		}
		return deliver(resp, onChunk), nil
	}
}

func (m *Memo) get(k string) *llm.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.done[k]
}

// put keeps a private copy of resp and returns it (or the one already kept).
func (m *Memo) put(k string, resp *llm.Response) *llm.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.done[k]; ok {
		return old
	}
	for len(m.order) >= m.limit {
		delete(m.done, m.order[0])
		m.order = m.order[1:]
	}
	c := *resp
	m.done[k] = &c
	m.order = append(m.order, k)
	return &c
}

// deliver hands a shared answer to one caller: its own copy, and the whole
// text once to a streaming callback.
func deliver(resp *llm.Response, onChunk llm.ChunkFunc) *llm.Response {
	c := *resp
	if onChunk != nil && c.Text != "" {
		onChunk(c.Text)
	}
	return &c
}
