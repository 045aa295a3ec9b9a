package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

func TestMemoSharesIdenticalRequests(t *testing.T) {
	m := &fake{delay: 50 * time.Millisecond}
	memo := NewMemo(m, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	streamed := map[int]string{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var got strings.Builder
			r, err := memo.Complete(context.Background(), request("shared"), func(d string) { got.WriteString(d) })
			if err != nil || r.Text != "answer to shared" {
				t.Errorf("caller %d: %v %+v", i, err, r)
				return
			}
			r.Text = "mutated" // must not leak into other callers
			mu.Lock()
			streamed[i] = got.String()
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if n := m.calls.Load(); n != 1 {
		t.Errorf("model calls = %d, want 1", n)
	}
	for i, s := range streamed {
		if s != "answer to shared" {
			t.Errorf("caller %d streamed %q", i, s)
		}
	}
	r, _ := memo.Complete(context.Background(), request("shared"), nil)
	if r.Text != "answer to shared" || m.calls.Load() != 1 {
		t.Errorf("later caller got %q after %d calls", r.Text, m.calls.Load())
	}
	s := request("shared")
	s.Sample = 1
	if _, err := memo.Complete(context.Background(), s, nil); err != nil || m.calls.Load() != 2 {
		t.Errorf("another sample must be a new call: %v calls=%d", err, m.calls.Load())
	}
}

func TestMemoDoesNotKeepErrors(t *testing.T) {
	fail := true
	m := &fake{answer: func(*llm.Request) (*llm.Response, error) {
		if fail {
			return nil, errors.New("boom")
		}
		return &llm.Response{Text: "ok"}, nil
	}}
	memo := NewMemo(m, 0)
	if _, err := memo.Complete(context.Background(), request("x"), nil); err == nil {
		t.Fatal("want error")
	}
	fail = false
	if r, err := memo.Complete(context.Background(), request("x"), nil); err != nil || r.Text != "ok" {
		t.Fatalf("retry: %v %+v", err, r)
	}
	if m.calls.Load() != 2 || memo.Len() != 1 {
		t.Errorf("calls %d len %d", m.calls.Load(), memo.Len())
	}
}

func TestMemoFollowerOutlivesCancelledLeader(t *testing.T) {
	m := &fake{delay: 100 * time.Millisecond}
	memo := NewMemo(m, 0)
	leaderCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := memo.Complete(leaderCtx, request("x"), nil)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the leader start
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	r, err := memo.Complete(context.Background(), request("x"), nil)
	if err != nil || r.Text != "answer to x" {
		t.Fatalf("follower: %v %+v", err, r)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("leader err = %v", err)
	}
}

func TestMemoLimit(t *testing.T) {
	m := &fake{}
	memo := NewMemo(m, 2)
	for _, q := range []string{"a", "b", "c", "a"} {
		if _, err := memo.Complete(context.Background(), request(q), nil); err != nil {
			t.Fatal(err)
		}
	}
	if memo.Len() != 2 || m.calls.Load() != 4 {
		t.Errorf("len %d calls %d: a should have been evicted by c", memo.Len(), m.calls.Load())
	}
}

// The usual stack: Memo over the disk cache, so a shared dependency is one
// lookup or one call.
func TestMemoOverCache(t *testing.T) {
	c := open(t, t.TempDir(), ReadWrite, Options{})
	m := &fake{}
	cl := NewMemo(c.Wrap(m), 0)
	for i := 0; i < 3; i++ {
		if _, err := cl.Complete(context.Background(), request("dep"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if m.calls.Load() != 1 || c.Stats().Writes != 1 {
		t.Errorf("calls %d stats %+v", m.calls.Load(), c.Stats())
	}
}
