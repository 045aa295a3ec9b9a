package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeazure"
	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func newAzure(t *testing.T, env map[string]string, opts ...fakeopenai.Option) (*fakeazure.Server, *llm.Azure) {
	t.Helper()
	srv := fakeazure.New("az-test-key", opts...)
	t.Cleanup(srv.Close)
	if env == nil {
		env = map[string]string{"AZURE_OPENAI_API_KEY": "az-test-key"}
	}
	env["AZURE_OPENAI_ENDPOINT"] = srv.URL + "/"
	// The OpenAI key is set: it must never reach Azure.
	env["OPENAI_API_KEY"] = "sk-openai-must-not-leak"
	c := llm.NewAzure(llm.OpenAIOptions{Retry: &quick, Getenv: func(k string) string { return env[k] },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	return srv, c
}

func azureReq() *llm.Request {
	return &llm.Request{Provider: llm.ProviderAzure, Model: "gpt-35-turbo", Messages: []llm.Message{
		{Role: "system", Content: "You are terse."}, {Role: "user", Content: "say horse in French"}}}
}

func TestAzurePlainAndDeployment(t *testing.T) {
	srv, c := newAzure(t, nil)
	resp, err := c.Complete(context.Background(), azureReq(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "say horse in French" || resp.FinishReason != "stop" || resp.Usage.TotalTokens == 0 {
		t.Errorf("resp = %+v", resp)
	}
	seen := srv.Requests()[0]
	if seen.Path != "/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-10-21" || seen.Header.Get("Api-Key") != "az-test-key" || seen.Header.Get("Authorization") != "" {
		t.Errorf("seen %+v", seen)
	}
	// The deployment from the settings; it is not sent as a parameter.
	req := azureReq()
	req.Settings = map[string]any{"azure_deployment": "prod-35", "temperature": 0}
	if _, err := c.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	if d := srv.Requests()[1].Deployment; d != "prod-35" {
		t.Errorf("deployment = %q", d)
	}
	if f := srv.Inner.Bodies()[1].Fields(); f["azure_deployment"] != nil || string(f["temperature"]) != "0" {
		t.Errorf("body = %s", srv.Inner.Bodies()[1].Raw)
	}
	if leaks := srv.Inner.Leaks("sk-openai-must-not-leak"); len(leaks) != 0 {
		t.Errorf("OpenAI key sent to Azure: %v", leaks)
	}
}

func TestAzureV1AndVersion(t *testing.T) {
	for _, tt := range []struct{ version, path string }{
		{"v1", "/openai/v1/chat/completions"},
		{"preview", "/openai/v1/chat/completions?api-version=preview"},
		{"2024-06-01", "/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-06-01"},
	} {
		srv, c := newAzure(t, map[string]string{"AZURE_OPENAI_API_KEY": "az-test-key", "OPENAI_API_VERSION": tt.version})
		if _, err := c.Complete(context.Background(), azureReq(), nil); err != nil {
			t.Fatalf("%s: %v", tt.version, err)
		}
		if p := srv.Requests()[0].Path; p != tt.path {
			t.Errorf("%s: path = %s", tt.version, p)
		}
	}
}

func TestAzureStreamEmptyFirstChunk(t *testing.T) {
	srv, c := newAzure(t, map[string]string{"AZURE_OPENAI_KEY": "az-test-key"}) // the SDK parser's variable
	req := azureReq()
	req.Stream = true
	var chunks []string
	resp, err := c.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "say horse in French" || strings.Join(chunks, "") != resp.Text || resp.FinishReason != "stop" || resp.Usage.CompletionTokens == 0 {
		t.Errorf("resp %+v chunks %q", resp, chunks)
	}
	if !srv.Inner.Bodies()[0].Stream {
		t.Error("not streamed")
	}
}

func TestAzureErrors(t *testing.T) {
	srv, c := newAzure(t, nil, fakeopenai.WithFault(fakeopenai.FaultFirst(2, fakeopenai.Status(429, "1"))))
	if _, err := c.Complete(context.Background(), azureReq(), nil); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 3 {
		t.Errorf("requests = %d, want 2 retries", len(srv.Requests()))
	}
	var e *llm.Error
	_, c = newAzure(t, map[string]string{"AZURE_OPENAI_API_KEY": "az-wrong"})
	_, err := c.Complete(context.Background(), azureReq(), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "$AZURE_OPENAI_API_KEY") || strings.Contains(err.Error(), "az-wrong") {
		t.Errorf("err = %v", err)
	}
	srv, c = newAzure(t, map[string]string{})
	_, err = c.Complete(context.Background(), azureReq(), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "AZURE_OPENAI_API_KEY") || len(srv.Requests()) != 0 {
		t.Errorf("err = %v", err)
	}
	c = llm.NewAzure(llm.OpenAIOptions{Getenv: func(k string) string { return map[string]string{"AZURE_OPENAI_API_KEY": "k"}[k] }})
	if _, err = c.Complete(context.Background(), azureReq(), nil); err == nil || !strings.Contains(err.Error(), "AZURE_OPENAI_ENDPOINT") {
		t.Errorf("err = %v", err)
	}
}
