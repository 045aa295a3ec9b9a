package cache

import (
	"context"
	"fmt"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

type answerClient struct{}

func (answerClient) Complete(_ context.Context, req *llm.Request, _ llm.ChunkFunc) (*llm.Response, error) {
	return &llm.Response{Text: req.Messages[len(req.Messages)-1].Content, Role: "assistant", FinishReason: "stop",
		Usage: llm.Usage{PromptTokens: 7, CompletionTokens: 7, TotalTokens: 14}}, nil
}

// BenchmarkRecord is what recording costs a call: a miss in read-write
// mode, answered at once, then written as a new entry (distinct prompts,
// so every call writes a file). Most of it is the kernel creating the
// file; compare the sys time of a run against the same without writes.
//
//	go test -run '^$' -bench Record -benchmem ./runtime/cache
func BenchmarkRecord(b *testing.B) {
	c, err := Open(b.TempDir(), ReadWrite, Options{})
	if err != nil {
		b.Fatal(err)
	}
	cl := c.Wrap(answerClient{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := request(fmt.Sprintf("Question case-%06d: reply with the answer 42.", i))
		if _, err := cl.Complete(context.Background(), req, nil); err != nil {
			b.Fatal(err)
		}
	}
	if got := c.Stats().Writes; got != int64(i) {
		b.Fatalf("%d writes, want %d", got, i)
	}
}
