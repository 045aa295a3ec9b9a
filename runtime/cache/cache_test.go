package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// fake is a model that counts calls and answers from a function.
type fake struct {
	calls  atomic.Int64
	answer func(req *llm.Request) (*llm.Response, error)
	delay  time.Duration
}

func (f *fake) Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error) {
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.answer != nil {
		return f.answer(req)
	}
	text := "answer to " + req.Messages[len(req.Messages)-1].Content
	if onChunk != nil {
		onChunk(text)
	}
	return &llm.Response{Text: text, Role: "assistant", FinishReason: "stop",
		Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}, Latency: 1234567 * time.Microsecond}, nil
}

func request(content string) *llm.Request {
	return &llm.Request{
		Provider: "openai", BaseURL: "http://127.0.0.1:9/v1", Model: "gpt-4o-mini",
		Messages:  []llm.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: content}},
		Settings:  map[string]any{"temperature": 0.2, "max_tokens": 50},
		APIKeyEnv: "AIEVAL_TEST_KEY",
	}
}

func open(t *testing.T, dir string, mode Mode, opts Options) *Cache {
	t.Helper()
	c, err := Open(dir, mode, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKey(t *testing.T) {
	base := Key(request("hi"))
	if len(base) != 64 {
		t.Fatalf("key %q is not sha256 hex", base)
	}
	tests := []struct {
		name string
		edit func(r *llm.Request)
		same bool
	}{
		{"api key env", func(r *llm.Request) { r.APIKeyEnv = "OTHER" }, true},
		{"stream", func(r *llm.Request) { r.Stream = true }, true},
		{"settings rebuilt in another order", func(r *llm.Request) {
			r.Settings = map[string]any{"max_tokens": 50, "temperature": 0.2}
		}, true},
		{"provider", func(r *llm.Request) { r.Provider = "azure" }, false},
		{"base url", func(r *llm.Request) { r.BaseURL = "http://other/v1" }, false},
		{"model", func(r *llm.Request) { r.Model = "gpt-4o" }, false},
		{"message", func(r *llm.Request) { r.Messages[1].Content = "hi!" }, false},
		{"role", func(r *llm.Request) { r.Messages[0].Role = "user" }, false},
		{"setting", func(r *llm.Request) { r.Settings["temperature"] = 0.3 }, false},
		{"sample", func(r *llm.Request) { r.Sample = 2 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request("hi")
			tt.edit(r)
			if got := Key(r) == base; got != tt.same {
				t.Errorf("same key = %v, want %v", got, tt.same)
			}
		})
	}
	if Key(&llm.Request{Model: "m"}) != Key(&llm.Request{Model: "m", Messages: []llm.Message{}}) {
		t.Error("nil and empty messages give different keys")
	}
	bad := request("x")
	bad.Settings["temperature"] = func() {}
	if Key(bad) != "" {
		t.Error("unencodable request got a key")
	}
}

func TestRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	m := &fake{}
	c := open(t, dir, ReadWrite, Options{})
	cl := c.Wrap(m)
	req := request("hi")

	first, err := cl.Complete(context.Background(), req, nil)
	if err != nil || first.Cached {
		t.Fatalf("first call: %v cached=%v", err, first.Cached)
	}
	k := Key(req)
	if _, err := os.Stat(filepath.Join(dir, k[:2], k+".json")); err != nil {
		t.Fatalf("entry not written: %v", err)
	}

	var chunks []string
	second, err := cl.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || second.Text != first.Text || second.Usage != first.Usage ||
		second.FinishReason != "stop" || second.Role != "assistant" {
		t.Errorf("replayed %+v, recorded %+v", second, first)
	}
	if second.Latency != 1234600*time.Microsecond {
		t.Errorf("replayed latency %v, want the recorded 1234.6ms", second.Latency)
	}
	if len(chunks) != 1 || chunks[0] != first.Text {
		t.Errorf("streaming hit chunks = %q, want the whole text once", chunks)
	}
	if n := m.calls.Load(); n != 1 {
		t.Errorf("model called %d times, want 1", n)
	}
	if s := c.Stats(); s != (Stats{Hits: 1, Misses: 1, Writes: 1}) {
		t.Errorf("stats %+v", s)
	}
	if u := c.Used(); !u[k] || len(u) != 1 {
		t.Errorf("used %v", u)
	}

	// A new process over the same directory replays too.
	c2 := open(t, dir, ReadOnly, Options{Offline: true})
	if r, err := c2.Wrap(m).Complete(context.Background(), req, nil); err != nil || !r.Cached {
		t.Fatalf("replay in a new cache: %v", err)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	dir := t.TempDir()
	fail := true
	m := &fake{answer: func(req *llm.Request) (*llm.Response, error) {
		if fail {
			return nil, &llm.Error{Kind: llm.KindServer, Endpoint: req.BaseURL, Status: 500}
		}
		return &llm.Response{Text: "ok"}, nil
	}}
	cl := open(t, dir, ReadWrite, Options{}).Wrap(m)
	if _, err := cl.Complete(context.Background(), request("x"), nil); err == nil {
		t.Fatal("want the model's error")
	}
	if entries(t, dir) != 0 {
		t.Fatal("an error was cached")
	}
	fail = false
	if r, err := cl.Complete(context.Background(), request("x"), nil); err != nil || r.Text != "ok" || r.Cached {
		t.Fatalf("retry after error: %v %+v", err, r)
	}
	if m.calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", m.calls.Load())
	}
}

func TestModes(t *testing.T) {
	tests := []struct {
		mode            Mode
		wantCalls       int64 // second identical request included
		wantEntries     int
		wantCachedFirst bool
	}{
		// The directory is seeded with an entry for "seeded".
		{ReadWrite, 1, 2, true},
		{ReadOnly, 1, 1, true},
		{Refresh, 2, 2, false},
		{Off, 2, 1, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteEntry(dir, request("seeded"), &llm.Response{Text: "old"}, ""); err != nil {
				t.Fatal(err)
			}
			m := &fake{}
			cl := open(t, dir, tt.mode, Options{}).Wrap(m)
			r, err := cl.Complete(context.Background(), request("seeded"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Cached != tt.wantCachedFirst {
				t.Errorf("seeded answer cached = %v", r.Cached)
			}
			if _, err := cl.Complete(context.Background(), request("fresh"), nil); err != nil {
				t.Fatal(err)
			}
			if got := m.calls.Load(); got != tt.wantCalls {
				t.Errorf("model calls = %d, want %d", got, tt.wantCalls)
			}
			if got := entries(t, dir); got != tt.wantEntries {
				t.Errorf("entries = %d, want %d", got, tt.wantEntries)
			}
			if tt.mode == Refresh {
				// refresh overwrote the seeded entry with the model's answer
				r, _ := open(t, dir, ReadOnly, Options{}).Wrap(&fake{}).Complete(context.Background(), request("seeded"), nil)
				if r.Text != "answer to seeded" {
					t.Errorf("refresh left %q", r.Text)
				}
			}
		})
	}
}

func TestParseModeAndOpen(t *testing.T) {
	for _, s := range []string{"", "read-write", "read-only", "refresh", "off"} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
	if _, err := ParseMode("rw"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("ParseMode(rw) = %v, want an error listing the modes", err)
	}
	if _, err := Open(t.TempDir(), Refresh, Options{Offline: true}); err == nil {
		t.Error("refresh + offline accepted")
	}
	if _, err := Open("", ReadWrite, Options{}); err == nil {
		t.Error("empty dir accepted")
	}
	if _, err := Open("", Off, Options{}); err != nil {
		t.Errorf("off needs no dir: %v", err)
	}
	d, err := DefaultDir()
	if err != nil || filepath.Base(d) != "aieval" {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
}

func TestOffline(t *testing.T) {
	dir := t.TempDir()
	if err := WriteEntry(dir, request("known"), &llm.Response{Text: "recorded"}, "hand-written fixture"); err != nil {
		t.Fatal(err)
	}
	m := &fake{}
	cl := open(t, dir, ReadWrite, Options{Offline: true}).Wrap(m)

	r, err := cl.Complete(context.Background(), request("known"), nil)
	if err != nil || r.Text != "recorded" || !r.Cached {
		t.Fatalf("offline hit: %v %+v", err, r)
	}
	_, err = cl.Complete(context.Background(), request("unknown"), nil)
	var miss *MissError
	if !errors.As(err, &miss) {
		t.Fatalf("offline miss error = %v, want *MissError", err)
	}
	want := "no cached output for model gpt-4o-mini (offline); record it with --cache-mode read-write"
	if err.Error() != want || miss.Key != Key(request("unknown")) {
		t.Errorf("miss = %q key %s", err, miss.Key)
	}
	echo := &llm.Request{Provider: "echo", Model: "echo", Messages: []llm.Message{{Role: "user", Content: "e"}}}
	if _, err := cl.Complete(context.Background(), echo, nil); err != nil {
		t.Errorf("echo offline: %v", err)
	}
	if m.calls.Load() != 1 {
		t.Errorf("offline made %d model calls, want only the echo passthrough", m.calls.Load())
	}
	if entries(t, dir) != 1 {
		t.Error("offline or echo wrote an entry")
	}
}

func TestEntryFile(t *testing.T) {
	dir := t.TempDir()
	const secret = "sk-test-AIEVAL-SECRET-0123456789"
	t.Setenv("AIEVAL_TEST_KEY", secret)
	req := request("<b>hi</b> & bye")
	req.Settings["api_key"] = secret // defensive: must not reach the file
	req.Sample = 3
	now := time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)
	c := open(t, dir, ReadWrite, Options{Now: func() time.Time { return now }})
	if _, err := c.Wrap(&fake{}).Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	k := Key(req)
	data, err := os.ReadFile(filepath.Join(dir, k[:2], k+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, bad := range []string{secret, "AIEVAL_TEST_KEY", "\\u003c"} {
		if strings.Contains(s, bad) {
			t.Errorf("entry contains %q:\n%s", bad, s)
		}
	}
	order := []string{`"key"`, `"model"`, `"provider"`, `"recorded_at": "2025-03-04T05:06:07Z"`, `"request"`,
		`"messages"`, `"settings"`, `"sample": 3`, `"base_url"`, `"response"`, `"text"`, `"role": "assistant"`,
		`"finish_reason"`, `"usage"`, `"latency_ms": 1234.6`}
	last := -1
	for _, f := range order {
		i := strings.Index(s, f)
		if i <= last {
			t.Fatalf("field %s missing or out of order in:\n%s", f, s)
		}
		last = i
	}
	if !strings.HasPrefix(s, "{\n  \"key\": \""+k+"\",\n") || !strings.HasSuffix(s, "}\n") {
		t.Errorf("entry not stable indented JSON:\n%s", s)
	}
	if strings.Contains(s, `"note"`) {
		t.Error("note written though empty")
	}
	// Same answer, same bytes: re-recording in refresh mode leaves the file.
	c2 := open(t, dir, Refresh, Options{Now: func() time.Time { return now.Add(time.Hour) }})
	if _, err := c2.Wrap(&fake{}).Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, k[:2], k+".json"))
	if string(again) != s {
		t.Error("refresh with an identical answer rewrote the entry")
	}
	if c2.Stats().Writes != 0 || !c2.Used()[k] {
		t.Errorf("refresh identical: stats %+v used %v", c2.Stats(), c2.Used())
	}
}

func TestWriteEntryNote(t *testing.T) {
	dir := t.TempDir()
	if err := WriteEntry(dir, request("q"), &llm.Response{Text: "a"}, "hand-written fixture"); err != nil {
		t.Fatal(err)
	}
	k := Key(request("q"))
	var e map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, k[:2], k+".json"))
	if err := json.Unmarshal(data, &e); err != nil || e["note"] != "hand-written fixture" || e["key"] != k {
		t.Errorf("entry %s: %v", data, err)
	}
}

