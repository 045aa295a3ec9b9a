package cache

import (
	"strconv"

	"github.com/aieval/aieval/internal/jsonw"
	"github.com/aieval/aieval/runtime/llm"
)

// appendRequestJSON appends json.Marshal(r)'s bytes (HTML escaping on, as
// Marshal has it) written by hand: the key of every cached call is the
// sha256 of them, and reflection was most of computing it. It declines
// (false) what it does not write itself, raw JSON (tool calls, function
// calls) and setting values of other types, or NaN: json.Marshal then
// gives the bytes, or the error. FuzzRequestJSON holds it to Marshal.
func appendRequestJSON(b []byte, r *llm.Request) ([]byte, bool) {
	b = append(b, `{"provider":`...)
	b = jsonw.StringHTML(b, r.Provider)
	if r.BaseURL != "" {
		b = append(b, `,"base_url":`...)
		b = jsonw.StringHTML(b, r.BaseURL)
	}
	b = append(b, `,"model":`...)
	b = jsonw.StringHTML(b, r.Model)
	b = append(b, `,"messages":`...)
	if r.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Messages {
			m := &r.Messages[i]
			if len(m.ToolCalls) > 0 || len(m.FunctionCall) > 0 {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"role":`...)
			b = jsonw.StringHTML(b, m.Role)
			if m.Content != "" {
				b = append(b, `,"content":`...)
				b = jsonw.StringHTML(b, m.Content)
			}
			if len(m.Parts) > 0 {
				b = append(b, `,"parts":[`...)
				for j := range m.Parts {
					p := &m.Parts[j]
					if j > 0 {
						b = append(b, ',')
					}
					b = append(b, `{"type":`...)
					b = jsonw.StringHTML(b, p.Type)
					b = optString(b, `,"text":`, p.Text)
					b = optString(b, `,"image_url":`, p.ImageURL)
					b = optString(b, `,"detail":`, p.Detail)
					b = append(b, '}')
				}
				b = append(b, ']')
			}
			b = optString(b, `,"name":`, m.Name)
			b = optString(b, `,"tool_call_id":`, m.ToolCallID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(r.Settings) > 0 {
		b = append(b, `,"settings":`...)
		var ok bool
		if b, ok = jsonw.ValueHTML(b, r.Settings); !ok {
			return b, false
		}
	}
	if r.Sample != 0 {
		b = append(b, `,"sample":`...)
		b = strconv.AppendInt(b, int64(r.Sample), 10)
	}
	return append(b, '}'), true
}

func optString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return jsonw.StringHTML(append(b, name...), s)
}
