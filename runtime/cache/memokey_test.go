package cache

import (
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/aieval/aieval/runtime/llm"
)

// memoVariants are requests that differ from request("q") in one way each
// (or, where key ignores it, not at all).
func memoVariants() []*llm.Request {
	mod := func(f func(r *llm.Request)) *llm.Request { r := request("q"); f(r); return r }
	return []*llm.Request{
		request("q"),
		request("q2"),
		request(""),
		mod(func(r *llm.Request) { r.Provider = "echo" }),
		mod(func(r *llm.Request) { r.BaseURL = "" }),
		mod(func(r *llm.Request) { r.BaseURL = "HTTP://127.0.0.1:9/v1/" }), // key: the same endpoint
		mod(func(r *llm.Request) { r.BaseURL = "http://127.0.0.1:9/v2" }),
		mod(func(r *llm.Request) { r.Model = "gpt-4o" }),
		mod(func(r *llm.Request) { r.Messages = nil }),
		mod(func(r *llm.Request) { r.Messages = []llm.Message{} }), // key: as nil
		mod(func(r *llm.Request) { r.Messages = r.Messages[1:] }),
		mod(func(r *llm.Request) { r.Messages[0].Role = "user" }),
		mod(func(r *llm.Request) { r.Messages[0].Name = "n" }),
		mod(func(r *llm.Request) { r.Messages[0].ToolCallID = "c1" }),
		mod(func(r *llm.Request) { r.Messages[1].Parts = []llm.Part{} }), // key: as nil
		mod(func(r *llm.Request) { r.Messages[1].Parts = []llm.Part{{Type: "text", Text: "q"}} }),
		mod(func(r *llm.Request) {
			r.Messages[1].Parts = []llm.Part{{Type: "image_url", ImageURL: "u", Detail: "low"}}
		}),
		mod(func(r *llm.Request) { r.Messages[1].ToolCalls = json.RawMessage(`[{"id":"a"}]`) }),
		mod(func(r *llm.Request) { r.Messages[1].ToolCalls = json.RawMessage(` [ {"id": "a"} ] `) }), // key: compacted
		mod(func(r *llm.Request) { r.Messages[1].FunctionCall = json.RawMessage(`{"name":"f"}`) }),
		mod(func(r *llm.Request) { r.Messages[1].FunctionCall = json.RawMessage(`null`) }),
		// A field's bytes moved to the next field must not collide.
		mod(func(r *llm.Request) { r.Messages[1].Role, r.Messages[1].Content = "userq", "" }),
		mod(func(r *llm.Request) {
			r.Messages = []llm.Message{{Role: "system", Content: "be brief"}, {Role: "user"}, {Content: "q"}}
		}),
		mod(func(r *llm.Request) { r.Settings = nil }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{} }), // key: as nil
		mod(func(r *llm.Request) { r.Settings = map[string]any{"temperature": 0.3, "max_tokens": 50} }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{"max_tokens": 50, "temperature": 0.2} }), // same map
		// jsonw encodes float64, encoding/json the int32: one JSON, one key.
		mod(func(r *llm.Request) { r.Settings = map[string]any{"n": 2.0, "stop": "<&>"} }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{"n": int32(2), "stop": "<&>"} }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{"n": int32(2), "stop": "<&"} }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{"stop": []string{"a"}} }),
		mod(func(r *llm.Request) { r.Settings = map[string]any{"stop": []any{"a"}} }),
		mod(func(r *llm.Request) { r.Sample = 1 }),
		mod(func(r *llm.Request) { r.Sample = -1 }),
		mod(func(r *llm.Request) { r.APIKeyEnv = "OTHER" }), // key ignores it
		mod(func(r *llm.Request) { r.Stream = true }),       // key ignores it
	}
}

// TestMemoKeyMatchesKey: two requests share a memo answer exactly when
// the disk key (the JSON one the memo used before) says they are one.
func TestMemoKeyMatchesKey(t *testing.T) {
	m := NewMemo(&fake{}, 0)
	vs := memoVariants()
	for i, a := range vs {
		for j, b := range vs {
			checkMemoKey(t, m, a, b, i, j)
		}
	}
}

