package cache

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/aieval/aieval/runtime/llm"
)

// checkRequestJSON: appendRequestJSON writes json.Marshal's bytes, or
// declines.
func checkRequestJSON(t *testing.T, r *llm.Request, wantWritten bool) {
	t.Helper()
	want, werr := json.Marshal(r)
	got, ok := appendRequestJSON(nil, r)
	if ok && (werr != nil || !bytes.Equal(got, want)) {
		t.Fatalf("%+v:\nhand %s\njson %s (%v)", r, got, want, werr)
	}
	if ok != wantWritten {
		t.Fatalf("%+v: written %v, want %v", r, ok, wantWritten)
	}
}

func TestRequestJSON(t *testing.T) {
	base := func() *llm.Request {
		return &llm.Request{Provider: "openai", BaseURL: "http://h/v1", Model: "gpt-4o-mini",
			Messages: []llm.Message{{Role: "system", Content: "be <brief> & kind"}, {Role: "user", Content: "q\u2028\xff\"\\\n"}},
			Settings: map[string]any{"temperature": 0.0, "max_tokens": 50, "stop": []any{"a", "<b>"}, "seed": int64(7),
				"logprobs": true, "user": nil, "response_format": map[string]any{"type": "json_object", "&": []any{1.5e-7, 1e21}}}}
	}
	mod := func(f func(r *llm.Request)) *llm.Request { r := base(); f(r); return r }
	for _, tt := range []struct {
		r       *llm.Request
		written bool
	}{
		{base(), true},
		{&llm.Request{}, true},
		{mod(func(r *llm.Request) { r.Messages = []llm.Message{} }), true},
		{mod(func(r *llm.Request) { r.Settings = map[string]any{} }), true},
		{mod(func(r *llm.Request) { r.Sample = -3; r.APIKeyEnv = "X"; r.Stream = true }), true},
		{mod(func(r *llm.Request) {
			r.Messages[1].Parts = []llm.Part{{Type: "text", Text: "t"}, {Type: "image_url", ImageURL: "data:x", Detail: "low"}}
			r.Messages[1].Name, r.Messages[1].ToolCallID = "n<", "c&"
		}), true},
		{mod(func(r *llm.Request) { r.Settings["stop"] = []string{"x", "<y>"} }), true},
		{mod(func(r *llm.Request) { r.Messages[1].ToolCalls = json.RawMessage(`[{"id":"<a>"}]`) }), false},
		{mod(func(r *llm.Request) { r.Messages[0].FunctionCall = json.RawMessage(`{"name":"f"}`) }), false},
		{mod(func(r *llm.Request) { r.Settings["temperature"] = math.NaN() }), false},
		{mod(func(r *llm.Request) { r.Settings["n"] = int32(2) }), false},
		{mod(func(r *llm.Request) { r.Settings["m"] = map[string]any{"k": float32(1)} }), false},
	} {
		checkRequestJSON(t, tt.r, tt.written)
	}
}

// FuzzRequestJSON holds the hand encoder to json.Marshal on requests
// built from fuzzed strings and numbers.
func FuzzRequestJSON(f *testing.F) {
	f.Add("openai", "http://h/<v1>", "m&", "user", "hi \xff \u2028", "k", "v", 0.5, 3)
	f.Add("", "", "", "", "", "", "", 1e-9, 0)
	f.Fuzz(func(t *testing.T, provider, base, model, role, content, key, val string, num float64, sample int) {
		r := &llm.Request{Provider: provider, BaseURL: base, Model: model, Sample: sample,
			Messages: []llm.Message{{Role: role, Content: content, Name: val}, {Role: content, Parts: []llm.Part{{Type: role, Text: key, Detail: val}}}}}
		if key != "" {
			r.Settings = map[string]any{key: val, key + "n": num, "list": []any{val, num, nil, true}, "obj": map[string]any{val: key}}
		}
		written := !math.IsNaN(num) && !math.IsInf(num, 0)
		checkRequestJSON(t, r, written || key == "")
	})
}