func TestCorruptEntry(t *testing.T) {
	tests := map[string]func(good []byte) []byte{
		"truncated":   func(g []byte) []byte { return g[:len(g)/2] },
		"empty":       func([]byte) []byte { return nil },
		"binary":      func([]byte) []byte { return []byte{0, 1, 2, 0xff} },
		"wrong key":   func(g []byte) []byte { return []byte(strings.Replace(string(g), `"key": "`, `"key": "0`, 1)) },
		"no response": func([]byte) []byte { return []byte(`{"key":"` + Key(request("c")) + `"}`) },
	}
	for name, corrupt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			req := request("c")
			if err := WriteEntry(dir, req, &llm.Response{Text: "good"}, ""); err != nil {
				t.Fatal(err)
			}
			k := Key(req)
			p := filepath.Join(dir, k[:2], k+".json")
			good, _ := os.ReadFile(p)
			if err := os.WriteFile(p, corrupt(good), 0o644); err != nil {
				t.Fatal(err)
			}
			var warns []string
			m := &fake{}
			c := open(t, dir, ReadWrite, Options{Warn: func(s string) { warns = append(warns, s) }})
			r, err := c.Wrap(m).Complete(context.Background(), req, nil)
			if err != nil || r.Cached || m.calls.Load() != 1 {
				t.Fatalf("corrupt entry not a miss: %v %+v", err, r)
			}
			if len(warns) != 1 || !strings.Contains(warns[0], p) {
				t.Errorf("warnings %q, want one naming %s", warns, p)
			}
			// The miss re-recorded a good entry.
			r, err = open(t, dir, ReadOnly, Options{Offline: true}).Wrap(m).Complete(context.Background(), req, nil)
			if err != nil || r.Text != "answer to c" {
				t.Errorf("after overwrite: %v %+v", err, r)
			}
		})
	}
}

