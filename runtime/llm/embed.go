package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/aieval/aieval/internal/jsonw"
	openai "github.com/sashabaranov/go-openai"
)

// Embeddings skip go-openai on the path like non-streamed chats (chat.go):
// its CreateEmbeddings marshals the request, unmarshals it into a map and
// marshals that, and reads each vector's numbers by reflection (about
// 0.25-0.5 ms for one 1536-dimension answer here). The body is the bytes
// it sent (embedBody); the answer is read by hand into go-openai's types,
// or by encoding/json wherever the hand reader gives up.

// embed sends one /embeddings request through o.http and returns the
// answer's data.
func (o *OpenAI) embed(ctx context.Context, endpoint string, c *cachedClient, model string, input []string) ([]openai.Embedding, error) {
	hresp, whole, err := o.postJSON(ctx, endpoint+"/embeddings", c, embedBody(model, input))
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	if whole != nil {
		return decodeEmbeddings(whole)
	}
	return stdEmbeddings(hresp.Body)
}

// embedBody is go-openai's body for EmbeddingRequestStrings{Input, Model}:
// a map of its members, so "input" then "model", each string as
// encoding/json writes it after a decode (invalid UTF-8 became U+FFFD,
// which is then written as is).
func embedBody(model string, input []string) []byte {
	n := 32 + len(model)
	for _, s := range input {
		n += len(s) + 8
	}
	b := append(make([]byte, 0, n), `{"input":`...)
	if input == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range input {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.StringHTML(b, validUTF8(s))
		}
		b = append(b, ']')
	}
	b = append(b, `,"model":`...)
	b = jsonw.StringHTML(b, validUTF8(model))
	return append(b, '}')
}

// validUTF8 is s with each byte that is not UTF-8 replaced by U+FFFD, as
// encoding/json's decoder does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// stdEmbeddings is go-openai's reading of the answer (json.Decoder into
// EmbeddingResponse).
func stdEmbeddings(body io.Reader) ([]openai.Embedding, error) {
	var r openai.EmbeddingResponse
	if err := json.NewDecoder(body).Decode(&r); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// decodeEmbeddings reads the answer by hand when it can, else as
// stdEmbeddings does.
func decodeEmbeddings(body []byte) ([]openai.Embedding, error) {
	if data, ok := handEmbeddings(body); ok {
		return data, nil
	}
	return stdEmbeddings(bytes.NewReader(body))
}

// handEmbeddings reads the answer, checking every member go-openai's
// types would check, and gives up as handAnswer does.
func handEmbeddings(body []byte) ([]openai.Embedding, bool) {
	d := &jdec{b: body}
	var data []openai.Embedding
	var u Usage
	ok := d.object(true, func(k []byte) bool {
		switch string(k) {
		case "object", "model":
			return d.str(nil)
		case "usage":
			return d.usage(&u)
		case "data":
			if d.peek() == '[' {
				data = []openai.Embedding{} // [] is an empty list, null none
			}
			return d.array(func(int) bool {
				var e openai.Embedding
				ok := d.peek() == '{' && d.object(true, func(k []byte) bool {
					switch string(k) {
					case "object":
						return d.str(&e.Object)
					case "index":
						return d.integer(&e.Index)
					case "embedding":
						return d.float32s(&e.Embedding)
					}
					return d.unknown(k)
				})
				data = append(data, e)
				return ok
			}, nil)
		}
		return d.unknown(k)
	})
	return data, ok
}

// float32s reads a list of numbers as encoding/json into []float32
// (ParseFloat with 32 bits), or null.
func (d *jdec) float32s(dst *[]float32) bool {
	if d.peek() == '[' {
		*dst = make([]float32, 0, 1536)
	}
	return d.array(func(int) bool {
		s, ok := d.number()
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(s), 32)
		if err != nil {
			return false
		}
		*dst = append(*dst, float32(f))
		return true
	}, nil)
}
