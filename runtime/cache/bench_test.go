package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// BenchmarkRecordCPU is aieval's own part of recording one answer, without
// the file system: the request's key and the entry's bytes (what
// BenchmarkRecord adds to the kernel's file creation).
//
//	go test -run '^$' -bench RecordCPU -benchmem ./runtime/cache
func BenchmarkRecordCPU(b *testing.B) {
	req := request("Question case-000042: reply with the answer 42.")
	req.Settings = map[string]any{"temperature": 0.0}
	resp := &llm.Response{Text: "Question case-000042: reply with the answer 42.", Role: "assistant", FinishReason: "stop",
		Model: "gpt-4o-mini", Usage: llm.Usage{PromptTokens: 7, CompletionTokens: 7, TotalTokens: 14}, Latency: 20 * time.Millisecond}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		k, err := key(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := encodeEntry(k, req, resp, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay is one cached call replayed: the key, the entry read
// from disk (a file in the page cache) and decoded.
//
//	go test -run '^$' -bench Replay -benchmem ./runtime/cache
func BenchmarkReplay(b *testing.B) {
	c, err := Open(b.TempDir(), ReadWrite, Options{})
	if err != nil {
		b.Fatal(err)
	}
	cl := c.Wrap(answerClient{})
	req := request("Question case-000042: reply with the answer 42.")
	if _, err := cl.Complete(context.Background(), req, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := cl.Complete(context.Background(), req, nil)
		if err != nil || !resp.Cached {
			b.Fatal(resp, err)
		}
	}
}
