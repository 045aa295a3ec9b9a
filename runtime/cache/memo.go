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
// a disk cache hit). 4096 held ~2.4 MB of a 100k-test run's ~7 MB live
// heap, which the memory limit doubles, for answers that are shared by
// tests near each other in the file (a dependency's, a repeat's) if at all.
const DefaultMemoLimit = 1024

// Memo makes identical requests within one run once: concurrent callers
// share the in-flight call and later callers get the kept answer. Chained
// prompts that several tests depend on with the same params are the case
// it is for. Errors are not kept, so a later caller retries.
//
// Most requests of a run are distinct, so the common path is one map
// lookup and one insert under the lock to register its call, and one
// delete of the oldest answer when it is kept: the answers and the calls
// in flight are one map, not a singleflight group beside the answers.
type Memo struct {
	next  llm.Client
	limit int

	lastEndpoint atomic.Pointer[[2]string] // see endpoint

	mu    sync.Mutex
	m     map[memoKeyT]*memoEntry // answers kept, and calls in flight
	kept  int                     // entries in m that are answers
	order []memoKeyT              // kept keys, a ring in insertion order (FIFO eviction)
	next0 int                     // the oldest key's index in order once it is full
}

// memoEntry is a call in flight (later callers of the same request wait
// on wg), then, once it answered, the memo's private copy of the answer.
type memoEntry struct {
	wg   sync.WaitGroup
	done bool          // resp is the answer; read under Memo.mu or after wg
	resp *llm.Response // the memo's private copy; nil after an error
	err  error
}

// NewMemo wraps next. limit <= 0 means DefaultMemoLimit.
func NewMemo(next llm.Client, limit int) *Memo {
	if limit <= 0 {
		limit = DefaultMemoLimit
	}
	return &Memo{next: next, limit: limit, m: map[memoKeyT]*memoEntry{}}
}

// Len is how many answers are kept.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kept
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
		e := m.m[k]
		if e == nil {
			e = &memoEntry{}
			e.wg.Add(1)
			m.m[k] = e
			m.mu.Unlock()
			return m.lead(ctx, k, e, req, onChunk)
		}
		if e.done {
			resp := e.resp
			m.mu.Unlock()
			return deliver(resp, onChunk), nil
		}
		m.mu.Unlock()
		e.wg.Wait()
		if e.err != nil {
			// The leader's context ended, not ours: try again as leader.
			if ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
				continue
			}
			return nil, e.err
		}
		if e.resp == nil {
			return nil, nil
		}
		return deliver(e.resp, onChunk), nil
	}
}

// lead makes the call for every caller of k; its caller gets the answer
// itself (streamed to onChunk already), the others the memo's copy.
func (m *Memo) lead(ctx context.Context, k memoKeyT, e *memoEntry, req *llm.Request, onChunk llm.ChunkFunc) (resp *llm.Response, err error) {
	finished := false
	defer func() {
		if !finished {
			err = errPanicked // the panic goes on; the waiters must not hang
		}
		e.err = err
		m.mu.Lock()
		if err == nil && resp != nil {
			// Followers read the memo's private copy, never the
			// leader's response, which the leader may go on to change.
			c := *resp
			e.resp, e.done = &c, true
			m.keep(k)
		} else {
			delete(m.m, k) // errors (and no answer) are not kept
		}
		m.mu.Unlock()
		e.wg.Done()
	}()
	resp, err = m.next.Complete(ctx, req, onChunk)
	finished = true
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// keep counts k's answer as kept, evicting the oldest past the limit;
// m.mu is held.
func (m *Memo) keep(k memoKeyT) {
	m.kept++
	if len(m.order) < m.limit {
		m.order = append(m.order, k)
		return
	}
	delete(m.m, m.order[m.next0])
	m.kept--
	m.order[m.next0] = k
	m.next0 = (m.next0 + 1) % m.limit
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
