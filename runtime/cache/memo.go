package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

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
//
// Most requests of a run are distinct, so the common path is one lock to
// find neither an answer nor a call in flight and register its own, and
// one to keep the answer: no singleflight group beside the answers' map.
type Memo struct {
	next  llm.Client
	limit int

	lastEndpoint atomic.Pointer[[2]string] // see endpoint

	mu       sync.Mutex
	done     map[memoKeyT]*llm.Response
	inflight map[memoKeyT]*flight
	order    []memoKeyT // kept keys, a ring in insertion order (FIFO eviction)
	next0    int        // the oldest key's index in order once it is full
}

// flight is a call in progress that later callers of the same request
// wait for.
type flight struct {
	wg   sync.WaitGroup
	resp *llm.Response // the memo's private copy; nil after an error
	err  error
}

// NewMemo wraps next. limit <= 0 means DefaultMemoLimit.
func NewMemo(next llm.Client, limit int) *Memo {
	if limit <= 0 {
		limit = DefaultMemoLimit
	}
	return &Memo{next: next, limit: limit, done: map[memoKeyT]*llm.Response{}, inflight: map[memoKeyT]*flight{}}
}

// Len is how many answers are kept.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.done)
}

// errPanicked is what callers waiting on a call that panicked get.
var errPanicked = errors.New("memo: the shared model call panicked")

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
		m.mu.Lock()
		if resp := m.done[k]; resp != nil {
			m.mu.Unlock()
			return deliver(resp, onChunk), nil
		}
		f := m.inflight[k]
		if f == nil {
			f = &flight{}
			f.wg.Add(1)
			m.inflight[k] = f
			m.mu.Unlock()
			return m.lead(ctx, k, f, req, onChunk)
		}
		m.mu.Unlock()
		f.wg.Wait()
		if f.err != nil {
			// The leader's context ended, not ours: try again as leader.
			if ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue
			}
			return nil, f.err
		}
		if f.resp == nil {
			return nil, nil
		}
		return deliver(f.resp, onChunk), nil
	}
}

// lead makes the call for every caller of k; its caller gets the answer
// itself (streamed to onChunk already), the others the memo's copy.
func (m *Memo) lead(ctx context.Context, k memoKeyT, f *flight, req *llm.Request, onChunk llm.ChunkFunc) (resp *llm.Response, err error) {
	finished := false
	defer func() {
		if !finished {
			err = errPanicked // the panic goes on; the waiters must not hang
		}
		m.mu.Lock()
		delete(m.inflight, k)
		f.err = err
		if err == nil && resp != nil {
			// Followers read the memo's private copy, never the
			// leader's response, which the leader may go on to change.
			f.resp = m.putLocked(k, resp)
		}
		m.mu.Unlock()
		f.wg.Done()
	}()
	resp, err = m.next.Complete(ctx, req, onChunk)
	finished = true
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// putLocked keeps a private copy of resp and returns it (or the one
// already kept); m.mu is held.
func (m *Memo) putLocked(k memoKeyT, resp *llm.Response) *llm.Response {
	if old, ok := m.done[k]; ok {
		return old
	}
	c := *resp
	m.done[k] = &c
	if len(m.order) < m.limit {
		m.order = append(m.order, k)
		return &c
	}
	delete(m.done, m.order[m.next0])
	m.order[m.next0] = k
	m.next0 = (m.next0 + 1) % m.limit
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
