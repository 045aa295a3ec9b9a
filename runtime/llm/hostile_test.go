package llm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func noSleep(context.Context, time.Duration) error { return nil }

func ask(c *llm.OpenAI, base, keyEnv string, stream bool) (*llm.Response, error) {
	return c.Complete(context.Background(), &llm.Request{BaseURL: base, APIKeyEnv: keyEnv, Model: "m", Stream: stream,
		Messages: []llm.Message{{Role: "user", Content: "x"}}}, nil)
}

func TestEndpointPrintedWithoutCredentials(t *testing.T) {
	dead := closedPort(t)
	u, _ := url.Parse(dead)
	base := "http://alice:pw-in-url-123456@" + u.Host + "/v1?api-key=QUERYKEY-123456&model=m"
	c := llm.NewOpenAI(llm.OpenAIOptions{Retry: &llm.RetryPolicy{}, Getenv: func(string) string { return "" }, Sleep: noSleep})
	_, err := ask(c, base, "", false)
	if err == nil {
		t.Fatal("a dead endpoint answered")
	}
	for _, s := range []string{"alice", "pw-in-url", "QUERYKEY"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%q in %v", s, err)
		}
	}
	if !strings.Contains(err.Error(), "http://"+u.Host+"/v1") {
		t.Errorf("endpoint not named: %v", err)
	}
}

// A 401 body where the key straddles the 200-byte cut, for a key without
// the sk- shape: scrubbed whole first, so no part of it survives.
func TestAuthBodyScrubbedBeforeCut(t *testing.T) {
	const key = "gsk_GROQ0123456789abcdefghijklmnopqrstuvwxyz"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"%s%s","type":"invalid_request_error"}}`, strings.Repeat("x", 190),
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer srv.Close()
	env := map[string]string{"GROQ_API_KEY": key, "GROQ_BASE_URL": srv.URL}
	c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(k string) string { return env[k] }, Sleep: noSleep})
	_, err := ask(c, srv.URL, "GROQ_API_KEY", false)
	if err == nil {
		t.Fatal("401 accepted")
	}
	if strings.Contains(err.Error(), key[:8]) || !strings.Contains(err.Error(), "check $GROQ_API_KEY") {
		t.Errorf("key (part) leaked or fix not named: %v", err)
	}
}

// An endpoint that echoes the key in its answer: the text returned (and so
// cached and reported) no longer holds it.
func TestEchoedKeyScrubbedFromAnswer(t *testing.T) {
	const key = "team-key-WITHOUT-shape-0123456789"
	for _, stream := range []bool{false, true} {
		srv := fakeopenai.New(fakeopenai.WithReply(func(fakeopenai.ChatRequest) string {
			return "your key is " + key + ", and sk-example-000000 is an example"
		}))
		env := map[string]string{"TEAM_KEY": key}
		c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(k string) string { return env[k] }, Sleep: noSleep})
		resp, err := ask(c, srv.URL(), "TEAM_KEY", stream)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "your key is [redacted], and sk-example-000000 is an example"; resp.Text != want {
			t.Errorf("stream=%v: text %q, want %q", stream, resp.Text, want)
		}
	}
}

func TestDefaultKeyBoundToItsHost(t *testing.T) {
	const key = "sk-default-KEY-0123456789"
	home := fakeopenai.New()
	defer home.Close()
	other := fakeopenai.New()
	defer other.Close()
	tests := []struct {
		name    string
		env     map[string]string
		base    string
		keyEnv  string
		wantErr string
		srv     *fakeopenai.Server
		auth    string // Authorization the server must see
	}{
		{"default endpoint", map[string]string{"OPENAI_API_KEY": key, "OPENAI_BASE_URL": home.URL()}, "", "", "", home, "Bearer " + key},
		{"same host as OPENAI_BASE_URL", map[string]string{"OPENAI_API_KEY": key, "OPENAI_BASE_URL": home.URL()}, home.URL() + "/", "", "", home, "Bearer " + key},
		{"another host, no api_key_env", map[string]string{"OPENAI_API_KEY": key, "OPENAI_BASE_URL": home.URL()}, other.URL(), "",
			`OPENAI_API_KEY goes only to ` + strings.TrimSuffix(home.URL(), "/v1") + ` (OPENAI_BASE_URL), not to base_url host ` + strings.TrimSuffix(other.URL(), "/v1") + `; name this endpoint's own key variable with api_key_env`, other, ""},
		{"another host naming OPENAI_API_KEY itself", map[string]string{"OPENAI_API_KEY": key, "OPENAI_BASE_URL": home.URL()}, other.URL(), "OPENAI_API_KEY",
			"OPENAI_API_KEY goes only to " + strings.TrimSuffix(home.URL(), "/v1"), other, ""},
		{"GITHUB_TOKEN to another host", map[string]string{"GITHUB_TOKEN": "ghs_0123456789abcdef0123"}, other.URL(), "GITHUB_TOKEN",
			"GITHUB_TOKEN goes only to https://models.github.ai or https://models.inference.ai.azure.com", other, ""},
		{"AWS secret as a key", map[string]string{"AWS_SECRET_ACCESS_KEY": "aws-0123456789"}, other.URL(), "AWS_SECRET_ACCESS_KEY",
			"AWS_SECRET_ACCESS_KEY goes nowhere: it is not a model API key", other, ""},
		{"GROQ_API_KEY to GROQ_BASE_URL's host", map[string]string{"GROQ_API_KEY": "gsk_0123456789abcdef", "GROQ_BASE_URL": other.URL()}, other.URL(), "GROQ_API_KEY",
			"", other, "Bearer gsk_0123456789abcdef"},
		{"another host, OPENAI_BASE_URL unset", map[string]string{"OPENAI_API_KEY": key}, other.URL(), "", "goes only to https://api.openai.com", other, ""},
		{"another host with its own key", map[string]string{"OPENAI_API_KEY": key, "OTHER_KEY": "sk-other-0123456789"}, other.URL(), "OTHER_KEY", "", other, "Bearer sk-other-0123456789"},
		{"no default key: keyless local server", map[string]string{}, other.URL(), "", "", other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := llm.NewOpenAI(llm.OpenAIOptions{Getenv: func(k string) string { return tt.env[k] }, Sleep: noSleep})
			before := tt.srv.Requests()
			_, err := ask(c, tt.base, tt.keyEnv, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `model "m"`) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.srv.Requests() != before {
					t.Error("the refused call reached the server")
				}
				if err := c.CheckKeyHost(tt.base, tt.keyEnv, "m"); err == nil {
					t.Error("CheckKeyHost allows what Complete refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" && tt.srv.Authorizations()[tt.auth] == 0 {
				t.Errorf("server saw %v, want %q", tt.srv.Authorizations(), tt.auth)
			}
			if tt.srv.Authorizations()["Bearer "+key] > 0 && tt.srv == other {
				t.Error("the default key reached another host")
			}
		})
	}
	if other.Authorizations()["Bearer "+key] > 0 {
		t.Error("the default key reached another host")
	}
}
