package cache

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// modFake moderates: everything with "bad" in it is flagged.
type modFake struct {
	fake
	mods atomic.Int64
}

func (f *modFake) Moderate(_ context.Context, req *llm.ModerationRequest) (*llm.ModerationResult, error) {
	f.mods.Add(1)
	return &llm.ModerationResult{Flagged: true, Categories: map[string]bool{"hate": true, "violence": false}}, nil
}

func TestModerationRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	m := &modFake{}
	req := &llm.ModerationRequest{Provider: "openai", Model: "omni-moderation-latest", Input: "bad words"}
	cl := open(t, dir, ReadWrite, Options{}).Wrap(m).(llm.Moderator)
	first, err := cl.Moderate(context.Background(), req)
	if err != nil || !first.Flagged {
		t.Fatalf("first: %+v %v", first, err)
	}
	off := open(t, dir, ReadOnly, Options{Offline: true}).Wrap(m).(llm.Moderator)
	again, err := off.Moderate(context.Background(), req)
	if err != nil || !again.Flagged || !again.Categories["hate"] || again.Categories["violence"] {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if n := m.mods.Load(); n != 1 {
		t.Errorf("moderated %d times, want 1", n)
	}
	other := *req
	other.Input = "other words"
	var miss *MissError
	if _, err := off.Moderate(context.Background(), &other); !errors.As(err, &miss) {
		t.Errorf("offline miss: %v", err)
	}
	// The moderation key is not the chat key of the same text.
	c := open(t, dir, ReadOnly, Options{})
	if k, _ := c.moderationKey(req); k == Key(&llm.Request{Provider: "openai", Model: req.Model, Messages: []llm.Message{{Role: "user", Content: req.Input}}}) {
		t.Error("moderation and chat share a key")
	}
}

func TestLogprobsRecordedAndReplayed(t *testing.T) {
	dir := t.TempDir()
	lp := []float64{-0.25, -1.5, -0.01}
	m := &fake{answer: func(*llm.Request) (*llm.Response, error) {
		return &llm.Response{Text: "a b c", Role: "assistant", Logprobs: lp}, nil
	}}
	req := request("hi")
	req.Settings["logprobs"] = true
	if _, err := open(t, dir, ReadWrite, Options{}).Wrap(m).Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	r, err := open(t, dir, ReadOnly, Options{Offline: true}).Wrap(m).Complete(context.Background(), req, nil)
	if err != nil || !r.Cached || !slices.Equal(r.Logprobs, lp) {
		t.Fatalf("replayed logprobs %v (%v)", r.Logprobs, err)
	}
}
