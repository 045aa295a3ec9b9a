package llm

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A hostile endpoint answering an endless body: the call fails at the cap
// with a clear error, without retrying, and allocates about the cap once
// (not the doubling read plus decoder copies it cost before).
func TestHugeBodyBoundedMemory(t *testing.T) {
	old := maxBody
	maxBody = 8 << 20
	t.Cleanup(func() { maxBody = old })
	for _, stream := range []bool{false, true} {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if stream {
				w.Header().Set("Content-Type", "text/event-stream")
			} else {
				w.Header().Set("Content-Type", "application/json")
			}
			w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"`))
			chunk := []byte(strings.Repeat("A", 64<<10)) // one line, no newline: go-openai's stream reader would grow without end
			for i := 0; i < (2<<30)/len(chunk); i++ {    // up to 2 GiB, until the client hangs up
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}))
		c := NewOpenAI(OpenAIOptions{Getenv: func(string) string { return "" }, Sleep: func(context.Context, time.Duration) error { return nil }})
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		_, err := c.Complete(context.Background(), &Request{BaseURL: srv.URL, Model: "m", Stream: stream,
			Messages: []Message{{Role: "user", Content: "x"}}}, nil)
		runtime.ReadMemStats(&m1)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "over 8 MiB") {
			t.Fatalf("stream=%v: err = %v, want the size cap", stream, err)
		}
		if hits.Load() != 1 {
			t.Errorf("stream=%v: %d requests; a too-large answer is not retried", stream, hits.Load())
		}
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 2*uint64(maxBody)+(4<<20) {
			t.Errorf("stream=%v: allocated %d MiB for an 8 MiB cap", stream, alloc>>20)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stream=%v: took %v", stream, d)
		}
	}
}

// readCapped returns the body exactly, whatever its size against the
// first buffer and the chunk size, with and without a declared length, and
// refuses one byte past the limit.
func TestReadCapped(t *testing.T) {
	const limit = 3<<20 + 5
	for _, size := range []int{0, 1, 4095, 4096, 4097, 1<<20 - 1, 1 << 20, 1<<20 + 1, limit, limit + 1} {
		body := strings.Repeat("x", size)
		for _, hint := range []int64{-1, int64(size)} {
			r, n, err := readCapped(strings.NewReader(body), hint, limit)
			if size > limit {
				if err == nil {
					t.Errorf("size %d hint %d: no error past the limit", size, hint)
				}
				continue
			}
			if err != nil || n != int64(size) {
				t.Fatalf("size %d hint %d: n=%d err=%v", size, hint, n, err)
			}
			var sb strings.Builder
			if _, err := io.Copy(&sb, r); err != nil || sb.String() != body {
				t.Errorf("size %d hint %d: read back %d bytes, err %v", size, hint, sb.Len(), err)
			}
		}
	}
}
