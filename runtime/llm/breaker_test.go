package llm_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

// countingRT counts attempts that reach the network layer and can play a
// dead endpoint (connection refused) while down is set.
type countingRT struct {
	base http.RoundTripper
	n    atomic.Int64
	down atomic.Bool
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if c.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return c.base.RoundTrip(r)
}

func closedPort(t *testing.T) string {
	t.Helper()
	// Port 1 has no listener anywhere this runs; a port freed just now
	// could be taken by another test's server before it is dialled.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:1", time.Second); err == nil {
		c.Close()
	} else {
		return "http://127.0.0.1:1/v1"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

func TestBreakerDeadEndpoint(t *testing.T) {
	for _, workers := range []int{1, 8} {
		t.Run(strings.Repeat("w", workers), func(t *testing.T) {
			base := closedPort(t)
			rt := &countingRT{base: http.DefaultTransport}
			c := llm.NewOpenAI(llm.OpenAIOptions{
				HTTPClient: &http.Client{Transport: rt},
				Retry:      &llm.RetryPolicy{MaxRetries: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
				Getenv:     func(string) string { return "" },
			})
			const calls = 200
			kinds := map[llm.ErrorKind]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			sem := make(chan struct{}, workers)
			for range calls {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					_, err := c.Complete(context.Background(), &llm.Request{BaseURL: base, Model: "m",
						Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
					var e *llm.Error
					if !errors.As(err, &e) {
						t.Errorf("err = %v", err)
						return
					}
					if e.Kind == llm.KindCircuitOpen && (!strings.Contains(err.Error(), base) || !strings.Contains(err.Error(), "connection refused")) {
						t.Errorf("circuit error does not name the endpoint and cause: %v", err)
					}
					mu.Lock()
					kinds[e.Kind]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			// Without the breaker this would be 200 * 5 = 1000 attempts.
			limit := int64(5 + workers*5)
			if got := rt.n.Load(); got > limit {
				t.Errorf("%d attempts for %d calls, want <= %d", got, calls, limit)
			}
			if kinds[llm.KindCircuitOpen] < calls-workers || kinds[llm.KindCircuitOpen]+kinds[llm.KindNetwork] != calls {
				t.Errorf("kinds = %v", kinds)
			}
			if !c.CircuitOpen(base) {
				t.Error("circuit not open")
			}
		})
	}
}

func TestBreakerHalfOpenRecovers(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	rt := &countingRT{base: http.DefaultTransport}
	rt.down.Store(true)
	var clock atomic.Int64
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	c := llm.NewOpenAI(llm.OpenAIOptions{
		HTTPClient: &http.Client{Transport: rt},
		Retry:      &llm.RetryPolicy{MaxRetries: 0},
		Breaker:    llm.BreakerPolicy{Threshold: 3, Cooldown: 10 * time.Second},
		Now:        now,
		Getenv:     func(string) string { return "" },
	})
	call := func() error {
		_, err := c.Complete(context.Background(), &llm.Request{BaseURL: srv.URL(), Model: "m",
			Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
		return err
	}
	kind := func(err error) llm.ErrorKind {
		var e *llm.Error
		if errors.As(err, &e) {
			return e.Kind
		}
		return ""
	}
	for i := range 3 {
		if k := kind(call()); k != llm.KindNetwork {
			t.Fatalf("call %d: kind %s", i, k)
		}
	}
	if k := kind(call()); k != llm.KindCircuitOpen || rt.n.Load() != 3 {
		t.Fatalf("after threshold: kind %s, attempts %d", k, rt.n.Load())
	}
	clock.Add(int64(11 * time.Second))
	if k := kind(call()); k != llm.KindNetwork || rt.n.Load() != 4 {
		t.Fatalf("probe: kind %s, attempts %d", k, rt.n.Load())
	}
	if k := kind(call()); k != llm.KindCircuitOpen || rt.n.Load() != 4 {
		t.Fatalf("failed probe must reopen: kind %s, attempts %d", k, rt.n.Load())
	}
	rt.down.Store(false)
	clock.Add(int64(11 * time.Second))
	for i := range 3 {
		if err := call(); err != nil {
			t.Fatalf("after recovery, call %d: %v", i, err)
		}
	}
	if c.CircuitOpen(srv.URL()) {
		t.Error("circuit still open after a good probe")
	}
}

func TestBreakerIgnoresHTTPErrors(t *testing.T) {
	h := newHarness(t, llm.RetryPolicy{MaxRetries: 9}, 0,
		fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Status(503, ""))))
	for range 3 {
		h.client.Complete(context.Background(), userReq(h, "q"), nil)
	}
	if h.srv.Requests() != 30 || h.client.CircuitOpen(h.srv.URL()) {
		t.Errorf("requests %d, open %v: a live server's 5xx must not open the circuit", h.srv.Requests(), h.client.CircuitOpen(h.srv.URL()))
	}
}

func TestBreakerOpensOnTimeouts(t *testing.T) {
	h := newHarness(t, llm.RetryPolicy{MaxRetries: 9}, 20*time.Millisecond,
		fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Hang)))
	_, err := h.client.Complete(context.Background(), userReq(h, "q"), nil)
	var e *llm.Error
	// Count attempts, not server hits: under load an attempt can time out
	// before the server has read it.
	if !errors.As(err, &e) || e.Kind != llm.KindCircuitOpen || e.Attempts != 5 || h.srv.Requests() > 5 {
		t.Errorf("err = %v after %d requests; want circuit_open after 5 timeouts", err, h.srv.Requests())
	}
}

func TestBreakerPerEndpoint(t *testing.T) {
	dead := closedPort(t)
	srv := fakeopenai.New()
	defer srv.Close()
	c := llm.NewOpenAI(llm.OpenAIOptions{Retry: &llm.RetryPolicy{MaxRetries: 9}, Getenv: func(string) string { return "" },
		Sleep: func(context.Context, time.Duration) error { return nil }})
	c.Complete(context.Background(), &llm.Request{BaseURL: dead, Model: "m", Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
	if !c.CircuitOpen(dead) {
		t.Fatal("dead endpoint not open")
	}
	if _, err := c.Complete(context.Background(), &llm.Request{BaseURL: srv.URL(), Model: "m",
		Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil); err != nil {
		t.Errorf("a live endpoint failed because another is down: %v", err)
	}
}
