package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func TestFaults(t *testing.T) {
	manyWords := func(fakeopenai.ChatRequest) string { return "one two three four five six" }
	tests := []struct {
		name     string
		fault    fakeopenai.FaultFunc
		retry    llm.RetryPolicy
		timeout  time.Duration
		stream   bool
		onChunk  bool
		wantKind llm.ErrorKind // "" = the call must succeed
		wantMsg  string
		requests int64
		attempts int
	}{
		{name: "429 then ok", fault: fakeopenai.FaultFirst(2, fakeopenai.Status(429, "")), retry: quick, requests: 3},
		{name: "429 with retry-after then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Status(429, "2")), retry: quick, requests: 2},
		{name: "429 always", fault: fakeopenai.FaultAlways(fakeopenai.Status(429, "1")), retry: quick,
			wantKind: llm.KindRateLimited, wantMsg: "(HTTP 429): rate limited", requests: 4, attempts: 4},
		{name: "429 retries 0", fault: fakeopenai.FaultAlways(fakeopenai.Status(429, "")), retry: llm.RetryPolicy{},
			wantKind: llm.KindRateLimited, wantMsg: "rate limited", requests: 1, attempts: 1},
		{name: "500 then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Status(500, "")), retry: quick, requests: 2},
		{name: "502 then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Status(502, "")), retry: quick, requests: 2},
		{name: "503 always", fault: fakeopenai.FaultAlways(fakeopenai.Status(503, "")), retry: quick,
			wantKind: llm.KindServer, wantMsg: "(HTTP 503): server error", requests: 4, attempts: 4},
		{name: "504 streaming then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Status(504, "")), retry: quick, stream: true, requests: 2},
		{name: "400 not retried", fault: fakeopenai.FaultAlways(fakeopenai.Status(400, "")), retry: quick,
			wantKind: llm.KindClient, wantMsg: "request rejected", requests: 1, attempts: 1},
		{name: "401 not retried", fault: fakeopenai.FaultAlways(fakeopenai.Status(401, "")), retry: quick,
			wantKind: llm.KindAuth, wantMsg: "check $OPENAI_API_KEY", requests: 1, attempts: 1},
		{name: "403 not retried", fault: fakeopenai.FaultAlways(fakeopenai.Status(403, "")), retry: quick,
			wantKind: llm.KindAuth, requests: 1, attempts: 1},
		{name: "404 not retried", fault: fakeopenai.FaultAlways(fakeopenai.Status(404, "")), retry: quick,
			wantKind: llm.KindClient, wantMsg: "not found", requests: 1, attempts: 1},
		{name: "hang past timeout", fault: fakeopenai.FaultAlways(fakeopenai.Hang), retry: llm.RetryPolicy{MaxRetries: 1},
			timeout: 50 * time.Millisecond, wantKind: llm.KindTimeout, wantMsg: "timeout", requests: 2, attempts: 2},
		{name: "hang once then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Hang), retry: quick,
			timeout: 50 * time.Millisecond, requests: 2},
		{name: "hang streaming", fault: fakeopenai.FaultAlways(fakeopenai.Hang), retry: llm.RetryPolicy{}, stream: true,
			timeout: 50 * time.Millisecond, wantKind: llm.KindTimeout, requests: 1, attempts: 1},
		{name: "reset then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.Reset), retry: quick, requests: 2},
		{name: "reset always", fault: fakeopenai.FaultAlways(fakeopenai.Reset), retry: quick,
			wantKind: llm.KindNetwork, wantMsg: "connection", requests: 4, attempts: 4},
		{name: "cut body then ok", fault: fakeopenai.FaultFirst(1, fakeopenai.CutStream), retry: quick, requests: 2},
		{name: "cut stream after chunks", fault: fakeopenai.FaultAlways(fakeopenai.CutStream), retry: quick, stream: true, onChunk: true,
			wantKind: llm.KindBadResponse, wantMsg: "stream ended before [DONE]", requests: 1, attempts: 1},
		{name: "cut stream nothing delivered", fault: fakeopenai.FaultAlways(fakeopenai.CutStream), retry: quick, stream: true,
			wantKind: llm.KindBadResponse, wantMsg: "stream ended before [DONE]", requests: 2, attempts: 2},
		{name: "cut stream once", fault: fakeopenai.FaultFirst(1, fakeopenai.CutStream), retry: quick, stream: true, requests: 2},
		{name: "malformed", fault: fakeopenai.FaultAlways(fakeopenai.Malformed), retry: quick,
			wantKind: llm.KindBadResponse, wantMsg: "malformed JSON", requests: 2, attempts: 2},
		{name: "malformed once", fault: fakeopenai.FaultFirst(1, fakeopenai.Malformed), retry: quick, requests: 2},
		{name: "malformed stream", fault: fakeopenai.FaultAlways(fakeopenai.Malformed), retry: quick, stream: true,
			wantKind: llm.KindBadResponse, wantMsg: "malformed JSON", requests: 2, attempts: 2},
		{name: "malformed retries 0", fault: fakeopenai.FaultAlways(fakeopenai.Malformed), retry: llm.RetryPolicy{},
			wantKind: llm.KindBadResponse, requests: 1, attempts: 1},
		{name: "empty choices", fault: fakeopenai.FaultAlways(fakeopenai.EmptyChoices), retry: quick,
			wantKind: llm.KindBadResponse, wantMsg: "empty choices", requests: 2, attempts: 2},
		{name: "empty choices stream", fault: fakeopenai.FaultAlways(fakeopenai.EmptyChoices), retry: quick, stream: true,
			wantKind: llm.KindBadResponse, wantMsg: "empty choices", requests: 2, attempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.retry, tt.timeout, fakeopenai.WithFault(tt.fault), fakeopenai.WithReply(manyWords))
			req := userReq(h, "q")
			req.Stream = tt.stream
			var onChunk llm.ChunkFunc
			if tt.onChunk {
				onChunk = func(string) {}
			}
			done := make(chan struct{})
			var resp *llm.Response
			var err error
			go func() {
				defer close(done)
				resp, err = h.client.Complete(context.Background(), req, onChunk)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("call hung")
			}
			// A hung attempt can time out before the server counts it.
			lenient := tt.timeout > 0 && tt.wantKind == llm.KindTimeout
			if got := h.srv.Requests(); got != tt.requests && !(lenient && got <= tt.requests) {
				t.Errorf("server saw %d requests, want %d", got, tt.requests)
			}
			if tt.wantKind == "" {
				if err != nil || resp.Text != "one two three four five six" {
					t.Fatalf("want success after retry, got %v (%+v)", err, resp)
				}
				return
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *llm.Error", err, err)
			}
			if e.Kind != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) || e.Attempts != tt.attempts {
				t.Errorf("err = %q kind %s attempts %d; want kind %s, %q, attempts %d", err, e.Kind, e.Attempts, tt.wantKind, tt.wantMsg, tt.attempts)
			}
			if e.Endpoint != h.srv.URL() || e.Model != "gpt-4o-mini" {
				t.Errorf("endpoint %q model %q", e.Endpoint, e.Model)
			}
			if tt.attempts > 1 && !strings.HasSuffix(err.Error(), "after "+strconv.Itoa(tt.attempts)+" attempts") {
				t.Errorf("error does not say how many attempts: %q", err)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"2", 2 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"3600", 10 * time.Second}, // capped by MaxRetryAfter
		{time.Now().Add(4 * time.Second).UTC().Format(http.TimeFormat), 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			h := newHarness(t, quick, 0, fakeopenai.WithFault(fakeopenai.FaultFirst(2, fakeopenai.Status(429, tt.header))))
			if _, err := h.client.Complete(context.Background(), userReq(h, "q"), nil); err != nil {
				t.Fatal(err)
			}
			s := h.Sleeps()
			if len(s) != 2 {
				t.Fatalf("sleeps = %v, want 2", s)
			}
			for _, d := range s {
				if d < tt.want || d > 10*time.Second {
					t.Errorf("slept %v, want >= %v and <= MaxRetryAfter", d, tt.want)
				}
			}
		})
	}
}

func TestBackoffWithoutRetryAfter(t *testing.T) {
	p := llm.RetryPolicy{MaxRetries: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond, MaxRetryAfter: time.Minute}
	h := newHarness(t, p, 0, fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Status(500, ""))))
	h.client.Complete(context.Background(), userReq(h, "q"), nil)
	s := h.Sleeps()
	if len(s) != 6 {
		t.Fatalf("sleeps = %v", s)
	}
	for i, d := range s {
		ceil := min(p.BaseDelay<<i, p.MaxDelay)
		if d < 0 || d > ceil {
			t.Errorf("backoff %d = %v, want within [0, %v]", i, d, ceil)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	h := newHarness(t, quick, 0, fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Hang)))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for h.srv.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := h.client.Complete(ctx, userReq(h, "q"), nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if h.srv.Requests() != 1 {
		t.Errorf("retried after cancel: %d requests", h.srv.Requests())
	}
}

func TestConcurrentFaultMix(t *testing.T) {
	// 25% 429 and 5% 500, as in the suite-level check: every call ends
	// right, none lost, none past its retry bound.
	h := newHarness(t, llm.RetryPolicy{MaxRetries: 8, MaxRetryAfter: time.Second}, 0,
		fakeopenai.WithFault(fakeopenai.FaultRandom(7,
			fakeopenai.Weighted{P: 0.25, F: fakeopenai.Status(429, "1")},
			fakeopenai.Weighted{P: 0.05, F: fakeopenai.Status(500, "")})))
	const n = 200
	errs := make(chan error, n)
	sem := make(chan struct{}, 10)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			text := "question " + strings.Repeat("x", i%7)
			resp, err := h.client.Complete(context.Background(), userReq(h, text), nil)
			if err == nil && resp.Text != text {
				err = errors.New("wrong answer " + resp.Text)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if h.srv.Requests() <= n || h.srv.Requests() > n*9 {
		t.Errorf("requests = %d for %d calls", h.srv.Requests(), n)
	}
}
