package fakeopenai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aieval/aieval/internal/fakeopenai"
)

func client(s *fakeopenai.Server, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = s.URL()
	return openai.NewClientWithConfig(cfg)
}

func chatReq(text string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessage{
		{Role: "system", Content: "be brief"},
		{Role: "user", Content: text},
	}}
}

func TestEchoNonStreaming(t *testing.T) {
	s := fakeopenai.New()
	defer s.Close()
	resp, err := client(s, "sk-test").CreateChatCompletion(context.Background(), chatReq("hello there world"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "hello there world" {
		t.Errorf("content = %q", got)
	}
	if resp.Usage.PromptTokens != 5 || resp.Usage.CompletionTokens != 3 || resp.Usage.TotalTokens != 8 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if s.Requests() != 1 || len(s.Bodies()) != 1 || s.Bodies()[0].Messages[1].Content.Text != "hello there world" {
		t.Errorf("recorded %d requests, bodies %+v", s.Requests(), s.Bodies())
	}
	if got := s.Authorizations()["Bearer sk-test"]; got != 1 {
		t.Errorf("authorization count = %d", got)
	}
}

func TestStreamingWithUsage(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithReply(func(fakeopenai.ChatRequest) string { return "one two  three" }))
	defer s.Close()
	req := chatReq("x")
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	st, err := client(s, "").CreateChatCompletionStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var text strings.Builder
	var chunks int
	var usage *openai.Usage
	for {
		c, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != "" {
				chunks++
			}
			text.WriteString(ch.Delta.Content)
		}
	}
	if text.String() != "one two  three" || chunks != 3 {
		t.Errorf("text %q in %d chunks", text.String(), chunks)
	}
	if usage == nil || usage.CompletionTokens != 3 {
		t.Errorf("usage = %+v", usage)
	}
	if len(s.Authorizations()) != 1 || s.Authorizations()[""] != 1 {
		t.Errorf("expected no Authorization header, got %v", s.Authorizations())
	}
}

func TestMultimodalAndSettingsDecoded(t *testing.T) {
	s := fakeopenai.New()
	defer s.Close()
	req := openai.ChatCompletionRequest{
		Model: "gpt-4o", Temperature: 0.5, Stop: []string{"END"},
		Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
			{Type: "text", Text: "describe"},
			{Type: "image_url", ImageURL: &openai.ChatMessageImageURL{URL: "https://x/y.png", Detail: "low"}},
			{Type: "text", Text: "briefly"},
		}}},
	}
	//lint:ignore SA1019 the fake must read what old clients send
	req.MaxTokens = 7
	resp, err := client(s, "k").CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "describe\nbriefly" {
		t.Errorf("echo of parts = %q", got)
	}
	b := s.Bodies()[0]
	if b.Temperature == nil || *b.Temperature != 0.5 || b.MaxTokens == nil || *b.MaxTokens != 7 || b.TopP != nil {
		t.Errorf("settings decoded wrong: %+v", b)
	}
	p := b.Messages[0].Content.Parts
	if len(p) != 3 || p[1].ImageURL == nil || p[1].ImageURL.URL != "https://x/y.png" || p[1].ImageURL.Detail != "low" {
		t.Errorf("parts = %+v", p)
	}
	if keys := strings.Join(b.Keys(), ","); keys != "max_tokens,messages,model,stop,stream,temperature" {
		t.Errorf("keys = %s", keys)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  fakeopenai.Fault
		stream bool
		want   string // substring of the client's error
	}{
		{"429 retry-after", fakeopenai.Status(429, "3"), false, "429"},
		{"503", fakeopenai.Status(503, ""), false, "503"},
		{"reset", fakeopenai.Reset, false, "reset"},
		{"malformed", fakeopenai.Malformed, false, "invalid character"},
		{"malformed stream", fakeopenai.Malformed, true, "invalid character"},
		{"cut", fakeopenai.CutStream, false, "unexpected EOF"},
		{"cut stream", fakeopenai.CutStream, true, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultAlways(tt.fault)),
				fakeopenai.WithReply(func(fakeopenai.ChatRequest) string { return "a b c d e f" }))
			defer s.Close()
			err := call(client(s, "k"), tt.stream)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if s.Faults() != 1 {
				t.Errorf("faults = %d", s.Faults())
			}
		})
	}
}

// call runs one completion and returns the error a client sees, reading a
// stream to its end.
func call(c *openai.Client, stream bool) error {
	ctx := context.Background()
	if !stream {
		_, err := c.CreateChatCompletion(ctx, chatReq("q"))
		return err
	}
	st, err := c.CreateChatCompletionStream(ctx, chatReq("q"))
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		if _, err := st.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestStatusHeaders(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultFirst(1, fakeopenai.Status(429, "2"))))
	defer s.Close()
	do := func() *http.Response {
		resp, err := http.Post(s.URL()+"/chat/completions", "application/json",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := do(); r.StatusCode != 429 || r.Header.Get("Retry-After") != "2" {
		t.Errorf("first: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := do(); r.StatusCode != 200 {
		t.Errorf("second: %d", r.StatusCode)
	}
}

func TestEmptyChoices(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.EmptyChoices)))
	defer s.Close()
	resp, err := client(s, "k").CreateChatCompletion(context.Background(), chatReq("q"))
	if err != nil || len(resp.Choices) != 0 {
		t.Errorf("resp %+v err %v", resp, err)
	}
}

func TestHangHonoursClientCancel(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Hang)))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client(s, "k").CreateChatCompletion(ctx, chatReq("q"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hang lasted %v", d)
	}
}

