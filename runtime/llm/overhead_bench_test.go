package llm_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/internal/heapwatch"
	"github.com/aieval/aieval/runtime/llm"
)

// BenchmarkOverhead compares one chat call through the OpenAI client with
// the same call made by a bare net/http client against the same local
// server: the difference in cpu-us/op is the client's own cost per call
// (the server's CPU is in both).
//
//	go test -run '^$' -bench Overhead -benchtime 20000x ./runtime/llm
func BenchmarkOverhead(b *testing.B) {
	const prompt = "Question case-000001: reply with the answer 42."
	b.Run("bare", func(b *testing.B) {
		srv := fakeopenai.New(fakeopenai.WithKeep(0))
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		client := &http.Client{Transport: tr, Timeout: time.Minute}
		body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + prompt + `"}],"temperature":0}`)
		b.ReportAllocs()
		start := heapwatch.CPU()
		b.ResetTimer()
		for range b.N {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL()+"/chat/completions", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer sk-test-key")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.ReportMetric(float64((heapwatch.CPU()-start).Microseconds())/float64(b.N), "cpu-us/op")
	})
	b.Run("client", func(b *testing.B) {
		h := newHarness(b, llm.DefaultRetry, benchTimeout, fakeopenai.WithKeep(0))
		req := &llm.Request{Provider: "openai", BaseURL: h.srv.URL(), Model: "gpt-4o-mini",
			Messages: []llm.Message{{Role: "user", Content: prompt}}, Settings: map[string]any{"temperature": 0}}
		b.ReportAllocs()
		start := heapwatch.CPU()
		b.ResetTimer()
		for range b.N {
			if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((heapwatch.CPU()-start).Microseconds())/float64(b.N), "cpu-us/op")
	})
}

// BenchmarkOwnCost is BenchmarkOverhead without the network: both make the
// call through an in-memory RoundTripper that answers at once, so ns/op
// is CPU in one goroutine and client minus bare is the client's own cost
// per call, without the loopback exchange's noise (or its GC share).
//
//	go test -run '^$' -bench OwnCost -benchtime 100000x ./runtime/llm
func BenchmarkOwnCost(b *testing.B) {
	const prompt = "Question case-000001: reply with the answer 42."
	const base = "http://127.0.0.1:1/v1"
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"42"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8}}`)
	rt := cannedRT{answer}
	b.Run("bare", func(b *testing.B) {
		client := &http.Client{Transport: rt}
		body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + prompt + `"}],"temperature":0}`)
		b.ReportAllocs()
		for range b.N {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/chat/completions", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer sk-test-key")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("client", func(b *testing.B) {
		env := map[string]string{"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": base}
		c := llm.NewOpenAI(llm.OpenAIOptions{HTTPClient: &http.Client{Transport: rt}, Timeout: benchTimeout,
			Getenv: func(k string) string { return env[k] }})
		req := &llm.Request{Provider: "openai", BaseURL: base, Model: "gpt-4o-mini",
			Messages: []llm.Message{{Role: "user", Content: prompt}}, Settings: map[string]any{"temperature": 0}}
		b.ReportAllocs()
		for range b.N {
			if _, err := c.Complete(context.Background(), req, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cannedRT answers every request with body, after reading the request's.
type cannedRT struct{ body []byte }

func (c cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(c.body))}}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body))}, nil
}
