package runtime

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// BenchmarkRunPath is one test's prompt through the whole run path as
// eval builds it (routing, templating, the Memo, the OpenAI client, its
// retrying transport) against an in-memory round-tripper that answers at
// once, beside a bare net/http client making the same call through the
// same round-tripper: ns/op is CPU in one goroutine, and path minus bare
// is aieval's own cost per call beyond the HTTP exchange. The aiconfig is
// the scale bench's (bench/suite.go), distinct params each time.
//
//	go test -run '^$' -bench RunPath -benchtime 20000x -count 5 ./runtime
func BenchmarkRunPath(b *testing.B) {
	const base = "http://127.0.0.1:1/v1"
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"42"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8}}`)
	rt := cannedRT{answer}
	b.Run("bare", func(b *testing.B) {
		client := &http.Client{Transport: rt}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Question case-` + strconv.Itoa(i) +
				`: reply with the answer 42."}],"temperature":0}`)
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
	b.Run("run", func(b *testing.B) {
		c, err := Parse([]byte(`{
  "name": "bench", "schema_version": "latest",
  "metadata": {"models": {"gpt-4o-mini": {"model": "gpt-4o-mini", "temperature": 0}}, "default_model": "gpt-4o-mini", "parameters": {}},
  "prompts": [{"name": "ask", "input": "Question {{q}}: reply with the answer 42."}]
}`), "bench.aiconfig.json")
		if err != nil {
			b.Fatal(err)
		}
		env := map[string]string{"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": base}
		getenv := func(k string) string { return env[k] }
		r := New(Options{
			Parsers: Parsers(llm.OpenAIOptions{HTTPClient: &http.Client{Transport: rt}, Timeout: time.Minute, Getenv: getenv}),
			Wrap:    func(p llm.Client) llm.Client { return cache.NewMemo(p, 0) },
			Getenv:  getenv,
		})
		ctx := context.Background()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			res, err := r.Run(ctx, c, "ask", RunOptions{Params: map[string]any{"q": "case-" + strconv.Itoa(i)}})
			if err != nil || res.Output != "42" {
				b.Fatal(res, err)
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