func TestConcurrentSameKey(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, ReadWrite, Options{Warn: func(s string) { t.Errorf("warning: %s", s) }})
	cl := c.Wrap(&fake{})
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := cl.Complete(context.Background(), request([]string{"a", "b"}[i%2]), nil)
			if err != nil || !strings.HasPrefix(r.Text, "answer to ") {
				t.Errorf("call %d: %v %+v", i, err, r)
			}
		}(i)
	}
	wg.Wait()
	if n := entries(t, dir); n != 2 {
		t.Errorf("entries = %d, want 2", n)
	}
	if tmp := globTemps(t, dir); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, ReadWrite, Options{})
	cl := c.Wrap(&fake{})
	for _, q := range []string{"keep", "drop1", "drop2"} {
		if err := WriteEntry(dir, request(q), &llm.Response{Text: q}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.Complete(context.Background(), request("keep"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Complete(context.Background(), request("new"), nil); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	os.WriteFile(readme, []byte("cache"), 0o644)
	k := Key(request("keep"))
	oldTmp := filepath.Join(dir, k[:2], tmpPrefix+"123")
	os.WriteFile(oldTmp, []byte("torn"), 0o644)
	os.Chtimes(oldTmp, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))

	removed, err := c.Prune(c.Used())
	if err != nil || removed != 2 {
		t.Fatalf("Prune = %d, %v; want 2", removed, err)
	}
	if n := entries(t, dir); n != 2 {
		t.Errorf("entries left = %d, want keep and new", n)
	}
	if _, err := os.Stat(readme); err != nil {
		t.Error("prune removed a file it does not own")
	}
	if _, err := os.Stat(oldTmp); err == nil {
		t.Error("old temp file kept")
	}
	for _, q := range []string{"drop1", "drop2"} {
		d := Key(request(q))[:2]
		if d != k[:2] && d != Key(request("new"))[:2] {
			if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
				t.Errorf("empty shard %s kept", d)
			}
		}
	}
	if n, err := c.Prune(map[string]bool{}); err != nil || n != 2 {
		t.Errorf("prune all = %d, %v", n, err)
	}
	if n, err := open(t, filepath.Join(dir, "none"), ReadOnly, Options{}).Prune(nil); err != nil || n != 0 {
		t.Errorf("prune of a missing dir = %d, %v", n, err)
	}
}

func entries(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "??", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func globTemps(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "??", tmpPrefix+"*"))
	return m
}

