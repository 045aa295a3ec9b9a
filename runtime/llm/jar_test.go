package llm_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// TestSharedHeadersWithJar: chat requests share one header map unless
// the HTTP client has a cookie jar, which writes each request's own; with
// a jar, concurrent calls still send their key, and the jar's cookie.
func TestSharedHeadersWithJar(t *testing.T) {
	answer := `{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{}}`
	for _, withJar := range []bool{false, true} {
		var mu sync.Mutex
		bad := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := r.Cookie("session")
			mu.Lock()
			if r.Header.Get("Authorization") != "Bearer sk-jar-test-key" || r.Header.Get("Content-Type") != "application/json" ||
				(withJar && err != nil) || (!withJar && err == nil) {
				bad++
			}
			mu.Unlock()
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(answer))
		}))
		hc := &http.Client{}
		if withJar {
			hc.Jar, _ = cookiejar.New(nil)
		}
		env := map[string]string{"OPENAI_API_KEY": "sk-jar-test-key", "OPENAI_BASE_URL": srv.URL}
		c := llm.NewOpenAI(llm.OpenAIOptions{HTTPClient: hc, Getenv: func(k string) string { return env[k] }})
		req := &llm.Request{Provider: "openai", BaseURL: srv.URL, Model: "gpt-4o-mini", Messages: []llm.Message{{Role: "user", Content: "hi"}}}
		// One call first, so the jar holds the cookie for the rest.
		if _, err := c.Complete(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		bad = 0
		mu.Unlock()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Complete(context.Background(), req, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		srv.Close()
		if bad != 0 {
			t.Errorf("jar %v: %d requests without the key, the type or the jar's cookie (or with a cookie and no jar)", withJar, bad)
		}
	}
}
