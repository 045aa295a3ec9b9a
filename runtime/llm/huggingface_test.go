package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakehf"
	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func newHF(env map[string]string) *llm.HuggingFace {
	return llm.NewHuggingFace(llm.OpenAIOptions{Retry: &quick, Getenv: func(k string) string { return env[k] },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
}

func hfReq() *llm.Request {
	return &llm.Request{Provider: llm.ProviderHuggingFace, Model: "mistralai/Mistral-7B-v0.1",
		Messages: []llm.Message{{Role: "user", Content: "Tell me a joke"}}}
}

func TestHuggingFaceGenerate(t *testing.T) {
	srv := fakehf.New("hf_test", func(fakehf.Request) (string, string) { return "why did the chicken", "length" }, nil)
	defer srv.Close()
	c := newHF(map[string]string{"HF_TOKEN": "hf_test", "HF_INFERENCE_ENDPOINT": srv.URL, "OPENAI_API_KEY": "sk-no"})
	req := hfReq()
	// The SDK's settings, and temperature, which the SDK's parser drops.
	req.Settings = map[string]any{"temperature": 0.7, "top_p": 0.7, "top_k": 50, "max_new_tokens": 20, "stop": "\n", "do_sample": true}
	resp, err := c.Complete(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "why did the chicken" || resp.FinishReason != "length" || resp.Usage.CompletionTokens != 4 {
		t.Errorf("resp = %+v", resp)
	}
	seen := srv.Requests()[0]
	p := seen.Req.Parameters
	if seen.Path != "/generate" || seen.Header.Get("Authorization") != "Bearer hf_test" || seen.Req.Inputs != "Tell me a joke" ||
		*p.Temperature != 0.7 || *p.TopP != 0.7 || *p.TopK != 50 || *p.MaxNewTokens != 20 || p.Stop[0] != "\n" ||
		*p.ReturnFullText || !*p.DoSample {
		t.Errorf("seen %s %s", seen.Path, seen.Body)
	}
	// temperature 0 is greedy (TGI refuses 0); top_p 1 is no cut.
	req.Settings = map[string]any{"temperature": 0, "top_p": 1}
	if _, err := c.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	if p := srv.Requests()[1].Req.Parameters; p.Temperature != nil || p.TopP != nil || *p.DoSample {
		t.Errorf("body %s", srv.Requests()[1].Body)
	}
}

func TestHuggingFaceStreamNoSpace(t *testing.T) {
	srv := fakehf.New("", nil, nil) // a local TGI: no token
	defer srv.Close()
	c := newHF(map[string]string{"HF_INFERENCE_ENDPOINT": srv.URL})
	req := hfReq()
	req.Stream = true
	var chunks []string
	resp, err := c.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "Tell me a joke" || len(chunks) != 4 || resp.FinishReason != "stop" || resp.Usage.CompletionTokens != 4 {
		t.Errorf("resp %+v chunks %q", resp, chunks)
	}
	if p := srv.Requests()[0].Path; p != "/generate_stream" {
		t.Errorf("path = %s", p)
	}
}

func TestHuggingFaceErrors(t *testing.T) {
	srv := fakehf.New("hf_test", nil, func(n int64) *fakehf.Fault {
		if n == 1 {
			return &fakehf.Fault{Code: 503, RetryAfter: "1"}
		}
		return nil
	})
	defer srv.Close()
	c := newHF(map[string]string{"HUGGING_FACE_API_TOKEN": "hf_test", "HF_INFERENCE_ENDPOINT": srv.URL})
	if _, err := c.Complete(context.Background(), hfReq(), nil); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 2 {
		t.Errorf("requests = %d", len(srv.Requests()))
	}
	var e *llm.Error
	c = newHF(map[string]string{"HF_TOKEN": "hf_wrong", "HF_INFERENCE_ENDPOINT": srv.URL})
	_, err := c.Complete(context.Background(), hfReq(), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "$HF_TOKEN") || strings.Contains(err.Error(), "hf_wrong") {
		t.Errorf("err = %v", err)
	}
	// The router needs a token: a clear error before any request.
	_, err = newHF(map[string]string{}).Complete(context.Background(), hfReq(), nil)
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), "HUGGING_FACE_API_TOKEN") {
		t.Errorf("err = %v", err)
	}
	req := hfReq()
	req.Settings = map[string]any{"num_beams": 2}
	c = newHF(map[string]string{"HF_INFERENCE_ENDPOINT": srv.URL})
	if _, err = c.Complete(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "num_beams") {
		t.Errorf("err = %v", err)
	}
}

func TestHuggingFaceChatEndpoint(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	c := newHF(map[string]string{"HF_TOKEN": "hf_test", "HF_INFERENCE_ENDPOINT": srv.URL(), "OPENAI_API_KEY": "sk-no"})
	req := hfReq()
	req.Settings = map[string]any{"max_new_tokens": 30, "top_k": 5, "temperature": 0.5}
	resp, err := c.Complete(context.Background(), req, nil)
	if err != nil || resp.Text != "Tell me a joke" {
		t.Fatalf("%+v %v", resp, err)
	}
	f := srv.Bodies()[0].Fields()
	if string(f["max_tokens"]) != "30" || f["top_k"] != nil || string(f["temperature"]) != "0.5" {
		t.Errorf("body = %s", srv.Bodies()[0].Raw)
	}
	if a := srv.Authorizations(); a["Bearer hf_test"] != 1 || len(a) != 1 {
		t.Errorf("auth = %v", a)
	}
}
