package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// entry is the on-disk form. Struct order is the file's field order, and
// encoding/json sorts map keys, so the same answer always gives the same
// bytes and git diffs stay readable.
type entry struct {
	Key        string         `json:"key"`
	Model      string         `json:"model"`
	Provider   string         `json:"provider"`
	RecordedAt string         `json:"recorded_at"`
	Note       string         `json:"note,omitempty"`
	Request    entryRequest   `json:"request"`
	Response   *entryResponse `json:"response"`
}

// entryRequest is for people reading the file; the key alone decides hits.
type entryRequest struct {
	Messages []llm.Message  `json:"messages"`
	Settings map[string]any `json:"settings,omitempty"`
	Sample   int            `json:"sample,omitempty"`
	BaseURL  string         `json:"base_url,omitempty"`
}

type entryResponse struct {
	Text         string          `json:"text"`
	Refusal      string          `json:"refusal,omitempty"`
	Role         string          `json:"role,omitempty"`
	ToolCalls    json.RawMessage `json:"tool_calls,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Usage        llm.Usage       `json:"usage"`
	LatencyMS    float64         `json:"latency_ms"`
	Model        string          `json:"served_model,omitempty"` // as the endpoint named it
	Logprobs     []float64       `json:"logprobs,omitempty"`     // output tokens', when asked for
}

// secretSettings are setting names whose values are never written, should
// a credential ever slip into settings.
var secretSettings = map[string]bool{
	"api_key": true, "apikey": true, "api-key": true, "authorization": true,
	"access_token": true, "password": true, "secret": true, "bearer": true,
}

func encodeEntry(key string, req *llm.Request, resp *llm.Response, note string, now time.Time) ([]byte, error) {
	e := newEntry(key, req, resp, note, now)
	if b, ok := appendEntry(make([]byte, 0, entrySize(e)), e); ok {
		return b, nil
	}
	return encodeEntryStd(e)
}

// newEntry is the entry recording resp as the answer to req.
func newEntry(key string, req *llm.Request, resp *llm.Response, note string, now time.Time) *entry {
	msgs := req.Messages
	if msgs == nil {
		msgs = []llm.Message{}
	}
	var settings map[string]any
	if len(req.Settings) > 0 {
		settings = make(map[string]any, len(req.Settings))
		for k, v := range req.Settings {
			if secretSettings[strings.ToLower(k)] {
				v = "[redacted]"
			}
			settings[k] = v
		}
	}
	e := entry{
		Key:        key,
		Model:      req.Model,
		Provider:   req.Provider,
		RecordedAt: now.UTC().Truncate(time.Second).Format(time.RFC3339),
		Note:       note,
		Request:    entryRequest{Messages: msgs, Settings: settings, Sample: req.Sample, BaseURL: req.BaseURL},
		Response: &entryResponse{
			Text:         resp.Text,
			Refusal:      resp.Refusal,
			Role:         resp.Role,
			ToolCalls:    resp.ToolCalls,
			FinishReason: resp.FinishReason,
			Usage:        resp.Usage,
			// 0.1 ms is plenty and keeps the number short.
			LatencyMS: math.Round(float64(resp.Latency)/float64(time.Millisecond)*10) / 10,
			Model:     resp.Model,
			Logprobs:  resp.Logprobs,
		},
	}
	return &e
}

// entrySize is room for e's file in one allocation (escapes grow it).
func entrySize(e *entry) int {
	n := 512 + len(e.Key) + len(e.Model) + len(e.Note) + len(e.Request.BaseURL) + 48*len(e.Request.Settings)
	for i := range e.Request.Messages {
		m := &e.Request.Messages[i]
		n += 64 + len(m.Role) + len(m.Content) + len(m.Name)
	}
	if r := e.Response; r != nil {
		n += len(r.Text) + len(r.Refusal) + len(r.Model) + 32*len(r.Logprobs)
	}
	return n
}

// encodeEntryStd is the entry file's definition: encoding/json's
// Encoder, HTML escaping off, indented by two spaces. appendEntry writes
// the same bytes for the usual entry.
func encodeEntryStd(e *entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // prompts are full of < > &; keep them legible
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeEntry parses a file and checks it answers key. A truncated or
// hand-mangled file is an error, which callers treat as a miss.
func decodeEntry(data []byte, key string) (*entry, error) {
	// Only the fields a replay needs: the request part is for readers.
	var e struct {
		Key      string         `json:"key"`
		Response *entryResponse `json:"response"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if e.Key != key {
		return nil, fmt.Errorf("file holds key %q, want %q", e.Key, key)
	}
	if e.Response == nil {
		return nil, errors.New("no response field")
	}
	return &entry{Key: e.Key, Response: e.Response}, nil
}

func (e *entry) response() *llm.Response {
	r := e.Response
	return &llm.Response{
		Text:         r.Text,
		Refusal:      r.Refusal,
		Role:         r.Role,
		ToolCalls:    r.ToolCalls,
		FinishReason: r.FinishReason,
		Model:        r.Model,
		Usage:        r.Usage,
		Logprobs:     r.Logprobs,
		// The recorded latency, so latency assertions replay the same verdict.
		Latency: time.Duration(r.LatencyMS * float64(time.Millisecond)),
		Cached:  true,
	}
}

// sameAnswer ignores latency and time: only what a test could assert on.
func (e *entry) sameAnswer(resp *llm.Response) bool {
	r := e.Response
	return r.Text == resp.Text && r.Refusal == resp.Refusal && r.Role == resp.Role && r.FinishReason == resp.FinishReason &&
		r.Usage == resp.Usage && r.Model == resp.Model && jsonEqual(r.ToolCalls, resp.ToolCalls) &&
		slices.Equal(r.Logprobs, resp.Logprobs)
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
