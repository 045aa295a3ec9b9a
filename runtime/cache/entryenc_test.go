package cache

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// checkEntry: appendEntry writes encodeEntryStd's bytes, or declines.
func checkEntry(t *testing.T, req *llm.Request, resp *llm.Response, note string, wantWritten bool) {
	t.Helper()
	got, err := encodeEntry("k", req, resp, note, time.Unix(1733000000, 0))
	// encodeEntry's entry, encoded the standard way.
	e := newEntry("k", req, resp, note, time.Unix(1733000000, 0))
	want, werr := encodeEntryStd(e)
	if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("%+v %+v:\nhand %s (%v)\njson %s (%v)", req, resp, got, err, want, werr)
	}
	if _, ok := appendEntry(nil, e); ok != wantWritten {
		t.Fatalf("%+v %+v: written %v, want %v", req, resp, ok, wantWritten)
	}
}

func TestEntryJSON(t *testing.T) {
	req := func() *llm.Request {
		return &llm.Request{Provider: "openai", BaseURL: "http://h/v1", Model: "gpt-4o-mini", Sample: 2,
			Messages: []llm.Message{{Role: "system", Content: "be <brief> & kind"}, {Role: "user", Content: "q\u2028\xff\"\\\n\t"}},
			Settings: map[string]any{"temperature": 0.0, "max_tokens": 50, "stop": []any{"a", "<b>"}, "seed": int64(7), "api_key": "sk-x",
				"logprobs": true, "user": nil, "e": []any{}, "o": map[string]any{}, "response_format": map[string]any{"type": "json_object", "&": []any{1.5e-7, 1e21, map[string]any{"x": []string{"y"}}}}}}
	}
	resp := func() *llm.Response {
		return &llm.Response{Text: "42 <ok>", Role: "assistant", FinishReason: "stop", Model: "gpt-4o-mini-2024",
			Usage: llm.Usage{PromptTokens: 7, CompletionTokens: 1, TotalTokens: 8}, Latency: 1234567 * time.Microsecond, Logprobs: []float64{-0.1, -1e-9, 0}}
	}
	for _, tt := range []struct {
		mod     func(*llm.Request, *llm.Response) string
		written bool
	}{
		{func(*llm.Request, *llm.Response) string { return "" }, true},
		{func(*llm.Request, *llm.Response) string { return "hand-written <fixture>" }, true},
		{func(r *llm.Request, p *llm.Response) string {
			r.Messages, r.Settings, r.Sample, r.BaseURL = nil, nil, 0, ""
			*p = llm.Response{}
			return ""
		}, true},
		{func(r *llm.Request, p *llm.Response) string {
			r.Messages[1].Parts = []llm.Part{{Type: "text", Text: "t"}, {Type: "image_url", ImageURL: "data:x", Detail: "low"}}
			r.Messages[1].Name, r.Messages[1].ToolCallID = "n<", "c&"
			p.Refusal = "no"
			return ""
		}, true},
		{func(r *llm.Request, p *llm.Response) string { r.Settings = map[string]any{}; return "" }, true},
		{func(r *llm.Request, p *llm.Response) string { p.ToolCalls = json.RawMessage(`[{"id":"a"}]`); return "" }, false},
		{func(r *llm.Request, p *llm.Response) string {
			r.Messages[0].ToolCalls = json.RawMessage(`[]`)
			return ""
		}, false},
		{func(r *llm.Request, p *llm.Response) string { r.Settings["t"] = math.Inf(1); return "" }, false},
		{func(r *llm.Request, p *llm.Response) string { r.Settings["n"] = int32(1); return "" }, false},
	} {
		r, p := req(), resp()
		note := tt.mod(r, p)
		checkEntry(t, r, p, note, tt.written)
	}
}

// FuzzEntryJSON holds appendEntry to encoding/json on entries built from
// fuzzed strings and numbers.
func FuzzEntryJSON(f *testing.F) {
	f.Add("user", "hi <b> & \xff \u2028", "k", "v", "answer", 0.5, int64(1500), 3)
	f.Add("", "", "", "", "", 1e-9, int64(0), 0)
	f.Fuzz(func(t *testing.T, role, content, key, val, text string, num float64, latency int64, sample int) {
		r := &llm.Request{Provider: role, BaseURL: val, Model: key, Sample: sample,
			Messages: []llm.Message{{Role: role, Content: content, Name: val}, {Role: content, Parts: []llm.Part{{Type: role, Text: key, Detail: val}}}}}
		if key != "" {
			r.Settings = map[string]any{key: val, key + "n": num, "list": []any{val, num, nil, true, []any{}}, "obj": map[string]any{val: key, "e": map[string]any{}}}
		}
		p := &llm.Response{Text: text, Role: role, FinishReason: val, Model: content, Latency: time.Duration(latency),
			Usage: llm.Usage{PromptTokens: sample, CompletionTokens: len(text), TotalTokens: -sample}, Logprobs: []float64{num, -num}}
		finite := !math.IsNaN(num) && !math.IsInf(num, 0)
		checkEntry(t, r, p, text, finite)
	})
}
