package fakeopenai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/aieval/aieval/internal/fakewire"
	"github.com/aieval/aieval/runtime/llm"
)

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type respMessage struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type choice struct {
	Index        int          `json:"index"`
	Message      *respMessage `json:"message,omitempty"`
	Delta        *respMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
	Logprobs     *logprobs    `json:"logprobs,omitempty"`
}

// logprobs is OpenAI's choices[].logprobs: one entry per output token.
type logprobs struct {
	Content []tokenLogprob `json:"content"`
}

type tokenLogprob struct {
	Token       string  `json:"token"`
	Logprob     float64 `json:"logprob"`
	Bytes       []int   `json:"bytes"`
	TopLogprobs []any   `json:"top_logprobs"`
}

// TokenLogprob is the log probability the fake gives every output token
// (a word) when the request sets logprobs: true, so perplexity is
// exp(0.25) whatever the text.
const TokenLogprob = -0.25

func tokenLogprobs(text string) *logprobs {
	lp := &logprobs{Content: []tokenLogprob{}}
	for _, w := range fakewire.SplitWords(text) {
		b := make([]int, len(w))
		for i := range len(w) {
			b[i] = int(w[i])
		}
		lp.Content = append(lp.Content, tokenLogprob{Token: w, Logprob: TokenLogprob, Bytes: b, TopLogprobs: []any{}})
	}
	return lp
}

type completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   *usage   `json:"usage,omitempty"`
}

// countUsage counts words as tokens: rough, but deterministic.
func countUsage(req *ChatRequest, text string) *usage {
	p := 0
	for _, m := range req.Messages {
		p += len(strings.Fields(m.Content.String()))
	}
	c := len(strings.Fields(text))
	return &usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}

func chatResponse(req *ChatRequest, n int64, text string) *completion {
	stop := "stop"
	c := &completion{
		ID: "chatcmpl-" + itoa(int(n)), Object: "chat.completion", Created: time.Now().Unix(), Model: req.Model,
		Choices: []choice{{Message: &respMessage{Role: "assistant", Content: text}, FinishReason: &stop}},
		Usage:   countUsage(req, text),
	}
	if req.Logprobs != nil && *req.Logprobs {
		c.Choices[0].Logprobs = tokenLogprobs(text)
	}
	return c
}

// writeStream answers as SSE: a role chunk, one chunk per word, a finish
// chunk, a usage chunk when asked, then [DONE]. When cut it sends the role
// chunk and half the words, then drops the connection.
func writeStream(w http.ResponseWriter, req *ChatRequest, n int64, text string, cut bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	base := completion{ID: "chatcmpl-" + itoa(int(n)), Object: "chat.completion.chunk", Created: time.Now().Unix(), Model: req.Model}
	send := func(c completion) {
		b, _ := json.Marshal(c)
		io.WriteString(w, "data: ")
		w.Write(b)
		io.WriteString(w, "\n\n")
		if fl != nil {
			fl.Flush()
		}
	}
	c := base
	c.Choices = []choice{{Delta: &respMessage{Role: "assistant"}}}
	send(c)
	words := fakewire.SplitWords(text)
	if cut {
		words = words[:len(words)/2]
	}
	for _, wd := range words {
		c := base
		c.Choices = []choice{{Delta: &respMessage{Content: wd}}}
		send(c)
	}
	if cut {
		fakewire.ResetConn(w, false)
		return
	}
	stop := "stop"
	c = base
	c.Choices = []choice{{Delta: &respMessage{}, FinishReason: &stop}}
	send(c)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		c = base
		c.Choices = []choice{}
		c.Usage = countUsage(req, text)
		send(c)
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// writeError answers in OpenAI's error shape.
func writeError(w http.ResponseWriter, code int, typ, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": typ,
	}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.record(r, body, nil)
	req, err := decodeEmbed(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid embeddings body: "+err.Error())
		return
	}
	n := s.embeds.Add(1)
	f := None
	if s.embedFault != nil {
		f = s.embedFault(n, req)
	}
	if f.Kind != KindNone {
		s.faulted.Add(1)
	}
	if f.Kind != KindHang && !s.wait(r, s.latency) {
		return
	}
	switch f.Kind {
	case KindCutStream:
		f = Reset
	case KindEmptyChoices:
		writeJSON(w, map[string]any{"object": "list", "data": []any{}, "model": req.Model})
		return
	}
	if s.doFault(w, r, f, false) {
		return
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(req.Input))
	words := 0
	for i, text := range req.Input {
		words += len(strings.Fields(text))
		vec := llm.HashVector(text)
		var emb any = vec
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(vec))
			for j, f := range vec {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(f)))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = item{Object: "embedding", Index: i, Embedding: emb}
	}
	writeJSON(w, map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": words, "total_tokens": words},
	})
}
