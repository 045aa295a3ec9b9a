package cache

import (
	"strconv"

	"github.com/aieval/aieval/internal/jsonw"
)

// appendEntry writes e as encodeEntryStd does (encoding/json's Encoder,
// HTML escaping off, two-space indent, a final newline), by hand: one
// entry is written per recorded call, and reflection plus re-indenting
// the whole text was most of aieval's own cost of recording. It declines
// (false) raw JSON (tool calls, function calls) and setting values it
// does not know, or NaN, which encodeEntryStd then writes or refuses.
// FuzzEntryJSON holds the two to the same bytes.
func appendEntry(b []byte, e *entry) ([]byte, bool) {
	var o obj
	b = o.open(b, 0)
	b = jsonw.String(o.field(b, "key"), e.Key)
	b = jsonw.String(o.field(b, "model"), e.Model)
	b = jsonw.String(o.field(b, "provider"), e.Provider)
	b = jsonw.String(o.field(b, "recorded_at"), e.RecordedAt)
	b = o.opt(b, "note", e.Note)

	b = o.field(b, "request")
	var rq obj
	b = rq.open(b, 1)
	b = rq.field(b, "messages")
	msgs := e.Request.Messages
	switch {
	case msgs == nil:
		b = append(b, "null"...)
	case len(msgs) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		for i := range msgs {
			m := &msgs[i]
			if len(m.ToolCalls) > 0 || len(m.FunctionCall) > 0 {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = indent(b, 3)
			var mo obj
			b = mo.open(b, 3)
			b = jsonw.String(mo.field(b, "role"), m.Role)
			b = mo.opt(b, "content", m.Content)
			if len(m.Parts) > 0 {
				b = append(mo.field(b, "parts"), '[')
				for j := range m.Parts {
					p := &m.Parts[j]
					if j > 0 {
						b = append(b, ',')
					}
					b = indent(b, 5)
					var po obj
					b = po.open(b, 5)
					b = jsonw.String(po.field(b, "type"), p.Type)
					b = po.opt(b, "text", p.Text)
					b = po.opt(b, "image_url", p.ImageURL)
					b = po.opt(b, "detail", p.Detail)
					b = po.close(b)
				}
				b = append(indent(b, 4), ']')
			}
			b = mo.opt(b, "name", m.Name)
			b = mo.opt(b, "tool_call_id", m.ToolCallID)
			b = mo.close(b)
		}
		b = append(indent(b, 2), ']')
	}
	if len(e.Request.Settings) > 0 {
		var ok bool
		if b, ok = valueIndent(rq.field(b, "settings"), e.Request.Settings, 2); !ok {
			return b, false
		}
	}
	if e.Request.Sample != 0 {
		b = strconv.AppendInt(rq.field(b, "sample"), int64(e.Request.Sample), 10)
	}
	b = rq.opt(b, "base_url", e.Request.BaseURL)
	b = rq.close(b)

	b = o.field(b, "response")
	r := e.Response
	if r == nil {
		b = append(b, "null"...)
		return append(o.close(b), '\n'), true
	}
	if len(r.ToolCalls) > 0 {
		return b, false
	}
	var ro obj
	b = ro.open(b, 1)
	b = jsonw.String(ro.field(b, "text"), r.Text)
	b = ro.opt(b, "refusal", r.Refusal)
	b = ro.opt(b, "role", r.Role)
	b = ro.opt(b, "finish_reason", r.FinishReason)
	b = ro.field(b, "usage")
	var uo obj
	b = uo.open(b, 2)
	b = strconv.AppendInt(uo.field(b, "prompt_tokens"), int64(r.Usage.PromptTokens), 10)
	b = strconv.AppendInt(uo.field(b, "completion_tokens"), int64(r.Usage.CompletionTokens), 10)
	b = strconv.AppendInt(uo.field(b, "total_tokens"), int64(r.Usage.TotalTokens), 10)
	b = uo.close(b)
	var ok bool
	if b, ok = jsonw.Float(ro.field(b, "latency_ms"), r.LatencyMS); !ok {
		return b, false
	}
	b = ro.opt(b, "served_model", r.Model)
	if len(r.Logprobs) > 0 {
		b = append(ro.field(b, "logprobs"), '[')
		for i, f := range r.Logprobs {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = jsonw.Float(indent(b, 3), f); !ok {
				return b, false
			}
		}
		b = append(indent(b, 2), ']')
	}
	b = ro.close(b)
	return append(o.close(b), '\n'), true
}

// obj writes one indented object's braces and member names.
type obj struct {
	depth int
	n     int // members so far
}

func (o *obj) open(b []byte, depth int) []byte {
	o.depth, o.n = depth, 0
	return append(b, '{')
}

// field starts a member: its separator, line, indent and name.
func (o *obj) field(b []byte, name string) []byte {
	if o.n > 0 {
		b = append(b, ',')
	}
	o.n++
	b = indent(b, o.depth+1)
	b = append(b, '"')
	b = append(b, name...) // member names are plain ASCII
	return append(b, `": `...)
}

// opt writes a string member that encoding/json's omitempty leaves out
// when empty.
func (o *obj) opt(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return jsonw.String(o.field(b, name), v)
}

func (o *obj) close(b []byte) []byte {
	if o.n == 0 {
		return append(b, '}')
	}
	return append(indent(b, o.depth), '}')
}

// indent starts a new line at depth.
func indent(b []byte, depth int) []byte {
	b = append(b, '\n')
	for range depth {
		b = append(b, "  "...)
	}
	return b
}

// valueIndent writes a setting value at depth as the indenting Encoder
// does: empty lists and objects stay "[]" and "{}".
func valueIndent(b []byte, v any, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		if len(x) == 0 {
			return append(b, "[]"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = valueIndent(indent(b, depth+1), e, depth+1); !ok {
				return b, false
			}
		}
		return append(indent(b, depth), ']'), true
	case []string:
		if x == nil {
			return append(b, "null"...), true
		}
		if len(x) == 0 {
			return append(b, "[]"...), true
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(indent(b, depth+1), s)
		}
		return append(indent(b, depth), ']'), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		if len(x) == 0 {
			return append(b, "{}"...), true
		}
		b = append(b, '{')
		var small [8]string
		for i, k := range jsonw.SortedKeys(x, small[:]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsonw.String(indent(b, depth+1), k), `: `...)
			var ok bool
			if b, ok = valueIndent(b, x[k], depth+1); !ok {
				return b, false
			}
		}
		return append(indent(b, depth), '}'), true
	case string, float64, bool, int, int64, nil:
		return jsonw.Value(b, x)
	}
	return b, false
}
