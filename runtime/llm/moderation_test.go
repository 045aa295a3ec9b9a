package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

func TestLogprobsDecoded(t *testing.T) {
	h := newHarness(t, quick, 0)
	req := userReq(h, "three words here")
	req.Settings = map[string]any{"logprobs": true}
	resp, err := h.client.Complete(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Logprobs) != 3 || resp.Logprobs[0] != fakeopenai.TokenLogprob {
		t.Errorf("logprobs %v, want 3 of %v", resp.Logprobs, fakeopenai.TokenLogprob)
	}
	if b := h.srv.Bodies()[0]; b.Logprobs == nil || !*b.Logprobs {
		t.Errorf("request did not ask for logprobs: %s", b.Raw)
	}
	// Not asked for: none.
	resp, err = h.client.Complete(context.Background(), userReq(h, "three words here"), nil)
	if err != nil || resp.Logprobs != nil {
		t.Errorf("unasked logprobs %v (%v)", resp.Logprobs, err)
	}
}

func TestModerate(t *testing.T) {
	h := newHarness(t, quick, 0, fakeopenai.WithModeration(func(in string) []string {
		if strings.Contains(in, "threat") {
			return []string{"violence", "harassment/threatening"}
		}
		return nil
	}))
	req := &llm.ModerationRequest{Provider: "openai", BaseURL: h.srv.URL(), Model: "omni-moderation-latest", Input: "a threat"}
	res, err := h.client.Moderate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Flagged || !res.Categories["violence"] || !res.Categories["harassment/threatening"] || res.Categories["hate"] {
		t.Errorf("result %+v", res)
	}
	req.Input = "a kind word"
	if res, err := h.client.Moderate(context.Background(), req); err != nil || res.Flagged {
		t.Errorf("kind text: %+v %v", res, err)
	}
	if n := h.srv.ModerationRequests(); n != 2 {
		t.Errorf("%d moderation requests, want 2", n)
	}
	// The key goes only to its own host: another base_url without its
	// own key variable is refused before any request.
	req.BaseURL = "http://127.0.0.2:1/v1"
	if _, err := h.client.Moderate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "api_key_env") {
		t.Errorf("key sent to another host: %v", err)
	}
}

func TestModerateRetriesServerErrors(t *testing.T) {
	h := newHarness(t, quick, 0)
	h.srv.Close()
	req := &llm.ModerationRequest{Provider: "openai", BaseURL: h.srv.URL(), Model: "omni-moderation-latest", Input: "x"}
	_, err := h.client.Moderate(context.Background(), req)
	var le *llm.Error
	if err == nil || !errors.As(err, &le) || le.Attempts != quick.MaxRetries+1 {
		t.Errorf("err %v, want an llm.Error after %d attempts", err, quick.MaxRetries+1)
	}
}
