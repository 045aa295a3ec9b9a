package llm_test

import (
	"context"
	"math"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

func TestEcho(t *testing.T) {
	req := &llm.Request{Model: "echo", Messages: []llm.Message{
		{Role: "system", Content: "sys"},
		{Role: "user", Content: "first"},
		{Role: "assistant", Content: "reply"},
		{Role: "user", Parts: []llm.Part{{Type: "text", Text: "look at"}, {Type: "image_url", ImageURL: "http://x"}, {Type: "text", Text: "this"}}},
	}}
	var chunks []string
	resp, err := llm.Echo{}.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "look at\nthis" || resp.Role != "assistant" || len(chunks) != 1 || chunks[0] != resp.Text {
		t.Errorf("resp = %+v chunks %q", resp, chunks)
	}
	if resp.Usage != (llm.Usage{PromptTokens: 6, CompletionTokens: 3, TotalTokens: 9}) {
		t.Errorf("usage = %+v", resp.Usage)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (llm.Echo{}).Complete(ctx, req, nil); err == nil {
		t.Error("canceled context accepted")
	}
	var _ llm.Client = llm.Echo{}
	var _ llm.Client = (*llm.OpenAI)(nil)
}

func TestHashVector(t *testing.T) {
	cos := func(a, b []float64) float64 {
		var d float64
		for i := range a {
			d += a[i] * b[i]
		}
		return d
	}
	vs, err := llm.Echo{}.Embed(context.Background(), &llm.EmbedRequest{Input: []string{
		"The cat sat on the mat.", "the cat sat on the mat", "a cat sat on a rug", "quarterly revenue grew", ""}})
	if err != nil {
		t.Fatal(err)
	}
	if c := cos(vs[0], vs[1]); math.Abs(c-1) > 1e-9 {
		t.Errorf("same words cosine = %v", c)
	}
	near, far := cos(vs[0], vs[2]), cos(vs[0], vs[3])
	if !(near > far) || near >= 1 {
		t.Errorf("near %v far %v", near, far)
	}
	if n := cos(vs[4], vs[4]); math.Abs(n-1) > 1e-9 {
		t.Errorf("empty text norm = %v", n)
	}
}

func TestPricing(t *testing.T) {
	p := llm.DefaultPrices()
	u := llm.Usage{PromptTokens: 1_000_000, CompletionTokens: 500_000}
	tests := []struct {
		model string
		want  float64
		ok    bool
	}{
		{"gpt-4o", 2.50 + 5.00, true},
		{"gpt-4o-2024-08-06", 2.50 + 5.00, true},
		{"gpt-4o-mini-2024-07-18", 0.15 + 0.30, true},
		{"gpt-4-turbo-2024-04-09", 10 + 15, true},
		{"gpt-4-0613", 30 + 30, true},
		{"gpt-3.5-turbo-0125", 0.5 + 0.75, true},
		{"o3-mini-2025-01-31", 1.10 + 2.20, true},
		{"text-embedding-3-small", 0.02, true},
		{"gpt-4oops", 0, false},
		{"llama3", 0, false},
	}
	for _, tt := range tests {
		got, ok := p.Cost(tt.model, u)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Cost(%s) = %v, %v; want %v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	p.Merge(llm.Prices{"llama3": {}, "gpt-4o": {Input: 1, Output: 1}})
	if c, ok := p.Cost("llama3", u); !ok || c != 0 {
		t.Errorf("merged local model: %v %v", c, ok)
	}
	if c, _ := p.Cost("gpt-4o-2024-11-20", u); c != 1.5 {
		t.Errorf("override not used for dated variant: %v", c)
	}
}
