package llm

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"time"
	"unicode"
)

// Echo is the built-in "echo" parser: it answers with the resolved prompt,
// so suites run offline and deterministically.
type Echo struct{}

// Complete returns the content of the last user message (text parts joined
// by newlines), streamed as one chunk when onChunk is set.
func (Echo) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled("echo", req.Model, 0, err)
	}
	start := time.Now()
	text := LastUserText(req.Messages)
	if onChunk != nil && text != "" {
		onChunk(text)
	}
	prompt := 0
	for i := range req.Messages {
		prompt += CountWords(MessageText(&req.Messages[i]))
	}
	out := CountWords(text)
	return &Response{
		Text:         text,
		Role:         "assistant",
		FinishReason: "stop",
		Model:        req.Model,
		Usage:        Usage{PromptTokens: prompt, CompletionTokens: out, TotalTokens: prompt + out},
		Latency:      time.Since(start),
	}, nil
}

// Embed returns HashVector of each input, the same vectors the test server
// (internal/fakeopenai) serves.
func (Echo) Embed(ctx context.Context, req *EmbedRequest) ([][]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled("echo", req.Model, 0, err)
	}
	out := make([][]float64, len(req.Input))
	for i, s := range req.Input {
		out[i] = HashVector(s)
	}
	return out, nil
}

// MessageText is a message's text: Content, or its text parts joined by
// newlines.
func MessageText(m *Message) string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type != "text" && p.Type != "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// LastUserText is the text of the last user message, "" if there is none.
func LastUserText(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return MessageText(&msgs[i])
		}
	}
	return ""
}

// CountWords is the rough token count used by local parsers: whitespace
// separated words.
func CountWords(s string) int { return len(strings.Fields(s)) }

// HashDim is the length of HashVector's vectors.
const HashDim = 256

// HashVector is a deterministic embedding of text: a signed, hashed bag of
// lower-cased words, L2-normalised. Equal texts have cosine 1, texts sharing
// words are closer than texts that share none. It stands in for a real
// embedding model offline and in tests.
func HashVector(text string) []float64 {
	v := make([]float64, HashDim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		x := h.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%HashDim] += sign
	}
	var norm float64
	for _, f := range v {
		norm += f * f
	}
	if norm == 0 {
		// Empty text still needs a unit vector so cosine is defined.
		v[0] = 1
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}
