package llm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

const fakeKey = "sk-aieval-FAKE-KEY-0123456789abcdef"

func TestKeyNeverInErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", fakeKey)
	t.Setenv("OPENAI_BASE_URL", "")
	faults := []fakeopenai.Fault{
		fakeopenai.None, fakeopenai.Status(429, "0"), fakeopenai.Status(500, ""), fakeopenai.Status(401, ""),
		fakeopenai.Status(400, ""), fakeopenai.Hang, fakeopenai.Reset, fakeopenai.CutStream,
		fakeopenai.Malformed, fakeopenai.EmptyChoices,
	}
	var texts []string
	for _, f := range faults {
		for _, stream := range []bool{false, true} {
			srv := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultAlways(f)))
			t.Setenv("OPENAI_BASE_URL", srv.URL()) // the key's own host
			c := llm.NewOpenAI(llm.OpenAIOptions{Retry: &llm.RetryPolicy{MaxRetries: 1}, Timeout: 50 * time.Millisecond,
				Sleep: func(context.Context, time.Duration) error { return nil }})
			req := &llm.Request{BaseURL: srv.URL(), Model: "gpt-4o", Stream: stream,
				Messages: []llm.Message{{Role: "user", Content: "hello"}}}
			resp, err := c.Complete(context.Background(), req, nil)
			texts = append(texts, describe(resp, err))
			_, err = c.Embed(context.Background(), &llm.EmbedRequest{BaseURL: srv.URL(), Model: "e", Input: []string{"a"}})
			texts = append(texts, describe(nil, err))
			if n := srv.Authorizations()["Bearer "+fakeKey]; n == 0 {
				t.Errorf("fault %v: server never got the key in Authorization: %v", f.Kind, srv.Authorizations())
			}
			if l := srv.Leaks(fakeKey); len(l) > 0 {
				t.Errorf("fault %v: key sent outside Authorization: %v", f.Kind, l)
			}
			srv.Close()
		}
	}
	// A server that echoes the key back in its error message, as OpenAI's
	// 401 does (masked there; in full here, the worst case).
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s and sk-abc*****wxyz","type":"invalid_request_error"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer echo.Close()
	t.Setenv("OPENAI_BASE_URL", echo.URL)
	c := llm.NewOpenAI(llm.OpenAIOptions{Sleep: func(context.Context, time.Duration) error { return nil }})
	_, err := c.Complete(context.Background(), &llm.Request{BaseURL: echo.URL, Model: "m",
		Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
	texts = append(texts, describe(nil, err))
	if !strings.Contains(err.Error(), "Incorrect API key provided: [redacted]") || strings.Contains(err.Error(), "sk-abc") {
		t.Errorf("server message not kept or not scrubbed: %v", err)
	}
	// A dead endpoint.
	_, err = c.Complete(context.Background(), &llm.Request{BaseURL: closedPort(t), Model: "m",
		Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
	texts = append(texts, describe(nil, err))

	for _, s := range texts {
		if strings.Contains(s, fakeKey) || strings.Contains(s, "FAKE-KEY") {
			t.Errorf("key leaked: %s", s)
		}
	}
}

func describe(resp *llm.Response, err error) string {
	var e *llm.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%v | %+v | %v", err, *e, errors.Unwrap(err))
	}
	return fmt.Sprintf("%v | %+v", err, resp)
}