// BenchmarkReplayHit is the per-test cost of an offline replay (issue 5
// wants 10,000 cached tests replayed in under 2 s).
func BenchmarkReplayHit(b *testing.B) {
	dir := b.TempDir()
	req := request("bench")
	if err := WriteEntry(dir, req, &llm.Response{Text: strings.Repeat("output ", 100)}, ""); err != nil {
		b.Fatal(err)
	}
	c, err := Open(dir, ReadOnly, Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	cl := c.Wrap(&fake{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cl.Complete(context.Background(), req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		"https://api.openai.com/v1":              "https://api.openai.com/v1",
		"https://API.OpenAI.com/v1/":             "https://api.openai.com/v1",
		"HTTP://user:secret@Example.com:8080/v1": "http://example.com:8080/v1",
		"https://x.example/v1?api-key=secret#f":  "https://x.example/v1",
		"not a url?key=secret":                   "not a url",
	} {
		if got := NormalizeEndpoint(in); got != want {
			t.Errorf("NormalizeEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadFirstWins: a ReadFirst directory (the cache at a baseline's git
// ref) answers before the cache's own, which only fills its gaps; neither
// is written in read-only mode.
func TestReadFirstWins(t *testing.T) {
	ref, work := t.TempDir(), t.TempDir()
	for dir, text := range map[string]string{ref: "as committed", work: "forged"} {
		if err := WriteEntry(dir, request("q"), &llm.Response{Text: text}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteEntry(work, request("only here"), &llm.Response{Text: "working"}, ""); err != nil {
		t.Fatal(err)
	}
	c := open(t, work, ReadOnly, Options{Offline: true, ReadFirst: []string{ref}})
	cl := c.Wrap(nil)
	for q, want := range map[string]string{"q": "as committed", "only here": "working"} {
		resp, err := cl.Complete(context.Background(), request(q), nil)
		if err != nil || resp.Text != want {
			t.Errorf("%s: %v %+v, want %q", q, err, resp, want)
		}
	}
	if _, err := cl.Complete(context.Background(), request("nowhere"), nil); err == nil {
		t.Error("a miss in both layers replayed")
	}
}

// TestEndpointInKey: the effective endpoint, normalised, is part of the key.
func TestEndpointInKey(t *testing.T) {
	dir := t.TempDir()
	ep := "http://a.example/v1"
	c := open(t, dir, ReadWrite, Options{Endpoint: func(*llm.Request) string { return ep }})
	cl := c.Wrap(&fake{})
	req := request("q")
	req.BaseURL = ""
	if _, err := cl.Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	ep = "HTTP://A.example/v1/"
	if r, err := cl.Complete(context.Background(), req, nil); err != nil || !r.Cached {
		t.Errorf("the same endpoint spelled otherwise missed: %v %+v", err, r)
	}
	ep = "http://b.example/v1"
	if r, err := cl.Complete(context.Background(), req, nil); err != nil || r.Cached {
		t.Errorf("another endpoint replayed the first one's answer: %v %+v", err, r)
	}
}

// The used set keeps every key hit or written, once, whatever the order
// and repeats, past a chunk's size; a key not of hex digits is kept too.
func TestUsedKeys(t *testing.T) {
	var u usedKeys
	want := map[string]bool{}
	for i := range 3*usedChunk + 7 {
		k := fmt.Sprintf("%064x", i*7919)
		u.add(k)
		want[k] = true
		if i%3 == 0 {
			u.add(k) // at once again
		}
		if i%5 == 0 {
			u.add(fmt.Sprintf("%064x", (i/2)*7919)) // an earlier one again
		}
	}
	for _, odd := range []string{"short", strings.Repeat("A", 64), strings.Repeat("g", 64)} {
		u.add(odd)
		want[odd] = true
	}
	if got := u.set(); !maps.Equal(got, want) {
		t.Fatalf("set has %d keys, want %d", len(got), len(want))
	}
	c := open(t, t.TempDir(), ReadOnly, Options{NoUsed: true})
	c.markUsed(strings.Repeat("a", 64))
	if len(c.Used()) != 0 {
		t.Errorf("NoUsed cache recorded %v", c.Used())
	}
}

// BenchmarkUsedKeys is the used set's memory per key (120 B as a map of
// hex strings).
//
//	go test -run '^$' -bench UsedKeys -benchmem ./runtime/cache
func BenchmarkUsedKeys(b *testing.B) {
	keys := make([]string, 100_000)
	for i := range keys {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		keys[i] = hex.EncodeToString(sum[:])
	}
	b.ReportAllocs()
	var u usedKeys
	for b.Loop() {
		u = usedKeys{}
		for _, k := range keys {
			u.add(k)
		}
	}
	b.ReportMetric(float64(len(u.chunks)*usedChunk*sha256.Size)/float64(len(keys)), "B/key")
}