func TestCloseReleasesHangs(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultAlways(fakeopenai.Hang)))
	done := make(chan error)
	go func() {
		_, err := client(s, "k").CreateChatCompletion(context.Background(), chatReq("q"))
		done <- err
	}()
	for s.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("hung call succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}

func TestLatency(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithLatency(40 * time.Millisecond))
	defer s.Close()
	var wg sync.WaitGroup
	start := time.Now()
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client(s, "k").CreateChatCompletion(context.Background(), chatReq("q")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if d < 40*time.Millisecond || d > 2*time.Second {
		t.Errorf("10 parallel calls at 40ms took %v", d)
	}
	if s.MaxInFlight() < 2 {
		t.Errorf("max in flight = %d, want concurrency", s.MaxInFlight())
	}
}

func TestFaultHelpers(t *testing.T) {
	var req fakeopenai.ChatRequest
	every := fakeopenai.FaultEvery(3, fakeopenai.Reset)
	first := fakeopenai.FaultFirst(2, fakeopenai.Hang)
	var kinds []string
	for n := int64(1); n <= 6; n++ {
		kinds = append(kinds, fakeopenai.Chain(first, every)(n, req).Kind.String())
	}
	if got := strings.Join(kinds, ","); got != "hang,hang,reset,none,none,reset" {
		t.Errorf("chain = %s", got)
	}
	rnd := fakeopenai.FaultRandom(42, fakeopenai.Weighted{P: 0.25, F: fakeopenai.Status(429, "1")},
		fakeopenai.Weighted{P: 0.05, F: fakeopenai.Status(500, "")})
	counts := map[int]int{}
	for n := int64(1); n <= 20000; n++ {
		f := rnd(n, req)
		counts[f.Code]++
		if g := rnd(n, req); g != f {
			t.Fatalf("FaultRandom not deterministic at n=%d", n)
		}
	}
	if c := counts[429]; math.Abs(float64(c)/20000-0.25) > 0.02 {
		t.Errorf("429 rate = %v", float64(c)/20000)
	}
	if c := counts[500]; math.Abs(float64(c)/20000-0.05) > 0.01 {
		t.Errorf("500 rate = %v", float64(c)/20000)
	}
	m := fakeopenai.FaultIf(func(r fakeopenai.ChatRequest) bool { return r.Model == "bad" }, fakeopenai.Malformed)
	if m(1, fakeopenai.ChatRequest{Model: "bad"}) != fakeopenai.Malformed || m(1, req) != fakeopenai.None {
		t.Error("FaultIf")
	}
}

func TestEmbeddings(t *testing.T) {
	s := fakeopenai.New()
	defer s.Close()
	c := client(s, "k")
	in := []string{"the cat sat", "the cat sat", "quantum chromodynamics lecture"}
	resp, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: in, Model: "text-embedding-3-small"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 3 {
		t.Fatalf("got %d vectors", len(resp.Data))
	}
	cos := func(a, b []float32) float64 {
		var d float64
		for i := range a {
			d += float64(a[i]) * float64(b[i])
		}
		return d
	}
	if c := cos(resp.Data[0].Embedding, resp.Data[1].Embedding); math.Abs(c-1) > 1e-5 {
		t.Errorf("equal texts cosine = %v", c)
	}
	if c := cos(resp.Data[0].Embedding, resp.Data[2].Embedding); c > 0.5 {
		t.Errorf("different texts cosine = %v", c)
	}
	b64, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: in[:1], Model: "m",
		EncodingFormat: openai.EmbeddingEncodingFormatBase64})
	if err != nil || math.Abs(cos(b64.Data[0].Embedding, resp.Data[0].Embedding)-1) > 1e-5 {
		t.Errorf("base64 embeddings: %v", err)
	}
	if s.EmbedRequests() != 2 {
		t.Errorf("embed requests = %d", s.EmbedRequests())
	}
}

func TestLeaksAndKeep(t *testing.T) {
	s := fakeopenai.New(fakeopenai.WithKeep(1))
	defer s.Close()
	c := client(s, "sk-secret-123")
	for _, text := range []string{"first", "sk-secret-123 in the body"} {
		if _, err := c.CreateChatCompletion(context.Background(), chatReq(text)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Bodies()) != 1 || s.Requests() != 2 || s.Authorizations()["Bearer sk-secret-123"] != 2 {
		t.Errorf("keep=1: bodies %d requests %d auth %v", len(s.Bodies()), s.Requests(), s.Authorizations())
	}
	if l := s.Leaks("sk-secret-123"); len(l) != 0 {
		t.Errorf("leaks in kept request: %v", l)
	}
	s2 := fakeopenai.New()
	defer s2.Close()
	if _, err := client(s2, "sk-secret-123").CreateChatCompletion(context.Background(), chatReq("sk-secret-123")); err != nil {
		t.Fatal(err)
	}
	if l := s2.Leaks("sk-secret-123"); len(l) != 1 || !strings.Contains(l[0], "body") {
		t.Errorf("leaks = %v", l)
	}
}

func TestBadRequestBody(t *testing.T) {
	s := fakeopenai.New()
	defer s.Close()
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader("{"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Message string } }
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "invalid JSON") {
		t.Errorf("%d %q", resp.StatusCode, e.Error.Message)
	}
}

func BenchmarkServer(b *testing.B) {
	s := fakeopenai.New(fakeopenai.WithKeep(0))
	defer s.Close()
	c := client(s, "k")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.CreateChatCompletion(context.Background(), chatReq("hello world")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
