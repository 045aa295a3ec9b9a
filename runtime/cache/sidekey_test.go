package cache

import (
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// The keys of recorded embeddings and moderations are what committed
// caches are found by: pinned, so a refactor cannot move them.
func TestSideKeysPinned(t *testing.T) {
	c := &Cache{}
	ek, err := c.embedKey(&llm.EmbedRequest{Provider: "openai", BaseURL: "https://X.example/v1/", Model: "text-embedding-3-small", Input: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := c.moderationKey(&llm.ModerationRequest{Provider: "openai", Model: "omni-moderation-latest", Input: "text"})
	if err != nil {
		t.Fatal(err)
	}
	if ek != wantEmbedKey || mk != wantModerationKey {
		t.Errorf("keys moved: embeddings %s (want %s), moderations %s (want %s)", ek, wantEmbedKey, mk, wantModerationKey)
	}
}

const (
	wantEmbedKey      = "54b9813e27abb530700e4712401b5aab326a0bf07c95b39a5fad222c799f8764"
	wantModerationKey = "8dfc6e2d60730909e6d07f6ef23d2c25687121e6a71440e98e63b257bde0f8ab"
)
