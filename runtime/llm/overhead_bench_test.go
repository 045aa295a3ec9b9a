package llm_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
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
		start := cpuNow()
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
		b.ReportMetric(float64((cpuNow()-start).Microseconds())/float64(b.N), "cpu-us/op")
	})
	b.Run("client", func(b *testing.B) {
		h := newHarness(b, llm.DefaultRetry, benchTimeout, fakeopenai.WithKeep(0))
		req := &llm.Request{Provider: "openai", BaseURL: h.srv.URL(), Model: "gpt-4o-mini",
			Messages: []llm.Message{{Role: "user", Content: prompt}}, Settings: map[string]any{"temperature": 0}}
		b.ReportAllocs()
		start := cpuNow()
		b.ResetTimer()
		for range b.N {
			if _, err := h.client.Complete(context.Background(), req, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuNow()-start).Microseconds())/float64(b.N), "cpu-us/op")
	})
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