func checkMemoKey(t *testing.T, m *Memo, a, b *llm.Request, i, j int) {
	t.Helper()
	ka, errA := key(a)
	kb, errB := key(b)
	ma, errMA := m.memoKey(a)
	mb, errMB := m.memoKey(b)
	if (errA == nil) != (errMA == nil) || (errB == nil) != (errMB == nil) {
		t.Fatalf("%d/%d: key errors %v %v, memoKey errors %v %v", i, j, errA, errB, errMA, errMB)
	}
	if errA != nil || errB != nil {
		return
	}
	if ma == mb && ka != kb {
		t.Fatalf("%d/%d: memoKey shares requests key tells apart:\n%+v\n%+v", i, j, a, b)
	}
	// json.Marshal turns invalid UTF-8 into U+FFFD, so key may merge
	// requests memoKey keeps apart (never the other way round).
	if ka == kb && ma != mb && validUTF8(a) && validUTF8(b) {
		t.Fatalf("%d/%d: memoKey tells apart requests key shares:\n%+v\n%+v", i, j, a, b)
	}
}

func validUTF8(r *llm.Request) bool {
	ok := utf8.ValidString(r.Provider) && utf8.ValidString(r.BaseURL) && utf8.ValidString(r.Model)
	for _, m := range r.Messages {
		ok = ok && utf8.ValidString(m.Role) && utf8.ValidString(m.Content) && utf8.ValidString(m.Name) && utf8.ValidString(m.ToolCallID)
		for _, p := range m.Parts {
			ok = ok && utf8.ValidString(p.Type) && utf8.ValidString(p.Text) && utf8.ValidString(p.ImageURL) && utf8.ValidString(p.Detail)
		}
	}
	for k, v := range r.Settings {
		s, _ := v.(string)
		ok = ok && utf8.ValidString(k) && utf8.ValidString(s)
	}
	return ok
}

func TestMemoKeyRefusesWhatKeyRefuses(t *testing.T) {
	m := NewMemo(&fake{}, 0)
	for _, r := range []*llm.Request{
		{Provider: "openai", Model: "m", Settings: map[string]any{"temperature": math.NaN()}},
		{Provider: "openai", Model: "m", Messages: []llm.Message{{Role: "assistant", ToolCalls: json.RawMessage(`[{`)}}},
		{Provider: "openai", Model: "m", Messages: []llm.Message{{Role: "assistant", FunctionCall: json.RawMessage(`nope`)}}},
	} {
		if _, err := key(r); err == nil {
			t.Fatalf("key accepted %+v", r)
		}
		if _, err := m.memoKey(r); err == nil {
			t.Errorf("memoKey accepted %+v", r)
		}
	}
}

// FuzzMemoKey holds memoKey to key on requests built from fuzzed fields,
// including fields that end where the next begins.
func FuzzMemoKey(f *testing.F) {
	f.Add("user", "hi", "", "user", "hi", "", 0, "")
	f.Add("user", "hix", "", "userh", "ix", "", 1, "x")
	f.Add("a", "b", `{"x":1}`, "a", "b", ` { "x" : 1 } `, 0, "http://H/")
	f.Add("a", "\xff", "", "a", "\xfe", "", 0, "")
	f.Fuzz(func(t *testing.T, role1, content1, raw1, role2, content2, raw2 string, sample int, base string) {
		m := NewMemo(&fake{}, 0)
		mk := func(role, content, raw string) *llm.Request {
			r := &llm.Request{Provider: "openai", BaseURL: base, Model: "m", Sample: sample,
				Messages: []llm.Message{{Role: role, Content: content}, {Role: content, Content: role}}}
			if raw != "" {
				r.Messages[0].ToolCalls = json.RawMessage(raw)
				r.Settings = map[string]any{content: raw}
			}
			return r
		}
		a, b := mk(role1, content1, raw1), mk(role2, content2, raw2)
		checkMemoKey(t, m, a, a, 0, 0)
		checkMemoKey(t, m, a, b, 0, 1)
		// The last endpoint kept must not leak into another base URL.
		c := mk(role1, content1, raw1)
		c.BaseURL = base + "/x"
		checkMemoKey(t, m, a, c, 0, 2)
		// One setting encoding/json's (an int32), one jsonw's (float64):
		// the same JSON, so the same key.
		d, e := mk(role1, content1, raw1), mk(role1, content1, raw1)
		d.Settings = map[string]any{content1: raw1, "k": int32(sample)}
		e.Settings = map[string]any{content1: raw1, "k": float64(int32(sample))}
		checkMemoKey(t, m, d, e, 3, 4)
	})
}
