package llm_test

import (
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

func TestClaudePrices(t *testing.T) {
	p := llm.DefaultPrices()
	tests := []struct {
		model   string
		in, out float64
	}{
		{"claude-3-5-sonnet-20241022", 3, 15},
		{"claude-3-5-haiku-latest", 0.80, 4},
		{"claude-3-opus-20240229", 15, 75},
		{"claude-3-haiku-20240307", 0.25, 1.25},
		{"claude-sonnet-4-20250514", 3, 15},
		{"claude-opus-4-1-20250805", 15, 75},
		{"claude-opus-4-5-20251101", 5, 25},
		{"anthropic.claude-3-5-sonnet-20241022-v2:0", 3, 15},
		{"us.anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 4},
		{"anthropic.claude-v2:1", 8, 24},
	}
	for _, tt := range tests {
		pr, ok := p.Lookup(tt.model)
		if !ok || pr.Input != tt.in || pr.Output != tt.out {
			t.Errorf("%s: %+v %v, want %v/%v", tt.model, pr, ok, tt.in, tt.out)
		}
	}
	if _, ok := p.Lookup("us.gpt-4o"); ok {
		t.Error("a geo prefix is only for Bedrock's anthropic ids")
	}
}
